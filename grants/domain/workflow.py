"""Application states, the actions that move between them, and who may fire each.

The whole lifecycle is one readable table (``TRANSITIONS``) and one function (``fire``): nothing
else assigns a state, so a status can never jump (e.g. draft straight to awarded) by way of a
forgotten code path. Templates ask ``allowed_actions`` which buttons to show. Enum values are
stored in the database and the audit chain, so they are lowercase and must never change.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from grants.domain.errors import DomainError

__all__ = [
    "DECIDED_STATES",
    "EDITABLE_STATES",
    "FUNDED_STATES",
    "POST_AWARD_STATES",
    "TRANSITIONS",
    "Action",
    "Role",
    "State",
    "TransitionNotAllowed",
    "allowed_actions",
    "fire",
]


class State(StrEnum):
    """Where an application is in its lifecycle."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # sent back to the applicant for corrections
    IN_REVIEW = "in_review"
    AWARDED = "awarded"  # the grant decision (交付決定) waits for the applicant's answer
    REJECTED = "rejected"
    # After the award (交付決定 → 計画変更 → 実績報告 → 額の確定 → 財産管理 → 書類保存):
    DECLINED = "declined"  # the applicant declined the grant decision: its money is free again
    GRANTED = "granted"  # accepted: the project runs under the plan in force (計画変更 possible)
    REPORTED = "reported"  # completion report (実績報告) filed, waiting for the officer
    REPORT_ACCEPTED = "report_accepted"  # the officer accepted it: the final amount is next
    COMPLETED = "completed"  # final amount fixed (額の確定): assets and yearly follow-ups
    PURGED = "purged"  # retention over: personal data and files removed, a tombstone kept


class Action(StrEnum):
    """Something a user does to an application that changes its state."""

    SUBMIT = "submit"
    RETURN_TO_APPLICANT = "return_to_applicant"
    ACCEPT = "accept"  # the officer's screening passes; reviewers may score
    AWARD = "award"
    REJECT = "reject"
    # An upheld evaluation review (評価の再審査の申出) sets the decision aside: the application
    # goes back into review, to new reviewers. The one documented way to reopen a decision.
    REEVALUATE = "reevaluate"
    ACCEPT_GRANT = "accept_grant"  # the applicant accepts the grant decision and its conditions
    DECLINE_GRANT = "decline_grant"
    REQUEST_CHANGE = "request_change"  # 計画変更: money between categories, period, scope
    DECIDE_CHANGE = "decide_change"  # the officer approves or refuses a change request
    SUBMIT_REPORT = "submit_report"  # 実績報告
    RETURN_REPORT = "return_report"  # for correction; the grantee files it again
    ACCEPT_REPORT = "accept_report"
    FIX_AMOUNT = "fix_amount"  # 額の確定
    REQUEST_DISPOSAL = "request_disposal"  # 財産処分: disposal or repurposing within the period
    DECIDE_DISPOSAL = "decide_disposal"
    FILE_FOLLOWUP = "file_followup"  # 状況報告, once per fiscal year after completion
    PURGE = "purge"  # after retention: `flask grants purge REF`


class Role(StrEnum):
    """The part a user plays for a given application."""

    APPLICANT = "applicant"
    REVIEWER = "reviewer"
    OFFICER = "officer"
    AUDITOR = "auditor"
    ADMIN = "admin"


_APPLICANT: Final = frozenset({Role.APPLICANT})
_OFFICER: Final = frozenset({Role.OFFICER})
_ADMIN: Final = frozenset({Role.ADMIN})

# (state, action) -> (next state, roles that may fire it). Admins run the system, not calls:
# they get no decision rights here, so every award is traceable to a program officer.
TRANSITIONS: Final[Mapping[tuple[State, Action], tuple[State, frozenset[Role]]]] = MappingProxyType(
    {
        (State.DRAFT, Action.SUBMIT): (State.SUBMITTED, _APPLICANT),
        (State.RETURNED, Action.SUBMIT): (State.SUBMITTED, _APPLICANT),
        (State.SUBMITTED, Action.RETURN_TO_APPLICANT): (State.RETURNED, _OFFICER),
        (State.SUBMITTED, Action.ACCEPT): (State.IN_REVIEW, _OFFICER),
        (State.IN_REVIEW, Action.AWARD): (State.AWARDED, _OFFICER),
        (State.IN_REVIEW, Action.REJECT): (State.REJECTED, _OFFICER),
        (State.AWARDED, Action.REEVALUATE): (State.IN_REVIEW, _OFFICER),
        (State.REJECTED, Action.REEVALUATE): (State.IN_REVIEW, _OFFICER),
        (State.AWARDED, Action.ACCEPT_GRANT): (State.GRANTED, _APPLICANT),
        (State.AWARDED, Action.DECLINE_GRANT): (State.DECLINED, _APPLICANT),
        # A change request and its decision leave the project running: they are rows of their
        # own (grants.models.post_award.ChangeRequest), checked here for who may act, and when.
        (State.GRANTED, Action.REQUEST_CHANGE): (State.GRANTED, _APPLICANT),
        (State.GRANTED, Action.DECIDE_CHANGE): (State.GRANTED, _OFFICER),
        (State.GRANTED, Action.SUBMIT_REPORT): (State.REPORTED, _APPLICANT),
        (State.REPORTED, Action.RETURN_REPORT): (State.GRANTED, _OFFICER),
        (State.REPORTED, Action.ACCEPT_REPORT): (State.REPORT_ACCEPTED, _OFFICER),
        (State.REPORT_ACCEPTED, Action.FIX_AMOUNT): (State.COMPLETED, _OFFICER),
        (State.COMPLETED, Action.REQUEST_DISPOSAL): (State.COMPLETED, _APPLICANT),
        (State.COMPLETED, Action.DECIDE_DISPOSAL): (State.COMPLETED, _OFFICER),
        (State.COMPLETED, Action.FILE_FOLLOWUP): (State.COMPLETED, _APPLICANT),
        (State.COMPLETED, Action.PURGE): (State.PURGED, _ADMIN),
        (State.REJECTED, Action.PURGE): (State.PURGED, _ADMIN),
        (State.DECLINED, Action.PURGE): (State.PURGED, _ADMIN),
    }
)

FUNDED_STATES: Final[frozenset[State]] = frozenset(
    {State.AWARDED, State.GRANTED, State.REPORTED, State.REPORT_ACCEPTED, State.COMPLETED})
"""States in which an award stands and holds money of the call's budget."""

DECIDED_STATES: Final[frozenset[State]] = FUNDED_STATES | {State.REJECTED, State.DECLINED}
"""States after the officer's decision: the evaluation is frozen as it was decided on."""

POST_AWARD_STATES: Final[frozenset[State]] = FUNDED_STATES - {State.AWARDED}
"""The grant decision accepted: the project, its report, final amount and follow-ups."""

EDITABLE_STATES: Final[frozenset[State]] = frozenset({State.DRAFT, State.RETURNED})
"""States in which the applicant may change answers and attachments."""


class TransitionNotAllowed(DomainError):
    """Raised when ``action`` may not be fired by ``role`` on an application in ``state``."""

    def __init__(self, state: State, action: Action, role: Role) -> None:
        """Keep the triple so the web layer can answer 409 and the log can say why."""
        self.state = state
        self.action = action
        self.role = role
        super().__init__(f"{role} may not {action} an application in state {state}")


def fire(state: State, action: Action, role: Role) -> State:
    """Return the state after ``role`` fires ``action`` on an application in ``state``.

    Raises:
        TransitionNotAllowed: when the table has no such transition or ``role`` may not fire it.
    """
    transition = TRANSITIONS.get((state, action))
    if transition is None or role not in transition[1]:
        raise TransitionNotAllowed(state, action, role)
    return transition[0]


def allowed_actions(state: State, role: Role) -> list[Action]:
    """Return the actions ``role`` may fire in ``state``, in ``Action`` declaration order."""
    return [
        action
        for action in Action
        if (transition := TRANSITIONS.get((state, action))) is not None and role in transition[1]
    ]
