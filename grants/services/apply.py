"""The applicant's use cases: start, save a step, attach files, submit."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from grants.domain import records, workflow
from grants.domain.application_data import ApplicationData
from grants.domain.budget import BudgetSummary, summarize
from grants.domain.definitions import Program as ProgramDefinition
from grants.domain.eligibility import JUSTIFICATIONS_KEY, evaluate
from grants.domain.errors import DomainError
from grants.domain.findings import Finding, LocalizedText, Severity
from grants.domain.workflow import Action, Role, State
from grants.models import Application, Attachment, Program, Submission, User
from grants.services.audit import AuditTag, record
from grants.services.locking import lock_application
from grants.services.programs import definition_of
from grants.storage import Storage

SNAPSHOT_FORMAT = "grants.snapshot/1"
JUSTIFICATION_CHARS = 4000  # like a long_text field
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


class CallClosed(DomainError):
    """The call is not open at this moment (Japan time)."""


class EditConflict(DomainError):
    """Someone saved the draft since this form was loaded; nothing was overwritten."""

    def __init__(self, application: Application) -> None:
        super().__init__("edit_conflict")
        self.application = application


class NotEditable(DomainError):
    """The application is submitted (or decided) and can no longer be changed."""


class SubmissionRefused(DomainError):
    """Blocking findings or missing files; ``findings`` says what to fix."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("submission_refused")
        self.findings = findings


@dataclass(frozen=True)
class Receipt:
    reference: str
    number: int
    snapshot_sha256: str
    submitted_at: dt.datetime


def is_open(definition: ProgramDefinition, now: dt.datetime) -> bool:
    return definition.call.opens <= now < definition.call.closes


def new_reference(now: dt.datetime) -> str:
    """A short reference people can read out on the phone, e.g. ``G26-7K3M-9QXP``."""
    body = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"G{now.year % 100:02d}-{body[:4]}-{body[4:]}"


def start(session: Session, program: Program, *, actor: User, now: dt.datetime) -> Application:
    """Open a new draft for the actor's organization under the program's current version."""
    definition = definition_of(program.current_version)
    if not is_open(definition, now):
        raise CallClosed(definition.id)
    application = Application(
        reference=new_reference(now),
        program_version_id=program.current_version_id,
        organization_id=actor.organization_id,
        created_by_id=actor.id,
        updated_by_id=actor.id,
        answers={},
        created_at=now,
        updated_at=now,
    )
    session.add(application)
    session.flush()
    record(
        session,
        AuditTag.APPLICATION_START,
        subject_type="application",
        subject_id=application.id,
        actor=actor,
        now=now,
        data={"reference": application.reference, "program": definition.id},
    )
    return application


def application_data(application: Application) -> ApplicationData:
    """The domain's view of a draft: applicant, answers and uploaded files per slot."""
    org = application.organization
    counts: dict[str, int] = {}
    for attachment in application.attachments:
        counts[attachment.field_id] = counts.get(attachment.field_id, 0) + 1
    return ApplicationData(
        applicant_type=str(org.kind),
        lead_local_government=org.lg_code,
        answers=dict(application.answers),
        attachments=counts,
    )


def data_from_snapshot(snapshot: dict[str, Any]) -> ApplicationData:
    """The domain's view of a frozen submission (reviews and decisions read only this)."""
    counts: dict[str, int] = {}
    for attachment in snapshot["attachments"]:
        counts[attachment["field"]] = counts.get(attachment["field"], 0) + 1
    return ApplicationData(
        applicant_type=snapshot["applicant"]["kind"],
        lead_local_government=snapshot["applicant"]["lg_code"],
        answers=snapshot["answers"],
        attachments=counts,
    )


def budget_summary(application: Application) -> BudgetSummary | None:
    """Totals per category and the cap that applies, or None for a program without a budget."""
    definition = definition_of(application.program_version)
    if definition.budget_field is None:
        return None
    lines = application.answers.get(definition.budget_field.id) or []
    return summarize(definition, lines, application_data(application))


def findings_for(application: Application) -> list[Finding]:
    return evaluate(definition_of(application.program_version), application_data(application))


def _ensure_editable(application: Application) -> None:
    if application.state not in workflow.EDITABLE_STATES:
        raise NotEditable(application.reference)


def save_answers(
    session: Session,
    application: Application,
    values: dict[str, Any],
    *,
    expected_version: int,
    actor: User,
    now: dt.datetime,
) -> None:
    """Merge one step's answers into the draft, refusing a save based on a stale copy."""
    _ensure_current(application, expected_version)
    answers = dict(application.answers)
    answers.update(values)
    application.answers = answers
    _mark_changed(application, actor, now)
    session.flush()  # the version column makes a concurrent UPDATE fail here


def justify(
    session: Session,
    application: Application,
    texts: Mapping[str, str],
    *,
    expected_version: int,
    actor: User,
    now: dt.datetime,
) -> None:
    """Keep the applicant's reasons for exceptions to rules "in principle" in the answers (so the
    snapshot freezes them); only rules that are in principle are kept, each text trimmed and
    bounded. Like a step's save, a save based on a stale copy is refused."""
    _ensure_current(application, expected_version)
    definition = definition_of(application.program_version)
    principle = {r.id for r in definition.rules if r.severity is Severity.PRINCIPLE}
    kept = {
        rule_id: text.strip()[:JUSTIFICATION_CHARS]
        for rule_id, text in texts.items()
        if rule_id in principle and text.strip()
    }
    answers = dict(application.answers)
    answers[JUSTIFICATIONS_KEY] = kept
    application.answers = answers
    _mark_changed(application, actor, now)
    session.flush()


def _ensure_current(application: Application, expected_version: int) -> None:
    """Refuse a change to a submitted application, or one made on a copy since saved by
    someone else (optimistic locking on the lock version)."""
    _ensure_editable(application)
    if expected_version != application.lock_version:
        raise EditConflict(application)


def _mark_changed(application: Application, actor: User, now: dt.datetime) -> None:
    """Make the next flush UPDATE the row, bumping its lock version, even when no column value
    differs (same answers, or two changes within one clock tick): others must see it changed.
    """
    application.updated_by_id = actor.id
    application.updated_at = now
    flag_modified(application, "updated_at")


def add_attachment(
    session: Session,
    application: Application,
    *,
    field_id: str,
    stored_sha256: str,
    filename: str,
    mime_type: str,
    size_bytes: int,
    actor: User,
    now: dt.datetime,
) -> Attachment:
    """Record a file already written to storage under its hash."""
    _ensure_editable(application)
    attachment = Attachment(
        field_id=field_id,
        sha256=stored_sha256,
        filename=filename,
        mime_type=mime_type,
        size_bytes=size_bytes,
        uploaded_at=now,
        uploaded_by_id=actor.id,
    )
    application.attachments.append(attachment)
    _mark_changed(application, actor, now)
    session.flush()
    record(
        session,
        AuditTag.ATTACHMENT_ADD,
        subject_type="application",
        subject_id=application.id,
        actor=actor,
        now=now,
        data={"field": field_id, "sha256": stored_sha256, "filename": filename},
    )
    return attachment


def remove_attachment(
    session: Session, application: Application, attachment_id: int, *, actor: User, now: dt.datetime
) -> None:
    _ensure_editable(application)
    attachment = next((a for a in application.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise DomainError("attachment_not_found")
    application.attachments.remove(attachment)
    _mark_changed(application, actor, now)
    session.flush()
    record(
        session,
        AuditTag.ATTACHMENT_REMOVE,
        subject_type="application",
        subject_id=application.id,
        actor=actor,
        now=now,
        data={"field": attachment.field_id, "sha256": attachment.sha256},
    )


def submit(
    session: Session, application: Application, *, actor: User, storage: Storage, now: dt.datetime
) -> Receipt:
    """Freeze the application: re-check everything, snapshot, hash, change state, audit.

    Submitting an application that is already submitted returns the same receipt, so a double
    click or a retried request never makes a second submission.
    """
    lock_application(session, application)
    if application.state is State.SUBMITTED and application.submissions:
        return _receipt(application, application.submissions[-1])
    definition = definition_of(application.program_version)
    if not is_open(definition, now):
        raise CallClosed(definition.id)
    new_state = workflow.fire(application.state, Action.SUBMIT, Role.APPLICANT)
    findings = findings_for(application)
    blocking = [f for f in findings if f.blocking]
    blocking += _missing_files(application, storage)
    if blocking:
        raise SubmissionRefused(blocking)
    number = len(application.submissions) + 1
    snapshot = build_snapshot(
        application, definition, findings, actor=actor, now=now, number=number
    )
    text = records.canonical_json(snapshot)
    submission = Submission(
        number=number,
        snapshot=text.decode("utf-8"),
        snapshot_sha256=records.sha256_hex(text),
        findings=[f.to_dict() for f in findings],
        submitted_at=now,
        submitted_by_id=actor.id,
    )
    application.submissions.append(submission)
    application.state = new_state
    application.submitted_at = now
    session.flush()
    record(
        session,
        AuditTag.APPLICATION_SUBMIT,
        subject_type="application",
        subject_id=application.id,
        actor=actor,
        now=now,
        data={
            "reference": application.reference,
            "number": number,
            "snapshot_sha256": submission.snapshot_sha256,
        },
    )
    return _receipt(application, submission)


def _missing_files(application: Application, storage: Storage) -> list[Finding]:
    missing = []
    for attachment in application.attachments:
        if not storage.verify(attachment.sha256):
            missing.append(
                Finding(
                    rule_id="attachment-integrity",
                    kind="attachment_integrity",
                    severity=Severity.ERROR,
                    field=attachment.field_id,
                    message=LocalizedText(
                        ja=f"添付ファイル「{attachment.filename}」を確認できません。もう一度アップロードしてください。",
                        en=f"The attachment “{attachment.filename}” cannot be verified. "
                        "Please upload it again.",
                    ),
                )
            )
    return missing


def build_snapshot(
    application: Application,
    definition: ProgramDefinition,
    findings: list[Finding],
    *,
    actor: User,
    now: dt.datetime,
    number: int,
) -> dict[str, Any]:
    """Everything the submission consists of, as plain JSON data (hashed canonically)."""
    org = application.organization
    file_fields = {f.id for f in definition.all_fields() if f.kind == "file"}
    return {
        "format": SNAPSHOT_FORMAT,
        "reference": application.reference,
        "submission_number": number,
        "submitted_at": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "submitted_by": {"id": actor.id, "name": actor.display_name, "email": actor.email},
        "program": {
            "id": definition.id,
            "version_sha256": application.program_version.sha256,
            "title": {"ja": definition.title.ja, "en": definition.title.en},
        },
        "applicant": {
            "organization_id": org.id,
            "name": org.name,
            "kind": str(org.kind),
            "lg_code": org.lg_code,
        },
        "answers": {k: v for k, v in application.answers.items() if k not in file_fields},
        "attachments": [
            {
                "field": a.field_id,
                "filename": a.filename,
                "sha256": a.sha256,
                "mime_type": a.mime_type,
                "size_bytes": a.size_bytes,
            }
            for a in application.attachments
        ],
        "findings": [f.to_dict() for f in findings],
    }


def _receipt(application: Application, submission: Submission) -> Receipt:
    return Receipt(
        reference=application.reference,
        number=submission.number,
        snapshot_sha256=submission.snapshot_sha256,
        submitted_at=submission.submitted_at,
    )
