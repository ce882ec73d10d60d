"""Site administrators' account tools: find accounts, disable and re-enable them, change a role,
issue a password-reset link.

The page and ``flask grants users`` both come here. Every change checks the rules of
``domain.account_admin``, keeps the stated reason in its audit event (never a password or a
link), and ends the account's sessions when what it may do changes, so the change holds from
its next request. ``actor`` is the admin acting, or None for an operator on the command line.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from grants.domain.account_admin import (
    AccountChangeRefused,
    AccountState,
    check_change,
    clean_reason,
)
from grants.domain.identifiers import normalize
from grants.domain.workflow import Role
from grants.models import Organization, TokenPurpose, User, UserSession
from grants.services import sessions, tokens
from grants.services.accounts import user_by_email
from grants.services.audit import AuditTag, record

PER_PAGE = 50


@dataclass(frozen=True)
class AccountFilter:
    """What to list; empty text, no role and no state mean any."""

    text: str = ""  # part of the e-mail address, the name or the organization's name
    role: Role | None = None
    disabled: bool | None = None


@dataclass(frozen=True)
class AccountRow:
    user: User
    last_sign_in: dt.datetime | None


@dataclass(frozen=True)
class AccountPage:
    rows: list[AccountRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _last_sign_ins() -> sa.Subquery:
    return (sa.select(UserSession.user_id, sa.func.max(UserSession.created_at).label("at"))
            .group_by(UserSession.user_id).subquery())


def search(session: Session, wanted: AccountFilter, *, page: int = 1,
           per_page: int | None = None) -> AccountPage:
    """One page of accounts by e-mail address, with each one's last sign-in; two queries.

    A page past the end shows the last page.
    """
    per_page = per_page or PER_PAGE
    conditions = []
    text = normalize(wanted.text).lower()
    if text:
        conditions.append(sa.or_(
            User.email.contains(text, autoescape=True),
            sa.func.lower(User.display_name).contains(text, autoescape=True),
            sa.func.lower(Organization.name).contains(text, autoescape=True)))
    if wanted.role is not None:
        conditions.append(User.role == wanted.role)
    if wanted.disabled is not None:
        conditions.append(User.active.is_(not wanted.disabled))
    matching = sa.select(User.id).outerjoin(User.organization).where(*conditions)
    total = session.scalar(sa.select(sa.func.count()).select_from(matching.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    last = _last_sign_ins()
    rows = session.execute(
        sa.select(User, last.c.at).outerjoin(User.organization)
        .outerjoin(last, last.c.user_id == User.id).where(*conditions)
        .options(joinedload(User.organization))
        .order_by(User.email).limit(per_page).offset((page - 1) * per_page))
    return AccountPage([AccountRow(user, at) for user, at in rows], total, page, per_page)


def last_sign_in(session: Session, user: User) -> dt.datetime | None:
    return session.scalar(sa.select(sa.func.max(UserSession.created_at))
                          .where(UserSession.user_id == user.id))


def find(session: Session, email: str) -> User | None:
    """The account with this address, typed as on the sign-in form (case, spaces, full-width)."""
    return session.scalar(user_by_email(email))


def _active_admins(session: Session) -> int:
    """Lock the active admins' rows (PostgreSQL) so two demotions cannot both pass the count."""
    return len(session.scalars(sa.select(User.id).where(
        User.role == Role.ADMIN, User.active.is_(True)).with_for_update()).all())


def _change(session: Session, user: User, *, active: bool, role: Role,
            actor: User | None) -> None:
    check_change(AccountState(user.id, user.role, user.active), active=active, role=role,
                 actor_id=actor.id if actor else None, active_admins=_active_admins(session))


def disable(session: Session, user: User, *, actor: User | None, reason: str,
            now: dt.datetime) -> int:
    """The account can no longer sign in: its sessions and unused links end now.

    Returns how many sessions were ended.
    """
    reason = clean_reason(reason)
    _change(session, user, active=False, role=user.role, actor=actor)
    user.active = False
    ended = sessions.revoke_all(session, user, now=now)
    tokens.cancel(session, user, now=now)
    record(session, AuditTag.ACCOUNT_DISABLE, subject_type="user", subject_id=user.id,
           actor=actor, now=now, data={"reason": reason, "sessions_ended": ended})
    return ended


def enable(session: Session, user: User, *, actor: User | None, reason: str,
           now: dt.datetime) -> None:
    """The account may sign in again (with its password, or a new one set by a reset link)."""
    reason = clean_reason(reason)
    _change(session, user, active=True, role=user.role, actor=actor)
    user.active = True
    session.flush()
    record(session, AuditTag.ACCOUNT_ENABLE, subject_type="user", subject_id=user.id,
           actor=actor, now=now, data={"reason": reason})


def set_role(session: Session, user: User, role: Role, *, actor: User | None, reason: str,
             now: dt.datetime) -> int:
    """Give a staff account another staff role; its sessions end so the role holds at once.

    Returns how many sessions were ended.
    """
    reason = clean_reason(reason)
    before = user.role
    _change(session, user, active=user.active, role=role, actor=actor)
    user.role = role
    ended = sessions.revoke_all(session, user, now=now)
    record(session, AuditTag.ACCOUNT_ROLE_CHANGE, subject_type="user", subject_id=user.id,
           actor=actor, now=now, data={"reason": reason, "from": str(before), "to": str(role),
                                       "sessions_ended": ended})
    return ended


def issue_reset_link(session: Session, user: User, *, actor: User | None, reason: str,
                     now: dt.datetime, shown: bool = False) -> str:
    """Issue a password-reset token for an enabled account; the caller e-mails the link.

    ``shown``: the link is also shown to the operator (the command line's --print-link), so the
    audit event says someone besides the owner could use it.
    """
    reason = clean_reason(reason)
    if not user.active:
        raise AccountChangeRefused("disabled")
    token = tokens.issue(session, user, TokenPurpose.PASSWORD_RESET, now=now)
    record(session, AuditTag.ACCOUNT_RESET_LINK, subject_type="user", subject_id=user.id,
           actor=actor, now=now, data={"reason": reason, "link_shown": shown})
    return token
