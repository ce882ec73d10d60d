"""Map errors to pages: domain errors are refusals (409/422), never a 500 with a traceback."""

from __future__ import annotations

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from grants.domain.errors import DomainError
from grants.domain.workflow import TransitionNotAllowed
from grants.rendering import MissingJapaneseFont, RenderError
from grants.services.apply import CallClosed
from grants.web import kept, limits, request_log


def _page(code: int, message: str) -> tuple[str, int]:
    session = g.get("db_session")
    if session is not None:
        session.rollback()  # a failed statement must not break the error page itself
    return render_template("error.html", code=code, message=message), code


def _too_large() -> str:
    """Say what was too large: files where the page takes them, else the form itself."""
    limit_mb = max(1, (request.max_content_length or 0) // (1024 * 1024))
    if limits.takes_uploads():
        return _(
            "What you sent at once is larger than %(mb)d MB, so nothing on that page was "
            "saved. Go back and upload fewer or smaller files at a time.",
            mb=limit_mb,
        )
    return _(
        "What you sent is more than this page accepts (%(mb)d MB, or too many fields at once), "
        "so nothing was saved. Go back and send less at a time.",
        mb=limit_mb,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> Response | tuple[str, int]:
        """An expired form: keep a step's answers and show them again, never drop them."""
        request_log.refused("csrf", error.description or "")  # e.g. the session token is missing
        outcome = kept.keep_posted_answers()
        if outcome is None:
            return _page(
                400, _("This form has expired. Go back, reload the page and send it again.")
            )
        step_url = url_for("apply.step", **(request.view_args or {}))
        if not current_user.is_authenticated:
            if outcome is kept.Kept.KEPT:
                flash(_("Your session has expired. Sign in again: your answers were kept."), "info")
            return redirect(url_for("auth.sign_in", next=step_url))
        return redirect(step_url, code=303)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        messages = {
            403: _("You do not have permission to see this page."),
            404: _("This page does not exist, or you may not see it."),
            405: _("This action is not available here."),
            400: _("The request could not be understood. Go back and try again."),
        }
        default = _("Something went wrong. Please try again; your saved answers are safe.")
        if error.code == 413:
            return _page(413, _too_large())
        return _page(error.code or 500, messages.get(error.code or 500, default))

    @app.errorhandler(CallClosed)
    def call_closed(_error: CallClosed) -> tuple[str, int]:
        return _page(409, _("This call is not open for applications at this time."))

    @app.errorhandler(TransitionNotAllowed)
    def transition_refused(_error: TransitionNotAllowed) -> tuple[str, int]:
        return _page(409, _("This application cannot do that in its current state."))

    @app.errorhandler(MissingJapaneseFont)
    def no_japanese_font(error: MissingJapaneseFont) -> tuple[str, int]:
        current_app.logger.error("PDF refused: %s", error)
        return _page(503, _("PDF documents cannot be made on this server yet: no font covering "
                            "Japanese is installed. Ask the administrator to install the Debian "
                            "package fonts-noto-cjk."))

    @app.errorhandler(RenderError)
    def render_failed(error: RenderError) -> tuple[str, int]:
        current_app.logger.error("PDF rendering failed: %s", error)
        return _page(503, _("The PDF could not be made this time. Please try again in a few "
                            "minutes; if it keeps failing, tell the program office."))

    @app.errorhandler(DomainError)
    def domain_error(_error: DomainError) -> tuple[str, int]:
        return _page(422, _("The request could not be carried out."))
