"""Outbox delivery attempts: retried with a growing wait, given up after too many

Revision ID: 5d1e7a3c9f20
Revises: 861799223189
Create Date: 2026-12-08 07:00:00+09:00

Written by hand. ``outbox send`` counts each attempt, waits longer after each failure
(``next_attempt_at``), keeps the server's last answer and marks a message failed when it is
refused for good, so one refused message never blocks the others. Existing rows start at zero
attempts, due at once: unsent messages are sent on the next run as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d1e7a3c9f20"
down_revision: str | Sequence[str] | None = "861799223189"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False,
                                   comment="delivery attempts so far"))
        batch.add_column(sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), nullable=True,
            comment="not tried again before this (after a failure, or while an attempt runs)"))
        batch.add_column(sa.Column("last_error", sa.String(length=500), nullable=True,
                                   comment="the last failure, as the server said it"))
        batch.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True,
                                   comment="given up: refused for good, or too many attempts"))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        for column in ("failed_at", "last_error", "next_attempt_at", "attempts"):
            batch.drop_column(column)
