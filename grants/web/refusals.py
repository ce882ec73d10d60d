"""Why a change to reviews, scores or assignments is refused, in the reader's words."""

from __future__ import annotations

from flask_babel import gettext as _

from grants.domain.counting import NotInReview, ScoresFrozen
from grants.domain.errors import DomainError
from grants.domain.workflow import FUNDED_STATES

REFUSED = (ScoresFrozen, NotInReview)


def refusal(error: DomainError) -> str:
    """For one of `REFUSED`."""
    if isinstance(error, ScoresFrozen):
        decided = _("awarded") if error.state in FUNDED_STATES else _("not selected")
        return _("This application is decided (%(outcome)s): its reviews, scores and reviewers "
                 "stay as they were at the decision, and nothing that changes a score can be "
                 "done any more.", outcome=decided)
    return _("This application is not in review: reviewers are assigned, and reviews and "
             "scores change, only after the program office accepts it for review.")
