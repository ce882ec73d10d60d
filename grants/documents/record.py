"""The audit record: a self-contained PDF/A-3 an auditor can trust without the system.

Everything from submission onwards is printed, and the machine-readable originals are embedded
as associated files, so each printed hash can be recomputed from the PDF alone:
snapshot.json (the exact submitted bytes), program.yaml and rubric.yaml (the exact versions),
and events.json (the application's audit events, each with its chain hashes). It also prints
the whole chain's head when it was made, to compare with the anchors kept outside the system
(``flask grants audit anchor``): a chain that no longer reaches that head has lost events.
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.documents import event_labels
from grants.documents import facts as facts_module
from grants.documents.rendering import render
from grants.models import Application, AuditEvent, User
from grants.rendering import EmbeddedFile
from grants.services import consensus, counting, evaluation_summary, redress, reviewing
from grants.services.anchors import chain_head
from grants.services.audit import event_body
from grants.templating import answer_labels

PDF_VARIANT = "pdf/a-3u"


def audit_record_pdf(session: Session, application: Application, *,
                     now: dt.datetime | None = None) -> bytes:
    """Render the application's audit record as PDF/A-3u with its originals embedded."""
    facts = facts_module.gather(session, application)
    events = list(session.scalars(
        sa.select(AuditEvent).where(AuditEvent.subject_type == "application",
                                    AuditEvent.subject_id == application.id)
        .order_by(AuditEvent.id)))
    actor_ids = {e.actor_id for e in events if e.actor_id}
    actors = {u.id: u.display_name for u in session.scalars(
        sa.select(User).where(User.id.in_(actor_ids)))}
    embedded = (
        EmbeddedFile("snapshot.json", facts.submission.snapshot.encode("utf-8"),
                     "The submitted snapshot: its SHA-256 is the snapshot hash",
                     "application/json", "Source"),
        EmbeddedFile("program.yaml", application.program_version.source_text.encode("utf-8"),
                     "The program definition version the application was made under",
                     "application/yaml", "Source"),
        EmbeddedFile("rubric.yaml", facts.rubric_version.source_text.encode("utf-8"),
                     "The rubric version the application was reviewed under",
                     "application/yaml", "Source"),
        EmbeddedFile("events.json", events_json(events),
                     "The application's audit events with their chain hashes",
                     "application/json", "Data"),
    )
    return render(
        "pdf/record.html", pdf_variant=PDF_VARIANT, attachments=embedded, facts=facts,
        scores=counting.application_scores(session, application),
        evaluation=evaluation_summary.summary_of(session, application),
        history=reviewing.history(session, application), events=events,
        consensus_reports=consensus.reports(session, application),
        redress_requests=redress.requests(session, application),
        redress_grounds=event_labels.GROUND_LABELS,
        actors=actors, tag_label=event_labels.tag_label, data_rows=event_labels.data_rows,
        previous=application.submissions[:-1], chain_head=chain_head(session),
        generated_at=now or events_time(events), **answer_labels(facts.definition))


def events_json(events: list[AuditEvent]) -> bytes:
    """Each event as hashed (`body`), with the hash before it and its own: `hash` equals
    sha256(prev_hash + "\\n" + canonical_json(body)), checkable event by event.
    """
    rows = [{"id": e.id, "body": event_body(e), "prev_hash": e.prev_hash, "hash": e.hash}
            for e in events]
    return json.dumps({"format": "grants-audit-events/1", "events": rows},
                      ensure_ascii=False, indent=1).encode("utf-8")


def events_time(events: list[AuditEvent]) -> dt.datetime:
    """A record made without a clock (a re-render) is dated by its last event."""
    return events[-1].at if events else dt.datetime.now(dt.UTC)
