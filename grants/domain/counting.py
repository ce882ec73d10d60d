"""When a review counts, and when anything that changes a score may still happen.

One rule for every aggregate (an application's scores, the ranking, the exports, calibration,
the comments the applicant is shown, the audit record): a review counts while it is submitted,
its assignment is active and its reviewer has no conflict with the application, and the
application is in review. A decision freezes the scores: from then on the reviews that counted
at the decision keep counting, and nothing may change them.
"""

from __future__ import annotations

from grants.domain.errors import DomainError
from grants.domain.workflow import DECIDED_STATES, State


def counts(application_state: State, *, submitted: bool, assignment_active: bool,
           conflicted: bool) -> bool:
    """Whether one review counts in every aggregate.

    A decided application's counted reviews are those of its decision: a conflict found later
    (the decision already ended every conflicted assignment) changes nothing.
    """
    if not (submitted and assignment_active):
        return False
    if application_state in DECIDED_STATES:
        return True
    return application_state is State.IN_REVIEW and not conflicted


class ScoresFrozen(DomainError):
    """The application is decided: its reviews, moderation and assignments stay as decided."""

    def __init__(self, state: State) -> None:
        super().__init__("scores_frozen")
        self.state = state


class NotInReview(DomainError):
    """Reviewers work only on applications the program office accepted for review."""

    def __init__(self, state: State) -> None:
        super().__init__("not_in_review")
        self.state = state


def require_in_review(state: State) -> None:
    """Allow a change to reviews, scores or assignments only while the application is in review.

    Raises:
        ScoresFrozen: the application is decided.
        NotInReview: the application is not (yet) accepted for review.
    """
    if state in DECIDED_STATES:
        raise ScoresFrozen(state)
    if state is not State.IN_REVIEW:
        raise NotInReview(state)
