"""The rules of the site administrators' account tools: nobody locks themself out, the last
admin stays, applicants keep their role, and every change has a reason."""

from __future__ import annotations

import pytest

from grants.domain.account_admin import (
    MAX_REASON_LENGTH,
    AccountChangeRefused,
    AccountState,
    check_change,
    clean_reason,
)
from grants.domain.workflow import Role

ME, OTHER = 1, 2


def refusal(account: AccountState, *, active: bool | None = None, role: Role | None = None,
            actor_id: int | None = ME, active_admins: int = 2) -> str | None:
    try:
        check_change(account, active=account.active if active is None else active,
                     role=role or account.role, actor_id=actor_id, active_admins=active_admins)
    except AccountChangeRefused as refused:
        return refused.code
    return None


def test_an_admin_may_disable_enable_and_move_other_staff():
    officer = AccountState(OTHER, Role.OFFICER, True)
    assert refusal(officer, active=False) is None
    assert refusal(AccountState(OTHER, Role.OFFICER, False), active=True) is None
    for role in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN):
        assert refusal(officer, role=role) is None
    applicant = AccountState(OTHER, Role.APPLICANT, True)
    assert refusal(applicant, active=False) is None


def test_an_admin_cannot_disable_or_demote_themself():
    me = AccountState(ME, Role.ADMIN, True)
    assert refusal(me, active=False, active_admins=5) == "self"
    for role in (Role.REVIEWER, Role.OFFICER, Role.AUDITOR):
        assert refusal(me, role=role, active_admins=5) == "self"


@pytest.mark.parametrize("actor_id", [OTHER, None], ids=["another admin", "command line"])
def test_the_last_active_admin_is_never_disabled_or_demoted(actor_id):
    last = AccountState(ME, Role.ADMIN, True)
    assert refusal(last, active=False, actor_id=actor_id, active_admins=1) == "last_admin"
    assert refusal(last, role=Role.OFFICER, actor_id=actor_id, active_admins=1) == "last_admin"
    # with a second active admin both are possible
    assert refusal(last, active=False, actor_id=actor_id, active_admins=2) is None
    assert refusal(last, role=Role.OFFICER, actor_id=actor_id, active_admins=2) is None


def test_a_disabled_admin_does_not_count_and_may_be_moved_or_enabled():
    disabled = AccountState(OTHER, Role.ADMIN, False)
    assert refusal(disabled, role=Role.AUDITOR, active_admins=1) is None
    assert refusal(disabled, active=True, active_admins=1) is None


def test_applicants_keep_their_role_and_staff_never_become_applicants():
    applicant = AccountState(OTHER, Role.APPLICANT, True)
    assert refusal(applicant, role=Role.OFFICER) == "applicant_role"
    assert refusal(AccountState(OTHER, Role.REVIEWER, True), role=Role.APPLICANT) \
        == "applicant_role"


def test_nothing_to_change_is_refused():
    officer = AccountState(OTHER, Role.OFFICER, True)
    assert refusal(officer) == "no_change"
    assert refusal(AccountState(OTHER, Role.OFFICER, False), active=False) == "no_change"
    assert refusal(AccountState(ME, Role.ADMIN, True), active_admins=1) == "no_change"


@pytest.mark.parametrize(("typed", "kept"), [
    ("  電話で本人確認済み \n", "電話で本人確認済み"),
    ("\u3000退職のため\u3000", "退職のため"),
    ("x" * MAX_REASON_LENGTH, "x" * MAX_REASON_LENGTH),
])
def test_a_reason_is_kept_trimmed(typed, kept):
    assert clean_reason(typed) == kept


@pytest.mark.parametrize(("typed", "code"), [
    (None, "reason_required"), ("", "reason_required"), (" \t\u3000\n", "reason_required"),
    ("x" * (MAX_REASON_LENGTH + 1), "reason_too_long"),
])
def test_a_blank_or_huge_reason_is_refused(typed, code):
    with pytest.raises(AccountChangeRefused) as refused:
        clean_reason(typed)
    assert refused.value.code == code
