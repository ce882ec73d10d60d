#!/usr/bin/env python3
"""Install Grants the way an operator does, outside this checkout, and prove that it works.

    scripts/production_check.py install DIR        build the wheel, install it in DIR/venv
    scripts/production_check.py wheel [--venv DIR] the installed wheel: web, CLI and workers
    scripts/production_check.py drill [--venv DIR] docs/deployment.md, command by command

``install`` copies the checkout without its build output (no compiled translations: the wheel's
build step must make them), builds the wheel with ``pip wheel`` and installs it with its
``postgres`` and ``serve`` extras into a fresh virtualenv (from the package index).

``wheel`` runs from a scratch directory in development mode: ``version``, ``migrate``, ``load``
(the example programs and rubrics shipped in the package), ``demo``; gunicorn serves a Japanese
page; an auditor asks for a batch of records that a real RQ worker (``grants worker``) builds;
``record`` writes a PDF in Japanese.

``drill`` follows docs/deployment.md in production mode: a role and a database it owns, the
settings file deploy/grants.env edited as the guide says (and refused as shipped), every
command through deploy/grants, `systemd-analyze verify` on the units of deploy/ (when
installed), gunicorn and a worker started with their units' commands, /healthz and a Japanese
page on loopback (and through deploy/nginx.conf with TLS when nginx and openssl are installed),
a batch, ``doctor``, the timers' commands, deploy/grants-backup, then the restore drill into a
second database and folder: ``audit verify`` against the restored anchors, ``sha256sum`` over
the restored files, and the same batch downloaded from the copy.

Both need TEST_DATABASE_URL (a PostgreSQL superuser's URL: only its server is used; databases
and roles named grants_check_<random> are made and dropped) and TEST_REDIS_URL (jobs go to a
queue of their own). Every command runs with an environment stripped of Grants settings and
from a directory outside the checkout, so only the installed package is importable. This file
needs the standard library only: its ``inside`` steps run again under the install's python.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import getpass
import hashlib
import io
import os
import re
import secrets
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNIT_PREFIX = "/opt/grants/venv/bin/"  # where the units in deploy/ expect the virtualenv
BUILD_OUTPUT = (".git", ".venv", "*.mo", "instance", "build", "dist", "__pycache__",
                "*.egg-info", ".pytest_cache", ".ruff_cache", ".hypothesis", "bench-results")
SETTINGS_NAMES = ("DATABASE_URL", "SECRET_KEY", "REDIS_URL", "PYTHONPATH", "VIRTUAL_ENV")
JAPANESE_PAGE = ("公募", 'lang="ja"')  # the calls page's title, in Japanese
RECORD_TITLE = "監査用記録"  # "Audit record", as the Japanese catalog says
AUDITOR = ("auditor@example.jp", "auditor-demo")  # a demo account (development only)
BATCH_SEARCH = {"organization": "デモ地域情報センター"}  # a demo applicant: some funded records
ADMIN = ("admin@example.jp", "管理者")
FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}  # as nginx sends
REFERER = {"Referer": "https://localhost/"}  # over HTTPS, Flask-WTF checks it as browsers send it
WRAPPER_SETTINGS = "GRANTS_SETTINGS_FILE"  # deploy/grants reads the settings from this file
STEP_TIMEOUT = 300
BATCH_SECONDS = 240  # the demo's funded records, rendered by one worker


class CheckFailed(RuntimeError):
    """A step did not do what the guide says; the message says which and shows its output."""


def say(message: str) -> None:
    print(message, flush=True)


def run(args: list[str], *, env: dict[str, str], cwd: Path, check: bool = True,
        timeout: float = STEP_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run one command as an operator types it; stop with its output when it fails."""
    started = time.monotonic()
    result = subprocess.run([str(a) for a in args], env=env, cwd=cwd, capture_output=True,
                            text=True, timeout=timeout, check=False)
    say(f"$ {shlex.join(str(a) for a in args)}  ({time.monotonic() - started:.1f} s)")
    if check and result.returncode != 0:
        raise CheckFailed(f"exit {result.returncode}: {shlex.join(str(a) for a in args)}\n"
                          f"{result.stdout}{result.stderr}")
    return result


def _csv_rows(zipped: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    """The rows of a CSV in the ZIP; none when the ZIP has no such file (letters.csv is
    written only when some record has a letter)."""
    if name not in zipped.namelist():
        return []
    return list(csv.DictReader(io.StringIO(zipped.read(name).decode("utf-8-sig"))))


def expect(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# --- the install ---------------------------------------------------------------------------------


def install(work: Path) -> Path:
    """Build the wheel from a clean copy of the checkout and install it in work/venv."""
    source, dist, venv = work / "source", work / "dist", work / "venv"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*BUILD_OUTPUT), symlinks=True)
    env = clean_environment()
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", dist,
         source], env=env, cwd=work)
    wheel = next(dist.glob("grants-*.whl"))
    check_wheel_contents(wheel)
    run([sys.executable, "-m", "venv", venv], env=env, cwd=work)
    run([venv / "bin" / "pip", "install", "--quiet", f"{wheel}[postgres,serve]"], env=env,
        cwd=work, timeout=900)
    return venv


def check_wheel_contents(wheel: Path) -> None:
    """Everything the web app, the CLI and the workers read from the package is in the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    package = ROOT / "grants"
    needed = {f"grants/{p.relative_to(package)}" for pattern in (
        "templates/**/*.html", "templates/**/*.txt", "static/*", "migrations/versions/*.py",
        "programs/*.yaml", "rubrics/*.yaml", "data/*.csv", "translations/*/LC_MESSAGES/*.po")
        for p in package.glob(pattern)}
    needed |= {str(Path(p).with_suffix(".mo")) for p in needed if p.endswith(".po")}
    missing = sorted(needed - names)
    expect(not missing, f"the wheel lacks {len(missing)} file(s): {missing[:10]}")
    say(f"wheel: {wheel.name} carries the {len(needed)} templates, static files, migrations, "
        "programs, rubrics, data files and compiled translations")


def clean_environment(venv: Path | None = None) -> dict[str, str]:
    """The environment without any Grants setting; the virtualenv's bin/ first, as activated."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GRANTS_", "FLASK_", "TEST_")) and k not in SETTINGS_NAMES}
    env.update(PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONDONTWRITEBYTECODE="1")
    if venv is not None:
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


# --- PostgreSQL and Redis ------------------------------------------------------------------------


class Postgres:
    """The server named by TEST_DATABASE_URL; the databases and roles made here are dropped."""

    def __init__(self, url: str) -> None:
        self.admin = url.replace("+psycopg", "", 1)  # libpq's tools read plain postgresql://
        self.databases: list[str] = []
        self.roles: list[str] = []

    def url(self, database: str, role: str | None = None, password: str | None = None) -> str:
        parts = urllib.parse.urlsplit(self.admin)
        user = f"{role}:{urllib.parse.quote(password or '', safe='')}@" if role else (
            parts.netloc.rpartition("@")[0] + "@" if "@" in parts.netloc else "")
        host = parts.netloc.rpartition("@")[2]
        return urllib.parse.urlunsplit((parts.scheme, user + host, "/" + database, "", ""))

    def psql(self, sql: str, env: dict[str, str], cwd: Path, check: bool = True) -> None:
        run(["psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--quiet", self.admin, "-c", sql],
            env=env, cwd=cwd, check=check)

    def create_role(self, role: str, password: str, env: dict[str, str], cwd: Path) -> None:
        self.psql(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'", env, cwd)
        self.roles.append(role)

    def create_database(self, name: str, owner: str | None, env: dict[str, str],
                        cwd: Path) -> None:
        owner_args = ["--owner", owner] if owner else []
        run(["createdb", "--maintenance-db", self.admin, *owner_args, "--encoding", "UTF8",
             "--template", "template0", name], env=env, cwd=cwd)
        self.databases.append(name)

    def drop_everything(self, env: dict[str, str], cwd: Path) -> None:
        for name in reversed(self.databases):
            run(["dropdb", "--maintenance-db", self.admin, "--if-exists", "--force", name],
                env=env, cwd=cwd, check=False)
        for role in reversed(self.roles):
            self.psql(f"DROP ROLE IF EXISTS {role}", env, cwd, check=False)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- processes and HTTP --------------------------------------------------------------------------


@contextlib.contextmanager
def background(args: list[str], *, env: dict[str, str], cwd: Path, log: Path,
               url: str | None = None) -> Iterator[None]:
    """Run a server or a worker until the block ends (first waiting until ``url`` answers);
    a step failing meanwhile shows what the process logged."""
    say("$ " + shlex.join(args) + " &")
    with log.open("w") as output:
        process = subprocess.Popen(args, env={**env, "PYTHONUNBUFFERED": "1"}, cwd=cwd,
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while url:
            with contextlib.suppress(OSError):
                http_get(url)  # any answer, an error status included
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise CheckFailed(f"{args[0]} did not answer {url}")
            time.sleep(0.3)
        yield
    except CheckFailed as failure:
        raise CheckFailed(f"{failure}\n--- {Path(args[0]).name} logged:\n{log.read_text()}") \
            from None
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect is an answer to check, not to follow


def http_get(url: str, headers: dict[str, str] | None = None,
             context: ssl.SSLContext | None = None) -> tuple[int, Message, bytes]:
    """One GET, redirects not followed; the status, headers and body whatever the status."""
    opener = urllib.request.build_opener(_NoRedirects, urllib.request.HTTPSHandler(
        context=context))
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=60) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def check_site(base: str, version: str, headers: dict[str, str],
               context: ssl.SSLContext | None = None) -> str:
    """/healthz (plain and JSON) and the calls page in Japanese; returns the stylesheet's URL."""
    status, _, body = http_get(f"{base}/healthz", headers, context)
    expect((status, body) == (200, b"ok\n"), f"/healthz answered {status} {body[:200]!r}")
    status, _, body = http_get(f"{base}/healthz", {**headers, "Accept": "application/json"},
                               context)
    expect(status == 200 and f'"version":"{version}"' in body.decode().replace(" ", ""),
           f"/healthz (JSON) answered {status} {body[:300]!r}, not version {version}")
    status, _, body = http_get(f"{base}/", headers, context)
    page = body.decode()
    expect(status == 200 and all(text in page for text in JAPANESE_PAGE),
           f"the calls page is not in Japanese ({status}):\n{page[:1500]}")
    stylesheet = re.search(r'href="(/static/grants\.css\?v=[0-9a-f]+)"', page)
    expect(stylesheet, "the page links no versioned stylesheet")
    say(f"web: {base} answers /healthz (version {version}) and the calls page in Japanese")
    return stylesheet[1]  # type: ignore[index]


# --- the steps both checks share -----------------------------------------------------------------


class Install:
    """The installed virtualenv and the environment its commands run with."""

    def __init__(self, venv: Path, work: Path, *, doctor: bool = False) -> None:
        self.venv, self.work, self.doctor = venv, work, doctor
        self.bin = venv / "bin"

    def flask(self, *args: str, env: dict[str, str], cwd: Path,
              check: bool = True) -> subprocess.CompletedProcess[str]:
        """`flask grants ...`; in the drill through deploy/grants, which must read the
        settings file itself (they are taken out of its environment)."""
        if WRAPPER_SETTINGS in env:
            own = settings_file(Path(env[WRAPPER_SETTINGS]))
            return run([DEPLOY / "grants", *args], cwd=cwd, check=check,
                       env={k: v for k, v in env.items() if k not in own})
        return run([self.bin / "flask", "--app", "grants.wsgi", "grants", *args], env=env,
                   cwd=cwd, check=check)

    def inside(self, *args: str, env: dict[str, str], cwd: Path) -> str:
        """Run one of this file's ``inside`` steps under the install's python."""
        return run([self.bin / "python", __file__, "inside", *args], env=env, cwd=cwd).stdout

    def version(self, env: dict[str, str], cwd: Path) -> str:
        line = self.flask("version", env=env, cwd=cwd).stdout.strip()
        found = re.fullmatch(r"grants (\S+), migration head (\w+)", line)
        expect(found, f"`grants version` printed {line!r}")
        say(f"version: {line}")
        return found[1]  # type: ignore[index]

    def unit_command(self, unit: str, **replace: str) -> list[str]:
        """A unit's ExecStart, from this virtualenv (the settings come from the environment)."""
        line = next(line for line in (DEPLOY / unit).read_text().splitlines()
                    if line.startswith("ExecStart="))
        command = line.removeprefix("ExecStart=")
        expect("$" not in command and "%" not in command, f"{unit}: expand {command} here")
        for old, new in replace.items():
            command = command.replace(old, new)
        args = shlex.split(command)
        expect(args[0].startswith(UNIT_PREFIX), f"{unit} does not run from {UNIT_PREFIX}")
        return [str(self.bin / args[0].removeprefix(UNIT_PREFIX)), *args[1:]]

    def batch(self, worker: list[str], *, env: dict[str, str], cwd: Path) -> tuple[str, list[str]]:
        """An auditor asks for every funded record as one ZIP; a real RQ worker builds it,
        and the auditor downloads it once the batch page stops refreshing. Returns the batch
        page's path and the references in the ZIP."""
        with background(worker, env=env, cwd=cwd, log=self.work / "worker.log"):
            path = self.inside("request-batch", env=env, cwd=cwd).strip()
            references = self.download(path, env=env, cwd=cwd)
            if self.doctor:
                findings = self.flask("doctor", env=env, cwd=cwd).stdout
                say("doctor (a worker running):\n" + findings.rstrip())
        say(f"batch: the worker built {len(references)} records; each matches manifest.csv")
        return path, references

    def download(self, path: str, *, env: dict[str, str], cwd: Path) -> list[str]:
        """The auditor downloads the batch's ZIP: every record in it matches manifest.csv, and
        every letter beside the records (grant decision, final amount) matches letters.csv."""
        archive = self.work / f"batch-{uuid.uuid4().hex[:6]}.zip"
        self.inside("download", path, str(archive), env=env, cwd=cwd)
        with zipfile.ZipFile(archive) as zipped:
            rows = _csv_rows(zipped, "manifest.csv")
            letters = {row["file"]: row for row in _csv_rows(zipped, "letters.csv")}
            pdfs = [n for n in zipped.namelist() if n.endswith(".pdf") and n not in letters]
            for name, row in zip(sorted(pdfs), sorted(rows, key=lambda r: r["reference"]),
                                 strict=True):
                data = zipped.read(name)
                expect(data.startswith(b"%PDF-") and row["reference"] in name
                       and hashlib.sha256(data).hexdigest() == row["pdf_sha256"],
                       f"{name} does not match the manifest's line {row}")
            for name, row in letters.items():
                data = zipped.read(name)
                expect(data.startswith(b"%PDF-") and row["reference"] in name
                       and hashlib.sha256(data).hexdigest() == row["pdf_sha256"],
                       f"{name} does not match its line in letters.csv {row}")
        expect(rows, "the batch holds no record")
        return [row["reference"] for row in rows]

    def record(self, reference: str, *, env: dict[str, str], cwd: Path) -> None:
        """`record` writes the audit record in Japanese (the default locale)."""
        pdf = self.work / f"{reference}.pdf"
        self.flask("record", reference, "-o", str(pdf), env=env, cwd=cwd)
        text = self.inside("pdf-text", str(pdf), env=env, cwd=cwd)
        expect(RECORD_TITLE in text and reference in text,
               f"the record of {reference} is not in Japanese:\n{text[:1000]}")
        say(f"record: {pdf.name} ({pdf.stat().st_size} bytes) is a {RECORD_TITLE}")


# --- wheel ---------------------------------------------------------------------------------------


def wheel_check(app: Install, postgres: Postgres, redis_url: str) -> None:
    """The wheel alone, in development mode, from a directory that is not a checkout."""
    base, scratch = clean_environment(app.venv), app.work / "scratch"
    scratch.mkdir()
    database = unique("grants_check")
    postgres.create_database(database, None, base, scratch)
    env = {**base, "DATABASE_URL": postgres.url(database), "REDIS_URL": redis_url}
    located = app.inside("where", env=env, cwd=scratch).strip()
    expect(located.startswith(str(app.venv)), f"grants was imported from {located}")
    version = app.version(env, scratch)
    for command in (["migrate"], ["load"], ["demo"]):
        app.flask(*command, env=env, cwd=scratch)
    expect((scratch / "instance" / "files").is_dir(),
           "development data is not in ./instance of the current directory")
    expect(not list(app.venv.glob("lib/*/instance")) and not (app.venv / "instance").exists(),
           "the install wrote an instance folder into the virtualenv")
    port = free_port()
    gunicorn = [str(app.bin / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
                "grants.wsgi:app"]
    with background(gunicorn, env=env, cwd=scratch, url=f"http://127.0.0.1:{port}/healthz",
                    log=app.work / "gunicorn.log"):
        check_site(f"http://127.0.0.1:{port}", version, {})
    worker = [str(app.bin / "flask"), "--app", "grants.wsgi", "grants", "worker"]
    _, references = app.batch(worker, env=env, cwd=scratch)
    app.record(references[0], env=env, cwd=scratch)


# --- drill ---------------------------------------------------------------------------------------


def settings_file(path: Path) -> dict[str, str]:
    """NAME=value lines as systemd's EnvironmentFile= (and deploy/grants) read them: blanks and
    comments skipped, one pair of quotes around a value removed."""
    settings = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            settings[name.strip()] = value
    return settings


def edit_settings(path: Path, target: Path, **values: str | None) -> Path:
    """Write ``path`` to ``target`` with some lines changed as the guide says (None: removed)."""
    lines = path.read_text().splitlines()
    for name, value in values.items():
        found = [i for i, line in enumerate(lines) if line.startswith(f"{name}=")]
        expect(len(found) == 1, f"{path.name} has no line {name}=... to edit")
        lines[found[0]] = f"{name}={value}" if value is not None else f"#{name}="
    target.write_text("\n".join(lines) + "\n")
    target.chmod(0o640)
    return target


def drill(app: Install, postgres: Postgres, redis_url: str) -> None:
    """docs/deployment.md's commands, in order, against a role and databases of its own."""
    base, work = clean_environment(app.venv), app.work
    instance = work / "var-lib-grants"  # /var/lib/grants
    instance.mkdir(mode=0o700)
    role, password = unique("grants_check"), secrets.token_urlsafe(24)
    database, restored = role, unique("grants_check")

    # PostgreSQL: the role, and a database it owns (so it may create tables in public, 15+).
    postgres.create_role(role, password, base, work)
    postgres.create_database(database, role, base, work)

    # The settings file: every name in it is a setting; left as shipped it is refused.
    example = DEPLOY / "grants.env"
    app.inside("settings-names", str(example), env=base, cwd=work)
    as_shipped = edit_settings(example, work / "shipped.env", GRANTS_INSTANCE_DIR=str(instance))
    refused = app.flask("version", env=through_wrapper(base, app, as_shipped), cwd=work,
                        check=False)
    expect(refused.returncode != 0 and refused.stderr.startswith(
        "configuration error: SECRET_KEY looks like placeholder text")
        and len(refused.stderr.strip().splitlines()) == 1,
        f"the shipped settings file was not refused in one line:\n{refused.stderr}")
    edits = {"SECRET_KEY": secrets.token_urlsafe(48), "REDIS_URL": redis_url,
             "DATABASE_URL": postgres.url(database, role, password),
             "GRANTS_INSTANCE_DIR": str(instance)}
    no_instance = edit_settings(example, work / "no-instance.env",
                                **{**edits, "GRANTS_INSTANCE_DIR": None})
    refused = app.flask("version", env=through_wrapper(base, app, no_instance), cwd=work,
                        check=False)
    expect("GRANTS_INSTANCE_DIR must be set in production" in refused.stderr,
           f"production without GRANTS_INSTANCE_DIR was not refused:\n{refused.stderr}")
    env = through_wrapper(base, app, edit_settings(example, work / "grants.env", **edits))

    # Install: migrate and load as the role, the first admin; demo data stands in for a year.
    version = app.version(env, instance)
    app.flask("migrate", env=env, cwd=instance)
    app.flask("load", env=env, cwd=instance)
    app.flask("create-user", "--email", ADMIN[0], "--name", ADMIN[1], "--role", "admin",
              "--password", secrets.token_urlsafe(16), env=env, cwd=instance)
    run([app.bin / "flask", "--app", "grants.wsgi", "grants", "demo"],
        env={**env, "GRANTS_ENV": "development"}, cwd=instance)

    # The units: gunicorn on loopback, a worker (and doctor), the timers' commands.
    verify_units(app, env)
    port = free_port()
    web = app.unit_command("grants-web.service", **{
        "127.0.0.1:8000": f"127.0.0.1:{port}", "--workers 4": "--workers 2"})
    with background(web, env=env, cwd=instance, url=f"http://127.0.0.1:{port}/healthz",
                    log=work / "gunicorn.log"):
        stylesheet = check_site(f"http://127.0.0.1:{port}", version, FORWARDED)
        through_nginx(app, port, version, stylesheet)
    batch, references = app.batch(app.unit_command("grants-worker@.service"), env=env,
                                  cwd=instance)
    for unit in ("grants-outbox.service", "grants-prune.service"):
        run(app.unit_command(unit), env=env, cwd=instance)

    # Backup (grants-backup.service), then restore into a second database and folder.
    backups = work / "backups"
    run([DEPLOY / "grants-backup", backups, "14"], env=env, cwd=instance)
    (backup,) = backups.glob("grants-*")
    postgres.create_database(restored, role, base, work)
    restored_url = postgres.url(restored, role, password)
    run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored_url,
         backup / "database.dump"], env=base, cwd=work)
    second = work / "var-lib-grants-restored"
    second.mkdir(mode=0o700)
    run(["tar", "--extract", "--file", backup / "files.tar", "--directory", second], env=base,
        cwd=work)
    restored_settings = work / "restored.env"
    run(["sh", "-c", f"sed -e 's|^DATABASE_URL=.*|DATABASE_URL={restored_url}|' "
         f"-e 's|^GRANTS_INSTANCE_DIR=.*|GRANTS_INSTANCE_DIR={second}|' "
         f"{env[WRAPPER_SETTINGS]} > {restored_settings}"], env=base, cwd=work)
    env2 = through_wrapper(base, app, restored_settings)
    verified = app.flask("audit", "verify", "--anchor", str(second / "audit-anchors.jsonl"),
                         env=env2, cwd=second)
    say(f"restore: audit verify passes on the copy: {verified.stdout.strip()}")
    run(["sh", "-c", 'find . -type f -printf "%f  %p\\n" | sha256sum --check --quiet'],
        env=base, cwd=second / "files")
    check_stored_files(second / "files")
    expect(app.download(batch, env=env2, cwd=second) == references,
           "the restored batch holds other records")
    say("restore: the auditor downloads the same batch from the copy")


def through_wrapper(base: dict[str, str], app: Install, settings: Path) -> dict[str, str]:
    """The environment systemd gives the units (the settings file), and what deploy/grants
    needs to read that file itself, as this user, with this virtualenv."""
    return {**base, **settings_file(settings), WRAPPER_SETTINGS: str(settings),
            "GRANTS_VENV": str(app.venv), "GRANTS_USER": getpass.getuser()}


def verify_units(app: Install, env: dict[str, str]) -> None:
    """`systemd-analyze verify` on the units of deploy/, pointed at this install (if present)."""
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        say("units: systemd-analyze is not installed, the units are not verified")
        return
    folder = app.work / "units"
    folder.mkdir()
    for unit in sorted([*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer")]):
        text = unit.read_text().replace(UNIT_PREFIX, f"{app.bin}/").replace(
            "/usr/local/bin/grants-backup", str(DEPLOY / "grants-backup")).replace(
            "/etc/grants/grants.env", env[WRAPPER_SETTINGS])
        (folder / unit.name.replace("@.", "@1.")).write_text(text)
    units = sorted(str(p) for p in folder.iterdir())
    result = run([analyze, "verify", "--man=no", *units], env=clean_environment(), cwd=folder,
                 check=False)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if "grants" in line and "Failed to" not in line]
    expect(result.returncode == 0 and not problems, "systemd-analyze verify:\n" + "\n".join(
        problems or [result.stdout + result.stderr]))
    say(f"units: systemd-analyze verify accepts the {len(units)} units of deploy/")


def check_stored_files(storage: Path) -> None:
    """The restored storage holds files (sha256sum checked them), private as before."""
    files = [p for p in storage.rglob("*") if p.is_file()]
    expect(files, "the restored storage holds no file")
    for path in files:
        expect(path.stat().st_mode & 0o077 == 0, f"{path} is readable by others")
    say(f"restore: {len(files)} stored file(s), each matching its SHA-256, mode 0600")


def through_nginx(app: Install, port: int, version: str, stylesheet: str) -> None:
    """deploy/nginx.conf in front of gunicorn (TLS, forwarded headers, static files), if
    nginx and openssl are installed; the paths and ports are the only changes."""
    nginx, openssl = shutil.which("nginx") or "/usr/sbin/nginx", shutil.which("openssl")
    if not (Path(nginx).exists() and openssl):
        say("nginx: not installed, the proxy example is not exercised")
        return
    folder = app.work / "nginx"
    folder.mkdir()
    env = clean_environment()
    run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=grants.example.jp", "-keyout", folder / "key.pem", "-out", folder / "cert.pem"],
        env=env, cwd=folder)
    static = app.inside("static-folder", env=env, cwd=folder).strip()
    http_port, https_port = free_port(), free_port()
    site = (DEPLOY / "nginx.conf").read_text()
    for old, new in {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "/etc/letsencrypt/live/grants.example.jp/fullchain.pem": str(folder / "cert.pem"),
        "/etc/letsencrypt/live/grants.example.jp/privkey.pem": str(folder / "key.pem"),
        "/opt/grants/static/": static.rstrip("/") + "/",
        "http://127.0.0.1:8000": f"http://127.0.0.1:{port}",
    }.items():
        expect(old in site, f"deploy/nginx.conf no longer has {old!r}")
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (folder / "site.conf").write_text(site)
    # As root, nginx's workers would run as nobody, who may not read this scratch folder.
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"{user}pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
        f"http {{\n include /etc/nginx/mime.types;\n access_log {folder}/access.log;\n"
        f" client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;\n"
        f" fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi;\n"
        f" scgi_temp_path {folder}/scgi;\n include {folder}/site.conf;\n}}\n")
    config = ["-p", str(folder), "-c", str(folder / "nginx.conf")]
    run([nginx, "-t", *config, "-g", "daemon off;"], env=env, cwd=folder)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # a throwaway cert
    base, host = f"https://127.0.0.1:{https_port}", {"Host": "grants.example.jp"}
    with background([nginx, *config, "-g", "daemon off;"], env=env, cwd=folder,
                    url=f"http://127.0.0.1:{http_port}/", log=folder / "nginx.out"):
        status, headers, _ = http_get(f"http://127.0.0.1:{http_port}/sign-in", host)
        expect(status == 301 and headers["Location"] == "https://grants.example.jp/sign-in",
               f"plain HTTP was not sent to HTTPS: {status} {headers}")
        check_site(base, version, host, context)
        status, headers, body = http_get(base + stylesheet, host, context)
        expect(status == 200 and "max-age=31536000" in headers["Cache-Control"]
               and headers.get_all("Strict-Transport-Security"),
               f"nginx served {stylesheet} with {status} {headers}")
        status, headers, _ = http_get(f"{base}/sign-in", host, context)
        cookie = headers.get("Set-Cookie") or ""
        expect(status == 200 and "; Secure" in cookie,
               f"sign-in through nginx gave no Secure session cookie: {status} {headers}")
        hsts = headers.get_all("Strict-Transport-Security") or []
        expect(len(hsts) == 1, f"HSTS sent {len(hsts)} times through nginx")
    say(f"nginx: HTTP redirected to TLS; the app sees HTTPS (Secure cookie, one HSTS header); "
        f"/static/ served from the package, cached a year ({len(body)} bytes of CSS)")


# --- steps run under the installed python --------------------------------------------------------


def inside(step: str, args: list[str]) -> None:
    """Steps that need the installed package: they print what the outer script checks."""
    if step == "where":
        import grants

        print(grants.__file__)
    elif step == "static-folder":
        from grants.config import PACKAGE_ROOT

        print(PACKAGE_ROOT / "static")
    elif step == "settings-names":
        from grants.config import DEFAULTS, ENV_PREFIX, UNPREFIXED

        known = {ENV_PREFIX + key for key in DEFAULTS} | set(UNPREFIXED)
        unknown = sorted(set(settings_file(Path(args[0]))) - known)
        if unknown:
            sys.exit(f"{args[0]} sets what no setting reads: {', '.join(unknown)}")
    elif step == "pdf-text":
        from pypdf import PdfReader

        print("\n".join(page.extract_text() for page in PdfReader(args[0]).pages))
    elif step == "request-batch":
        client = _signed_in(*AUDITOR)
        page = client.get("https://localhost/audit/?" + urllib.parse.urlencode(BATCH_SEARCH))
        response = client.post("https://localhost/audit/batches", headers=REFERER,
                               data={"csrf_token": _csrf_token(page.text), **BATCH_SEARCH})
        if response.status_code != 303:
            sys.exit(f"the batch was refused ({response.status_code}):\n{response.text[:2000]}")
        print(urllib.parse.urlsplit(response.headers["Location"]).path)
    elif step == "download":
        client = _signed_in(*AUDITOR)
        deadline = time.monotonic() + BATCH_SECONDS
        page = client.get(f"https://localhost{args[0]}")
        while "Refresh" in page.headers and time.monotonic() < deadline:  # queued or running
            time.sleep(1)
            page = client.get(f"https://localhost{args[0]}")
        archive = client.get(f"https://localhost{args[0]}/download")
        if archive.status_code != 200 or archive.mimetype != "application/zip":
            sys.exit(f"no ZIP to download ({archive.status_code}):\n{page.text[:3000]}")
        Path(args[1]).write_bytes(archive.data)
    else:
        sys.exit(f"no such step: {step}")


def _signed_in(email: str, password: str) -> Any:  # Flask's test client
    from grants.wsgi import app

    client = app.test_client()  # https URLs: production cookies are Secure
    page = client.get("https://localhost/sign-in")
    response = client.post("https://localhost/sign-in", headers=REFERER, data={
        "email": email, "password": password, "csrf_token": _csrf_token(page.text)})
    if response.status_code not in (302, 303):
        sys.exit(f"{email} could not sign in ({response.status_code}):\n{response.text[:2000]}")
    return client


def _csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    if not found:
        sys.exit(f"no CSRF token on the page:\n{page[:2000]}")
    return found[1]


# --- command line --------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    if argv[:1] == ["inside"]:
        inside(argv[1], argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("install", "wheel", "drill"))
    parser.add_argument("directory", nargs="?", type=Path, help="install: where to install")
    parser.add_argument("--venv", type=Path, help="an install made by `install` (else: make one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    options = parser.parse_args(argv)
    started = time.monotonic()
    if options.mode == "install":
        if options.directory is None:
            parser.error("install needs a DIRECTORY")
        options.directory.mkdir(parents=True, exist_ok=True)
        print(install(options.directory))
        return 0
    database_url, redis_url = os.environ.get("TEST_DATABASE_URL"), os.environ.get(
        "TEST_REDIS_URL")
    if not (database_url and redis_url):
        parser.error("TEST_DATABASE_URL and TEST_REDIS_URL must name PostgreSQL and Redis")
    work = Path(tempfile.mkdtemp(prefix=f"grants-{options.mode}-"))
    postgres = Postgres(database_url)
    try:
        venv = options.venv.resolve() if options.venv else install(work)
        check = wheel_check if options.mode == "wheel" else drill
        check(Install(venv, work, doctor=options.mode == "drill"), postgres, redis_url)
    except CheckFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        postgres.drop_everything(clean_environment(), Path(tempfile.gettempdir()))
        if options.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    say(f"{options.mode} check passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
