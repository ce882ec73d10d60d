"""`flask grants doctor` as an operator runs it: a separate process on a fresh instance.

Every line is one finding (``ok``, ``warn`` or ``FAIL``, a topic, what was found); the command
exits 1 when anything FAILed. The failing cases are real: a database nobody migrated, a folder
the app cannot write to (0500, or immutable when the tests run as root, who writes anywhere)
or that other accounts can read, Redis and SMTP on ports where nothing listens, a key of few
characters. A small SMTP server of the test's own shows that doctor says EHLO and sends
nothing; with TEST_REDIS_URL, workers registered on the installation's queue show how their
versions are compared.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import socketserver
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from grants import jobs
from grants.version import installed_version, migration_head
from tests.conftest import ROOT

LINE = re.compile(r"(ok  |warn|FAIL) [a-z ]+: \S.*")
STRONG_KEY = "k3Y-" + uuid.uuid4().hex + "-Zq9_" + uuid.uuid4().hex


def doctor(instance: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("GRANTS_")
                   and key not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    environment["GRANTS_INSTANCE_DIR"] = str(instance)
    environment.update({key if key in ("REDIS_URL", "SECRET_KEY") else f"GRANTS_{key}": value
                        for key, value in settings.items()})
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "grants", "doctor"], cwd=ROOT,
        env=environment, capture_output=True, text=True, timeout=300, check=False)


def findings(result: subprocess.CompletedProcess[str]) -> dict[str, list[str]]:
    """Each topic's lines; every line of the output must be a finding."""
    assert result.stderr == "", result.stderr
    found: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        assert LINE.fullmatch(line), line
        topic = line[5:].split(":", 1)[0]
        found.setdefault(topic, []).append(line)
    return found


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    instance = tmp_path_factory.mktemp("doctor") / "instance"
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "grants", "migrate"], cwd=ROOT,
        env={key: value for key, value in os.environ.items() if not key.startswith("GRANTS_")}
        | {"GRANTS_INSTANCE_DIR": str(instance)},
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return instance


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once closed: nothing listens there


def test_a_migrated_development_install_passes_with_warnings(migrated):
    result = doctor(migrated)
    found = findings(result)
    assert result.returncode == 0, result.stdout
    assert found["database"] == [f"ok   database: SQLite {sqlite3.sqlite_version}, "
                                 f"schema at head {migration_head()}"]
    assert found["version"] == [f"ok   version: Grants {installed_version()}, migrations up to "
                                f"{migration_head()}"]
    assert found["settings"][0].startswith("warn settings: GRANTS_ENV is development")
    assert any("production would refuse this: DATABASE_URL is SQLite" in line
               for line in found["settings"])
    assert found["instance"] == [f"ok   instance: {migrated} is writable and private (0700)"]
    assert found["storage"] == [f"warn storage: {migrated / 'files'} does not exist yet; it is "
                                "made (0700) when first needed"]
    assert found["translations"][0].startswith("ok   translations: ja: ")
    assert found["fonts"][0].startswith("ok   fonts: Noto Sans CJK JP for Japanese")
    assert found["jobs"][0].startswith("ok   jobs: REDIS_URL is not set")
    secret = (migrated / "secret_key").read_text().strip()
    assert found["secret key"] == [f"ok   secret key: {len(secret)} bytes, "
                                   f"{len(set(secret))} different characters"]
    assert secret not in result.stdout


def test_a_database_nobody_migrated_fails(tmp_path):
    result = doctor(tmp_path / "instance")
    found = findings(result)
    assert result.returncode == 1
    assert found["database"] == [
        "FAIL database: the database is not initialized: run `flask --app wsgi grants init` "
        "(development) or `grants migrate` (production)"]
    assert "translations" in found and "smtp" in found  # the other checks still ran


@contextlib.contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """A folder nobody may write to: 0500, or immutable for root (whom modes do not stop)."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)], check=False,
                                        capture_output=True).returncode != 0:
        pytest.skip("running as root without chattr +i: no folder is unwritable")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True)


def test_folders_that_cannot_be_written_or_are_open_to_others_fail(migrated, tmp_path):
    storage, batches = tmp_path / "files", tmp_path / "batches"
    storage.mkdir(mode=0o700)
    batches.mkdir()
    batches.chmod(0o755)
    (batches / "batch-1.zip").write_bytes(b"PK")
    with unwritable(storage):
        result = doctor(migrated, STORAGE_DIR=str(storage), BATCH_DIR=str(batches))
    found = findings(result)
    assert result.returncode == 1
    refusal = "Operation not permitted" if os.geteuid() == 0 else "Permission denied"
    assert found["storage"] == [f"FAIL storage: {storage} is not writable ({refusal})"]
    assert found["batches"] == [f"FAIL batches: {batches} is open to other accounts "
                                f"(mode 0755): chmod 700 {batches}"]
    batches.chmod(0o700)
    (batches / "batch-1.zip").chmod(0o644)
    result = doctor(migrated, STORAGE_DIR=str(storage), BATCH_DIR=str(batches))
    assert findings(result)["batches"] == [
        f"FAIL batches: 1 file(s) in {batches} are open to other accounts, e.g. "
        f"{batches / 'batch-1.zip'}: chmod 600 them"]
    (tmp_path / "a-file").write_text("x")
    result = doctor(migrated, STORAGE_DIR=str(tmp_path / "a-file"),
                    BATCH_DIR=str(tmp_path / "a-file" / "batches"))
    found = findings(result)
    assert found["storage"] == [f"FAIL storage: {tmp_path / 'a-file'} is not a folder"]
    assert found["batches"][0].startswith(f"FAIL batches: {tmp_path / 'a-file' / 'batches'} "
                                          f"does not exist and cannot be made")


def test_unreachable_redis_and_smtp_fail(migrated):
    redis_port, smtp_port = _closed_port(), _closed_port()
    result = doctor(migrated, REDIS_URL=f"redis://:hunter2-secret@127.0.0.1:{redis_port}/3",
                    SMTP_URL=f"smtp://127.0.0.1:{smtp_port}")
    found = findings(result)
    assert result.returncode == 1
    [redis_line] = found["redis"]
    assert redis_line.startswith(f"FAIL redis: cannot reach 127.0.0.1:{redis_port} (database 3)")
    assert "hunter2" not in result.stdout
    assert "workers" not in found  # nothing to ask without Redis
    assert found["smtp"] == [f"FAIL smtp: 127.0.0.1:{smtp_port} (plain): "
                             "[Errno 111] Connection refused"]


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to greet and answer EHLO; it remembers every command it got."""

    def handle(self) -> None:
        self.wfile.write(b"220 test.example ESMTP\r\n")
        for raw in self.rfile:
            command = raw.decode().strip()
            self.server.commands.append(command)  # type: ignore[attr-defined]
            if command.upper().startswith("EHLO"):
                self.wfile.write(b"250-test.example\r\n250 8BITMIME\r\n")
            elif command.upper() == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 not here\r\n")


@pytest.fixture
def smtp_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.commands = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_a_reachable_smtp_server_gets_ehlo_and_no_mail(migrated, smtp_server):
    port = smtp_server.server_address[1]
    result = doctor(migrated, SMTP_URL=f"smtp://127.0.0.1:{port}")
    assert findings(result)["smtp"] == [
        f"ok   smtp: 127.0.0.1:{port} (plain) answers EHLO with 250; nothing was sent"]
    verbs = [command.split()[0].upper() for command in smtp_server.commands]
    assert "EHLO" in verbs
    assert not {"MAIL", "RCPT", "DATA"} & set(verbs)


def test_production_settings_and_a_weak_key(migrated):
    production = {"ENV": "production", "ALLOW_SQLITE": "1",
                  "DATABASE_URL": f"sqlite:///{migrated / 'grants.sqlite'}",
                  "SITE_URL": "https://grants.example.jp"}
    result = doctor(migrated, SECRET_KEY=STRONG_KEY, **production)
    found = findings(result)
    assert found["settings"][0] == ("ok   settings: production: Secure cookies over HTTPS only, "
                                    "HSTS, demo commands refused")
    assert any("SQLite allowed by GRANTS_ALLOW_SQLITE" in line for line in found["settings"])
    assert found["proxy"][0].startswith("warn proxy: GRANTS_PROXY_COUNT is 0")
    assert found["secret key"][0].startswith(f"ok   secret key: {len(STRONG_KEY)} bytes")
    assert STRONG_KEY not in result.stdout

    weak = "ab" * 24  # long enough to start, but no secret
    result = doctor(migrated, SECRET_KEY=weak, PROXY_COUNT="1", **production)
    found = findings(result)
    assert result.returncode == 1
    assert found["secret key"][0].startswith(
        "FAIL secret key: 48 bytes but only 2 different characters: use a random string")
    assert "proxy" not in found
    assert weak not in result.stdout


# --- Redis: the installation's queue and its workers' versions --------------------------------


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)")
    return url


@contextlib.contextmanager
def registered(worker):
    """A worker as Redis lists it while it runs, without running it."""
    worker.register_birth()
    try:
        yield worker
    finally:
        worker.register_death()


def test_workers_on_the_queue_are_listed_with_their_versions(migrated, redis_url,
                                                             monkeypatch):
    from rq import Worker

    config = {"REDIS_URL": redis_url, "RQ_QUEUE": f"grants-doctor-{uuid.uuid4().hex[:12]}"}
    settings = {"REDIS_URL": redis_url, "RQ_QUEUE": config["RQ_QUEUE"]}
    found = findings(result := doctor(migrated, **settings))
    assert result.returncode == 1
    assert found["redis"][0].startswith("ok   redis: ")
    assert found["redis"][0].endswith(f"queue {config['RQ_QUEUE']}: 0 job(s) waiting")
    assert found["workers"] == [f"FAIL workers: no worker listens on queue {config['RQ_QUEUE']}: "
                                "batches wait for ever; start `flask --app wsgi grants worker`"]

    current = jobs.worker(config)
    with registered(current):
        found = findings(result := doctor(migrated, **settings))
        assert result.returncode == 0, result.stdout
        assert found["workers"] == [f"ok   workers: 1 worker(s) on queue {config['RQ_QUEUE']} "
                                    f"run Grants {installed_version()}"]
        monkeypatch.setattr(jobs, "installed_version", lambda: "0.0.1")
        stale = jobs.worker(config)
        plain = Worker([config["RQ_QUEUE"]], connection=current.connection)
        with registered(stale), registered(plain):
            found = findings(result := doctor(migrated, **settings))
    assert result.returncode == 1
    where = f"{socket.gethostname()} pid {os.getpid()}"
    assert sorted(found["workers"]) == sorted([
        f"FAIL workers: the worker on {where} runs Grants 0.0.1, this install is "
        f"{installed_version()}: restart the workers",
        f"warn workers: the worker on {where} does not say its version (started with `rq "
        "worker`?): start it with `flask --app wsgi grants worker`",
        f"ok   workers: 1 worker(s) on queue {config['RQ_QUEUE']} run Grants "
        f"{installed_version()}"])
    other = findings(doctor(migrated, REDIS_URL=redis_url, RQ_QUEUE=config["RQ_QUEUE"] + "-x"))
    assert other["workers"][0].startswith("FAIL workers: no worker listens")  # not this queue
