"""`flask grants batches prune` as cron runs it: a separate process on a fresh database.

The batches' ages are set in the database (the command reads the real clock); the batch folder
holds what jobs leave behind: ZIPs, a document's PDF, staging folders and partial files, files
of no job, and a file that is none of these.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.db import create_engine
from grants.domain.workflow import Role
from grants.models import BatchJob, BatchState
from grants.services import accounts
from tests.conftest import PASSWORD, ROOT

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
SHA = "ab" * 32


def grants(instance: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("GRANTS_") and key not in ("DATABASE_URL", "REDIS_URL")}
    environment["GRANTS_INSTANCE_DIR"] = str(instance)
    environment.update({f"GRANTS_{name}": value for name, value in settings.items()})
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "grants", *args], cwd=ROOT,
        env=environment, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    path = tmp_path / "instance"
    migrated = grants(path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    return path


def _job(session: Session, auditor_id: int, state: BatchState, *, age: dt.timedelta,
         name: str | None = None, document: bool = False) -> BatchJob:
    """A job requested ``age`` ago; a done one finished then, with its file named ``name``."""
    at = dt.datetime.now(dt.UTC) - age
    done = state is BatchState.DONE
    job = BatchJob(requested_by_id=auditor_id, created_at=at,
                   criteria={"document": "record"} if document else {"program_key": "x"},
                   application_ids=[1, 2], state=state, total=2, done=2 if done else 0,
                   started_at=at if state is not BatchState.QUEUED else None,
                   finished_at=at if done or state is BatchState.FAILED else None,
                   error="render: RuntimeError: boom" if state is BatchState.FAILED else None,
                   result_path=name, result_sha256=SHA if done else None,
                   result_size=10 if done else None)
    session.add(job)
    session.flush()
    return job


def _old(path: Path, age: dt.timedelta) -> Path:
    stamp = (dt.datetime.now(dt.UTC) - age).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_prune_expires_old_files_removes_leftovers_and_fails_lost_jobs(instance):
    folder = instance / "batches"
    folder.mkdir(mode=0o700)
    engine = create_engine(f"sqlite:///{instance / 'grants.sqlite'}")
    with Session(engine) as session:
        auditor = accounts.create_user(session, email="auditor@example.jp", password=PASSWORD,
                                       display_name="監査 太郎", role=Role.AUDITOR,
                                       organization=None, now=dt.datetime.now(dt.UTC))
        session.flush()
        old_zip = _job(session, auditor.id, BatchState.DONE, age=40 * DAY, name="x")
        new_zip = _job(session, auditor.id, BatchState.DONE, age=DAY, name="x")
        old_pdf = _job(session, auditor.id, BatchState.DONE, age=31 * DAY, name="x",
                       document=True)
        lost = _job(session, auditor.id, BatchState.RUNNING, age=13 * HOUR)
        lost_queued = _job(session, auditor.id, BatchState.QUEUED, age=3 * DAY, document=True)
        running = _job(session, auditor.id, BatchState.RUNNING, age=HOUR)
        failed = _job(session, auditor.id, BatchState.FAILED, age=2 * HOUR)
        for job, name in ((old_zip, f"batch-{old_zip.id}.zip"),
                          (new_zip, f"batch-{new_zip.id}.zip"),
                          (old_pdf, f"document-{old_pdf.id}.pdf")):
            job.result_path = name
            (folder / name).write_bytes(b"PK stand-in")
        session.commit()
        ids = {name: job.id for name, job in (("lost", lost), ("queued", lost_queued),
                                              ("running", running), ("failed", failed),
                                              ("new", new_zip), ("old_zip", old_zip),
                                              ("old_pdf", old_pdf))}
    for staged in (lost, running):
        (folder / f".batch-{staged.id}.parts").mkdir()
        (folder / f".batch-{staged.id}.parts" / "1.pdf").write_bytes(b"%PDF")
    (folder / f".batch-{failed.id}.zip.part").write_bytes(b"PK")
    orphan_old = folder / "batch-9999.zip"
    orphan_old.write_bytes(b"PK")
    _old(orphan_old, 40 * DAY)
    orphan_new = folder / "batch-9998.zip"
    orphan_new.write_bytes(b"PK")
    (folder / "README.txt").write_text("not ours")

    result = grants(instance, "batches", "prune")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "expired 2 ZIP(s) and PDF(s) older than 30 days (their batches are kept)",
        f"removed 3 leftover file(s) and staging folder(s) from {folder}",
        f"marked 2 lost job(s) failed, unfinished 12 hours after their request: "
        f"{ids['lost']}, {ids['queued']}",
    ]
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        f"batch-{ids['new']}.zip", f".batch-{ids['running']}.parts", "batch-9998.zip",
        "README.txt"])
    with Session(engine) as session:
        jobs = {job.id: job for job in session.scalars(sa.select(BatchJob))}
        for expired in (ids["old_zip"], ids["old_pdf"]):
            assert jobs[expired].state is BatchState.DONE and jobs[expired].expired
            assert jobs[expired].result_sha256 == SHA  # the history stays
        assert jobs[ids["new"]].result_path == f"batch-{ids['new']}.zip"
        for gone in (ids["lost"], ids["queued"]):
            assert jobs[gone].state is BatchState.FAILED
            assert jobs[gone].error == "lost: not finished 12 hours after its request"
        assert jobs[ids["running"]].state is BatchState.RUNNING
        assert jobs[ids["failed"]].error == "render: RuntimeError: boom"  # left as it was

    again = grants(instance, "batches", "prune")  # from cron, an hour later: nothing to do
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        "expired 0 ZIP(s) and PDF(s) older than 30 days (their batches are kept)",
        f"removed 0 leftover file(s) and staging folder(s) from {folder}",
        "marked 0 lost job(s) failed, unfinished 12 hours after their request",
    ]
    engine.dispose()


def test_prune_follows_its_settings_and_has_nothing_to_do_on_a_new_install(instance):
    result = grants(instance, "batches", "prune", BATCH_RETENTION_DAYS="７",
                    BATCH_DEADLINE_HOURS=" 2 ")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "expired 0 ZIP(s) and PDF(s) older than 7 days (their batches are kept)",
        f"removed 0 leftover file(s) and staging folder(s) from {instance / 'batches'}",
        "marked 0 lost job(s) failed, unfinished 2 hours after their request"]
    assert not (instance / "batches").exists()  # made by the first batch, not by pruning
    for value, problem in (("0", "must be at least 1"), ("thirty", "must be a whole number"),
                           ("", "must be a whole number")):
        refused = grants(instance, "batches", "prune", BATCH_RETENTION_DAYS=value)
        assert refused.returncode == 1
        assert refused.stderr.strip() == (f"configuration error: GRANTS_BATCH_RETENTION_DAYS "
                                          f"{problem}")


def test_prune_refuses_a_database_nobody_initialized(tmp_path):
    result = grants(tmp_path / "instance", "batches", "prune")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: the database is not initialized: run `flask --app wsgi grants init` "
        "(development) or `grants migrate` (production)"]
