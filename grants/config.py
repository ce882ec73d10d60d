"""Every setting in one table: embedded defaults < environment < explicit overrides.

Nothing else in the package reads ``os.environ``. The embedded default (no environment at all)
is a single-machine install: SQLite and files under ``instance/``, jobs run inline.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from grants import smtp, storage_s3

PACKAGE_ROOT = Path(__file__).resolve().parent  # templates, static, migrations, examples
PROJECT_ROOT = PACKAGE_ROOT.parent  # a checkout; an installed package has none to speak of
# A checkout keeps its data in its own instance/ folder (`make run`); an installed package has
# no such place: development uses ./instance, production requires GRANTS_INSTANCE_DIR.
CHECKOUT_INSTANCE = (PROJECT_ROOT / "instance") if (PROJECT_ROOT / "setup.cfg").is_file() else None

ENV_PREFIX = "GRANTS_"
# Well-known names also read without the prefix, as hosting platforms set them.
UNPREFIXED = ("DATABASE_URL", "SECRET_KEY", "REDIS_URL")

DEFAULTS: dict[str, Any] = {
    "ENV": "development",  # "production" refuses to start without SECRET_KEY and DATABASE_URL
    "INSTANCE_DIR": str(CHECKOUT_INSTANCE) if CHECKOUT_INSTANCE else None,
    "DATABASE_URL": None,  # default: sqlite:///<INSTANCE_DIR>/grants.sqlite
    "ALLOW_SQLITE": False,  # production refuses SQLite unless this is set (a one-machine install)
    "STORAGE_DIR": None,  # default: <INSTANCE_DIR>/files
    "STORAGE_URL": None,  # s3://bucket/prefix: files and batches in S3 (grants.storage_s3)
    "S3_ENDPOINT_URL": None,  # an S3-compatible server other than AWS (MinIO, Ceph, ...)
    "S3_REGION": None,  # default: boto3's (AWS_DEFAULT_REGION, ~/.aws/config)
    "S3_ADDRESSING_STYLE": "auto",  # "path" for MinIO and servers without bucket host names
    "PROGRAMS_DIR": str(PACKAGE_ROOT / "programs"),
    "RUBRICS_DIR": str(PACKAGE_ROOT / "rubrics"),
    "SECRET_KEY": None,  # default (development only): generated once into <INSTANCE_DIR>/secret_key
    "REDIS_URL": None,  # set: background jobs (batch downloads) go to RQ workers; unset: inline
    "RQ_QUEUE": None,  # default: "grants-<database name>", so installations sharing a Redis
    # never take each other's jobs (`flask grants worker` listens on exactly this queue)
    "BATCH_DIR": None,  # default: <INSTANCE_DIR>/batches (shared with the RQ workers)
    "BATCH_RUNNER": "thread",  # without REDIS_URL: "thread" (in the background) or "request"
    "BATCH_RETENTION_DAYS": 30,  # `batches prune` deletes ZIPs and PDFs older than this
    "BATCH_DEADLINE_HOURS": 12,  # a batch unfinished this long after its request was lost (twice
    # the longest job's timeout, grants.jobs.JOB_TIMEOUT_SECONDS): `batches prune` fails it
    "SMTP_URL": None,  # smtp:// (plain), smtp+starttls://, smtps:// (grants.smtp); None: outbox
    "SMTP_CA_FILE": None,  # a private CA's certificates, trusted instead of the system's for SMTP
    "SITE_URL": None,  # the address people open, for links in e-mail; required in production
    "LOG_FORMAT": None,  # "json" (default in production) or "text" (default in development)
    "MAIL_FROM": "grants@localhost",
    "MAX_UPLOAD_MB": 20,
    "SIGNIN_MAX_FAILURES": 5,  # per account and per address, within SIGNIN_WINDOW_MINUTES
    "SIGNIN_WINDOW_MINUTES": 15,
    "SESSION_LIFETIME_HOURS": 12,  # a sign-in lasts at most this long, active or not
    "SESSION_IDLE_MINUTES": 120,  # and ends earlier after this long without a request
    "AUDIT_ANCHOR_FILE": None,  # default: <INSTANCE_DIR>/audit-anchors.jsonl (copy it elsewhere)
    "SQLITE_BUSY_TIMEOUT_MS": 15000,
    "RENDERER_POOL": 2,  # warm PDF renderers per process, started as renders need them (an RQ
    # worker or the CLI, rendering one at a time, starts one); 0: a fresh renderer per document
    "RENDERER_MAX_JOBS": 50,  # documents per warm renderer before a fresh one replaces it
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
    "BATCH_RETENTION_DAYS",
    "BATCH_DEADLINE_HOURS",
    "RENDERER_POOL",
    "RENDERER_MAX_JOBS",
)


DEVELOPMENT_SITE_URL = "http://127.0.0.1:5000"  # where `make run` serves
SITE_URL_EXAMPLE = "(the address people open, e.g. https://grants.example.jp)"
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
    production = settings["ENV"] == "production"
    if not settings["INSTANCE_DIR"]:
        if production:
            raise ConfigError("GRANTS_INSTANCE_DIR must be set in production (uploaded files, "
                              "batches and audit anchors live there, e.g. /var/lib/grants)")
        settings["INSTANCE_DIR"] = str(Path.cwd() / "instance")
    instance = Path(settings["INSTANCE_DIR"])
    if not settings["DATABASE_URL"] and not production:
        settings["DATABASE_URL"] = f"sqlite:///{instance / 'grants.sqlite'}"
    if not settings["STORAGE_DIR"]:
        settings["STORAGE_DIR"] = str(instance / "files")
    if not settings["BATCH_DIR"]:
        settings["BATCH_DIR"] = str(instance / "batches")
    if not settings["AUDIT_ANCHOR_FILE"]:
        settings["AUDIT_ANCHOR_FILE"] = str(instance / "audit-anchors.jsonl")
    if not settings["RQ_QUEUE"]:
        settings["RQ_QUEUE"] = queue_for(settings["DATABASE_URL"])
    if not settings["SECRET_KEY"] and not production and not settings.get("TESTING"):
        settings["SECRET_KEY"] = _instance_secret(instance)
    if not settings["SITE_URL"] and not production:
        settings["SITE_URL"] = DEVELOPMENT_SITE_URL
    if not settings["LOG_FORMAT"]:
        settings["LOG_FORMAT"] = "json" if production else "text"


def _validate(settings: dict[str, Any]) -> None:
    if settings["ENV"] not in ("development", "production"):
        raise ConfigError("GRANTS_ENV must be 'development' or 'production'")
    if settings["ENV"] == "production" and (refusals := production_refusals(settings)):
        raise ConfigError(refusals[0])
    if not settings["SECRET_KEY"]:
        raise ConfigError("SECRET_KEY is empty")
    if settings["BATCH_RUNNER"] not in ("thread", "request"):
        raise ConfigError("GRANTS_BATCH_RUNNER must be 'thread' or 'request'")
    for key in ("SESSION_LIFETIME_HOURS", "SESSION_IDLE_MINUTES", "BATCH_RETENTION_DAYS",
                "BATCH_DEADLINE_HOURS", "RENDERER_MAX_JOBS"):
        if settings[key] < 1:
            raise ConfigError(f"{ENV_PREFIX}{key} must be at least 1")
    if settings["RENDERER_POOL"] < 0:
        raise ConfigError("GRANTS_RENDERER_POOL must be 0 (no warm renderers) or more")
    if settings["DEFAULT_LOCALE"] not in ("ja", "en"):
        raise ConfigError("GRANTS_DEFAULT_LOCALE must be 'ja' or 'en'")
    if settings["LOG_FORMAT"] not in ("json", "text"):
        raise ConfigError("GRANTS_LOG_FORMAT must be 'json' or 'text'")
    settings["SITE_URL"] = _site_url(settings["SITE_URL"])
    _validate_smtp(settings)
    _validate_storage(settings)


def _site_url(url: str) -> str:
    """The site's address without a trailing slash: e-mail links are built on it, never on a
    request's Host header (workers and commands have no request, and a header can lie)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"GRANTS_SITE_URL must be an http(s):// address {SITE_URL_EXAMPLE}")
    return url.strip().rstrip("/")


def _validate_smtp(settings: dict[str, Any]) -> None:
    ca_file = settings["SMTP_CA_FILE"]
    if settings["SMTP_URL"]:
        try:
            server = smtp.parse_smtp_url(settings["SMTP_URL"])
        except smtp.SmtpUrlError as exc:
            raise ConfigError(f"GRANTS_SMTP_URL {exc}") from None  # no traceback: it has the URL
        if ca_file and server.security is smtp.Security.PLAIN:
            raise ConfigError("GRANTS_SMTP_CA_FILE is set but GRANTS_SMTP_URL uses no TLS "
                              "(smtp+starttls:// or smtps://)")
    if ca_file:
        try:
            smtp.tls_context(ca_file)
        except OSError as exc:  # missing, unreadable, or no PEM certificate in it (SSLError)
            raise ConfigError(f"GRANTS_SMTP_CA_FILE cannot be used: {ca_file}: "
                              f"{exc.strerror or exc}") from exc


def _validate_storage(settings: dict[str, Any]) -> None:
    settings["STORAGE_URL"] = str(settings["STORAGE_URL"] or "").strip() or None
    if settings["STORAGE_URL"]:
        try:
            storage_s3.check_settings(settings)
        except storage_s3.StorageSettingError as exc:
            raise ConfigError(str(exc)) from None  # one line: the message names the setting


def production_refusals(settings: Mapping[str, Any]) -> list[str]:
    """What production refuses to start with in these settings, most basic first (the app stops
    at the first; ``grants doctor`` lists them all, in development too)."""
    refusals = []
    if not settings["SECRET_KEY"]:
        refusals.append("SECRET_KEY must be set in production (a long random string)")
    if not settings["DATABASE_URL"]:
        refusals.append("DATABASE_URL must be set in production (PostgreSQL)")
    if settings["SECRET_KEY"]:
        refusals.extend(_secret_refusals(str(settings["SECRET_KEY"])))
    if str(settings["DATABASE_URL"] or "").startswith("sqlite") and not settings["ALLOW_SQLITE"]:
        refusals.append(
            "DATABASE_URL is SQLite: production expects PostgreSQL (set GRANTS_ALLOW_SQLITE=1 "
            "to run a single-machine install on SQLite anyway)")
    if not str(settings.get("SITE_URL") or "").strip().lower().startswith("https://"):
        refusals.append(f"GRANTS_SITE_URL must be set to an https:// address in production "
                        f"{SITE_URL_EXAMPLE}")
    return refusals


def _secret_refusals(key: str) -> list[str]:
    """A short key, or the README's placeholder pasted as it is."""
    hint = '(e.g. python3 -c "import secrets; print(secrets.token_urlsafe(48))")'
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        return [f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes in production {hint}"]
    if any(c.isspace() or c in "<>" for c in key):
        return [f"SECRET_KEY looks like placeholder text: use a random string {hint}"]
    return []


def queue_for(database_url: str | None) -> str:
    """The default RQ queue: "grants-" and the database's name (a SQLite file's stem).

    Two installations on one Redis then listen on different queues, as long as their
    databases are named differently (otherwise set GRANTS_RQ_QUEUE for one of them).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not database_url:
        return "grants"
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise ConfigError("DATABASE_URL is not a database URL (e.g. "
                          "postgresql+psycopg://user:password@host/dbname)") from exc
    database = url.database or ""
    if url.get_backend_name() == "sqlite":
        database = Path(database).stem
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", database).strip("-")
    return f"grants-{name}" if name else "grants"


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
