"""Private instance files: whatever the umask, the instance folder and the folders the app makes
for attachments and batches are 0700, and the SQLite database and the batch ZIPs are 0600."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from grants import create_app
from grants.domain.workflow import Role
from grants.models import BatchState
from grants.services import batches
from grants.services.auditing import Criteria
from grants.storage import LocalStorage
from tests.conftest import NOW, ROOT
from tests.web.reviewflow import KEY, submit_application
from tests.web.test_audit_search import fund


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextlib.contextmanager
def open_umask() -> Iterator[None]:
    """Run with umask 000, so only an explicit mode keeps files private."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _app_on_fresh_instance(instance: Path):
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "INSTANCE_DIR": str(instance)})


def test_create_app_makes_instance_folder_and_database_private(tmp_path):
    instance = tmp_path / "instance"
    with open_umask():
        app = _app_on_fresh_instance(instance)
        engine = app.extensions["grants.engine"]
        with engine.begin() as connection:  # WAL: the -wal and -shm files appear now
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            found = {path.name: mode(path) for path in instance.glob("grants.sqlite*")}
        engine.dispose()
    assert mode(instance) == 0o700
    assert found == {"grants.sqlite": 0o600, "grants.sqlite-wal": 0o600,
                     "grants.sqlite-shm": 0o600}


def test_create_app_tightens_an_existing_instance(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    os.chmod(instance, 0o755)  # noqa: S103 - the loose mode an older version left
    old = [instance / name for name in ("grants.sqlite", "grants.sqlite-wal")]
    for path in old:
        path.touch()
        os.chmod(path, 0o644)
    _app_on_fresh_instance(instance).extensions["grants.engine"].dispose()
    assert mode(instance) == 0o700
    assert [mode(path) for path in old] == [0o600, 0o600]


def test_migrate_command_creates_a_private_database(tmp_path):
    instance = tmp_path / "fresh"
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("GRANTS_") and key != "DATABASE_URL"}
    environment["GRANTS_INSTANCE_DIR"] = str(instance)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "grants", "migrate"], cwd=ROOT,
        env=environment, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "migrated" in result.stdout
    assert mode(instance) == 0o700
    assert mode(instance / "grants.sqlite") == 0o600


def test_stored_attachments_are_private(tmp_path):
    root = tmp_path / "files"
    with open_umask():
        sha256 = LocalStorage(root).put(b"%PDF-1.4 private")
    stored = LocalStorage(root).path(sha256)
    assert mode(stored) == 0o600
    assert [mode(folder) for folder in (root, stored.parents[1], stored.parent)] == [0o700] * 3


def test_batch_folder_and_zip_are_private(client, auth, session, make_user, tmp_path):
    template = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    fund(session, template, officer, reference="AUD-P0", amount=1_000_000)
    session.commit()
    job = batches.request_batch(session, Criteria(program_key=KEY),
                                actor=make_user(Role.AUDITOR), now=NOW)
    session.commit()
    directory = tmp_path / "batches"
    with open_umask():
        built = batches.build_batch(session, job.id, directory=directory,
                                    render=lambda _session, _application: b"%PDF-stand-in",
                                    now=lambda: NOW)
    assert built.state is BatchState.DONE
    assert mode(directory) == 0o700
    assert mode(directory / batches.result_name(built)) == 0o600
