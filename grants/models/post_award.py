"""After the award: the grant decision and its acceptance, plan changes, the completion report,
the final amount, the asset register and the yearly follow-up reports.

The shape is Japanese subsidy administration: 交付決定 → 計画変更 → 実績報告 → 額の確定 → 財産管理
→ 状況報告 → 書類保存. The rules are pure functions in grants.domain; these rows keep what was
filed and decided. Amounts are integer yen; per-category amounts are JSON maps of category id to
yen, in the program's category order.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, created_at, intpk
from grants.domain.followups import Reminder
from grants.models.accounts import User
from grants.models.applications import Application


class GrantAnswer(enum.StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"


class GrantDecision(Base):
    """The grant decision (交付決定) made with the award: the amount per cost category, the
    project period and the conditions the grantee accepts or declines."""

    __tablename__ = "grant_decisions"
    __table_args__ = (
        sa.CheckConstraint("amount_yen > 0", name="amount_positive"),
        sa.CheckConstraint("project_end >= project_start", name="period_in_order"),
        sa.CheckConstraint("(answer IS NULL) = (answered_at IS NULL)", name="answered_at_iff"),
        sa.CheckConstraint("answer IS NULL OR answer <> 'declined' OR decline_reason IS NOT NULL",
                           name="reason_when_declined"),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), unique=True)
    decision_id: Mapped[int] = mapped_column(sa.ForeignKey("decisions.id"), unique=True)
    amount_yen: Mapped[int] = mapped_column(sa.BigInteger, comment="the award, integer yen")
    category_amounts: Mapped[dict[str, Any]] = mapped_column(
        comment="the award per cost category: {category id: yen}")
    project_start: Mapped[dt.date]
    project_end: Mapped[dt.date]
    conditions: Mapped[str] = mapped_column(sa.Text,
                                            comment="交付の条件, as the letter states them")
    issued_at: Mapped[dt.datetime]
    issued_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    answer: Mapped[GrantAnswer | None]
    answered_at: Mapped[dt.datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)

    application: Mapped[Application] = relationship()
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])


class PlanVersion(Base):
    """The plan in force from `created_at`: version 1 is the accepted grant decision, each later
    one an approved change request. Never updated; every later check uses the latest."""

    __tablename__ = "plan_versions"
    __table_args__ = (sa.UniqueConstraint("application_id", "number"),)

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    number: Mapped[int] = mapped_column(comment="1 for the grant decision, then one more each")
    category_amounts: Mapped[dict[str, Any]] = mapped_column(comment="{category id: yen}")
    project_end: Mapped[dt.date]
    scope: Mapped[str] = mapped_column(sa.Text, comment="what the project does, as approved")
    change_request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("change_requests.id"))
    created_at: Mapped[created_at]


class ChangeState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class ChangeRequest(Base):
    """A request to change the plan in force (計画変更): money between categories beyond the
    program's tolerance, a later end of the project, a changed scope; any of the three. One
    may be pending at a time, so the plan it changes is the plan in force."""

    __tablename__ = "change_requests"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "number"),
        sa.CheckConstraint("(state = 'pending') = (decided_at IS NULL)",
                           name="decided_unless_pending"),
        sa.CheckConstraint("state <> 'refused' OR decision_reason IS NOT NULL",
                           name="reason_when_refused"),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    number: Mapped[int]
    category_amounts: Mapped[dict[str, Any] | None] = mapped_column(
        comment="the proposed amounts per category; NULL: unchanged")
    project_end: Mapped[dt.date | None] = mapped_column(
        comment="the proposed end; NULL: unchanged")
    scope: Mapped[str | None] = mapped_column(sa.Text,
                                              comment="the proposed scope; NULL: unchanged")
    reason: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[ChangeState] = mapped_column(default=ChangeState.PENDING)
    requested_at: Mapped[dt.datetime]
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class ReportState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # for correction: the grantee's next filing is a new row
    ACCEPTED = "accepted"


class CompletionReport(Base):
    """The completion report (実績報告): actual costs per line, reasons for the variances the
    domain finds, KPI results, jobs created and the equipment acquired. The variance table is
    computed from the lines and the plan in force, never stored as typed."""

    __tablename__ = "completion_reports"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "number"),
        sa.CheckConstraint("(state = 'draft') = (submitted_at IS NULL)",
                           name="submitted_at_unless_draft"),
        sa.CheckConstraint("state <> 'returned' OR return_reason IS NOT NULL",
                           name="reason_when_returned"),
        sa.CheckConstraint("jobs_created IS NULL OR jobs_created >= 0", name="jobs_not_negative"),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    number: Mapped[int] = mapped_column(comment="1 for the first filing, then one more each")
    plan_version_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_versions.id"),
                                                 comment="the plan in force it reports against")
    state: Mapped[ReportState] = mapped_column(default=ReportState.DRAFT)
    lines: Mapped[list[Any]] = mapped_column(
        default=list, comment="actual costs: {category, description, acquisition, amount_yen}")
    variance_reasons: Mapped[dict[str, Any]] = mapped_column(
        default=dict, comment="{category id: why actual differs from the plan}")
    kpi_results: Mapped[dict[str, Any]] = mapped_column(
        default=dict, comment="{application field id: the result against its target}")
    jobs_created: Mapped[int | None]
    equipment: Mapped[list[Any]] = mapped_column(
        default=list, comment="acquired: {name, kind, acquired_on, cost_yen}")
    outcome: Mapped[str] = mapped_column(sa.Text, default="", comment="what the project achieved")
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime]
    lock_version: Mapped[int] = mapped_column(comment="optimistic lock: a stale save is refused")
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(comment="returned or accepted")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    return_reason: Mapped[str | None] = mapped_column(sa.Text)

    plan_version: Mapped[PlanVersion] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}


class FinalAmount(Base):
    """The final amount (額の確定), computed by the domain from the accepted report and
    confirmed by the officer; `computation` keeps every step of the working."""

    __tablename__ = "final_amounts"
    __table_args__ = (
        sa.CheckConstraint("amount_yen >= 0", name="amount_not_negative"),
        sa.CheckConstraint("to_return_yen >= 0", name="return_not_negative"),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), unique=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("completion_reports.id"), unique=True)
    amount_yen: Mapped[int] = mapped_column(sa.BigInteger)
    to_return_yen: Mapped[int] = mapped_column(sa.BigInteger,
                                               comment="the decided amount paid less the final")
    computation: Mapped[dict[str, Any]]
    confirmed_at: Mapped[dt.datetime]
    confirmed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    confirmed_by: Mapped[User] = relationship()


class AssetState(enum.StrEnum):
    HELD = "held"
    DISPOSED = "disposed"  # sold, scrapped or given away (with approval inside the period)
    REPURPOSED = "repurposed"  # used for another purpose (目的外使用), with approval


class Asset(Base):
    """One line of the asset register (財産管理台帳): an acquired item at or above the
    program's threshold, with its disposal restriction (処分制限期間)."""

    __tablename__ = "assets"
    __table_args__ = (sa.CheckConstraint("cost_yen > 0", name="cost_positive"),)

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("completion_reports.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(64), comment="the program's useful-life kind")
    acquired_on: Mapped[dt.date]
    cost_yen: Mapped[int] = mapped_column(sa.BigInteger)
    subsidized_yen: Mapped[int] = mapped_column(sa.BigInteger,
                                                comment="the part of the cost the grant paid")
    useful_life_years: Mapped[int]
    restricted_until: Mapped[dt.date] = mapped_column(comment="last day of 処分制限期間")
    state: Mapped[AssetState] = mapped_column(default=AssetState.HELD)

    application: Mapped[Application] = relationship()
    disposals: Mapped[list[AssetDisposal]] = relationship(back_populates="asset",
                                                          order_by="AssetDisposal.id")


class DisposalKind(enum.StrEnum):
    DISPOSE = "dispose"
    REPURPOSE = "repurpose"


class AssetDisposal(Base):
    """A request to dispose of or repurpose an asset, with the repayment the domain computed."""

    __tablename__ = "asset_disposals"
    __table_args__ = (
        sa.CheckConstraint("(state = 'pending') = (decided_at IS NULL)",
                           name="decided_unless_pending"),
        sa.CheckConstraint("state <> 'refused' OR decision_reason IS NOT NULL",
                           name="reason_when_refused"),
    )

    id: Mapped[intpk]
    asset_id: Mapped[int] = mapped_column(sa.ForeignKey("assets.id"), index=True)
    kind: Mapped[DisposalKind]
    planned_on: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(sa.Text)
    repayment_yen: Mapped[int] = mapped_column(sa.BigInteger)
    computation: Mapped[dict[str, Any]]
    state: Mapped[ChangeState] = mapped_column(default=ChangeState.PENDING)
    requested_at: Mapped[dt.datetime]
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)

    asset: Mapped[Asset] = relationship(back_populates="disposals")


class Operating(enum.StrEnum):
    YES = "yes"
    PARTLY = "partly"
    STOPPED = "stopped"


class FollowupReport(Base):
    """A yearly follow-up report (状況報告): is the service still operating, for how many users,
    at what yearly cost and paid by whom."""

    __tablename__ = "followup_reports"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "fiscal_year"),
        sa.CheckConstraint("operating = 'yes' OR stop_reason IS NOT NULL",
                           name="reason_unless_operating"),
        sa.CheckConstraint("users IS NULL OR users >= 0", name="users_not_negative"),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(comment="the fiscal year reported on (April–March)")
    year_number: Mapped[int] = mapped_column(comment="1 for the first year after completion")
    operating: Mapped[Operating]
    stop_reason: Mapped[str | None] = mapped_column(sa.Text)
    users: Mapped[int | None] = mapped_column(comment="people or organizations using the service")
    operating_costs: Mapped[dict[str, Any]] = mapped_column(
        comment="the year's operating cost by who pays it: {payer: yen}")
    kpi_results: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    submitted_at: Mapped[dt.datetime]
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class FollowupReminder(Base):
    """A reminder queued for one follow-up: the unique key is what makes it never sent twice."""

    __tablename__ = "followup_reminders"
    __table_args__ = (sa.UniqueConstraint("application_id", "fiscal_year", "kind"),)

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"))
    fiscal_year: Mapped[int]
    kind: Mapped[Reminder]
    queued_at: Mapped[dt.datetime]
