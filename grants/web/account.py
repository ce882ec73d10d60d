"""One's own account: status, password change, sign out everywhere; reset and invitation links."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from grants import clock, emails
from grants.db import begin_write, get_session
from grants.forms.accounts import ChangePasswordForm, EmailForm, InvitationForm, ResetPasswordForm
from grants.models import TokenPurpose, User
from grants.services import accounts, sessions, tokens
from grants.web.access import public, require
from grants.web.auth import allow_client_request, error_message, home_url, start_session

bp = Blueprint("account", __name__)


@bp.get("/account")
@require()
def show() -> str:
    return render_template("account/show.html", form=ChangePasswordForm())


@bp.post("/account/password")
@require()
def change_password() -> str | Response | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            ended = accounts.change_password(db, current_user, current=form.current_password.data,
                                             new=form.password.data, now=clock.now())
        except accounts.AccountError as error:
            form.current_password.errors = [error_message(error.code)]
        else:
            db.commit()
            flash(_("Your password is changed. %(n)d other sessions were signed out.", n=ended),
                  "success")
            return redirect(url_for(".show"), code=303)
    return render_template("account/show.html", form=form), 422


@bp.post("/account/sign-out-everywhere")
@require()
def sign_out_everywhere() -> Response:
    db = get_session()
    accounts.sign_out_everywhere(db, current_user, now=clock.now())
    db.commit()
    logout_user()
    flash(_("You have signed out on every device."), "info")
    return redirect(url_for("auth.sign_in"), code=303)


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def forgot_password() -> str:
    """Send a reset link; the answer is the same whether or not the address has an account."""
    form = EmailForm()
    if form.validate_on_submit():
        db = get_session()
        if allow_client_request(db, "reset", form.email.data):
            issued = accounts.request_password_reset(db, form.email.data, now=clock.now())
            if issued is not None:
                queue_reset_link(db, *issued)
        db.commit()
        return render_template("auth/check_email.html", email=form.email.data, reset=True)
    return render_template("account/forgot.html", form=form)


def queue_reset_link(session: Session, user: User, token: str) -> str:
    """Queue the reset e-mail (asked for by its owner, or sent by a site administrator, from the
    accounts page or the command line); return the link it carries."""
    link = emails.absolute_url("account.reset_password", token=token)
    emails.queue(session, "password-reset", user, now=clock.now(), link=link)
    return link


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> str | Response | tuple[str, int]:
    db = get_session()
    if tokens.find(db, token, TokenPurpose.PASSWORD_RESET, now=clock.now()) is None:
        return _link_invalid()
    form = ResetPasswordForm()
    if form.validate_on_submit():
        begin_write(db)
        try:
            accounts.reset_password(db, token, form.password.data, now=clock.now())
        except accounts.AccountError:
            return _link_invalid()
        db.commit()
        logout_user()
        flash(_("Your password is set. Sign in with it."), "success")
        return redirect(url_for("auth.sign_in"), code=303)
    return render_template("account/reset.html", form=form)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str) -> str | Response | tuple[str, int]:
    db = get_session()
    found = tokens.find(db, token, TokenPurpose.INVITATION, now=clock.now())
    if found is None:
        return _link_invalid()
    form = InvitationForm(display_name=found.user.display_name)
    if form.validate_on_submit():
        begin_write(db)
        try:
            user = accounts.accept_invitation(db, token, password=form.password.data,
                                              display_name=form.display_name.data,
                                              now=clock.now())
        except accounts.AccountError:
            return _link_invalid()
        db.commit()
        begin_write(db)
        sessions.start(db, user, now=clock.now())
        db.commit()
        start_session(user)
        flash(_("Welcome. Your account is ready."), "success")
        return redirect(home_url(), code=303)
    return render_template("account/invitation.html", form=form, invited=found.user)


def _link_invalid() -> tuple[str, int]:
    return render_template("auth/link_invalid.html", message=error_message("link_invalid"),
                           form=None), 404
