"""Add review, moderation and decision tables

Revision ID: 277e627ed194
Revises: 63187a9f7001
Create Date: 2026-11-23 19:13:14.907342+09:00

Drafted with autogenerate, then reviewed: rubric versions, call reviewers, conflict
declarations, assignments, reviews, moderations, decisions and the outbox; the officer's
reviewers-per-application setting and the return reason. Enums are VARCHAR(32) with the values
written out and CHECK names as the models' naming convention gives them, as in the first
revision; downgrade() drops everything in reverse order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "277e627ed194"
down_revision: str | Sequence[str] | None = "63187a9f7001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stored values as of this revision (grants.models.reviews, grants.models.decisions).
ASSIGNMENT_STATES = ("active", "declined")
REVIEW_STATES = ("draft", "submitted")
OUTCOMES = ("award", "reject")


def _one_of(column: str, values: Sequence[str]) -> str:
    """Return the CHECK clause SQLAlchemy writes for a non-native enum."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    op.create_table(
        "rubric_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "rubric_key",
            sa.String(length=64),
            nullable=False,
            comment="the rubric's id in its YAML",
        ),
        sa.Column(
            "sha256",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the file's UTF-8 text",
        ),
        sa.Column("source_text", sa.Text(), nullable=False, comment="the YAML exactly as loaded"),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rubric_versions")),
        sa.UniqueConstraint(
            "rubric_key", "sha256", name=op.f("uq_rubric_versions_rubric_key_sha256")
        ),
    )
    op.create_table(
        "rubrics",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["current_version_id"],
            ["rubric_versions.id"],
            name=op.f("fk_rubrics_current_version_id_rubric_versions"),
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rubrics")),
    )
    op.create_table(
        "call_reviewers",
        sa.Column("program_key", sa.String(length=64), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_key"], ["programs.key"], name=op.f("fk_call_reviewers_program_key_programs")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_call_reviewers_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("program_key", "reviewer_id", name=op.f("pk_call_reviewers")),
    )
    op.create_table(
        "conflict_declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("lg_code", sa.String(length=6), nullable=True, comment="全国地方公共団体コード"),
        sa.Column("note", sa.String(length=500), nullable=True, comment="free-text interest"),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "organization_id IS NOT NULL OR lg_code IS NOT NULL OR note IS NOT NULL",
            name=op.f("ck_conflict_declarations_declares_something"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_conflict_declarations_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_conflict_declarations_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflict_declarations")),
    )
    with op.batch_alter_table("conflict_declarations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conflict_declarations_reviewer_id"), ["reviewer_id"], unique=False
        )

    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.CheckConstraint(
            _one_of("state", ASSIGNMENT_STATES), name=op.f("ck_assignments_assignmentstate")
        ),
        sa.Column("decline_reason", sa.String(length=1000), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(state = 'declined') = (decline_reason IS NOT NULL)",
            name=op.f("ck_assignments_reason_iff_declined"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_assignments_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"], ["users.id"], name=op.f("fk_assignments_assigned_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_assignments_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint(
            "application_id", "reviewer_id", name=op.f("uq_assignments_application_id_reviewer_id")
        ),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignments_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assignments_reviewer_id"), ["reviewer_id"], unique=False
        )

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.CheckConstraint(_one_of("outcome", OUTCOMES), name=op.f("ck_decisions_outcome")),
        sa.Column("amount_yen", sa.BigInteger(), nullable=True, comment="awarded, integer yen"),
        sa.Column(
            "computation",
            sa.JSON(),
            nullable=False,
            comment="how the amount was bounded: request, cap, rounding",
        ),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(outcome = 'award') = (amount_yen IS NOT NULL)",
            name=op.f("ck_decisions_amount_iff_award"),
        ),
        sa.CheckConstraint(
            "amount_yen IS NULL OR amount_yen > 0", name=op.f("ck_decisions_amount_positive")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_decisions_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_decisions_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
        sa.UniqueConstraint("application_id", name=op.f("uq_decisions_application_id")),
    )
    op.create_table(
        "moderations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("moderated_by_id", sa.Integer(), nullable=False),
        sa.Column("moderated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_moderations_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["moderated_by_id"], ["users.id"], name=op.f("fk_moderations_moderated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderations")),
        sa.UniqueConstraint(
            "application_id",
            "criterion_id",
            name=op.f("uq_moderations_application_id_criterion_id"),
        ),
    )
    with op.batch_alter_table("moderations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_moderations_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_outbox_messages_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("rubric_version_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.CheckConstraint(_one_of("state", REVIEW_STATES), name=op.f("ck_reviews_reviewstate")),
        sa.Column("ratings", sa.JSON(), nullable=False, comment="criterion id -> score or null"),
        sa.Column(
            "comments", sa.JSON(), nullable=False, comment="criterion id -> reviewer's comment"
        ),
        sa.Column(
            "comment_for_applicant",
            sa.Text(),
            nullable=True,
            comment="marked shareable: shown to the applicant with the decision",
        ),
        sa.Column(
            "total", sa.Numeric(precision=5, scale=2), nullable=True, comment="0-100, weighted"
        ),
        sa.Column("knockout", sa.Boolean(), nullable=False),
        sa.Column(
            "reopen_note", sa.String(length=1000), nullable=True, comment="officer's request"
        ),
        sa.Column(
            "lock_version", sa.Integer(), nullable=False, comment="optimistic lock for draft saves"
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(state = 'submitted') = (submitted_at IS NOT NULL)",
            name=op.f("ck_reviews_submitted_at_iff_submitted"),
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_reviews_assignment_id_assignments")
        ),
        sa.ForeignKeyConstraint(
            ["rubric_version_id"],
            ["rubric_versions.id"],
            name=op.f("fk_reviews_rubric_version_id_rubric_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("assignment_id", name=op.f("uq_reviews_assignment_id")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "return_reason",
                sa.Text(),
                nullable=True,
                comment="why an officer returned it for changes (latest)",
            )
        )

    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reviewers_per_application",
                sa.Integer(),
                server_default="2",
                nullable=False,
                comment="set by the officer for this call",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.drop_column("reviewers_per_application")

    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("return_reason")

    op.drop_table("reviews")
    op.drop_table("outbox_messages")
    with op.batch_alter_table("moderations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_moderations_application_id"))

    op.drop_table("moderations")
    op.drop_table("decisions")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_reviewer_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_application_id"))

    op.drop_table("assignments")
    with op.batch_alter_table("conflict_declarations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conflict_declarations_reviewer_id"))

    op.drop_table("conflict_declarations")
    op.drop_table("call_reviewers")
    op.drop_table("rubrics")
    op.drop_table("rubric_versions")
