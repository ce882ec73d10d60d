"""Sign-in, sign-out, sign-up with e-mail confirmation, and the language switch.

Sessions live on the server (services.sessions): the cookie only names one, so signing out,
a password change or "sign out everywhere" ends it for every copy of the cookie.
"""

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
from grants.domain.identifiers import normalize
from grants.domain.localgov import load_registry
from grants.extensions import login_manager
from grants.forms.accounts import EmailForm, SignInForm, SignUpForm
from grants.i18n import LOCALES
from grants.models import OrganizationKind, User
from grants.services import accounts, membership, sessions, throttle
from grants.web import mail, request_log
from grants.web.access import Permission, has_permission, public, require

bp = Blueprint("auth", __name__)

EMAIL_REQUESTS_PER_HOUR = 3  # confirmation and reset links, per address asked for
CLIENT_REQUESTS_PER_HOUR = 20  # sign-ups and link requests, per client address


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """Resume a server-side session; record activity at most once a minute (idle timeout)."""
    db = get_session()
    user, stale = sessions.resume(db, token, now=clock.now(), lifetimes=lifetimes())
    if user is not None and stale:
        intent = write_intent.get()
        begin_write(db)
        sessions.touch(db, token, now=clock.now())
        db.commit()
        write_intent.set(intent)
    return user


def lifetimes() -> sessions.Lifetimes:
    config = current_app.config
    return sessions.Lifetimes(absolute=dt.timedelta(hours=config["SESSION_LIFETIME_HOURS"]),
                              idle=dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"]))


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
    """Where a signed-in person starts: the work their role does, else their account."""
    starts = (
        (Permission.REVIEW_WRITE, "review.queue"),
        (Permission.CALL_READ, "manage.list_calls"),
        (Permission.APPLICATION_READ_OWN, "apply.dashboard"),
        (Permission.AUDIT_READ, "audit.search_funded"),
    )
    if not current_user.is_authenticated:
        return url_for("calls.list_calls")
    for permission, endpoint in starts:
        if has_permission(current_user, permission):
            return url_for(endpoint)
    return url_for("account.show")


def error_message(code: str) -> str:
    return {
        "bad_credentials": _("The e-mail address or password is wrong."),
        "too_many_attempts": _(
            "Too many failed sign-in attempts. Wait %(minutes)d minutes, then try again, or "
            "set a new password by e-mail.",
            minutes=current_app.config["SIGNIN_WINDOW_MINUTES"],
        ),
        "email_unverified": _(
            "Confirm your e-mail address first: open the link we sent you. No e-mail? Send it "
            "again below."
        ),
        "password_too_short": _("The password is too short."),
        "lg_code_invalid": _("This is not a valid local government code."),
        "corporate_number_invalid": _(
            "This is not a valid 法人番号: 13 digits, the first being the check digit."
        ),
        "corporate_number_other_kind": _(
            "This 法人番号 is registered here as another kind of organization."
        ),
        "organization_name_required": _("Enter the organization's name."),
        "link_invalid": _("This link is not valid: it was used already or has expired."),
        "current_password_wrong": _("The current password is wrong."),
        "email_taken": _("An account with this e-mail address already exists."),
        "too_many_requests": _("Too many requests from here. Wait an hour, then try again."),
    }.get(code, _("The request could not be carried out."))


def client_address() -> str:
    return request.remote_addr or "unknown"


def sign_in_policy() -> accounts.SignInPolicy:
    return accounts.SignInPolicy(
        max_failures=current_app.config["SIGNIN_MAX_FAILURES"],
        window=dt.timedelta(minutes=current_app.config["SIGNIN_WINDOW_MINUTES"]),
    )


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> str | Response:
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("auth/sign_in.html", form=form, resend=None)
    db, address, policy = get_session(), client_address(), sign_in_policy()
    try:
        begin_write(db)  # the try is counted first, atomically, then the slow hash runs
        hits = accounts.reserve_sign_in(db, email=form.email.data, address=address,
                                        now=clock.now(), policy=policy)
        db.commit()
        write_intent.set(False)
        user = accounts.check_credentials(db, email=form.email.data, password=form.password.data)
    except accounts.AccountError as error:
        known = db.scalar(accounts.user_by_email(form.email.data))  # its id only is logged
        db.commit()
        request_log.refused("sign-in", error.code, account_id=known.id if known else None)
        form.password.errors = [error_message(error.code)]
        resend = EmailForm(email=form.email.data) if error.code == "email_unverified" else None
        return render_template("auth/sign_in.html", form=form, resend=resend), 200
    begin_write(db)
    accounts.complete_sign_in(db, user, hits, address=address, now=clock.now(), policy=policy)
    db.commit()
    start_session(user)
    return redirect(safe_next(request.args.get("next")))


def start_session(user: User) -> None:
    """Log ``user`` in on a fresh cookie (no fixation), keeping only kept answers."""
    kept = {k: session[k] for k in ("kept_form",) if k in session}
    session.clear()
    session.update(kept)
    session.permanent = True
    login_user(user)


@bp.route("/sign-up", methods=["GET", "POST"])
@public
def sign_up() -> str | Response:
    form = SignUpForm()
    candidates: list = []
    if form.validate_on_submit():
        kind = OrganizationKind(form.organization_kind.data)
        lg_code, candidates = _resolve_local_government(form, kind)
        if not any(field.errors for field in form):
            result = _sign_up(form, kind, lg_code)
            if result is not None:
                return result
    return render_template("auth/sign_up.html", form=form, candidates=candidates)


def _sign_up(form: SignUpForm, kind: OrganizationKind, lg_code: str | None) -> str | None:
    """Create the account (or e-mail the address's owner); the page says the same either way."""
    db = get_session()
    if not allow_client_request(db, "sign-up"):
        form.email.errors = [error_message("too_many_requests")]
        return None
    try:
        result = accounts.sign_up(
            db, email=form.email.data, password=form.password.data,
            display_name=form.display_name.data, telephone=form.telephone.data, now=clock.now(),
            organization=accounts.NewOrganization(
                kind=kind, name=form.organization_name.data or "", lg_code=lg_code,
                corporate_number=form.corporate_number.data),
        )
    except accounts.AccountError as error:
        field = {"lg_code_invalid": form.lg_query, "organization_name_required":
                 form.organization_name}.get(error.code, form.corporate_number)
        field.errors = [error_message(error.code)]
        db.rollback()
        return None
    if result.created is not None:
        mail.send("verify-email", result.created, "auth.verify_email",
                  token=result.verification_token)
    elif result.existing is not None:
        mail.send("sign-up-existing", result.existing, "account.forgot_password")
    db.commit()
    return render_template("auth/check_email.html", email=form.email.data)


def _resolve_local_government(form: SignUpForm, kind: OrganizationKind) -> tuple[str | None, list]:
    """Turn the code-or-name answer into one code, or explain what is wrong."""
    if kind is not OrganizationKind.LOCAL_GOVERNMENT:
        if not (form.corporate_number.data or "").strip():
            form.corporate_number.errors = [_("Enter the organization's 法人番号.")]
        if not (form.organization_name.data or "").strip():
            form.organization_name.errors = [_("Enter the organization's name.")]
        return None, []
    query = normalize(form.lg_query.data)
    if not query:
        form.lg_query.errors = [_("Enter the local government's code or name.")]
        return None, []
    registry = load_registry()
    if any(c.isdigit() for c in query):  # a code, never a name search
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


def allow_client_request(db, kind: str, email: str | None = None) -> bool:
    """Count an e-mail-sending request from this client (and for this address); False if over."""
    hour = dt.timedelta(hours=1)
    limits = [throttle.Limit(f"{kind}-client:{client_address()}", CLIENT_REQUESTS_PER_HOUR, hour)]
    if email:
        limits.append(throttle.Limit(f"{kind}:{accounts.normalize_email(email)}",
                                     EMAIL_REQUESTS_PER_HOUR, hour))
    begin_write(db)
    if throttle.reserve(db, limits, now=clock.now()) is None:
        request_log.refused("throttled", kind)  # the buckets name the address: never logged
        return False
    return True


@bp.get("/verify/<token>")
@public
def verify_email(token: str) -> str | Response:
    db = get_session()
    begin_write(db)
    try:
        user = accounts.verify_email(db, token, now=clock.now())
    except accounts.AccountError as error:
        return render_template("auth/link_invalid.html", message=error_message(error.code),
                               form=EmailForm()), 404
    for admin in membership.admins_to_tell(db, user):
        mail.send("join-request", admin, "organization.show", requester=user)
    db.commit()
    flash(_("Your e-mail address is confirmed. Sign in to continue."), "success")
    return redirect(url_for("auth.sign_in"), code=303)


@bp.post("/verify")
@public
def resend_verification() -> str:
    """Send the confirmation link again; the answer never says whether the account exists."""
    form = EmailForm()
    if form.validate_on_submit():
        db = get_session()
        if allow_client_request(db, "verify", form.email.data):
            user = db.scalar(accounts.user_by_email(form.email.data))
            token = user and accounts.verification_link_for(db, user, now=clock.now())
            if token:
                mail.send("verify-email", user, "auth.verify_email", token=token)
        db.commit()
        return render_template("auth/check_email.html", email=form.email.data)
    return render_template("auth/link_invalid.html", message=None, form=form)


@bp.post("/sign-out")
@require()
def sign_out() -> Response:
    db = get_session()
    begin_write(db)
    sessions.revoke(db, current_user.session_token, now=clock.now())
    db.commit()
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
