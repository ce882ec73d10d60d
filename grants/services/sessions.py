"""Server-side sessions: the cookie names one, the database says whether it is still valid.

A copy of a cookie taken before sign-out is worthless after it; a password change or "sign out
everywhere" ends the others at once; the absolute lifetime and the idle timeout are checked here,
on every request, whatever the cookie says about its own expiry.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.models import User, UserSession
from grants.services.tokens import digest

# last_seen_at is written at most this often: the idle timeout is exact to within it.
TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetimes:
    absolute: dt.timedelta
    idle: dt.timedelta


def start(session: Session, user: User, *, now: dt.datetime) -> str:
    """Open a session for ``user``; return the token to keep in the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=digest(token), user_id=user.id, created_at=now,
                            last_seen_at=now))
    session.flush()
    user.session_token = token
    return token


def resume(session: Session, token: str, *, now: dt.datetime,
           lifetimes: Lifetimes) -> tuple[User | None, bool]:
    """Return the session's user if it is still valid, and whether last_seen_at needs writing."""
    found = session.scalar(sa.select(UserSession).filter_by(token_hash=digest(token)))
    if (
        found is None
        or found.revoked_at is not None
        or now - found.created_at >= lifetimes.absolute
        or now - found.last_seen_at >= lifetimes.idle
        or not found.user.active
    ):
        return None, False
    found.user.session_token = token
    return found.user, now - found.last_seen_at >= TOUCH_EVERY


def touch(session: Session, token: str, *, now: dt.datetime) -> None:
    session.execute(sa.update(UserSession).where(UserSession.token_hash == digest(token))
                    .values(last_seen_at=now))


def revoke(session: Session, token: str | None, *, now: dt.datetime) -> None:
    """End one session (sign-out)."""
    if token:
        session.execute(sa.update(UserSession)
                        .where(UserSession.token_hash == digest(token),
                               UserSession.revoked_at.is_(None))
                        .values(revoked_at=now))


def revoke_all(session: Session, user: User, *, now: dt.datetime,
               keep: str | None = None) -> int:
    """End every session of ``user`` except the one holding ``keep``; return how many."""
    query = sa.update(UserSession).where(UserSession.user_id == user.id,
                                         UserSession.revoked_at.is_(None))
    if keep:
        query = query.where(UserSession.token_hash != digest(keep))
    return session.execute(query.values(revoked_at=now)).rowcount
