"""The evaluation summary PDF (評価結果通知) the applicant downloads after the decision.

Rendered on demand from the decided state (grants.services.evaluation_summary), so it reads
the same every time; the audit record prints the same partial as "Evaluation summary as sent".
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from grants.documents import facts as facts_module
from grants.documents.rendering import render
from grants.models import Application
from grants.services.evaluation_summary import summary_of


def evaluation_summary_pdf(session: Session, application: Application) -> bytes:
    """Render the decided application's summary in the current locale.

    Raises:
        LookupError: the application is not decided (there is no summary yet).
    """
    evaluation = summary_of(session, application)
    if evaluation is None:
        raise LookupError(f"{application.reference} is not decided")
    return render("pdf/summary.html", facts=facts_module.gather(session, application),
                  evaluation=evaluation)
