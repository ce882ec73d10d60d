"""Membership moves and the never-zero-administrators rule."""

import pytest

from grants.domain.membership import (
    TRANSITIONS,
    Membership,
    MembershipAction,
    MembershipNotAllowed,
    check_admins_remain,
    fire,
)


@pytest.mark.parametrize(("state", "action", "after"), [
    (Membership.REQUESTED, MembershipAction.APPROVE, Membership.ACTIVE),
    (Membership.REQUESTED, MembershipAction.REFUSE, Membership.REFUSED),
    (Membership.ACTIVE, MembershipAction.REMOVE, Membership.REMOVED),
])
def test_fire_allowed_moves(state, action, after):
    assert fire(state, action) is after


def test_fire_every_other_move_refused():
    refused = [(state, action) for state in [*Membership, None] for action in MembershipAction
               if (state, action) not in TRANSITIONS]
    assert len(refused) == 5 * 3 - 3
    for state, action in refused:
        with pytest.raises(MembershipNotAllowed) as error:
            fire(state, action)
        assert error.value.code == "not_in_this_state"


def test_check_admins_remain_refuses_losing_the_last():
    with pytest.raises(MembershipNotAllowed) as error:
        check_admins_remain(1, losing_admin=True)
    assert error.value.code == "last_admin"
    check_admins_remain(2, losing_admin=True)
    check_admins_remain(1, losing_admin=False)
