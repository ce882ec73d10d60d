"""One application's row lock, for the actions two people (or two clicks) may fire at once."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.models import Application


def lock_application(session: Session, application: Application) -> None:
    """Take the application's row lock (PostgreSQL: SELECT ... FOR UPDATE; SQLite serializes
    writers already) and reload it, so the second of two concurrent actions sees the first
    one's state and is refused as already done instead of failing on a stale row."""
    session.execute(
        sa.select(Application.id).where(Application.id == application.id).with_for_update())
    session.refresh(application)
