"""Funded applications for auditors: search them, and open one with its decision and snapshot.

A funded application is one in a funded state (awarded, then the project and what follows it)
with an award decision. Years after the money was spent, auditors find them by call, fiscal
year, prefecture, a local government taking part (the lead or a partner of the frozen
submission), the organization's name and the amount; and after completion, by what the latest
follow-up report said (operating, partly, stopped), by a follow-up report past its due date and
by assets still under their disposal restriction. Every search runs the same few queries
however many applications match.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import math
from collections import defaultdict
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from grants.domain.definitions import Program as ProgramDefinition
from grants.domain.followups import past_due_by_completion
from grants.domain.localgov import GovernmentKind, load_registry
from grants.domain.workflow import FUNDED_STATES, State
from grants.models import (
    Application,
    Asset,
    AssetState,
    Decision,
    FollowupReport,
    Operating,
    Organization,
    Outcome,
    ProgramVersion,
    Submission,
    User,
)
from grants.services.audit import AuditTag, record
from grants.services.plans import project_end_in_force
from grants.services.programs import definition_of

PER_PAGE = 50


class FollowupFilter(enum.StrEnum):
    """What the follow-ups of a completed project show: the latest report's answer, or a
    report past its due date that was not filed."""

    OPERATING = "operating"
    PARTLY = "partly"
    STOPPED = "stopped"
    OVERDUE = "overdue"


LATEST_SAYS = {FollowupFilter.OPERATING: Operating.YES, FollowupFilter.PARTLY: Operating.PARTLY,
               FollowupFilter.STOPPED: Operating.STOPPED}


@dataclass(frozen=True)
class Criteria:
    """What to look for; None means any. Amounts are integer yen, both bounds included;
    `followup` is a FollowupFilter value; `restricted_assets` True keeps the projects holding
    an asset whose disposal restriction has not ended."""

    program_key: str | None = None
    fiscal_year: int | None = None
    prefecture_code: str | None = None
    lg_code: str | None = None
    organization: str | None = None
    min_yen: int | None = None
    max_yen: int | None = None
    followup: str | None = None
    restricted_assets: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the criteria that are set (JSON-safe: strings, integers and booleans)."""
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Criteria:
        return cls(**{key: data.get(key) for key in cls.__dataclass_fields__})


@dataclass(frozen=True)
class VersionInfo:
    """What a search needs from one stored program version."""

    id: int
    program_key: str
    fiscal_year: int
    title: dict[str, str]
    partners_fields: tuple[str, ...]  # the partners and consortium fields: rows with a `code`
    followup_years: int
    followup_due: str  # "MM-DD"


@dataclass(frozen=True)
class FundedRow:
    application_id: int
    reference: str
    program_key: str
    program_title: dict[str, str]
    fiscal_year: int
    organization: str
    prefecture: str | None
    amount_yen: int
    decided_at: dt.datetime
    state: State
    latest_followup: tuple[int, Operating] | None  # its fiscal year and answer


@dataclass(frozen=True)
class SearchPage:
    rows: list[FundedRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def program_versions(session: Session) -> dict[int, VersionInfo]:
    """Every stored program version, parsed (one query; definitions are cached per text)."""
    rows = session.execute(sa.select(
        ProgramVersion.id, ProgramVersion.program_key, ProgramVersion.source_text,
        ProgramVersion.source_name))
    return {row.id: _version_info(row.id, row.program_key, row.source_text, row.source_name)
            for row in rows}


def _version_info(id_: int, key: str, text: str, name: str) -> VersionInfo:
    definition = _definition(text, name)
    return VersionInfo(id_, key, definition.fiscal_year,
                       {"ja": definition.title.ja, "en": definition.title.en},
                       tuple(f.id for f in _participant_fields(definition)),
                       definition.post_award.followup_years, definition.post_award.followup_due)


def _participant_fields(definition: ProgramDefinition) -> list[Any]:
    """The fields listing who takes part besides the applicant: partners, consortium members."""
    return [f for f in (definition.partners_field, definition.consortium_field) if f]


def _definition(text: str, name: str) -> ProgramDefinition:
    return definition_of(ProgramVersion(source_text=text, source_name=name))


@lru_cache(maxsize=1)
def prefectures() -> dict[str, str]:
    """The 47 prefectures by their 2-digit code, in code order."""
    return {gov.prefecture_code: gov.name for gov in load_registry()
            if gov.kind is GovernmentKind.PREFECTURE}


def prefecture_of(lg_code: str | None) -> str | None:
    """The prefecture of a local government code (its first two digits), if it is one."""
    return prefectures().get(lg_code[:2]) if lg_code else None


def _funded(*columns: Any) -> sa.Select[Any]:
    return (
        sa.select(*columns).select_from(Application)
        .join(Decision, Decision.application_id == Application.id)
        .join(Organization, Organization.id == Application.organization_id)
        .where(Application.state.in_(FUNDED_STATES), Decision.outcome == Outcome.AWARD)
    )


def _filtered(session: Session, statement: sa.Select[Any], criteria: Criteria,
              versions: dict[int, VersionInfo], today: dt.date) -> sa.Select[Any]:
    wanted = list(versions.values())
    if criteria.program_key is not None:
        wanted = [v for v in wanted if v.program_key == criteria.program_key]
    if criteria.fiscal_year is not None:
        wanted = [v for v in wanted if v.fiscal_year == criteria.fiscal_year]
    if len(wanted) != len(versions):
        statement = statement.where(Application.program_version_id.in_([v.id for v in wanted]))
    if criteria.prefecture_code is not None:
        statement = statement.where(Organization.lg_code.startswith(criteria.prefecture_code))
    if criteria.lg_code is not None:
        fields = sorted({field for v in wanted for field in v.partners_fields})
        statement = statement.where(sa.or_(
            Organization.lg_code == criteria.lg_code,
            *(_partner_named(session, field, criteria.lg_code) for field in fields)))
    if criteria.organization is not None:
        statement = statement.where(
            Organization.name.icontains(criteria.organization, autoescape=True))
    if criteria.min_yen is not None:
        statement = statement.where(Decision.amount_yen >= criteria.min_yen)
    if criteria.max_yen is not None:
        statement = statement.where(Decision.amount_yen <= criteria.max_yen)
    if criteria.followup == FollowupFilter.OVERDUE:
        statement = statement.where(_followup_overdue(wanted, today))
    elif criteria.followup is not None:
        statement = statement.where(
            _latest_followup(FollowupReport.operating) == LATEST_SAYS[FollowupFilter(
                criteria.followup)])
    if criteria.restricted_assets:
        statement = statement.where(sa.exists().where(
            Asset.application_id == Application.id, Asset.state == AssetState.HELD,
            Asset.restricted_until >= today))
    return statement


def _latest_followup(column: Any) -> sa.ScalarSelect[Any]:
    """``column`` of the application's latest follow-up report (NULL when none was filed)."""
    return (sa.select(column).where(FollowupReport.application_id == Application.id)
            .order_by(FollowupReport.fiscal_year.desc()).limit(1)
            .correlate(Application).scalar_subquery())


def _followup_overdue(versions: list[VersionInfo], today: dt.date) -> sa.ColumnElement[bool]:
    """COMPLETED, and a follow-up report past its due date not filed.

    Which reports are past due depends on the program's rule and the completion's fiscal year
    only (past_due_by_completion): per rule and year, a date range on the end of the plan in
    force and a count of the reports filed, so the test is a few SQL terms however many
    projects there are.
    """
    plan_end = project_end_in_force()
    rules: dict[tuple[int, str], list[int]] = defaultdict(list)
    for version in versions:
        rules[version.followup_years, version.followup_due].append(version.id)
    clauses = []
    for (years, due), ids in rules.items():
        for first_day, last_day, owed in past_due_by_completion(today, years, due):
            filed = (sa.select(sa.func.count()).select_from(FollowupReport)
                     .where(FollowupReport.application_id == Application.id,
                            FollowupReport.year_number <= owed)
                     .correlate(Application).scalar_subquery())
            ended = plan_end <= last_day if first_day is None else plan_end.between(
                first_day, last_day)
            clauses.append(sa.and_(Application.program_version_id.in_(ids), ended,
                                   filed < owed))
    return sa.and_(Application.state == State.COMPLETED, sa.or_(sa.false(), *clauses))


def _latest_submission() -> sa.ScalarSelect[Any]:
    """The number of the application's latest submission (the one decided on)."""
    other = aliased(Submission)
    return (sa.select(sa.func.max(other.number)).where(other.application_id == Application.id)
            .correlate(Application).scalar_subquery())


def _partner_named(session: Session, field: str, lg_code: str) -> sa.ColumnElement[bool]:
    """EXISTS: the latest frozen submission lists ``lg_code`` in its partners field ``field``.

    The snapshot is canonical JSON in a text column; SQLite (JSON1) and PostgreSQL (jsonb) each
    take its partner rows apart with their own table-valued function.
    """
    if session.get_bind().dialect.name == "postgresql":
        rows = sa.cast(Submission.snapshot, postgresql.JSONB)["answers"][field]
        array = sa.case((sa.func.jsonb_typeof(rows) == "array", rows),
                        else_=sa.cast(sa.literal("[]"), postgresql.JSONB))
        partner = sa.func.jsonb_array_elements(array).table_valued("value").alias("partner")
        code = partner.c.value.op("->>")("code")
    else:
        path = '$.answers."' + field.replace('"', "") + '"'
        partner = sa.func.json_each(Submission.snapshot, path).table_valued("value").alias(
            "partner")
        code = sa.func.json_extract(partner.c.value, "$.code")
    return (
        sa.select(sa.literal(1)).select_from(Submission).join(partner, sa.true())
        .where(Submission.application_id == Application.id,
               Submission.number == _latest_submission(), code.in_(_spellings(lg_code)))
        .exists()
    )


_FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def _spellings(lg_code: str) -> tuple[str, str]:
    """The canonical code, and its full-width spelling.

    Snapshots frozen before partner codes were stored canonical keep what was typed (a
    Japanese input method gives full-width digits); they are never rewritten, so both match.
    """
    return lg_code, lg_code.translate(_FULL_WIDTH_DIGITS)


def search_funded(session: Session, criteria: Criteria, *, today: dt.date, page: int = 1,
                  per_page: int | None = None) -> SearchPage:
    """One page of funded applications matching ``criteria`` on ``today`` (a Japan date),
    latest decisions first.

    Three queries whatever the number of results: program versions, the count, the page. A
    page past the end shows the last page.
    """
    per_page = per_page or PER_PAGE
    versions = program_versions(session)
    matching = _filtered(session, _funded(Application.id), criteria, versions,
                         today).subquery()
    total = session.scalar(sa.select(sa.func.count()).select_from(matching)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    columns = _funded(
        Application.id, Application.reference, Application.program_version_id,
        Organization.name, Organization.lg_code, Decision.amount_yen, Decision.decided_at,
        Application.state, _latest_followup(FollowupReport.fiscal_year).label("followup_year"),
        _latest_followup(FollowupReport.operating).label("followup_operating"))
    statement = (
        _filtered(session, columns, criteria, versions, today)
        .order_by(Decision.decided_at.desc(), Application.reference)
        .limit(per_page).offset((page - 1) * per_page)
    )
    rows = []
    for row in session.execute(statement):
        version = versions[row.program_version_id]
        rows.append(FundedRow(
            application_id=row.id, reference=row.reference, program_key=version.program_key,
            program_title=version.title, fiscal_year=version.fiscal_year,
            organization=row.name, prefecture=prefecture_of(row.lg_code),
            amount_yen=row.amount_yen, decided_at=row.decided_at, state=row.state,
            latest_followup=None if row.followup_year is None else (
                row.followup_year, Operating(row.followup_operating))))
    return SearchPage(rows, total, page, per_page)


def funded_ids(session: Session, criteria: Criteria, *, today: dt.date,
               limit: int | None = None) -> list[int]:
    """The ids of every funded application matching ``criteria``, in the search's order."""
    statement = (_filtered(session, _funded(Application.id), criteria, program_versions(session),
                           today)
                 .order_by(Decision.decided_at.desc(), Application.reference))
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


@dataclass(frozen=True)
class FundedRecord:
    """One funded application as the auditor's page shows it, read from its frozen submission."""

    application: Application
    decision: Decision
    submission: Submission
    snapshot: dict[str, Any]
    definition: ProgramDefinition

    @property
    def partners(self) -> list[dict[str, Any]]:
        """The partners and consortium members (a member's `code` may be its 法人番号)."""
        answers = self.snapshot["answers"]
        fields = _participant_fields(self.definition)
        rows = [row for field in fields for row in answers.get(field.id) or []]
        return [row for row in rows if isinstance(row, dict)]

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return list(self.snapshot.get("attachments") or [])


def load_funded(session: Session, application_id: int) -> FundedRecord | None:
    """The funded application with this id, or None when there is none (or it is not funded)."""
    application = session.scalar(
        sa.select(Application).where(Application.id == application_id)
        .options(joinedload(Application.organization), joinedload(Application.program_version),
                 selectinload(Application.submissions)))
    if application is None or application.state not in FUNDED_STATES:
        return None
    decision = session.scalar(
        sa.select(Decision).filter_by(application_id=application.id, outcome=Outcome.AWARD)
        .options(joinedload(Decision.decided_by)))
    if decision is None or not application.submissions:
        return None
    submission = application.submissions[-1]
    return FundedRecord(application, decision, submission, json.loads(submission.snapshot),
                        definition_of(application.program_version))


def record_download(session: Session, application: Application, pdf: bytes, *, actor: User,
                    now: dt.datetime) -> None:
    """Audit that ``actor`` downloaded the record of ``application`` (and which bytes)."""
    record(session, AuditTag.RECORD_DOWNLOAD, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"application_ids": [application.id], "reference": application.reference,
                 "sha256": hashlib.sha256(pdf).hexdigest()})
