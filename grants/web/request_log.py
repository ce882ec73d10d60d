"""The access log and refusals: one line per request, with an id the response echoes.

The request id comes from the proxy's ``X-Request-ID`` when it is a plain token (nginx:
``proxy_set_header X-Request-ID $request_id;``), else it is made here; every log line of the
request carries it (grants.logging_setup), so the access line, a refusal and an error can be
put together, and gunicorn's own access log is not needed.

What is never logged: query strings, secret tokens in paths (reset and invitation links),
passwords, the e-mail address someone typed, or any other personal data but the account id
and the client's address (after ProxyFix) on the access line.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, g, request, request_started
from flask_login import current_user
from werkzeug.wrappers import Response

ACCESS = logging.getLogger("grants.access")
SECURITY = logging.getLogger("grants.security")
REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
SECRET_VIEW_ARGS = ("token",)  # path parts that are credentials: logged as <token>


def install(app: Flask) -> None:
    """Give each request its id as it starts, before any hook can log or refuse it; the caller
    registers ``finish`` first, so it runs last and logs the final status."""
    request_started.connect(_start, app)

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.request_id
        if response.status_code == 403:
            refused("forbidden")
        _log_access(response.status_code)
        return response


def refused(reason: str, detail: str = "", *, account_id: int | None = None) -> None:
    """Log a refused request: ``forbidden``, ``csrf``, ``sign-in`` or ``throttled``.

    ``detail`` is a fixed code or library message, never what someone typed. ``account_id``
    names the account when the caller knows it (a failed sign-in for an existing account);
    otherwise it is the signed-in person's, if any.
    """
    if account_id is None:
        account_id = _account_id(load=True)
    path = _path()
    SECURITY.warning("refused %s (%s): %s %s account=%s", reason, detail, request.method, path,
                     account_id, extra={"event": "refused", "reason": reason, "detail": detail,
                                        "method": request.method, "path": path,
                                        "account_id": account_id})


def _start(_app: Flask, **_extra: object) -> None:
    g.request_id = _request_id()
    g.request_started = time.perf_counter()


def _request_id() -> str:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    return offered if SANE_REQUEST_ID.fullmatch(offered) else secrets.token_hex(16)


def _log_access(status: int) -> None:
    duration_ms = round((time.perf_counter() - g.request_started) * 1000)
    account_id, client, path = _account_id(load=False), request.remote_addr, _path()
    ACCESS.log(logging.ERROR if status >= 500 else logging.INFO,
               "%s %s %d %dms account=%s client=%s", request.method, path, status, duration_ms,
               account_id, client,
               extra={"event": "access", "method": request.method, "path": path,
                      "status": status, "duration_ms": duration_ms, "account_id": account_id,
                      "client": client})


def _path() -> str:
    """The path without its query string, secret tokens replaced by their name."""
    path = request.path
    for name in SECRET_VIEW_ARGS:
        value = (request.view_args or {}).get(name)
        if value:
            path = path.replace(str(value), f"<{name}>")
    return path


def _account_id(*, load: bool) -> int | None:
    """The signed-in account's id. The access line only uses an account the request already
    loaded (``g._login_user`` is Flask-Login's cache), so a static file or /healthz never
    reads the session table; a refusal may load it."""
    user = current_user if load else g.get("_login_user")
    return user.id if user is not None and user.is_authenticated else None
