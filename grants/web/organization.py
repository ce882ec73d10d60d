"""Membership pages: an organization's admins run it; the program office verifies first accounts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from grants import clock
from grants.db import get_session
from grants.domain.localgov import load_registry
from grants.domain.membership import MembershipNotAllowed
from grants.forms.accounts import InviteForm, OptionalReasonForm, ReasonForm
from grants.models import Organization, User
from grants.services import accounts, membership
from grants.web import mail
from grants.web.access import Permission, require
from grants.web.auth import error_message

bp = Blueprint("organization", __name__)


def refusal_message(code: str) -> str:
    return {
        "last_admin": _("An organization needs at least one administrator: make someone else "
                        "an administrator first."),
        "not_in_this_state": _("This is no longer possible: the page was out of date."),
    }.get(code, _("You may not do this."))


def _organization() -> Organization:
    organization = current_user.organization
    assert organization is not None  # ORGANIZATION_MANAGE implies an active membership
    return organization


def _colleague(user_id: int) -> User:
    """A member or requester of the current admin's own organization, else 404."""
    user = get_session().get(User, user_id)
    if user is None or user.organization_id != current_user.organization_id:
        abort(404)
    return user


@bp.get("/organization")
@require(Permission.ORGANIZATION_MANAGE)
def show() -> str:
    return _page()


def _page(invite_form: InviteForm | None = None) -> str:
    db, organization = get_session(), _organization()
    return render_template(
        "organization/show.html", organization=organization,
        members=membership.members(db, organization),
        requests=membership.join_requests(db, organization),
        invite_form=invite_form or InviteForm())


@bp.post("/organization/invitations")
@require(Permission.ORGANIZATION_MANAGE)
def invite() -> str | Response | tuple[str, int]:
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(invite_form=form), 422
    db = get_session()
    try:
        user, token = membership.invite(db, _organization(), email=form.email.data,
                                        name=form.name.data, actor=current_user, now=clock.now())
    except accounts.AccountError as error:
        form.email.errors = [error_message(error.code)]
        return _page(invite_form=form), 422
    mail.send("invitation", user, "account.accept_invitation", token=token, inviter=current_user)
    db.commit()
    flash(_("Invitation sent to %(email)s. The link works for 72 hours.", email=user.email),
          "success")
    return redirect(url_for(".show"), code=303)


@bp.post("/organization/requests/<int:user_id>/approve")
@require(Permission.ORGANIZATION_MANAGE)
def approve(user_id: int) -> Response:
    return decide(_colleague(user_id), approve=True, back=url_for(".show"))


@bp.post("/organization/requests/<int:user_id>/refuse")
@require(Permission.ORGANIZATION_MANAGE)
def refuse(user_id: int) -> Response:
    return decide(_colleague(user_id), approve=False, back=url_for(".show"))


def decide(member: User, *, approve: bool, back: str) -> Response:
    """Approve or refuse a membership request (shared with the program office's queue)."""
    db = get_session()
    try:
        if approve:
            membership.approve(db, member, actor=current_user, now=clock.now())
        else:
            form = ReasonForm()
            if not form.validate_on_submit():
                flash(_("Give a reason for refusing: the person sees it."), "error")
                return redirect(back, code=303)
            membership.refuse(db, member, reason=form.reason.data, actor=current_user,
                              now=clock.now())
    except MembershipNotAllowed as error:
        flash(refusal_message(error.code), "error")
        return redirect(back, code=303)
    mail.send("membership-approved" if approve else "membership-refused", member)
    db.commit()
    flash(_("%(name)s: approved.", name=member.display_name) if approve
          else _("%(name)s: refused.", name=member.display_name), "success")
    return redirect(back, code=303)


@bp.post("/organization/members/<int:user_id>/remove")
@require(Permission.ORGANIZATION_MANAGE)
def remove(user_id: int) -> Response:
    member, db = _colleague(user_id), get_session()
    form = OptionalReasonForm()
    try:
        membership.remove(db, member, reason=form.reason.data or "", actor=current_user,
                          now=clock.now())
    except MembershipNotAllowed as error:
        flash(refusal_message(error.code), "error")
        return redirect(url_for(".show"), code=303)
    mail.send("membership-removed", member)
    db.commit()
    flash(_("%(name)s no longer acts for the organization.", name=member.display_name), "success")
    return redirect(url_for(".show") if current_user.acts_for_organization
                    else url_for("account.show"), code=303)


@bp.post("/organization/members/<int:user_id>/admin")
@require(Permission.ORGANIZATION_MANAGE)
def grant_admin(user_id: int) -> Response:
    return _set_admin(user_id, True)


@bp.post("/organization/members/<int:user_id>/not-admin")
@require(Permission.ORGANIZATION_MANAGE)
def revoke_admin(user_id: int) -> Response:
    return _set_admin(user_id, False)


def _set_admin(user_id: int, admin: bool) -> Response:
    member, db = _colleague(user_id), get_session()
    try:
        membership.set_admin(db, member, admin, actor=current_user, now=clock.now())
    except MembershipNotAllowed as error:
        flash(refusal_message(error.code), "error")
        return redirect(url_for(".show"), code=303)
    db.commit()
    flash(_("Saved."), "success")
    return redirect(url_for(".show") if current_user.is_org_admin
                    else url_for("account.show"), code=303)


@bp.get("/manage/organizations")
@require(Permission.ORGANIZATION_VERIFY)
def verification_queue() -> str:
    return render_template("organization/queue.html",
                           requests=membership.verification_queue(get_session()),
                           registry=load_registry())


@bp.post("/manage/organizations/requests/<int:user_id>/approve")
@require(Permission.ORGANIZATION_VERIFY)
def verify(user_id: int) -> Response:
    return decide(_requester(user_id), approve=True, back=url_for(".verification_queue"))


@bp.post("/manage/organizations/requests/<int:user_id>/refuse")
@require(Permission.ORGANIZATION_VERIFY)
def refuse_verification(user_id: int) -> Response:
    return decide(_requester(user_id), approve=False, back=url_for(".verification_queue"))


def _requester(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None or user.organization is None or user.organization.verified_at is not None:
        abort(404)
    return user
