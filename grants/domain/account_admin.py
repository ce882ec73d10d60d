"""What a site administrator may do to an account: disable, re-enable, change its role.

The rules that keep the site administrable: nobody locks themself out (an admin cannot disable
or demote their own account), and the last active admin can never be disabled or demoted,
whoever asks (the command line included). Applicant accounts belong to an organization, so
they never become staff nor staff applicants by a role change: that is a new account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from grants.domain.errors import DomainError
from grants.domain.workflow import Role

STAFF_ROLES: Final = (Role.REVIEWER, Role.OFFICER, Role.AUDITOR, Role.ADMIN)
MAX_REASON_LENGTH: Final = 500


class AccountChangeRefused(DomainError):
    """The change is not allowed; ``code`` says why, for a translated message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class AccountState:
    """The part of an account these rules read."""

    id: int
    role: Role
    active: bool


def check_change(account: AccountState, *, active: bool, role: Role, actor_id: int | None,
                 active_admins: int) -> None:
    """Refuse moving ``account`` to (``active``, ``role``) when a rule forbids it.

    ``actor_id`` is the acting admin's account (None: an operator on the command line);
    ``active_admins`` counts the active admin accounts now, ``account`` included.
    """
    if (active, role) == (account.active, account.role):
        raise AccountChangeRefused("no_change")
    if role is not account.role and Role.APPLICANT in (role, account.role):
        raise AccountChangeRefused("applicant_role")
    loses_admin = account.active and account.role is Role.ADMIN and (
        not active or role is not Role.ADMIN)
    if loses_admin and account.id == actor_id:
        raise AccountChangeRefused("self")
    if loses_admin and active_admins <= 1:
        raise AccountChangeRefused("last_admin")


def clean_reason(reason: str | None) -> str:
    """The reason as kept in the audit event: trimmed, required, at most 500 characters."""
    reason = (reason or "").strip()
    if not reason:
        raise AccountChangeRefused("reason_required")
    if len(reason) > MAX_REASON_LENGTH:
        raise AccountChangeRefused("reason_too_long")
    return reason
