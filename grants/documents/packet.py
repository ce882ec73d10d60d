"""The review packet: the application as submitted, for the people who review and decide it.

An officer's packet carries every reviewer's scores and comments, the aggregate and the
moderation; a reviewer's packet carries their own review only, never another reviewer's.
The applicant's own PDF attachments follow the generated pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm import Session

from grants.documents import facts as facts_module
from grants.documents.rendering import render
from grants.models import Application, User
from grants.rendering import append_pdfs, appendable
from grants.services import counting
from grants.storage import stores_of
from grants.templating import answer_labels


@dataclass(frozen=True)
class Packet:
    pdf: bytes
    appended: tuple[str, ...]  # SHA-256 of the applicant's PDFs appended after the pages
    skipped: tuple[str, ...]  # file names of PDFs that could not be appended, and why

    def audit_data(self) -> dict[str, list[str]]:
        """What a download's audit event records about the applicant's PDFs in the packet."""
        return {"appended": list(self.appended), "skipped": list(self.skipped)}


def review_packet_pdf(session: Session, application: Application, viewer: User, *,
                      officer_view: bool, now: dt.datetime) -> Packet:
    """Render the packet for `viewer`: the program office's (`officer_view`: every review and
    moderation) or a reviewer's (their own review only). Callers decide who may have which."""
    facts = facts_module.gather(session, application)
    scores = counting.application_scores(session, application,
                                         reviewer_id=None if officer_view else viewer.id)
    storage = stores_of(current_app).files
    appended, skipped, extra = [], [], []
    for attachment in facts.snapshot["attachments"]:
        if attachment["mime_type"] != "application/pdf":
            continue
        data = storage.read(attachment["sha256"])
        problem = appendable(data)
        if problem:
            skipped.append(f"{attachment['filename']} ({problem})")
        else:
            appended.append(attachment)
            extra.append(data)
    pdf = render("pdf/packet.html", facts=facts, scores=scores, viewer=viewer,
                 officer_view=officer_view, appended=appended, skipped=skipped,
                 generated_at=now, **answer_labels(facts.definition))
    merged = append_pdfs(pdf, extra)
    return Packet(merged.pdf, tuple(a["sha256"] for a in appended),
                  tuple(skipped) + tuple(s.reason for s in merged.skipped))

