"""Consensus reports and evaluation reviews: the rapporteur's report, and the applicant's request

Revision ID: 9b4f2c6e1d73
Revises: 5d1e7a3c9f20
Create Date: 2026-12-08 08:00:00+09:00

Written by hand. Three new tables, nothing existing changes:

- consensus_reports: one application's consensus (a score and a comment per criterion, an
  overall comment) by the rapporteur the officer named, circulated, then approved; at most one
  not superseded per application (a partial unique index). An upheld evaluation review
  supersedes it.
- consensus_responses: the other counted reviewers' agreement or dissent (with a reason).
- redress_requests: the applicant's request for a review of how the evaluation was conducted
  (評価の再審査の申出) and the officer's finding; at most one open per application. An upheld
  request keeps the decision it set aside, as it was, in `set_aside_decision`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9b4f2c6e1d73"
down_revision: str | Sequence[str] | None = "5d1e7a3c9f20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stored values (grants.models.evaluation).
CONSENSUS_STATES = ("drafting", "circulated", "approved")
REDRESS_GROUNDS = ("conflict_of_interest", "criterion_not_applied", "factual_error", "other")
REDRESS_STATES = ("open", "upheld", "dismissed")


def _enum(name: str, values: Sequence[str]) -> sa.Enum:
    """A non-native enum with its CHECK constraint, as the models declare it."""
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _when(name: str, *, nullable: bool = True, comment: str | None = None) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, comment=comment)


def upgrade() -> None:
    op.create_table(
        "consensus_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("rapporteur_id", sa.Integer(), nullable=False),
        sa.Column("state", _enum("consensusstate", CONSENSUS_STATES), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False, comment="criterion id -> consensus score"),
        sa.Column("comments", sa.JSON(), nullable=False,
                  comment="criterion id -> consensus comment"),
        sa.Column("overall_comment", sa.Text(), nullable=True),
        sa.Column("basis", sa.JSON(), nullable=False,
                  comment="review id -> lock version of each counted review it was circulated on"),
        sa.Column("returned_note", sa.String(length=2000), nullable=True,
                  comment="the officer's reason for sending it back"),
        sa.Column("named_by_id", sa.Integer(), nullable=False),
        _when("named_at", nullable=False),
        _when("updated_at", nullable=False),
        _when("circulated_at"),
        _when("approved_at"),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        _when("superseded_at",
              comment="set aside with the evaluation by an upheld evaluation review"),
        sa.CheckConstraint("(state = 'approved') = (approved_at IS NOT NULL)",
                           name=op.f("ck_consensus_reports_approved_at_iff_approved")),
        sa.CheckConstraint("(state = 'drafting') = (circulated_at IS NULL)",
                           name=op.f("ck_consensus_reports_circulated_at_unless_drafting")),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_consensus_reports_application_id_applications")),
        sa.ForeignKeyConstraint(["rapporteur_id"], ["users.id"],
                                name=op.f("fk_consensus_reports_rapporteur_id_users")),
        sa.ForeignKeyConstraint(["named_by_id"], ["users.id"],
                                name=op.f("fk_consensus_reports_named_by_id_users")),
        sa.ForeignKeyConstraint(["approved_by_id"], ["users.id"],
                                name=op.f("fk_consensus_reports_approved_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consensus_reports")),
    )
    op.create_index("ix_consensus_reports_current", "consensus_reports", ["application_id"],
                    unique=True, sqlite_where=sa.text("superseded_at IS NULL"),
                    postgresql_where=sa.text("superseded_at IS NULL"))

    op.create_table(
        "consensus_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("agrees", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=4000), nullable=True,
                  comment="why the reviewer dissents"),
        _when("responded_at", nullable=False),
        sa.CheckConstraint("agrees OR reason IS NOT NULL",
                           name=op.f("ck_consensus_responses_reason_for_dissent")),
        sa.ForeignKeyConstraint(["report_id"], ["consensus_reports.id"],
                                name=op.f("fk_consensus_responses_report_id_consensus_reports")),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"],
                                name=op.f("fk_consensus_responses_reviewer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consensus_responses")),
        sa.UniqueConstraint("report_id", "reviewer_id",
                            name=op.f("uq_consensus_responses_report_id_reviewer_id")),
    )

    op.create_table(
        "redress_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("ground", _enum("redressground", REDRESS_GROUNDS), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        _when("requested_at", nullable=False),
        sa.Column("state", _enum("redressstate", REDRESS_STATES), nullable=False),
        sa.Column("finding", sa.Text(), nullable=True, comment="the officer's reasons"),
        sa.Column("found_by_id", sa.Integer(), nullable=True),
        _when("found_at"),
        sa.Column("set_aside_decision", sa.JSON(none_as_null=True), nullable=True,
                  comment="the decision an upheld request set aside, as it was"),
        sa.CheckConstraint("(state = 'open') = (found_at IS NULL)",
                           name=op.f("ck_redress_requests_found_at_iff_closed")),
        sa.CheckConstraint("state = 'open' OR finding IS NOT NULL",
                           name=op.f("ck_redress_requests_finding_when_closed")),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_redress_requests_application_id_applications")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"],
                                name=op.f("fk_redress_requests_requested_by_id_users")),
        sa.ForeignKeyConstraint(["found_by_id"], ["users.id"],
                                name=op.f("fk_redress_requests_found_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redress_requests")),
    )
    op.create_index("ix_redress_requests_open", "redress_requests", ["application_id"],
                    unique=True, sqlite_where=sa.text("state = 'open'"),
                    postgresql_where=sa.text("state = 'open'"))


def downgrade() -> None:
    op.drop_index("ix_redress_requests_open", table_name="redress_requests")
    op.drop_table("redress_requests")
    op.drop_table("consensus_responses")
    op.drop_index("ix_consensus_reports_current", table_name="consensus_reports")
    op.drop_table("consensus_reports")
