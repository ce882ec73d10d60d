"""The audit record: a self-contained PDF/A-3 an auditor can trust without the system.

Everything from submission onwards is printed, and the machine-readable originals are embedded
as associated files, so each printed hash can be recomputed from the PDF alone:
snapshot.json (the exact submitted bytes), program.yaml and rubric.yaml (the exact versions),
and events.json (the application's audit events, each with its chain hashes). After the award,
each section that has something in it adds a JSON file of its rows as stored (POST_AWARD_FILES):
the grant decision, the plans and change requests, the completion reports with their variance
tables, the final amount with its computation, the asset register and the follow-ups. It also
prints the whole chain's head when it was made, to compare with the anchors kept outside the
system (``flask grants audit anchor``): a chain that no longer reaches that head has lost events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.db import Base
from grants.documents import event_labels
from grants.documents import facts as facts_module
from grants.documents.facts import PostAward
from grants.documents.rendering import render
from grants.domain.definitions import Program as ProgramDefinition
from grants.domain.followups import PAYERS
from grants.models import Application, AuditEvent, User
from grants.rendering import EmbeddedFile
from grants.services import consensus, counting, evaluation_summary, redress, reviewing
from grants.services.anchors import chain_head
from grants.services.audit import event_body
from grants.templating import answer_labels, localized

PDF_VARIANT = "pdf/a-3u"
POST_AWARD_FILES = ("grant_decision.json", "plans.json", "completion_reports.json",
                    "final_amount.json", "assets.json", "followups.json")


def audit_record_pdf(session: Session, application: Application, *,
                     now: dt.datetime | None = None) -> bytes:
    """Render the application's audit record as PDF/A-3u with its originals embedded."""
    facts = facts_module.gather(session, application)
    post = facts_module.post_award(session, application, facts.definition)
    events = list(session.scalars(
        sa.select(AuditEvent).where(AuditEvent.subject_type == "application",
                                    AuditEvent.subject_id == application.id)
        .order_by(AuditEvent.id)))
    actor_ids = {e.actor_id for e in events if e.actor_id} | people(post)
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
        *post_award_files(post),
    )
    return render(
        "pdf/record.html", pdf_variant=PDF_VARIANT, attachments=embedded, facts=facts,
        post=post, post_hashes={f.name: hashlib.sha256(f.data).hexdigest()
                                for f in embedded if f.name in POST_AWARD_FILES},
        scores=counting.application_scores(session, application),
        evaluation=evaluation_summary.summary_of(session, application),
        history=reviewing.history(session, application), events=events,
        consensus_reports=consensus.reports(session, application),
        redress_requests=redress.requests(session, application),
        redress_grounds=event_labels.GROUND_LABELS,
        actors=actors, tag_label=event_labels.tag_label, data_rows=event_labels.data_rows,
        previous=application.submissions[:-1], chain_head=chain_head(session),
        generated_at=now or events_time(events), **answer_labels(facts.definition),
        **post_award_labels(facts.definition))


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


def post_award_labels(definition: ProgramDefinition) -> dict[str, Any]:
    """Names for what the post-award rows store by id: KPI fields, asset kinds, payers."""
    return {
        "payer_labels": {key: localized(label) for key, label in PAYERS.items()},
        "field_labels": {f.id: localized(f.label) for f in definition.all_fields()},
        "kind_titles": {life.kind: localized(life.title)
                        for life in definition.post_award.useful_lives},
        "as_json": lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True),
    }


def post_award_files(post: PostAward) -> tuple[EmbeddedFile, ...]:
    """One JSON file per post-award section that has rows, in POST_AWARD_FILES' order: each
    row with every column as stored, so the printed section can be checked against it."""
    files = []
    if post.grant is not None:
        files.append(_json_file("grant_decision.json", "grants-grant-decision/1",
                                "The grant decision, its conditions and the grantee's answer",
                                grant_decision=row_json(post.grant)))
    if post.plans or post.changes:
        files.append(_json_file("plans.json", "grants-plans/1",
                                "The plan versions and the change requests",
                                plan_versions=[row_json(p) for p in post.plans],
                                change_requests=[row_json(c) for c in post.changes]))
    if post.reports:
        files.append(_json_file(
            "completion_reports.json", "grants-completion-reports/1",
            "The completion reports filed, each with its computed variance table",
            completion_reports=[{**row_json(f.report), "variance": f.variance.as_dict()}
                                for f in post.reports]))
    if post.final is not None:
        files.append(_json_file("final_amount.json", "grants-final-amount/1",
                                "The final amount and its computation as stored",
                                final_amount=row_json(post.final)))
    if post.assets:
        files.append(_json_file(
            "assets.json", "grants-assets/1", "The asset register and the disposal requests",
            assets=[{**row_json(a), "disposals": [row_json(d) for d in a.disposals]}
                    for a in post.assets]))
    if post.followups:
        files.append(_json_file("followups.json", "grants-followups/1",
                                "The yearly follow-up reports",
                                followup_reports=[row_json(f) for f in post.followups]))
    return tuple(files)


def _json_file(name: str, format_: str, description: str, **content: Any) -> EmbeddedFile:
    data = json.dumps({"format": format_, **content}, ensure_ascii=False, sort_keys=True,
                      indent=1).encode("utf-8")
    return EmbeddedFile(name, data, description, "application/json", "Data")


def row_json(row: Base) -> dict[str, Any]:
    """A stored row as JSON: every column, times as UTC ISO 8601 (as in events.json), dates
    as YYYY-MM-DD."""
    return {column.key: _plain(getattr(row, column.key))
            for column in sa.inspect(row).mapper.column_attrs}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def people(post: PostAward) -> set[int]:
    """The users the post-award rows name (every ``*_by_id`` column), to print their names."""
    rows = [post.grant, *post.changes, *(f.report for f in post.reports), post.final,
            *(d for a in post.assets for d in a.disposals), *post.followups]
    return {getattr(row, column.key) for row in rows if row is not None
            for column in sa.inspect(row).mapper.column_attrs
            if column.key.endswith("_by_id") and getattr(row, column.key) is not None}
