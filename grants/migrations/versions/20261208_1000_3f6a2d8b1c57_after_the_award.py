"""After the award: grant decisions, plans and their changes, completion reports, final amounts,
the asset register and the yearly follow-up reports

Revision ID: 3f6a2d8b1c57
Revises: 9b4f2c6e1d73
Create Date: 2026-12-08 10:00:00+09:00

Written from Alembic's autogenerate output, then read line by line. Nine new tables (see
grants.models.post_award) and six new application states after "awarded": declined, granted,
reported, report_accepted, completed and purged. Downgrade refuses while an application is in
one of them, since the earlier schema cannot say where such an application is; it drops the
tables otherwise.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f6a2d8b1c57"
down_revision: str | Sequence[str] | None = "9b4f2c6e1d73"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stored values before and after this revision (grants.domain.workflow.State).
STATES_BEFORE = ("draft", "submitted", "returned", "in_review", "awarded", "rejected")
STATES = (
    *STATES_BEFORE,
    "declined",
    "granted",
    "reported",
    "report_accepted",
    "completed",
    "purged",
)


def _one_of(column: str, values: Sequence[str]) -> str:
    """Return the CHECK clause SQLAlchemy writes for a non-native enum."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _application_states(values: Sequence[str]) -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_constraint(op.f("ck_applications_state"), type_="check")
        batch.create_check_constraint(op.f("ck_applications_state"), _one_of("state", values))


def upgrade() -> None:
    _application_states(STATES)
    op.create_table(
        "change_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "category_amounts",
            sa.JSON(),
            nullable=True,
            comment="the proposed amounts per category; NULL: unchanged",
        ),
        sa.Column(
            "project_end", sa.Date(), nullable=True, comment="the proposed end; NULL: unchanged"
        ),
        sa.Column("scope", sa.Text(), nullable=True, comment="the proposed scope; NULL: unchanged"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "approved",
                "refused",
                "withdrawn",
                name="changestate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(state = 'pending') = (decided_at IS NULL)",
            name=op.f("ck_change_requests_decided_unless_pending"),
        ),
        sa.CheckConstraint(
            "state <> 'refused' OR decision_reason IS NOT NULL",
            name=op.f("ck_change_requests_reason_when_refused"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_change_requests_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_change_requests_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_change_requests_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_requests")),
        sa.UniqueConstraint(
            "application_id", "number", name=op.f("uq_change_requests_application_id_number")
        ),
    )
    op.create_index(
        op.f("ix_change_requests_application_id"),
        "change_requests",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "followup_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "before",
                "due",
                "overdue",
                name="reminder",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_followup_reminders_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_reminders")),
        sa.UniqueConstraint(
            "application_id",
            "fiscal_year",
            "kind",
            name=op.f("uq_followup_reminders_application_id_fiscal_year_kind"),
        ),
    )
    op.create_table(
        "followup_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column(
            "fiscal_year",
            sa.Integer(),
            nullable=False,
            comment="the fiscal year reported on (April–March)",
        ),
        sa.Column(
            "year_number",
            sa.Integer(),
            nullable=False,
            comment="1 for the first year after completion",
        ),
        sa.Column(
            "operating",
            sa.Enum(
                "yes",
                "partly",
                "stopped",
                name="operating",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column(
            "users",
            sa.Integer(),
            nullable=True,
            comment="people or organizations using the service",
        ),
        sa.Column(
            "operating_costs",
            sa.JSON(),
            nullable=False,
            comment="the year's operating cost by who pays it: {payer: yen}",
        ),
        sa.Column("kpi_results", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "operating = 'yes' OR stop_reason IS NOT NULL",
            name=op.f("ck_followup_reports_reason_unless_operating"),
        ),
        sa.CheckConstraint(
            "users IS NULL OR users >= 0", name=op.f("ck_followup_reports_users_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_followup_reports_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["users.id"],
            name=op.f("fk_followup_reports_submitted_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_reports")),
        sa.UniqueConstraint(
            "application_id",
            "fiscal_year",
            name=op.f("uq_followup_reports_application_id_fiscal_year"),
        ),
    )
    op.create_index(
        op.f("ix_followup_reports_application_id"),
        "followup_reports",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "grant_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("amount_yen", sa.BigInteger(), nullable=False, comment="the award, integer yen"),
        sa.Column(
            "category_amounts",
            sa.JSON(),
            nullable=False,
            comment="the award per cost category: {category id: yen}",
        ),
        sa.Column("project_start", sa.Date(), nullable=False),
        sa.Column("project_end", sa.Date(), nullable=False),
        sa.Column(
            "conditions", sa.Text(), nullable=False, comment="交付の条件, as the letter states them"
        ),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column(
            "answer",
            sa.Enum(
                "accepted",
                "declined",
                name="grantanswer",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "answer IS NULL OR answer <> 'declined' OR decline_reason IS NOT NULL",
            name=op.f("ck_grant_decisions_reason_when_declined"),
        ),
        sa.CheckConstraint(
            "(answer IS NULL) = (answered_at IS NULL)",
            name=op.f("ck_grant_decisions_answered_at_iff"),
        ),
        sa.CheckConstraint("amount_yen > 0", name=op.f("ck_grant_decisions_amount_positive")),
        sa.CheckConstraint(
            "project_end >= project_start", name=op.f("ck_grant_decisions_period_in_order")
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["users.id"], name=op.f("fk_grant_decisions_answered_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_grant_decisions_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_grant_decisions_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["users.id"], name=op.f("fk_grant_decisions_issued_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_decisions")),
        sa.UniqueConstraint("application_id", name=op.f("uq_grant_decisions_application_id")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_grant_decisions_decision_id")),
    )
    op.create_table(
        "plan_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column(
            "number",
            sa.Integer(),
            nullable=False,
            comment="1 for the grant decision, then one more each",
        ),
        sa.Column("category_amounts", sa.JSON(), nullable=False, comment="{category id: yen}"),
        sa.Column("project_end", sa.Date(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False, comment="what the project does, as approved"),
        sa.Column("change_request_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_plan_versions_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["change_request_id"],
            ["change_requests.id"],
            name=op.f("fk_plan_versions_change_request_id_change_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_versions")),
        sa.UniqueConstraint(
            "application_id", "number", name=op.f("uq_plan_versions_application_id_number")
        ),
    )
    op.create_index(
        op.f("ix_plan_versions_application_id"), "plan_versions", ["application_id"], unique=False
    )
    op.create_table(
        "completion_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column(
            "number",
            sa.Integer(),
            nullable=False,
            comment="1 for the first filing, then one more each",
        ),
        sa.Column(
            "plan_version_id",
            sa.Integer(),
            nullable=False,
            comment="the plan in force it reports against",
        ),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "submitted",
                "returned",
                "accepted",
                name="reportstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "lines",
            sa.JSON(),
            nullable=False,
            comment="actual costs: {category, description, acquisition, amount_yen}",
        ),
        sa.Column(
            "variance_reasons",
            sa.JSON(),
            nullable=False,
            comment="{category id: why actual differs from the plan}",
        ),
        sa.Column(
            "kpi_results",
            sa.JSON(),
            nullable=False,
            comment="{application field id: the result against its target}",
        ),
        sa.Column("jobs_created", sa.Integer(), nullable=True),
        sa.Column(
            "equipment",
            sa.JSON(),
            nullable=False,
            comment="acquired: {name, kind, acquired_on, cost_yen}",
        ),
        sa.Column("outcome", sa.Text(), nullable=False, comment="what the project achieved"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "lock_version",
            sa.Integer(),
            nullable=False,
            comment="optimistic lock: a stale save is refused",
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "decided_at", sa.DateTime(timezone=True), nullable=True, comment="returned or accepted"
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(state = 'draft') = (submitted_at IS NULL)",
            name=op.f("ck_completion_reports_submitted_at_unless_draft"),
        ),
        sa.CheckConstraint(
            "state <> 'returned' OR return_reason IS NOT NULL",
            name=op.f("ck_completion_reports_reason_when_returned"),
        ),
        sa.CheckConstraint(
            "jobs_created IS NULL OR jobs_created >= 0",
            name=op.f("ck_completion_reports_jobs_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_completion_reports_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_completion_reports_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_versions.id"],
            name=op.f("fk_completion_reports_plan_version_id_plan_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["users.id"],
            name=op.f("fk_completion_reports_submitted_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completion_reports")),
        sa.UniqueConstraint(
            "application_id", "number", name=op.f("uq_completion_reports_application_id_number")
        ),
    )
    op.create_index(
        op.f("ix_completion_reports_application_id"),
        "completion_reports",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind", sa.String(length=64), nullable=False, comment="the program's useful-life kind"
        ),
        sa.Column("acquired_on", sa.Date(), nullable=False),
        sa.Column("cost_yen", sa.BigInteger(), nullable=False),
        sa.Column(
            "subsidized_yen",
            sa.BigInteger(),
            nullable=False,
            comment="the part of the cost the grant paid",
        ),
        sa.Column("useful_life_years", sa.Integer(), nullable=False),
        sa.Column(
            "restricted_until", sa.Date(), nullable=False, comment="last day of 処分制限期間"
        ),
        sa.Column(
            "state",
            sa.Enum(
                "held",
                "disposed",
                "repurposed",
                name="assetstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("cost_yen > 0", name=op.f("ck_assets_cost_positive")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_assets_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["completion_reports.id"],
            name=op.f("fk_assets_report_id_completion_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
    )
    op.create_index(op.f("ix_assets_application_id"), "assets", ["application_id"], unique=False)
    op.create_table(
        "final_amounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("amount_yen", sa.BigInteger(), nullable=False),
        sa.Column(
            "to_return_yen",
            sa.BigInteger(),
            nullable=False,
            comment="the decided amount paid less the final",
        ),
        sa.Column("computation", sa.JSON(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_yen >= 0", name=op.f("ck_final_amounts_amount_not_negative")),
        sa.CheckConstraint("to_return_yen >= 0", name=op.f("ck_final_amounts_return_not_negative")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_final_amounts_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["users.id"], name=op.f("fk_final_amounts_confirmed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["completion_reports.id"],
            name=op.f("fk_final_amounts_report_id_completion_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_final_amounts")),
        sa.UniqueConstraint("application_id", name=op.f("uq_final_amounts_application_id")),
        sa.UniqueConstraint("report_id", name=op.f("uq_final_amounts_report_id")),
    )
    op.create_table(
        "asset_disposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "dispose",
                "repurpose",
                name="disposalkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("repayment_yen", sa.BigInteger(), nullable=False),
        sa.Column("computation", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "approved",
                "refused",
                "withdrawn",
                name="changestate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(state = 'pending') = (decided_at IS NULL)",
            name=op.f("ck_asset_disposals_decided_unless_pending"),
        ),
        sa.CheckConstraint(
            "state <> 'refused' OR decision_reason IS NOT NULL",
            name=op.f("ck_asset_disposals_reason_when_refused"),
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_asset_disposals_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_asset_disposals_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_asset_disposals_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_disposals")),
    )
    op.create_index(
        op.f("ix_asset_disposals_asset_id"), "asset_disposals", ["asset_id"], unique=False
    )


def downgrade() -> None:
    applications = sa.table("applications", sa.column("state", sa.String))
    after = op.get_bind().scalar(
        sa.select(sa.func.count()).select_from(applications)
        .where(applications.c.state.not_in(STATES_BEFORE))
    )
    if after:
        raise RuntimeError(
            f"{after} application(s) are past the award: the earlier schema "
            "cannot hold them; downgrade refused"
        )
    op.drop_index(op.f("ix_asset_disposals_asset_id"), table_name="asset_disposals")
    op.drop_table("asset_disposals")
    op.drop_table("final_amounts")
    op.drop_index(op.f("ix_assets_application_id"), table_name="assets")
    op.drop_table("assets")
    op.drop_index(op.f("ix_completion_reports_application_id"), table_name="completion_reports")
    op.drop_table("completion_reports")
    op.drop_index(op.f("ix_plan_versions_application_id"), table_name="plan_versions")
    op.drop_table("plan_versions")
    op.drop_table("grant_decisions")
    op.drop_index(op.f("ix_followup_reports_application_id"), table_name="followup_reports")
    op.drop_table("followup_reports")
    op.drop_table("followup_reminders")
    op.drop_index(op.f("ix_change_requests_application_id"), table_name="change_requests")
    op.drop_table("change_requests")

    _application_states(STATES_BEFORE)
