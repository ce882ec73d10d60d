"""Review versions and conflict withdrawals: every submitted review kept, ended assignments

Revision ID: 861799223189
Revises: c4e81f0a9b37
Create Date: 2026-12-08 06:20:00+09:00

Written by hand. A new table, review_versions, keeps every submitted text of a review (scores,
comments, the comment for the applicant, total, knockout, the officer's request it answers,
when): reopening a review and submitting it again adds a version and never overwrites one.
Each review submitted before this revision gets its version 1 from the row as it stands (an
earlier text overwritten by a reopening is gone; its audit events keep the totals).

Assignments gain a third state, "withdrawn": ended because a conflict of interest was found
after assignment, with when and the reasons ({ja, en} texts). Downgrade turns a withdrawn
assignment into a declined one whose reason says so, since the earlier schema knows no other.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "861799223189"
down_revision: str | Sequence[str] | None = "c4e81f0a9b37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stored values before and after this revision (grants.models.reviews.AssignmentState).
ASSIGNMENT_STATES_BEFORE = ("active", "declined")
ASSIGNMENT_STATES = ("active", "declined", "withdrawn")
WITHDRAWN_CHECK = ("(state = 'withdrawn') = "
                   "(withdrawal_reasons IS NOT NULL AND withdrawn_at IS NOT NULL)")
DOWNGRADED_REASON = "利害関係が判明したため割当てを終了 (ended for a conflict of interest)"


def _one_of(column: str, values: Sequence[str]) -> str:
    """Return the CHECK clause SQLAlchemy writes for a non-native enum."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column(
            "withdrawn_at", sa.DateTime(timezone=True), nullable=True,
            comment="when a conflict of interest ended the assignment"))
        batch.add_column(sa.Column(
            "withdrawal_reasons", sa.JSON(none_as_null=True), nullable=True,
            comment="the conflicts found: a {ja, en} text each"))
        batch.drop_constraint(op.f("ck_assignments_assignmentstate"), type_="check")
        batch.create_check_constraint(
            op.f("ck_assignments_assignmentstate"), _one_of("state", ASSIGNMENT_STATES))
        batch.create_check_constraint(op.f("ck_assignments_reasons_iff_withdrawn"),
                                      WITHDRAWN_CHECK)

    op.create_table(
        "review_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False,
                  comment="1 for the first submission, then one more each"),
        sa.Column("ratings", sa.JSON(), nullable=False, comment="criterion id -> score or null"),
        sa.Column("comments", sa.JSON(), nullable=False,
                  comment="criterion id -> reviewer's comment"),
        sa.Column("comment_for_applicant", sa.Text(), nullable=True),
        sa.Column("total", sa.Numeric(precision=5, scale=2), nullable=True,
                  comment="0-100, weighted"),
        sa.Column("knockout", sa.Boolean(), nullable=False),
        sa.Column("reopen_note", sa.String(length=1000), nullable=True,
                  comment="the officer's request this version answers"),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("number >= 1", name=op.f("ck_review_versions_number_positive")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"],
                                name=op.f("fk_review_versions_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_versions")),
        sa.UniqueConstraint("review_id", "number",
                            name=op.f("uq_review_versions_review_id_number")),
    )
    op.execute(
        "INSERT INTO review_versions (review_id, number, ratings, comments, comment_for_applicant,"
        " total, knockout, submitted_at)"
        " SELECT id, 1, ratings, comments, comment_for_applicant, total, knockout, submitted_at"
        " FROM reviews WHERE state = 'submitted' ORDER BY id"
    )


def downgrade() -> None:
    op.drop_table("review_versions")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_constraint(op.f("ck_assignments_reasons_iff_withdrawn"), type_="check")
        batch.drop_constraint(op.f("ck_assignments_assignmentstate"), type_="check")
    assignments = sa.table("assignments", sa.column("state", sa.String),
                           sa.column("decline_reason", sa.String))
    op.execute(assignments.update().where(assignments.c.state == "withdrawn")
               .values(state="declined", decline_reason=DOWNGRADED_REASON))
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("withdrawal_reasons")
        batch.drop_column("withdrawn_at")
        batch.create_check_constraint(
            op.f("ck_assignments_assignmentstate"), _one_of("state", ASSIGNMENT_STATES_BEFORE))
