"""Rate limits counted in the database, so they hold across every worker and app server.

A try is *reserved* before the slow work it limits (checking a password, sending an e-mail):
the count and the new hit happen under one lock per bucket, so eight concurrent guesses can
never all see "four so far" and all go ahead. A sign-in that succeeds gives its hits back.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.models import RateLimitHit


@dataclass(frozen=True)
class Limit:
    """At most ``count`` hits in ``bucket`` within ``window``."""

    bucket: str
    count: int
    window: dt.timedelta


def reserve(session: Session, limits: Sequence[Limit], *, now: dt.datetime) -> list[int] | None:
    """Count one hit in every bucket if none is full; return the hits' ids, or None if refused.

    On PostgreSQL each bucket is locked (transaction-level advisory lock, in a fixed order so
    two reservations never deadlock); on SQLite the caller's write transaction (BEGIN
    IMMEDIATE) already serializes every writer. The caller commits.
    """
    if session.get_bind().dialect.name == "postgresql":
        for key in sorted({_lock_key(limit.bucket) for limit in limits}):
            session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
    for limit in limits:
        used = session.scalar(
            sa.select(sa.func.count()).select_from(RateLimitHit)
            .where(RateLimitHit.bucket == limit.bucket, RateLimitHit.at > now - limit.window)
        )
        if (used or 0) >= limit.count:
            return None
    hits = [RateLimitHit(bucket=limit.bucket, at=now) for limit in limits]
    session.add_all(hits)
    session.flush()
    return [hit.id for hit in hits]


def release(session: Session, hit_ids: Sequence[int]) -> None:
    """Give reserved hits back (the try turned out to be legitimate)."""
    session.execute(sa.delete(RateLimitHit).where(RateLimitHit.id.in_(list(hit_ids))))


def clear(session: Session, bucket: str) -> None:
    """Forget every hit of a bucket (a successful sign-in forgives earlier typos)."""
    session.execute(sa.delete(RateLimitHit).where(RateLimitHit.bucket == bucket))


def prune(session: Session, *, before: dt.datetime) -> int:
    """Delete hits too old to count in any window; return how many."""
    return session.execute(sa.delete(RateLimitHit).where(RateLimitHit.at < before)).rowcount


def _lock_key(bucket: str) -> int:
    return 0x72617465 << 32 | zlib.crc32(bucket.encode())  # "rate" + the bucket's CRC
