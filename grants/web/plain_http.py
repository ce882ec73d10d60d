"""Production answers plain HTTP with a page saying the site needs HTTPS.

In production the session cookie is Secure, so a browser on http:// drops it: every form then
fails its CSRF check and sign-in says "This form has expired", which points the wrong way. So a
request that is not secure (as ProxyFix sees it, after GRANTS_PROXY_COUNT trusted proxies) gets
a 400 page naming the cause, and the log says why, with the setting to check when a proxy said
https but is not trusted. ``/healthz`` and static files stay reachable: load balancers probe
over plain HTTP.
"""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _

from grants.web.request_log import refused

EXEMPT = frozenset({"health.healthz", "static"})


def install(app: Flask) -> None:
    """Refuse plain HTTP in production, before any other hook (CSRF's included) runs."""
    if app.config["ENV"] != "production":
        return

    @app.before_request
    def refuse_plain_http() -> tuple[str, int] | None:
        if request.is_secure or request.endpoint in EXEMPT:
            return None
        refused("plain-http", cause())  # the path logged with any link token masked
        return render_template("error.html", code=400, message=_(
            "This site must be reached over HTTPS; the sign-in cookie cannot be set over plain "
            "HTTP.")), 400


def cause() -> str:
    """Why this request is not secure, for the operator reading the log."""
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    if "https" not in forwarded.lower():
        return ("in production the session cookie is Secure, so the site must be served over "
                "HTTPS (a TLS proxy in front, sending X-Forwarded-Proto)")
    count = current_app.config["PROXY_COUNT"]
    return (f"X-Forwarded-Proto says {forwarded!r} but is not trusted: GRANTS_PROXY_COUNT is "
            f"{count}; set it to the number of proxies in front of the app (1 behind one nginx)")
