"""The grant decision letter (交付決定通知書): the amount per cost category, the project period,
the conditions, and the grantee's answer once given.

Rendered on demand from the stored grant decision, so it reads the same every time.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from grants.documents import facts as facts_module
from grants.documents.rendering import render
from grants.models import Application
from grants.services.grant_decisions import grant_of


def grant_letter_pdf(session: Session, application: Application) -> bytes:
    """Render the application's grant decision letter in the current locale.

    Raises:
        LookupError: the application has no grant decision.
    """
    grant = grant_of(session, application)
    if grant is None:
        raise LookupError(f"{application.reference} has no grant decision")
    facts = facts_module.gather(session, application)
    titles = {category.id: category.title for category in facts.definition.budget.categories}
    return render("pdf/grant_letter.html", facts=facts, grant=grant, titles=titles)
