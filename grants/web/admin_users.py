"""Site administrators manage accounts: find one, disable or re-enable it, send a reset link,
change its role. Each action takes a reason, kept in its audit event (see services.user_admin).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from grants import clock
from grants.db import get_session
from grants.domain.account_admin import AccountChangeRefused
from grants.domain.workflow import Role
from grants.forms.accounts import ReasonForm
from grants.forms.user_admin import ROLE_LABELS, AccountSearchForm, RoleForm
from grants.models import User
from grants.services import user_admin
from grants.web import limits
from grants.web.access import Permission, require
from grants.web.account import queue_reset_link

bp = Blueprint("admin_users", __name__, url_prefix="/manage/users")

MAX_PAGE = 100_000  # past the last page shows the last page
REASON_ONLY = ("disable", "enable", "reset")  # an account page's forms besides the role change


def refusal_message(code: str) -> str:
    return {
        "no_change": _("Nothing to change: the account is already so."),
        "applicant_role": _("Applicant accounts belong to their organization: their role cannot "
                            "change, and a staff account cannot become an applicant. Create a "
                            "new account instead."),
        "self": _("You cannot disable your own account or take away your own administrator "
                  "role: ask another administrator."),
        "last_admin": _("This is the last enabled site administrator: make another account an "
                        "administrator first."),
        "disabled": _("The account is disabled: enable it first."),
        "reason_required": _("Give a reason: it is kept in the audit log."),
        "reason_too_long": _("The reason is too long (at most 500 characters)."),
    }.get(code, _("The request could not be carried out."))


@bp.get("")
@require(Permission.ACCOUNT_MANAGE)
def list_users() -> tuple[str, int]:
    form = AccountSearchForm(formdata=request.args)
    valid = form.validate()
    number = limits.int_arg("page", 1, low=1, high=MAX_PAGE)
    page = user_admin.search(get_session(), form.criteria(), page=number) if valid else None
    return render_template("admin/users.html", form=form, page=page, query=form.query(),
                           role_labels=ROLE_LABELS), 200 if valid else 422


def _account(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _forms(user: User) -> dict[str, FlaskForm]:
    """The page's forms, none of them bound to what was posted."""
    forms: dict[str, FlaskForm] = {name: ReasonForm(formdata=None) for name in REASON_ONLY}
    return forms | {"role": RoleForm(formdata=None, role=user.role.value)}


def _page(user: User, forms: dict[str, FlaskForm], failed: str | None = None,
          refusal: str | None = None) -> str:
    return render_template(
        "admin/user.html", account=user, forms=forms, failed=failed, refusal=refusal,
        role_labels=ROLE_LABELS, last_sign_in=user_admin.last_sign_in(get_session(), user))


@bp.get("/<int:user_id>")
@require(Permission.ACCOUNT_MANAGE)
def show_user(user_id: int) -> str:
    user = _account(user_id)
    return _page(user, _forms(user))


def _act(user_id: int, name: str,
         action: Callable[[User, FlaskForm], str]) -> Response | tuple[str, int]:
    """Validate the posted form, run the action, commit once; on a refusal show the page again
    with the reason as typed and what went wrong."""
    user, db = _account(user_id), get_session()
    forms = _forms(user)
    form = forms[name] = RoleForm() if name == "role" else ReasonForm()
    if not form.validate_on_submit():
        return _page(user, forms, failed=name), 422
    try:
        message = action(user, form)
    except AccountChangeRefused as refused:
        db.rollback()
        return _page(user, forms, failed=name, refusal=refusal_message(refused.code)), 422
    db.commit()
    flash(message, "success")
    return redirect(url_for(".show_user", user_id=user.id), code=303)


@bp.post("/<int:user_id>/disable")
@require(Permission.ACCOUNT_MANAGE)
def disable(user_id: int) -> Response | tuple[str, int]:
    def act(user: User, form: FlaskForm) -> str:
        ended = user_admin.disable(get_session(), user, actor=current_user,
                                   reason=form.reason.data, now=clock.now())
        return _("%(email)s is disabled: it can no longer sign in, and %(n)d open sessions "
                 "were ended.", email=user.email, n=ended)

    return _act(user_id, "disable", act)


@bp.post("/<int:user_id>/enable")
@require(Permission.ACCOUNT_MANAGE)
def enable(user_id: int) -> Response | tuple[str, int]:
    def act(user: User, form: FlaskForm) -> str:
        user_admin.enable(get_session(), user, actor=current_user, reason=form.reason.data,
                          now=clock.now())
        return _("%(email)s is enabled again and may sign in.", email=user.email)

    return _act(user_id, "enable", act)


@bp.post("/<int:user_id>/reset-link")
@require(Permission.ACCOUNT_MANAGE)
def send_reset(user_id: int) -> Response | tuple[str, int]:
    def act(user: User, form: FlaskForm) -> str:
        token = user_admin.issue_reset_link(get_session(), user, actor=current_user,
                                            reason=form.reason.data, now=clock.now())
        queue_reset_link(get_session(), user, token)
        return _("A link to set a new password was e-mailed to %(email)s. It works once, "
                 "for one hour.", email=user.email)

    return _act(user_id, "reset", act)


@bp.post("/<int:user_id>/role")
@require(Permission.ACCOUNT_MANAGE)
def set_role(user_id: int) -> Response | tuple[str, int]:
    def act(user: User, form: FlaskForm) -> str:
        role = Role(form.role.data)
        ended = user_admin.set_role(get_session(), user, role, actor=current_user,
                                    reason=form.reason.data, now=clock.now())
        return _("%(email)s is now: %(role)s. %(n)d open sessions were ended, so the new role "
                 "holds from the next sign-in.", email=user.email, role=ROLE_LABELS[role],
                 n=ended)

    return _act(user_id, "role", act)
