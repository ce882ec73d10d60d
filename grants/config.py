"""Every setting in one table: embedded defaults < environment < explicit overrides.

Nothing else in the package reads ``os.environ``. The embedded default (no environment at all)
is a single-machine install: SQLite and files under ``instance/``, jobs run inline.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parent  # templates, static, migrations, examples
PROJECT_ROOT = PACKAGE_ROOT.parent  # a checkout; an installed package has none to speak of

ENV_PREFIX = "GRANTS_"
# Well-known names also read without the prefix, as hosting platforms set them.
UNPREFIXED = ("DATABASE_URL", "SECRET_KEY", "REDIS_URL")

DEFAULTS: dict[str, Any] = {
    "ENV": "development",  # "production" refuses to start without SECRET_KEY and DATABASE_URL
    "INSTANCE_DIR": str(PROJECT_ROOT / "instance"),
    "DATABASE_URL": None,  # default: sqlite:///<INSTANCE_DIR>/grants.sqlite
    "ALLOW_SQLITE": False,  # production refuses SQLite unless this is set (a one-machine install)
    "STORAGE_DIR": None,  # default: <INSTANCE_DIR>/files
    "PROGRAMS_DIR": str(PACKAGE_ROOT / "programs"),
    "RUBRICS_DIR": str(PACKAGE_ROOT / "rubrics"),
    "SECRET_KEY": None,  # default (development only): generated once into <INSTANCE_DIR>/secret_key
    "REDIS_URL": None,  # set: background jobs (batch downloads) go to RQ workers; unset: inline
    "RQ_QUEUE": "grants",  # the RQ queue the workers listen on (`rq worker grants`)
    "BATCH_DIR": None,  # default: <INSTANCE_DIR>/batches (shared with the RQ workers)
    "BATCH_RUNNER": "thread",  # without REDIS_URL: "thread" (in the background) or "request"
    "SMTP_URL": None,  # smtp://user:pw@host:587 (STARTTLS) or smtps://...:465; None: outbox only
    "MAIL_FROM": "grants@localhost",
    "MAX_UPLOAD_MB": 20,
    "SIGNIN_MAX_FAILURES": 5,  # per account and per address, within SIGNIN_WINDOW_MINUTES
    "SIGNIN_WINDOW_MINUTES": 15,
    "SESSION_LIFETIME_HOURS": 12,  # a sign-in lasts at most this long, active or not
    "SESSION_IDLE_MINUTES": 120,  # and ends earlier after this long without a request
    "AUDIT_ANCHOR_FILE": None,  # default: <INSTANCE_DIR>/audit-anchors.jsonl (copy it elsewhere)
    "SQLITE_BUSY_TIMEOUT_MS": 15000,
    "PROXY_COUNT": 0,  # proxies in front setting X-Forwarded-For/-Proto (behind nginx: 1)
    "DEFAULT_LOCALE": "ja",
    "TIMEZONE": "Asia/Tokyo",
}

INT_SETTINGS = (
    "MAX_UPLOAD_MB",
    "SIGNIN_MAX_FAILURES",
    "SIGNIN_WINDOW_MINUTES",
    "SESSION_LIFETIME_HOURS",
    "SESSION_IDLE_MINUTES",
    "SQLITE_BUSY_TIMEOUT_MS",
    "PROXY_COUNT",
)


MIN_SECRET_KEY_BYTES = 32  # production refuses a shorter SECRET_KEY
REQUEST_FILES = 4  # how many maximum-size files one form post may carry


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the settings present in ``environ`` (GRANTS_* and the well-known names)."""
    found: dict[str, Any] = {}
    for key in DEFAULTS:
        if ENV_PREFIX + key in environ:
            found[key] = environ[ENV_PREFIX + key]
        elif key in UNPREFIXED and key in environ:
            found[key] = environ[key]
    return found


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Merge defaults, environment and overrides, fill derived defaults, validate."""
    settings = dict(DEFAULTS)
    settings.update(from_env(os.environ if environ is None else environ))
    extra = dict(overrides or {})
    settings.update(extra)
    for key in INT_SETTINGS:
        try:
            settings[key] = int(settings[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{ENV_PREFIX}{key} must be a whole number") from exc
    settings["ALLOW_SQLITE"] = str(settings["ALLOW_SQLITE"]).lower() in ("1", "true", "yes")
    settings["DATABASE_URL"] = _with_driver(settings["DATABASE_URL"])
    _fill_defaults(settings)
    _validate(settings)
    # One request may carry several files of a step; each file is checked against MAX_UPLOAD_MB
    # with a reason. Only a request larger than this is cut off before the form can be read.
    settings["MAX_CONTENT_LENGTH"] = (settings["MAX_UPLOAD_MB"] * REQUEST_FILES + 1) * 1024 * 1024
    return settings


def _fill_defaults(settings: dict[str, Any]) -> None:
    instance = Path(settings["INSTANCE_DIR"])
    production = settings["ENV"] == "production"
    if not settings["DATABASE_URL"] and not production:
        settings["DATABASE_URL"] = f"sqlite:///{instance / 'grants.sqlite'}"
    if not settings["STORAGE_DIR"]:
        settings["STORAGE_DIR"] = str(instance / "files")
    if not settings["BATCH_DIR"]:
        settings["BATCH_DIR"] = str(instance / "batches")
    if not settings["AUDIT_ANCHOR_FILE"]:
        settings["AUDIT_ANCHOR_FILE"] = str(instance / "audit-anchors.jsonl")
    if not settings["SECRET_KEY"] and not production and not settings.get("TESTING"):
        settings["SECRET_KEY"] = _instance_secret(instance)


def _validate(settings: dict[str, Any]) -> None:
    if settings["ENV"] not in ("development", "production"):
        raise ConfigError("GRANTS_ENV must be 'development' or 'production'")
    if settings["ENV"] == "production":
        if not settings["SECRET_KEY"]:
            raise ConfigError("SECRET_KEY must be set in production (a long random string)")
        if not settings["DATABASE_URL"]:
            raise ConfigError("DATABASE_URL must be set in production (PostgreSQL)")
        _validate_production_secret(str(settings["SECRET_KEY"]))
        if settings["DATABASE_URL"].startswith("sqlite") and not settings["ALLOW_SQLITE"]:
            raise ConfigError(
                "DATABASE_URL is SQLite: production expects PostgreSQL (set GRANTS_ALLOW_SQLITE=1 "
                "to run a single-machine install on SQLite anyway)"
            )
    if not settings["SECRET_KEY"]:
        raise ConfigError("SECRET_KEY is empty")
    if settings["BATCH_RUNNER"] not in ("thread", "request"):
        raise ConfigError("GRANTS_BATCH_RUNNER must be 'thread' or 'request'")
    for key in ("SESSION_LIFETIME_HOURS", "SESSION_IDLE_MINUTES"):
        if settings[key] < 1:
            raise ConfigError(f"{ENV_PREFIX}{key} must be at least 1")
    if settings["DEFAULT_LOCALE"] not in ("ja", "en"):
        raise ConfigError("GRANTS_DEFAULT_LOCALE must be 'ja' or 'en'")


def _validate_production_secret(key: str) -> None:
    """Refuse a short key, or the README's placeholder pasted as it is."""
    hint = '(e.g. python3 -c "import secrets; print(secrets.token_urlsafe(48))")'
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(
            f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes in production {hint}")
    if any(c.isspace() or c in "<>" for c in key):
        raise ConfigError(f"SECRET_KEY looks like placeholder text: use a random string {hint}")


def _with_driver(url: str | None) -> str | None:
    """Accept ``postgres://`` and ``postgresql://`` (as hosting platforms write them)."""
    for prefix in ("postgres://", "postgresql://"):
        if url and url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(instance: Path) -> str:
    """Generate the embedded default's secret key once and keep it, so sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Write a private temporary file, then link it into place: link fails if another worker
    # won the race, and a reader never sees a half-written key.
    fd, tmp = tempfile.mkstemp(dir=instance, prefix=".secret_key.")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key)
        os.link(tmp, path)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    finally:
        os.unlink(tmp)
    return key
