"""Who may act for an organization: membership states, the moves between them, admin rules.

Membership is granted, never claimed: a request waits until the program office (for an
organization's first account) or the organization's own administrators approve it. An
organization always keeps at least one administrator.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final

from grants.domain.errors import DomainError


class Membership(StrEnum):
    """Stored values: never change them."""

    REQUESTED = "requested"
    ACTIVE = "active"
    REFUSED = "refused"
    REMOVED = "removed"


class MembershipAction(StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"
    REMOVE = "remove"


class MembershipNotAllowed(DomainError):
    """The move is not possible from the member's state, or would leave no administrator."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


TRANSITIONS: Final = MappingProxyType({
    (Membership.REQUESTED, MembershipAction.APPROVE): Membership.ACTIVE,
    (Membership.REQUESTED, MembershipAction.REFUSE): Membership.REFUSED,
    (Membership.ACTIVE, MembershipAction.REMOVE): Membership.REMOVED,
})


def fire(state: Membership | None, action: MembershipAction) -> Membership:
    """Return the next state, or raise ``MembershipNotAllowed``."""
    try:
        return TRANSITIONS[(state, action)]  # type: ignore[index]
    except KeyError:
        raise MembershipNotAllowed("not_in_this_state") from None


def check_admins_remain(admin_count: int, *, losing_admin: bool) -> None:
    """Refuse a change that would leave the organization without an administrator."""
    if losing_admin and admin_count <= 1:
        raise MembershipNotAllowed("last_admin")
