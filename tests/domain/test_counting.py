"""When a review counts, when scores may change, what counts as written text, and what a
review's version changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from grants.domain.counting import NotInReview, ScoresFrozen, counts, require_in_review
from grants.domain.scoring import ReviewInput, check_review, version_changes
from grants.domain.text import has_visible_text, visible_or_none
from grants.domain.workflow import State
from tests.domain.test_scoring import make_rubric

# --- counts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [State.IN_REVIEW, State.AWARDED, State.REJECTED])
def test_a_submitted_review_of_an_active_assignment_counts(state):
    assert counts(state, submitted=True, assignment_active=True, conflicted=False)


@pytest.mark.parametrize("state", list(State))
def test_a_draft_or_an_ended_assignment_never_counts(state):
    assert not counts(state, submitted=False, assignment_active=True, conflicted=False)
    assert not counts(state, submitted=True, assignment_active=False, conflicted=False)


def test_a_conflict_withdraws_the_review_while_in_review_only():
    assert not counts(State.IN_REVIEW, submitted=True, assignment_active=True, conflicted=True)
    # decided: the reviews the decision was made on stay, whatever is found later
    for state in (State.AWARDED, State.REJECTED):
        assert counts(state, submitted=True, assignment_active=True, conflicted=True)


@pytest.mark.parametrize("state", [State.DRAFT, State.SUBMITTED, State.RETURNED])
def test_nothing_counts_before_the_application_is_in_review(state):
    assert not counts(state, submitted=True, assignment_active=True, conflicted=False)


# --- require_in_review --------------------------------------------------------------------------


def test_changes_are_allowed_in_review_only():
    require_in_review(State.IN_REVIEW)
    for state in (State.AWARDED, State.REJECTED):
        with pytest.raises(ScoresFrozen) as frozen:
            require_in_review(state)
        assert frozen.value.state is state
    for state in (State.DRAFT, State.SUBMITTED, State.RETURNED):
        with pytest.raises(NotInReview):
            require_in_review(state)


# --- visible text -------------------------------------------------------------------------------

INVISIBLE = ["", " ", "\u3000", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
             " \u200b\u3000\n\t\ufeff ", "\u00a0\u2003", "\u3164", "\u2800", "\u115f\u1160"]


@pytest.mark.parametrize("text", INVISIBLE)
def test_whitespace_and_zero_width_characters_are_not_text(text):
    assert not has_visible_text(text)
    assert visible_or_none(text) is None


@pytest.mark.parametrize("text", ["a", "根拠", "\u200b理由\u200b", "０", "…", "👍", "é"])
def test_any_visible_character_is_text(text):
    assert has_visible_text(text)


def test_visible_text_is_trimmed_and_none_stays_none():
    assert visible_or_none("\u3000 理由があります。\n") == "理由があります。"
    assert visible_or_none(None) is None and not has_visible_text(None)


@pytest.mark.parametrize("comment", ["\u200b", "\u3000\u3000", "\ufeff", " \u2060 "])
def test_a_low_score_needs_a_visible_comment(comment):
    rubric = make_rubric({"a": {"weight": 60, "comment_required_at_or_below": 2},
                          "b": {"weight": 40, "comment_required_at_or_below": 2}})
    review = ReviewInput({c.id: 2 for c in rubric.criteria()},
                         {c.id: comment for c in rubric.criteria()})
    found = check_review(rubric, review)
    assert {f.kind for f in found} == {"comment_required"}
    assert len(found) == len(rubric.criteria())
    answered = ReviewInput(review.ratings, {c.id: "\u200b理由" for c in rubric.criteria()})
    assert check_review(rubric, answered) == []


# --- version_changes ----------------------------------------------------------------------------


@dataclass
class Version:
    ratings: dict[str, int | None]
    comments: dict[str, str] = field(default_factory=dict)
    comment_for_applicant: str | None = None
    total: Decimal | None = None


def test_the_first_version_changes_everything_it_holds():
    first = Version({"a": 3, "b": None}, {"a": "x"}, "共有", Decimal("50.00"))
    changes = version_changes(None, first)
    assert changes.ratings == {"a", "b"} and changes.comments == {"a"}
    assert changes.shared and changes.total


def test_a_later_version_names_exactly_what_changed():
    before = Version({"a": 3, "b": 2, "c": 1}, {"a": "x", "b": "y"}, "共有", Decimal("50.00"))
    after = Version({"a": 3, "b": 4, "c": None}, {"a": "x", "c": "z"}, "共有", Decimal("60.00"))
    changes = version_changes(before, after)
    assert changes.ratings == {"b", "c"}
    assert changes.comments == {"b", "c"}  # b's comment removed, c's added
    assert not changes.shared and changes.total
    same = version_changes(after, after)
    assert (same.ratings, same.comments, same.shared, same.total) == (
        frozenset(), frozenset(), False, False)
