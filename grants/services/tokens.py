"""Single-use links sent by e-mail: a random token for the link, only its hash stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.models import AccountToken, TokenPurpose, User

LIFETIMES = {
    TokenPurpose.VERIFY_EMAIL: dt.timedelta(hours=72),
    TokenPurpose.INVITATION: dt.timedelta(hours=72),
    TokenPurpose.PASSWORD_RESET: dt.timedelta(hours=1),
}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cancel(session: Session, user: User, *, now: dt.datetime,
           purposes: tuple[TokenPurpose, ...] = tuple(TokenPurpose)) -> None:
    """Make every unused link of ``user`` for ``purposes`` stop working (marked used now)."""
    session.execute(
        sa.update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose.in_(purposes),
               AccountToken.used_at.is_(None))
        .values(used_at=now)
    )


def issue(session: Session, user: User, purpose: TokenPurpose, *, now: dt.datetime) -> str:
    """Create a link token for ``user``; earlier unused ones of the same purpose stop working."""
    cancel(session, user, now=now, purposes=(purpose,))
    token = secrets.token_urlsafe(32)
    session.add(AccountToken(token_hash=digest(token), purpose=purpose, user_id=user.id,
                             created_at=now, expires_at=now + LIFETIMES[purpose]))
    session.flush()
    return token


def find(session: Session, token: str, purpose: TokenPurpose, *,
         now: dt.datetime) -> AccountToken | None:
    """Return the unused, unexpired token of this purpose, or None."""
    found = session.scalar(sa.select(AccountToken).filter_by(token_hash=digest(token or "")))
    if found is None or found.purpose is not purpose or found.used_at is not None:
        return None
    if found.expires_at <= now:
        return None
    return found


def consume(session: Session, token: str, purpose: TokenPurpose, *,
            now: dt.datetime) -> User | None:
    """Use a token once; return its user, or None when it is unknown, used or expired."""
    found = find(session, token, purpose, now=now)
    if found is None:
        return None
    found.used_at = now
    session.flush()
    return found.user


def issued_since(session: Session, user: User, purpose: TokenPurpose, since: dt.datetime) -> int:
    return session.scalar(
        sa.select(sa.func.count()).select_from(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose,
               AccountToken.created_at >= since)
    ) or 0
