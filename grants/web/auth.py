"""Sign-up for applicants, sign-in, sign-out, and the language switch."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from grants import clock
from grants.db import begin_write, get_session, write_intent
from grants.domain.localgov import load_registry
from grants.extensions import login_manager
from grants.forms.static import SignInForm, SignUpForm
from grants.i18n import LOCALES
from grants.models import OrganizationKind, User
from grants.services import accounts
from grants.web.access import Permission, has_permission, public, require

bp = Blueprint("auth", __name__)

SESSION_LIFETIME = dt.timedelta(hours=12)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return get_session().get(User, int(user_id))


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    """Send the visitor to sign in; answers posted with an expired session are kept first."""
    from grants.web.kept import keep_posted_answers

    keep_posted_answers()
    flash(_("Please sign in to continue."), "info")
    target = request.full_path if request.method == "GET" else request.path
    return redirect(url_for("auth.sign_in", next=target.rstrip("?")))


def safe_next(target: str | None) -> str:
    """Follow ``next`` only to a path on this site (no open redirect), else the user's home."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return home_url()


def home_url() -> str:
    """Where a signed-in person starts: the work their role does."""
    starts = (
        (Permission.REVIEW_WRITE, "review.queue"),
        (Permission.CALL_READ, "manage.list_calls"),
        (Permission.APPLICATION_READ_OWN, "apply.dashboard"),
    )
    for permission, endpoint in starts:
        if current_user.is_authenticated and has_permission(current_user, permission):
            return url_for(endpoint)
    return url_for("calls.list_calls")


def _error_message(code: str) -> str:
    return {
        "bad_credentials": _("The e-mail address or password is wrong."),
        "too_many_attempts": _(
            "Too many failed sign-in attempts. Wait %(minutes)d minutes, then try again.",
            minutes=current_app.config["SIGNIN_WINDOW_MINUTES"],
        ),
        "email_taken": _("An account with this e-mail address already exists."),
        "password_too_short": _("The password is too short."),
        "lg_code_invalid": _("This is not a valid local government code."),
    }.get(code, _("The request could not be carried out."))


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> str | Response:
    form = SignInForm()
    if form.validate_on_submit():
        db = get_session()
        write_intent.set(False)  # read and hash first, without holding SQLite's write lock
        address = request.remote_addr or "unknown"
        check = accounts.check_credentials(
            db,
            email=form.email.data,
            password=form.password.data,
            address=address,
            now=clock.now(),
            max_failures=current_app.config["SIGNIN_MAX_FAILURES"],
            window=dt.timedelta(minutes=current_app.config["SIGNIN_WINDOW_MINUTES"]),
        )
        begin_write(db)
        try:
            user = accounts.record_sign_in(db, check, address=address, now=clock.now())
        except accounts.AccountError as error:
            db.commit()  # keep the record of the failed attempt
            form.password.errors = [_error_message(error.code)]
            return render_template("auth/sign_in.html", form=form), 200
        db.commit()
        _start_session(user)
        return redirect(safe_next(request.args.get("next")))
    return render_template("auth/sign_in.html", form=form)


def _start_session(user: User) -> None:
    kept = {k: session[k] for k in ("kept_form",) if k in session}
    session.clear()  # a fresh session on sign-in: no fixation
    session.update(kept)
    session.permanent = True
    current_app.permanent_session_lifetime = SESSION_LIFETIME
    login_user(user)


@bp.route("/sign-up", methods=["GET", "POST"])
@public
def sign_up() -> str | Response:
    form = SignUpForm()
    candidates = []
    if form.validate_on_submit():
        kind = OrganizationKind(form.organization_kind.data)
        lg_code, candidates = _resolve_local_government(form, kind)
        if kind is not OrganizationKind.LOCAL_GOVERNMENT and not form.organization_name.data:
            form.organization_name.errors = [_("Enter the organization's name.")]
        if not form.errors and not any(f.errors for f in form):
            db = get_session()
            try:
                user = accounts.sign_up(
                    db,
                    email=form.email.data,
                    password=form.password.data,
                    display_name=form.display_name.data,
                    now=clock.now(),
                    organization=accounts.NewOrganization(
                        name=form.organization_name.data or "", kind=kind, lg_code=lg_code
                    ),
                )
            except accounts.AccountError as error:
                field = form.email if error.code == "email_taken" else form.lg_query
                field.errors = [_error_message(error.code)]
            else:
                db.commit()
                _start_session(user)
                flash(_("Your account is ready."), "success")
                return redirect(home_url())
    return render_template("auth/sign_up.html", form=form, candidates=candidates)


def _resolve_local_government(form: SignUpForm, kind: OrganizationKind) -> tuple[str | None, list]:
    """Turn the code-or-name answer into one code, or explain what is wrong."""
    if kind is not OrganizationKind.LOCAL_GOVERNMENT:
        return None, []
    query = (form.lg_query.data or "").strip()
    if not query:
        form.lg_query.errors = [_("Enter the local government's code or name.")]
        return None, []
    registry = load_registry()
    if query.isdigit():
        result = registry.lookup(query)
        if not result.ok:
            form.lg_query.errors = [result.message.get(str(get_locale() or "ja"))]
            return None, []
        return query, []
    matches = registry.search(query, limit=10)
    if len(matches) == 1:
        return matches[0].code, []
    if not matches:
        form.lg_query.errors = [_("No local government matches this name.")]
    else:
        form.lg_query.errors = [_("Several local governments match: enter the code of yours.")]
    return None, matches


@bp.post("/sign-out")
@require()
def sign_out() -> Response:
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("calls.list_calls"))


@bp.post("/language")
@public
def set_language() -> Response:
    locale = request.form.get("locale")
    if locale in LOCALES:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            get_session().commit()
    return redirect(safe_next(request.form.get("next")))
