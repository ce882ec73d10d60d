"""Retention (書類保存): until when each application's records are kept, and the purge after.

The rule is grants.domain.retention; this module reads the dates it needs in one query and
does the purge: the free text people typed is emptied everywhere an application's records
hold it, its attachments and kept forms and its e-mails are deleted, and what proves what
existed stays (the row and its reference, amounts, dates, scores, codes and every hash), with a
tombstone event in the audit chain. Every attempt is an audit event, a refusal included.

Left as they are, and why:
* audit events: each event's data is hashed into the chain, so emptying it would break every
  later link; the reasons, rationales, notes and file names some events hold stay there;
* user accounts: an account is a person's own sign-in, not a record of one application; it may
  act for its organization on other applications for years, and it is disabled with
  ``flask grants users disable``;
* organizations: legal bodies named by a public registry code, not personal data;
* batch ZIPs and PDFs of audit records: ``batches prune`` deletes them after
  GRANTS_BATCH_RETENTION_DAYS.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.domain import records
from grants.domain.definitions import JST
from grants.domain.errors import DomainError
from grants.domain.followups import schedule as followup_schedule
from grants.domain.identifiers import normalize
from grants.domain.retention import (
    Retention,
    StillRetained,
    blank,
    blank_keys,
    blank_text,
    redact_answers,
    redact_snapshot,
    require_purgeable,
    retention,
)
from grants.domain.workflow import Action, Role, State, fire
from grants.models import (
    Application,
    Asset,
    AssetDisposal,
    Assignment,
    Attachment,
    ChangeRequest,
    CompletionReport,
    ConsensusReport,
    ConsensusResponse,
    Decision,
    FinalAmount,
    FollowupReport,
    GrantAnswer,
    GrantDecision,
    KeptForm,
    Moderation,
    OutboxMessage,
    PlanVersion,
    ProgramVersion,
    RedressRequest,
    RedressState,
    Review,
    ReviewVersion,
    User,
)
from grants.services.audit import AuditTag, record
from grants.services.programs import definition_of
from grants.storage import Storage


@dataclass(frozen=True)
class RetentionRow:
    """One application in the retention report."""

    application_id: int
    reference: str
    state: State
    retention: Retention
    purgeable: bool  # on the report's day


def retention_report(session: Session, today: dt.date, *,
                     purgeable_only: bool = False) -> list[RetentionRow]:
    """Every application by reference: its state, the last day it is kept and whether it may
    be purged on `today` (a Japan date); only the purgeable ones with `purgeable_only`. One
    query, whatever the number of applications."""
    rows = [RetentionRow(application_id, reference, state, kept, kept.purgeable(today))
            for application_id, reference, state, kept in _retentions(session, sa.true())]
    return [row for row in rows if row.purgeable or not purgeable_only]


def _retentions(session: Session,
                condition: sa.ColumnElement[bool]) -> list[tuple[int, str, State, Retention]]:
    """The retention of each application matching `condition`, from the dates it depends on."""
    by_id = Application.id
    final_fixed_at = (sa.select(FinalAmount.confirmed_at)
                      .where(FinalAmount.application_id == by_id).scalar_subquery())
    restricted_until = (sa.select(sa.func.max(Asset.restricted_until))
                        .where(Asset.application_id == by_id).scalar_subquery())
    decided_at = (sa.select(Decision.decided_at)
                  .where(Decision.application_id == by_id).scalar_subquery())
    declined_at = (sa.select(GrantDecision.answered_at)
                   .where(GrantDecision.application_id == by_id,
                          GrantDecision.answer == GrantAnswer.DECLINED).scalar_subquery())
    redress_open = sa.exists().where(RedressRequest.application_id == by_id,
                                     RedressRequest.state == RedressState.OPEN)
    project_end = (sa.select(PlanVersion.project_end).where(PlanVersion.application_id == by_id)
                   .order_by(PlanVersion.number.desc()).limit(1).scalar_subquery())
    found = session.execute(
        sa.select(by_id, Application.reference, Application.state, final_fixed_at,
                  restricted_until, decided_at, declined_at, redress_open, project_end,
                  ProgramVersion)
        .join(Application.program_version).where(condition).order_by(Application.reference))
    return [(application_id, reference, state, retention(
        state, final_fixed_at=fixed, restricted_until=[] if last is None else [last],
        last_followup_due=None if end is None else _last_due(version, end),
        closed_at=max(filter(None, (decided, declined)), default=None), redress_open=held))
        for application_id, reference, state, fixed, last, decided, declined, held, end, version
        in found]


def _last_due(version: ProgramVersion, project_end: dt.date) -> dt.date | None:
    """When the last follow-up report of a project ending on `project_end` is due."""
    rules = definition_of(version).post_award
    owed = followup_schedule(project_end, rules.followup_years, rules.followup_due)
    return owed[-1].due_on if owed else None


# --- purge -----------------------------------------------------------------------------------


class UnknownApplication(DomainError):
    """No application has this reference."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"no application {reference!r}")
        self.reference = reference


@dataclass(frozen=True)
class Purged:
    """What a purge removed. `unreferenced` are the SHA-256 of the files no attachment refers
    to any more: remove them from storage with `remove_files` once the purge is committed."""

    reference: str
    state: State  # before the purge
    kept_until: dt.date
    deleted: dict[str, int]  # table -> rows deleted
    blanked: dict[str, int]  # table -> rows whose free text was emptied
    files: list[dict[str, Any]]  # the deleted attachments: field, sha256, type, size
    unreferenced: list[str]


FREE_TEXT_KEYS = frozenset({"comment", "description", "email", "name", "note", "rationale",
                            "reason"})
"""Keys of structured JSON (report lines, equipment, computations) whose text a purge empties."""


def _keyed(value: Any) -> Any:
    return blank_keys(value, FREE_TEXT_KEYS)


_REVIEW_TEXT = {"comments": blank, "comment_for_applicant": blank_text, "reopen_note": blank_text}

# Each table holding free text of an application: how its rows are found from the
# application's id, and how each column is emptied. The structure, amounts, dates, scores and
# hashes stay.
_Finder = Callable[[int], sa.ColumnElement[bool]]
BLANKED: tuple[tuple[type, _Finder, Mapping[str, Callable[[Any], Any]]], ...] = (
    (Assignment, lambda a: Assignment.application_id == a,
     {"decline_reason": blank_text, "withdrawal_reasons": blank}),
    (Review, lambda a: Review.assignment_id.in_(
        sa.select(Assignment.id).where(Assignment.application_id == a)), _REVIEW_TEXT),
    (ReviewVersion, lambda a: ReviewVersion.review_id.in_(
        sa.select(Review.id).join(Review.assignment).where(Assignment.application_id == a)),
     _REVIEW_TEXT),
    (Moderation, lambda a: Moderation.application_id == a, {"rationale": blank_text}),
    (Decision, lambda a: Decision.application_id == a,
     {"rationale": blank_text, "computation": _keyed}),
    (ConsensusReport, lambda a: ConsensusReport.application_id == a,
     {"comments": blank, "overall_comment": blank_text, "returned_note": blank_text}),
    (ConsensusResponse, lambda a: ConsensusResponse.report_id.in_(
        sa.select(ConsensusReport.id).where(ConsensusReport.application_id == a)),
     {"reason": blank_text}),
    (RedressRequest, lambda a: RedressRequest.application_id == a,
     {"description": blank_text, "finding": blank_text, "set_aside_decision": _keyed}),
    (GrantDecision, lambda a: GrantDecision.application_id == a,
     {"decline_reason": blank_text}),
    (PlanVersion, lambda a: PlanVersion.application_id == a, {"scope": blank_text}),
    (ChangeRequest, lambda a: ChangeRequest.application_id == a,
     {"reason": blank_text, "scope": blank_text, "decision_reason": blank_text}),
    (CompletionReport, lambda a: CompletionReport.application_id == a,
     {"lines": _keyed, "variance_reasons": blank, "kpi_results": blank, "equipment": _keyed,
      "outcome": blank_text, "return_reason": blank_text}),
    (FinalAmount, lambda a: FinalAmount.application_id == a, {"computation": _keyed}),
    (Asset, lambda a: Asset.application_id == a, {"name": blank_text}),
    (AssetDisposal, lambda a: AssetDisposal.asset_id.in_(
        sa.select(Asset.id).where(Asset.application_id == a)),
     {"reason": blank_text, "decision_reason": blank_text, "computation": _keyed}),
    (FollowupReport, lambda a: FollowupReport.application_id == a,
     {"stop_reason": blank_text, "note": blank_text, "kpi_results": blank}),
)


def purge(session: Session, reference: str, *, actor: User | None,
          now: dt.datetime) -> Purged:
    """Remove an application's personal data and files once its retention is over.

    Args:
        reference: the application's reference, typed any way (full-width, lower case).
        actor: the admin purging; None for an operator on the command line (acting as admin).
        now: the time of the attempt; its Japan date is checked against the retention.

    Raises:
        UnknownApplication: no application has this reference (no event: nothing to name).
        StillRetained: inside the retention period or held (in progress, already purged);
            the refusal's audit event is flushed first: commit to keep it.
    """
    wanted = normalize(reference).upper()
    application = session.scalar(sa.select(Application).where(Application.reference == wanted)
                                 .with_for_update())
    if application is None:
        raise UnknownApplication(wanted)
    [(_, _, _, kept)] = _retentions(session, Application.id == application.id)
    try:
        require_purgeable(kept, now.astimezone(JST).date())
    except StillRetained:
        record(session, AuditTag.PURGE_REFUSE, subject_type="application",
               subject_id=application.id, actor=actor, now=now,
               data={"reference": application.reference, "state": str(application.state),
                     "kept_until": _iso(kept.kept_until),
                     "hold": None if kept.hold is None else str(kept.hold)})
        raise
    before = application.state
    application.state = fire(before, Action.PURGE, actor.role if actor else Role.ADMIN)
    files = _delete_attachments(application)
    deleted = {"attachments": len(files),
               "kept_forms": _delete(session, sa.delete(KeptForm).where(
                   KeptForm.application_id == application.id)),
               "outbox_messages": _delete(session, sa.delete(OutboxMessage).where(
                   OutboxMessage.application_id == application.id))}
    blanked = _blank_application(application, actor=actor, now=now)
    for model, finder, columns in BLANKED:
        blanked[model.__tablename__] = _blank_rows(session, model, finder(application.id),
                                                   columns)
    session.flush()
    named = {file["sha256"] for file in files}
    unreferenced = sorted(named - _referenced(session, named))
    purged = Purged(application.reference, before, kept.kept_until, deleted,
                    {table: count for table, count in blanked.items() if count}, files,
                    unreferenced)
    record(session, AuditTag.PURGE, subject_type="application", subject_id=application.id,
           actor=actor, now=now, data={
               "reference": purged.reference, "state": str(before),
               "kept_until": _iso(purged.kept_until), "deleted": deleted,
               "blanked": purged.blanked, "files": files, "files_removed": unreferenced,
               "snapshots": [s.snapshot_sha256 for s in application.submissions]})
    return purged


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _delete(session: Session, statement: sa.Delete) -> int:
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


def _delete_attachments(application: Application) -> list[dict[str, Any]]:
    """Delete the attachment rows (the files go after the commit); return what each was."""
    files = [{"field": a.field_id, "sha256": a.sha256, "mime_type": a.mime_type,
              "size_bytes": a.size_bytes} for a in application.attachments]
    application.attachments.clear()  # delete-orphan: the rows go at the flush
    return files


def _blank_application(application: Application, *, actor: User | None,
                       now: dt.datetime) -> dict[str, int]:
    """Empty the draft answers and each snapshot's personal content; the hashes stay."""
    kinds = {field.id: field.kind for field in definition_of(application.program_version)
             .all_fields()}
    application.answers = redact_answers(kinds, application.answers)
    application.return_reason = blank_text(application.return_reason)
    application.updated_at, application.updated_by_id = now, actor.id if actor else None
    for submission in application.submissions:
        snapshot = redact_snapshot(kinds, json.loads(submission.snapshot))
        submission.snapshot = records.canonical_json(snapshot).decode("utf-8")
    return {"applications": 1, "submissions": len(application.submissions)}


def _blank_rows(session: Session, model: type, condition: sa.ColumnElement[bool],
                columns: Mapping[str, Callable[[Any], Any]]) -> int:
    """Empty `columns` of the rows matching `condition`; return how many rows changed."""
    changed = 0
    for row in session.scalars(sa.select(model).where(condition)):
        emptied = {name: blank_out(getattr(row, name)) for name, blank_out in columns.items()}
        if any(getattr(row, name) != value for name, value in emptied.items()):
            changed += 1
            for name, value in emptied.items():
                setattr(row, name, value)
    return changed


def remove_files(session: Session, storage: Storage, sha256s: list[str]) -> list[str]:
    """Remove from storage each file that no attachment refers to (checked again now: the same
    bytes may have been uploaded since the purge); return the SHA-256 of those removed.

    Call it after the purge is committed, so a failed commit never leaves a row without its
    file. Should an upload of the same bytes race the removal, the submission's integrity
    check finds the file missing and asks for it again, and storing it again repairs it.
    """
    referenced = _referenced(session, set(sha256s))
    removed = [sha256 for sha256 in sha256s if sha256 not in referenced]
    for sha256 in removed:
        storage.delete(sha256)
    return removed


def _referenced(session: Session, sha256s: set[str]) -> set[str]:
    """Those of `sha256s` an attachment still refers to."""
    return set(session.scalars(sa.select(Attachment.sha256).where(Attachment.sha256.in_(sha256s))))
