"""The notice of the final amount (額の確定通知書) the grantee downloads once it is fixed.

Rendered on demand from the FinalAmount row and its kept working, so it reads the same every
time; the working printed is the one the officer confirmed, never a new computation.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from grants.documents import facts as facts_module
from grants.documents.rendering import render
from grants.models import Application, CompletionReport
from grants.services import final_amounts, grant_decisions
from grants.services.programs import definition_of
from grants.templating import answer_labels


def final_amount_letter_pdf(session: Session, application: Application) -> bytes:
    """Render the letter in the current locale.

    Raises:
        LookupError: the final amount is not fixed (there is no letter yet).
    """
    final = final_amounts.fixed(session, application)
    if final is None:
        raise LookupError(f"{application.reference} has no final amount")
    return render("pdf/final_amount_letter.html",
                  facts=facts_module.gather(session, application), final=final,
                  computation=final.computation,
                  grant=grant_decisions.grant_of(session, application),
                  report=session.get(CompletionReport, final.report_id),
                  **answer_labels(definition_of(application.program_version)))
