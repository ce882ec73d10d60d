"""``doctor``: pre-flight checks of an installation, one line per finding.

Each finding is ``ok``, ``warn`` or ``FAIL`` with what was checked and, when something is
wrong, what to do about it; the command exits 1 when any check failed, so it fits a deployment
script or a monitoring probe. It reads settings and asks the services (database, Redis, SMTP,
the S3 bucket) without changing them: nothing is sent, queued or migrated, and no secret is
printed. Only a test file is written to each folder or bucket, and removed.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from flask import current_app

from grants import jobs, smtp
from grants.cli import grants_cli, require_initialized
from grants.config import PACKAGE_ROOT, production_refusals
from grants.filemodes import PRIVATE_DIR, PRIVATE_FILE
from grants.rendering.errors import MissingJapaneseFont
from grants.rendering.fonts import INSTALL, require_japanese_font
from grants.storage import Folder, stores_from
from grants.version import installed_version, migration_head

OK, WARN, FAIL = "ok", "warn", "FAIL"
NETWORK_TIMEOUT_SECONDS = 5  # Redis and SMTP: a firewall that drops packets must not hang
MIN_SECRET_KEY_CHARACTERS = 10  # distinct characters: "aaaa…" or "1234…" is no secret
PDF_FONT = "Noto Sans CJK JP"  # the print stylesheet's first choice (grants.rendering.stylesheet)
FILES_SAMPLED = 1000  # files checked for their mode in each folder (storage may hold millions)
TRANSLATIONS = PACKAGE_ROOT / "translations"


@dataclass(frozen=True)
class Finding:
    level: str
    topic: str
    message: str

    def line(self) -> str:
        return f"{self.level:<4} {self.topic}: {self.message}"


Check = Callable[[Any], Iterable[Finding]]


@grants_cli.command("doctor")
def doctor_command() -> None:
    """Check settings, database, folders, fonts, translations, Redis and workers, and SMTP.

    Prints one line per finding (ok, warn or FAIL) and exits 1 if anything FAILed. Changes
    nothing: safe to run on a live installation.
    """
    failed = False
    for check in CHECKS:
        for finding in _safely(check, current_app.config):
            failed = failed or finding.level == FAIL
            click.echo(finding.line())
    if failed:
        raise SystemExit(1)


def _safely(check: Check, config: Any) -> Iterator[Finding]:
    """The check's findings; a check that breaks is one more finding, never a traceback."""
    try:
        yield from check(config)
    except Exception as error:  # reported, and the other checks still run
        yield Finding(FAIL, check.__name__.strip("_"), f"could not be checked: {error}")


# --- settings --------------------------------------------------------------------------------


def _settings(config: Any) -> Iterator[Finding]:
    yield Finding(OK, "version", f"Grants {installed_version()}, migrations up to "
                                 f"{migration_head()}")
    production = config["ENV"] == "production"
    if production:
        yield Finding(OK, "settings", "production: Secure cookies over HTTPS only, HSTS, demo "
                                      "commands refused")
    else:
        yield Finding(WARN, "settings", "GRANTS_ENV is development: set GRANTS_ENV=production on "
                                        "a server others reach")
        for refusal in production_refusals(config):
            yield Finding(WARN, "settings", f"production would refuse this: {refusal}")
    yield _secret_key(config, production)
    if production and config["DATABASE_URL"].startswith("sqlite"):
        yield Finding(WARN, "settings", "SQLite allowed by GRANTS_ALLOW_SQLITE: one machine, one "
                                        "web server only")
    if production and not config["PROXY_COUNT"]:
        yield Finding(WARN, "proxy", "GRANTS_PROXY_COUNT is 0: behind a TLS proxy set it to the "
                                     "number of proxies (1 behind one nginx), or HTTPS requests "
                                     "look like plain HTTP and are refused")


def _secret_key(config: Any, production: bool) -> Finding:
    """How strong SECRET_KEY is, without printing any of it."""
    key = str(config["SECRET_KEY"])
    size, variety = len(key.encode()), len(set(key))
    if variety < MIN_SECRET_KEY_CHARACTERS:
        return Finding(FAIL if production else WARN, "secret key",
                       f"{size} bytes but only {variety} different characters: use a random "
                       f'string (python3 -c "import secrets; print(secrets.token_urlsafe(48))")')
    return Finding(OK, "secret key", f"{size} bytes, {variety} different characters")


# --- database --------------------------------------------------------------------------------


def _database(_config: Any) -> Iterator[Finding]:
    with current_app.extensions["grants.sessionmaker"]() as session:
        try:
            require_initialized(session)
        except click.ClickException as refused:
            yield Finding(FAIL, "database", refused.message)
            return
        dialect = session.get_bind().dialect
    number = (sqlite3.sqlite_version if dialect.name == "sqlite"
              else ".".join(map(str, dialect.server_version_info or ())))
    server = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(dialect.name, dialect.name)
    yield Finding(OK, "database", f"{server} {number}, schema at head {migration_head()}")


# --- folders ---------------------------------------------------------------------------------


def _folders(config: Any) -> Iterator[Finding]:
    yield _folder("instance", Path(config["INSTANCE_DIR"]))
    if not config["STORAGE_URL"]:
        for topic, key in (("storage", "STORAGE_DIR"), ("batches", "BATCH_DIR")):
            yield _folder(topic, Path(config[key]))
        return
    stores = stores_from(config)
    yield _bucket("storage", stores.files.folder)
    yield _bucket("batches", stores.batches)


def _bucket(topic: str, folder: Folder) -> Finding:
    """The bucket answers, and takes a file: written, read back and removed."""
    name, probe = f".doctor-{uuid.uuid4().hex}", b"grants doctor"
    try:
        folder.write(name, probe)
        back = folder.read(name)
        folder.remove(name)
    except OSError as error:
        return Finding(FAIL, topic, f"{folder} cannot be used: {error}")
    if back != probe:
        return Finding(FAIL, topic, f"{folder} gave back other bytes than were written")
    return Finding(OK, topic, f"{folder} is reachable and writable (a test file written, read "
                              "back and removed)")


def _folder(topic: str, path: Path) -> Finding:
    """Exists (or can be made), is writable, and is the app's alone (0700, files 0600)."""
    if not path.exists():
        parent = next(p for p in path.parents if p.exists())
        problem = _unwritable(parent)
        if problem:
            return Finding(FAIL, topic, f"{path} does not exist and cannot be made: {parent} is "
                                        f"not writable ({problem})")
        return Finding(WARN, topic, f"{path} does not exist yet; it is made (0700) when first "
                                    "needed")
    if not path.is_dir():
        return Finding(FAIL, topic, f"{path} is not a folder")
    problem = _unwritable(path)
    if problem:
        return Finding(FAIL, topic, f"{path} is not writable ({problem})")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Finding(FAIL, topic, f"{path} is open to other accounts (mode {mode:04o}): "
                                    f"chmod {PRIVATE_DIR:o} {path}")
    loose = [file for file in _sample_files(path) if stat.S_IMODE(file.stat().st_mode) & 0o077]
    if loose:
        return Finding(FAIL, topic, f"{len(loose)} file(s) in {path} are open to other accounts, "
                                    f"e.g. {loose[0]}: chmod {PRIVATE_FILE:o} them")
    return Finding(OK, topic, f"{path} is writable and private ({PRIVATE_DIR:04o})")


def _unwritable(folder: Path) -> str | None:
    """Why a file cannot be made in ``folder`` (tried, then removed); None when it can."""
    try:
        handle, name = tempfile.mkstemp(dir=folder, prefix=".doctor-")
    except OSError as error:
        return error.strerror or str(error)
    os.close(handle)
    os.unlink(name)
    return None


def _sample_files(folder: Path) -> Iterator[Path]:
    """Up to FILES_SAMPLED regular files under ``folder`` (not following links)."""
    seen = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                yield path
                seen += 1
                if seen >= FILES_SAMPLED:
                    return


# --- PDF: renderer and fonts -----------------------------------------------------------------


def _pdf(_config: Any) -> Iterator[Finding]:
    try:
        import weasyprint
    except (ImportError, OSError) as error:
        yield Finding(FAIL, "pdf", f"WeasyPrint cannot load ({error}): install the packages of "
                                   "scripts/install-system-deps.sh")
        return
    yield Finding(OK, "pdf", f"WeasyPrint {weasyprint.__version__}")
    try:
        families = require_japanese_font()
    except MissingJapaneseFont as missing:
        yield Finding(FAIL, "fonts", str(missing))
        return
    if any(PDF_FONT in family.split(",") for family in families):
        yield Finding(OK, "fonts", f"{PDF_FONT} for Japanese ({len(families)} font families "
                                   "cover Japanese)")
    else:
        yield Finding(WARN, "fonts", f"Japanese falls back to {families[0]}: the PDFs ask for "
                                     f"{PDF_FONT} ({INSTALL})")


# --- translations ----------------------------------------------------------------------------


def _translations(_config: Any) -> Iterator[Finding]:
    from babel.messages.pofile import read_po
    from babel.support import Translations

    catalogs = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    if not catalogs:
        yield Finding(FAIL, "translations", f"no catalog in {TRANSLATIONS}")
    for po_file in catalogs:
        locale, compiled = po_file.parents[1].name, po_file.with_suffix(".mo")
        if not compiled.is_file():
            yield Finding(FAIL, "translations", f"{locale}: {compiled} is missing, so every page "
                          f"shows English: run pybabel compile -d {TRANSLATIONS}")
            continue
        with po_file.open("rb") as handle:
            written = sum(1 for message in read_po(handle)
                          if message.id and message.string and not message.fuzzy)
        with compiled.open("rb") as handle:
            loaded = len([key for key in Translations(handle)._catalog if key])
        if loaded < written:
            yield Finding(WARN, "translations", f"{locale}: {compiled.name} holds {loaded} of the "
                          f"{written} translations in {po_file.name}: run pybabel compile -d "
                          f"{TRANSLATIONS}")
        else:
            yield Finding(OK, "translations", f"{locale}: {loaded} messages compiled")


# --- Redis and workers -----------------------------------------------------------------------


def _redis(config: Any) -> Iterator[Finding]:
    if not config["REDIS_URL"]:
        yield Finding(OK, "jobs", "REDIS_URL is not set: the web process builds batches itself "
                                  f"(GRANTS_BATCH_RUNNER={config['BATCH_RUNNER']})")
        return
    from redis.exceptions import RedisError
    from rq import Worker

    rq_queue = jobs.queue(config, socket_connect_timeout=NETWORK_TIMEOUT_SECONDS,
                          socket_timeout=NETWORK_TIMEOUT_SECONDS)
    where = _redis_address(rq_queue.connection)
    try:
        server = rq_queue.connection.info("server")["redis_version"]
        waiting = len(rq_queue)
        workers = Worker.all(queue=rq_queue)
        versions = {worker.name: jobs.worker_version(worker) for worker in workers}
    except (RedisError, OSError) as error:
        yield Finding(FAIL, "redis", f"cannot reach {where}: {error}")
        return
    finally:
        rq_queue.connection.close()
    yield Finding(OK, "redis", f"{where} answers (Redis {server}); queue {rq_queue.name}: "
                               f"{waiting} job(s) waiting")
    yield from _workers(rq_queue.name, workers, versions)


def _workers(queue_name: str, workers: list[Any],
             versions: dict[str, str | None]) -> Iterator[Finding]:
    mine = installed_version()
    if not workers:
        yield Finding(FAIL, "workers", f"no worker listens on queue {queue_name}: batches wait "
                                       "for ever; start `flask --app wsgi grants worker`")
        return
    for worker in workers:
        theirs = versions[worker.name]
        where = f"{worker.hostname} pid {worker.pid}"
        if theirs is None:
            yield Finding(WARN, "workers", f"the worker on {where} does not say its version "
                                           "(started with `rq worker`?): start it with `flask "
                                           "--app wsgi grants worker`")
        elif theirs != mine:
            yield Finding(FAIL, "workers", f"the worker on {where} runs Grants {theirs}, this "
                                           f"install is {mine}: restart the workers")
    same = sum(1 for worker in workers if versions[worker.name] == mine)
    if same:
        yield Finding(OK, "workers", f"{same} worker(s) on queue {queue_name} run Grants {mine}")


def _redis_address(connection: Any) -> str:
    """Where Redis is, without the password the URL may hold."""
    options = connection.connection_pool.connection_kwargs
    if options.get("path"):
        return f"{options['path']} (database {options.get('db', 0)})"
    return f"{options.get('host')}:{options.get('port')} (database {options.get('db', 0)})"


# --- SMTP ------------------------------------------------------------------------------------


def _smtp(config: Any) -> Iterator[Finding]:
    if not config["SMTP_URL"]:
        level = WARN if config["ENV"] == "production" else OK
        yield Finding(level, "smtp", "GRANTS_SMTP_URL is not set: e-mail stays in the outbox "
                                     "(/manage/outbox); nobody receives it")
        return
    server = smtp.parse_smtp_url(config["SMTP_URL"])  # valid: the settings checked it
    try:
        client = smtp.connect(server, ca_file=config.get("SMTP_CA_FILE"),
                              timeout=NETWORK_TIMEOUT_SECONDS)
        try:
            code, _greeting = client.ehlo()
        finally:
            client.close()
    except (smtp.SmtpSetupError, OSError, smtp.smtplib.SMTPException) as error:
        yield Finding(FAIL, "smtp", f"{server}: {error or type(error).__name__}")
        return
    signed_in = f", signed in as {server.username}" if server.username else ""
    yield Finding(OK if code == 250 else FAIL, "smtp",
                  f"{server} answers EHLO with {code}{signed_in}; nothing was sent")


CHECKS: tuple[Check, ...] = (_settings, _database, _folders, _pdf, _translations, _redis, _smtp)
