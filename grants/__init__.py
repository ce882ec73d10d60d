"""Grants: a workflow engine for public funding programs.

Importing the package loads nothing: the pure domain (``grants.domain``) must stay importable
and testable without Flask or SQLAlchemy, so the app's imports live inside ``create_app``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app; ``config`` overrides the defaults and the environment (tests pass a dict)."""
    from datetime import timedelta
    from pathlib import Path

    from flask import Flask

    from grants import cli, db, filemodes, logging_setup, templating
    from grants.config import load_settings
    from grants.rendering import limits as rendering_limits
    from grants.web import install_request_hooks, register_blueprints

    app = Flask(__name__)  # templates/ and static/ inside the package
    settings = load_settings(overrides=config)
    logging_setup.configure(settings["LOG_FORMAT"])
    rendering_limits.configure_pool(settings["RENDERER_POOL"], settings["RENDERER_MAX_JOBS"])
    app.config.from_mapping(settings)
    app.config.update(
        WTF_CSRF_TIME_LIMIT=None,  # valid for the session: a form left open for hours still saves
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["ENV"] == "production",
        # The cookie's own expiry never slides; the server checks both limits on every request.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings["SESSION_LIFETIME_HOURS"]),
        SESSION_REFRESH_EACH_REQUEST=False,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
    )
    if settings["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client's address drives sign-in limits: trust exactly the configured proxies.
        count = settings["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    filemodes.private_dir(settings["INSTANCE_DIR"])  # secrets and personal data: owner only
    db.init_app(app)
    install_request_hooks(app)  # before CSRFProtect's hook, which may keep answers
    _init_extensions(app)
    register_blueprints(app)
    templating.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from grants.extensions import babel, csrf, login_manager
    from grants.i18n import select_locale, select_timezone

    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.session_protection = "basic"
