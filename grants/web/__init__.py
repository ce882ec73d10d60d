"""Blueprints, one per audience, and the hooks every request goes through."""

from typing import Any

from flask import Flask, request, request_started
from werkzeug.wrappers import Response

from grants import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def install_request_hooks(app: Flask) -> None:
    """Hooks that must run before any other, CSRF checks included (they may write)."""
    from grants.web import plain_http, request_log

    request_log.install(app)  # the request id first; the access line last, with the final status

    def declare_write_intent(_sender: Flask, **_extra: Any) -> None:
        """Requests that change things take SQLite's write lock when their transaction begins.
        Set as the request starts, before every before_request hook: one that reads the
        database (grants.web.limits) would otherwise begin the transaction with the last
        request's intent, and a save after a GET would fail on "database is locked"."""
        db.write_intent.set(request.method not in SAFE_METHODS)

    request_started.connect(declare_write_intent, app, weak=False)

    plain_http.install(app)

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["ENV"] == "production":
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        if request.endpoint != "static":
            _keep_out_of_caches(response)
        return response


def _keep_out_of_caches(response: Response) -> None:
    """Pages, downloads and exports carry personal data: no browser or proxy keeps a copy.

    Only a view that chose to be cached (public, or a positive max-age) keeps its own rule;
    send_file's default (no-cache, max-age=0) only asks for revalidation, so no-store is added.
    """
    cache = response.cache_control
    if cache.public or (cache.max_age or 0) > 0:
        return
    cache.no_store = True


def register_blueprints(app: Flask) -> None:
    from grants.web import (
        access,
        account,
        admin_users,
        apply,
        assets,
        audit,
        auth,
        calls,
        completion_report,
        consensus,
        errors,
        files,
        followups,
        grant,
        health,
        limits,
        manage_applications,
        manage_calls,
        organization,
        packets,
        redress,
        review,
        summary,
        sustainability,
    )

    for blueprint in (health.bp, auth.bp, account.bp, organization.bp, calls.bp, apply.bp, files.bp,
                      review.bp, manage_calls.bp, manage_applications.bp, audit.bp, packets.bp,
                      admin_users.bp, consensus.bp, summary.bp, redress.bp,
                      sustainability.bp, grant.bp, assets.bp, followups.bp,
                      completion_report.bp):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    limits.install(app)
    app.jinja_env.globals["has_permission"] = access.has_permission
