"""Tests for grants.domain.workflow: the transition table, fire() and allowed_actions()."""

from __future__ import annotations

import itertools

import pytest

from grants.domain.errors import DomainError
from grants.domain.workflow import (
    EDITABLE_STATES,
    TRANSITIONS,
    Action,
    Role,
    State,
    TransitionNotAllowed,
    allowed_actions,
    fire,
)

# Written out independently of TRANSITIONS, so a change to the table must change this test too.
ALLOWED: dict[tuple[State, Action, Role], State] = {
    (State.DRAFT, Action.SUBMIT, Role.APPLICANT): State.SUBMITTED,
    (State.RETURNED, Action.SUBMIT, Role.APPLICANT): State.SUBMITTED,
    (State.SUBMITTED, Action.RETURN_TO_APPLICANT, Role.OFFICER): State.RETURNED,
    (State.SUBMITTED, Action.ACCEPT, Role.OFFICER): State.IN_REVIEW,
    (State.IN_REVIEW, Action.AWARD, Role.OFFICER): State.AWARDED,
    (State.IN_REVIEW, Action.REJECT, Role.OFFICER): State.REJECTED,
    (State.AWARDED, Action.REEVALUATE, Role.OFFICER): State.IN_REVIEW,
    (State.REJECTED, Action.REEVALUATE, Role.OFFICER): State.IN_REVIEW,
    (State.AWARDED, Action.ACCEPT_GRANT, Role.APPLICANT): State.GRANTED,
    (State.AWARDED, Action.DECLINE_GRANT, Role.APPLICANT): State.DECLINED,
    (State.GRANTED, Action.REQUEST_CHANGE, Role.APPLICANT): State.GRANTED,
    (State.GRANTED, Action.DECIDE_CHANGE, Role.OFFICER): State.GRANTED,
    (State.GRANTED, Action.SUBMIT_REPORT, Role.APPLICANT): State.REPORTED,
    (State.REPORTED, Action.RETURN_REPORT, Role.OFFICER): State.GRANTED,
    (State.REPORTED, Action.ACCEPT_REPORT, Role.OFFICER): State.REPORT_ACCEPTED,
    (State.REPORT_ACCEPTED, Action.FIX_AMOUNT, Role.OFFICER): State.COMPLETED,
    (State.COMPLETED, Action.REQUEST_DISPOSAL, Role.APPLICANT): State.COMPLETED,
    (State.COMPLETED, Action.DECIDE_DISPOSAL, Role.OFFICER): State.COMPLETED,
    (State.COMPLETED, Action.FILE_FOLLOWUP, Role.APPLICANT): State.COMPLETED,
    (State.COMPLETED, Action.PURGE, Role.ADMIN): State.PURGED,
    (State.REJECTED, Action.PURGE, Role.ADMIN): State.PURGED,
    (State.DECLINED, Action.PURGE, Role.ADMIN): State.PURGED,
}
ALL_TRIPLES = list(itertools.product(State, Action, Role))


@pytest.mark.parametrize(("state", "action", "role"), list(ALLOWED))
def test_fire_allowed_transition_returns_next_state(
    state: State, action: Action, role: Role
) -> None:
    assert fire(state, action, role) is ALLOWED[(state, action, role)]


def test_fire_every_other_triple_raises_transition_not_allowed() -> None:
    refused = [triple for triple in ALL_TRIPLES if triple not in ALLOWED]
    assert len(refused) == len(State) * len(Action) * len(Role) - len(ALLOWED) == 1058
    for state, action, role in refused:
        with pytest.raises(TransitionNotAllowed) as caught:
            fire(state, action, role)
        assert (caught.value.state, caught.value.action, caught.value.role) == (state, action, role)


def test_transition_not_allowed_message_names_triple() -> None:
    with pytest.raises(TransitionNotAllowed, match=r"applicant may not award .* state draft"):
        fire(State.DRAFT, Action.AWARD, Role.APPLICANT)


def test_transition_not_allowed_is_domain_error() -> None:
    # web/errors.py maps it to 409 before the generic DomainError -> 422.
    with pytest.raises(DomainError):
        fire(State.AWARDED, Action.REJECT, Role.OFFICER)


def test_fire_stored_string_values_accepted() -> None:
    # Values read back from the database are plain strings; StrEnum makes them interchangeable.
    assert fire(State("draft"), Action("submit"), Role("applicant")) is State.SUBMITTED


def test_transitions_table_matches_expected_triples() -> None:
    from_table = {
        (state, action, role): target
        for (state, action), (target, roles) in TRANSITIONS.items()
        for role in roles
    }
    assert from_table == ALLOWED


def test_transitions_table_read_only() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[(State.DRAFT, Action.AWARD)] = (State.AWARDED, frozenset(Role))  # type: ignore[index]


def test_allowed_actions_every_state_and_role_matches_table() -> None:
    for state, role in itertools.product(State, Role):
        expected = [a for a in Action if (state, a, role) in ALLOWED]
        assert allowed_actions(state, role) == expected, (state, role)


def test_allowed_actions_officer_in_review_award_then_reject() -> None:
    assert allowed_actions(State.IN_REVIEW, Role.OFFICER) == [Action.AWARD, Action.REJECT]
    assert allowed_actions(State.SUBMITTED, Role.OFFICER) == [
        Action.RETURN_TO_APPLICANT,
        Action.ACCEPT,
    ]


def test_allowed_actions_decided_state_only_reevaluation_by_the_officer() -> None:
    # Only an upheld evaluation review reopens a decision (services.redress.uphold), and only
    # before the grantee accepted the grant decision; the applicant answers that decision.
    assert allowed_actions(State.AWARDED, Role.OFFICER) == [Action.REEVALUATE]
    assert allowed_actions(State.REJECTED, Role.OFFICER) == [Action.REEVALUATE]
    assert allowed_actions(State.AWARDED, Role.APPLICANT) == [Action.ACCEPT_GRANT,
                                                              Action.DECLINE_GRANT]
    assert allowed_actions(State.REJECTED, Role.APPLICANT) == []
    assert all(Action.REEVALUATE not in allowed_actions(state, Role.OFFICER)
               for state in State if state not in {State.AWARDED, State.REJECTED})


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.AUDITOR])
def test_allowed_actions_non_deciding_roles_never_change_state(role: Role) -> None:
    assert all(allowed_actions(state, role) == [] for state in State)


def test_the_admin_only_purges_a_closed_application_after_retention() -> None:
    assert {state for state in State if allowed_actions(state, Role.ADMIN)} == {
        State.COMPLETED, State.REJECTED, State.DECLINED}
    assert all(allowed_actions(state, Role.ADMIN) in ([], [Action.PURGE]) for state in State)


def test_editable_states_draft_and_returned_only() -> None:
    assert {State.DRAFT, State.RETURNED} == EDITABLE_STATES
    assert all(allowed_actions(s, Role.APPLICANT) == [Action.SUBMIT] for s in EDITABLE_STATES)


def test_enum_values_stable_lowercase() -> None:
    # Stored in the database and the audit chain: renaming a value breaks old records.
    assert [s.value for s in State] == [
        "draft",
        "submitted",
        "returned",
        "in_review",
        "awarded",
        "rejected",
        "declined",
        "granted",
        "reported",
        "report_accepted",
        "completed",
        "purged",
    ]
    assert [a.value for a in Action] == [
        "submit",
        "return_to_applicant",
        "accept",
        "award",
        "reject",
        "reevaluate",
        "accept_grant",
        "decline_grant",
        "request_change",
        "decide_change",
        "submit_report",
        "return_report",
        "accept_report",
        "fix_amount",
        "request_disposal",
        "decide_disposal",
        "file_followup",
        "purge",
    ]
    assert [r.value for r in Role] == ["applicant", "reviewer", "officer", "auditor", "admin"]
