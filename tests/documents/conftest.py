"""A decided application with two reviews and a moderation, for the document tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from grants.domain.workflow import Role
from grants.models import Application, Outcome, User
from grants.services import assign, decide, reviewing, screening
from tests.conftest import NOW
from tests.web.reviewflow import add_to_call, rubric_for, submit_application


@dataclass
class Decided:
    application: Application
    officer: User
    reviewers: list[User]
    comments: dict[int, str]  # reviewer id -> a comment only that reviewer wrote


def decided(client: Any, auth: Any, session: Any, make_user: Any, text: str = "",
            moderated: tuple[str, int] | None = None) -> Decided:
    """Two reviews, a moderation (`moderated`: criterion id and score; else the first criterion
    at 3), then the award."""
    application = submit_application(client, auth, session, make_user, text=text)
    officer = make_user(Role.OFFICER)
    screening.accept(session, application, actor=officer, now=NOW)
    rubric = rubric_for(session, application)
    reviewers, comments = [], {}
    for n, score in enumerate((rubric.scale.max, rubric.scale.max - 2)):
        reviewer = make_user(Role.REVIEWER)
        add_to_call(session, reviewer)
        assignment = assign.assign(session, application, reviewer, actor=officer, now=NOW)
        review = reviewing.open_review(session, assignment, now=NOW)
        comments[reviewer.id] = f"評価者{n}だけの講評コメント"
        reviewing.save(session, review, ratings={c.id: score for c in rubric.criteria()},
                       comments={c.id: comments[reviewer.id] for c in rubric.criteria()},
                       comment_for_applicant=None, expected_version=review.lock_version,
                       now=NOW)
        reviewing.submit(session, review, actor=reviewer, now=NOW)
        reviewers.append(reviewer)
    criterion_id, value = moderated or (rubric.criteria()[0].id, 3)
    reviewing.moderate(session, application, criterion_id, value, "両者の根拠を比較して調整した。",
                       actor=officer, now=NOW)
    decide.decide(session, application, outcome=Outcome.AWARD, amount_yen=3_500_000,
                  rationale="地域課題に即した計画として採択する。", actor=officer, now=NOW)
    session.commit()
    return Decided(application, officer, reviewers, comments)


@pytest.fixture
def decided_application(client, auth, session, make_user) -> Decided:
    return decided(client, auth, session, make_user)


@pytest.fixture(autouse=True)
def request_context(app):
    """Documents render templates: they need the app (and a locale, from a request)."""
    with app.test_request_context():
        yield
