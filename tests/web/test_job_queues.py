"""One Redis, several installations: each has a queue of its own, and workers run only jobs
of their own version.

The queue's default name comes from the database's (``grants-<dbname>``). With
TEST_REDIS_URL, two installations on one Redis database each queue a batch; `flask grants
worker --burst` started with the first one's settings (a separate process, as systemd starts
it) builds the first one's batch and leaves the second's queued. A worker of another version
refuses a job: the batch fails with a sentence saying to restart the workers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import create_app, jobs
from grants.config import PACKAGE_ROOT, ConfigError, load_settings, queue_for
from grants.db import create_engine
from grants.domain.workflow import Role
from grants.models import BatchJob, BatchState
from grants.services import accounts
from grants.services.catalog import sync_catalog
from grants.version import installed_version
from tests.conftest import NOW, PASSWORD, ROOT, upgrade
from tests.web import test_audit_batches as batch_tests
from tests.web.reviewflow import KEY
from tests.web.test_audit_batches import app_on_file, check_done, run_batch_on_rq

redis_url = batch_tests.redis_url
rq_queue = batch_tests.rq_queue
file_database = batch_tests.file_database


@pytest.mark.parametrize(("url", "queue"), [
    ("postgresql+psycopg://grants:pw@db.example.jp/grants", "grants-grants"),
    ("postgresql+psycopg://grants:pw@db.example.jp:5433/grants_restore?sslmode=require",
     "grants-grants_restore"),
    ("sqlite:////var/lib/grants/staging.sqlite", "grants-staging"),
    ("sqlite:///instance/申請 DB.sqlite", "grants-DB"),
    ("sqlite://", "grants"),
])
def test_the_default_queue_is_named_after_the_database(url, queue):
    assert queue_for(url) == queue


def test_the_queue_setting_wins_and_a_malformed_url_is_one_line(tmp_path):
    settings = {"INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "x"}
    named = load_settings(settings | {"DATABASE_URL": "postgresql://u@h/prod"}, environ={})
    assert named["RQ_QUEUE"] == "grants-prod"
    chosen = load_settings(settings | {"DATABASE_URL": "postgresql://u@h/prod"},
                           environ={"GRANTS_RQ_QUEUE": "grants-blue"})
    assert chosen["RQ_QUEUE"] == "grants-blue"
    with pytest.raises(ConfigError, match="DATABASE_URL is not a database URL"):
        load_settings(settings | {"DATABASE_URL": "db.example.jp/grants"}, environ={})


# --- on Redis -----------------------------------------------------------------------------------


def _database(tmp_path, name: str) -> sa.Engine:
    """A migrated SQLite file with the catalog, as the ``file_database`` fixture makes."""
    engine = create_engine(f"sqlite:///{tmp_path / name}.sqlite")
    upgrade(engine)
    with Session(engine) as session:
        sync_catalog(session, PACKAGE_ROOT / "programs", PACKAGE_ROOT / "rubrics", now=NOW)
        session.commit()
    return engine


def _forget(queue) -> None:
    """Remove the queue, its jobs and its registries from the shared Redis database."""
    connection = queue.connection
    for job_id in queue.job_ids + queue.deferred_job_registry.get_job_ids() \
            + queue.finished_job_registry.get_job_ids() + queue.failed_job_registry.get_job_ids():
        job = queue.fetch_job(job_id)
        if job is not None:
            job.delete()
    queue.delete(delete_jobs=True)
    for key in connection.scan_iter(match=f"rq:*:{queue.name}*"):
        connection.delete(key)


def test_two_installations_on_one_redis_take_only_their_own_jobs(tmp_path, monkeypatch,
                                                                 redis_url):
    from rq import Queue

    tag = uuid.uuid4().hex[:10]
    first, second = _database(tmp_path, f"first-{tag}"), _database(tmp_path, f"second-{tag}")
    with app_on_file(first, tmp_path / "first", monkeypatch, REDIS_URL=redis_url) as (
            client, session, funded, app):
        assert app.config["RQ_QUEUE"] == f"grants-first-{tag}"  # not set: derived
        other = create_app({
            "TESTING": True, "DATABASE_URL": second.url.render_as_string(hide_password=False),
            "INSTANCE_DIR": str(tmp_path / "second"), "BATCH_DIR": str(tmp_path / "second-b"),
            "RQ_QUEUE": None})
        assert other.config["RQ_QUEUE"] == f"grants-second-{tag}"
        queues = [Queue(a.config["RQ_QUEUE"], connection=jobs.queue(a.config).connection)
                  for a in (app, other)]
        try:
            response = client.post("/audit/batches", data={"call": KEY})
            assert response.status_code == 303
            mine = session.scalar(sa.select(BatchJob))
            with Session(second) as theirs:
                auditor = accounts.create_user(
                    theirs, email="auditor@example.jp", password=PASSWORD,
                    display_name="監査", role=Role.AUDITOR, organization=None, now=NOW)
                job = BatchJob(requested_by_id=auditor.id, created_at=NOW, criteria={},
                               application_ids=[1], state=BatchState.QUEUED, total=1, done=0)
                theirs.add(job)
                theirs.flush()
                job_id = job.id
                theirs.commit()
            with other.app_context():
                jobs.start_batch(job_id)
            assert {j.args[0] for j in queues[0].jobs} == {mine.id}
            assert [j.args for j in queues[1].jobs] == [(job_id, [1])]

            worker = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "wsgi", "grants", "worker", "--burst"],
                cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300,
                check=False)
            assert worker.returncode == 0, worker.stderr
            assert worker.stdout.startswith(
                f"Grants {installed_version()} worker ")
            assert f"on queue grants-first-{tag}" in worker.stdout

            check_done(client, session, mine, funded)
            with Session(second) as theirs:
                assert theirs.get(BatchJob, job_id).state is BatchState.QUEUED  # untouched
            assert [j.args for j in queues[1].jobs] == [(job_id, [1])]
        finally:
            for queue in queues:
                _forget(queue)
            other.extensions["grants.engine"].dispose()
    second.dispose()
    first.dispose()


def test_a_worker_of_another_version_refuses_the_job(rq_queue, file_database, tmp_path,
                                                    monkeypatch, redis_url):
    from rq.job import JobStatus

    with app_on_file(file_database, tmp_path, monkeypatch, RQ_QUEUE=rq_queue.name,
                     REDIS_URL=redis_url) as (client, session, _funded, _app):
        job, parts, finisher = run_batch_on_rq(
            client, session, rq_queue, monkeypatch, tmp_path,
            installed_version=lambda: "0.0.1-old")
        assert {p.meta[jobs.VERSION_KEY] for p in [*parts, finisher]} == {installed_version()}
        assert [p.get_status() for p in [*parts, finisher]] == [JobStatus.FAILED] * 3
        session.refresh(job)
        assert job.state is BatchState.FAILED and job.done == 0
        assert job.error == f"version: 0.0.1-old vs {installed_version()}"
        client.post("/language", data={"locale": "en"})
        page = client.get(f"/audit/batches/{job.id}").text
        assert (f"The worker runs a different version of Grants (0.0.1-old vs "
                f"{installed_version()}); restart the workers after an upgrade.") in page
