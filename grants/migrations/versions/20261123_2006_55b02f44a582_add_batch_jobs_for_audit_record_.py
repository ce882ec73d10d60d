"""Add batch jobs for audit record downloads

Revision ID: 55b02f44a582
Revises: 277e627ed194
Create Date: 2026-11-23 20:06:00.564721+09:00

Drafted with autogenerate, then reviewed: one table, ``batch_jobs``, for the auditors' ZIP
downloads (the search, the applications it found, progress, the result file). The state enum is
VARCHAR(32) with its values written out and its CHECK named as the models' naming convention
names it, as in the earlier revisions; downgrade() drops the index, then the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "55b02f44a582"
down_revision: str | Sequence[str] | None = "277e627ed194"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stored values as of this revision (grants.models.batches.BatchState).
BATCH_STATES = ("queued", "running", "done", "failed")


def _one_of(column: str, values: Sequence[str]) -> str:
    """Return the CHECK clause SQLAlchemy writes for a non-native enum."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    op.create_table(
        "batch_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False, comment="the search, as the form gave it"),
        sa.Column(
            "application_ids",
            sa.JSON(),
            nullable=False,
            comment="the funded applications matching at request time, in search order",
        ),
        sa.Column("state", sa.String(32), nullable=False),
        sa.CheckConstraint(_one_of("state", BATCH_STATES), name=op.f("ck_batch_jobs_batchstate")),
        sa.Column("total", sa.Integer(), nullable=False, comment="records to render"),
        sa.Column("done", sa.Integer(), nullable=False, comment="records rendered so far"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True, comment="why the batch failed"),
        sa.Column(
            "result_path",
            sa.String(length=255),
            nullable=True,
            comment="the ZIP's file name inside BATCH_DIR",
        ),
        sa.Column("result_sha256", sa.String(length=64), nullable=True),
        sa.Column("result_size", sa.BigInteger(), nullable=True, comment="bytes"),
        sa.CheckConstraint(
            "done >= 0 AND done <= total", name=op.f("ck_batch_jobs_done_within_total")
        ),
        sa.CheckConstraint(
            "state <> 'done' OR done = total", name=op.f("ck_batch_jobs_done_when_complete")
        ),
        sa.CheckConstraint(
            "(state = 'done') = (result_sha256 IS NOT NULL)",
            name=op.f("ck_batch_jobs_result_iff_done"),
        ),
        sa.CheckConstraint(
            "(state = 'failed') = (error IS NOT NULL)", name=op.f("ck_batch_jobs_error_iff_failed")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_batch_jobs_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_jobs")),
    )
    op.create_index(
        op.f("ix_batch_jobs_requested_by_id"), "batch_jobs", ["requested_by_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_batch_jobs_requested_by_id"), table_name="batch_jobs")
    op.drop_table("batch_jobs")
