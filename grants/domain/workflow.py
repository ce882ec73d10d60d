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
    "EDITABLE_STATES",
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
    AWARDED = "awarded"
    REJECTED = "rejected"


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


class Role(StrEnum):
    """The part a user plays for a given application."""

    APPLICANT = "applicant"
    REVIEWER = "reviewer"
    OFFICER = "officer"
    AUDITOR = "auditor"
    ADMIN = "admin"


_APPLICANT: Final = frozenset({Role.APPLICANT})
_OFFICER: Final = frozenset({Role.OFFICER})

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
    }
)

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
