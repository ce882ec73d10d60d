"""Batch downloads: the records of a search as one ZIP, built inline (the embedded default) or
by an RQ worker (REDIS_URL set), seen and downloaded by the auditor who asked and no one else.

Records come from the real `grants.documents.record.audit_record_pdf`.

The RQ test needs the worker to see the data the test made, so it cannot use the rolled-back
test transaction: it migrates a SQLite file of its own (tests.conftest.upgrade, the catalog
loaded as the `engine` fixture does), builds the app on it, and runs rq's SimpleWorker
in-process (burst) on the Redis database named by TEST_REDIS_URL; the worker's create_app()
reads the same database and batch directory from GRANTS_* environment variables, as a real
worker would. Each run uses a queue of its own, so suites running side by side never share jobs.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import threading
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import create_app, jobs
from grants.config import PACKAGE_ROOT
from grants.db import create_engine
from grants.domain.workflow import Role
from grants.models import Application, AuditEvent, BatchJob, BatchState, Decision, User
from grants.services import accounts, batches
from grants.services.audit import AuditTag
from grants.services.catalog import sync_catalog
from tests.conftest import BACKENDS, NOW, PASSWORD, AuthActions, upgrade
from tests.web.reviewflow import KEY, submit_application
from tests.web.test_audit_search import OTHER_KEY, fund, organization


def _three_funded(client, auth, session, make_user):
    template = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    made = [fund(session, template, officer, reference=f"AUD-Z{n}", amount=1_000_000 * (n + 1),
                 partners=["012335"]) for n in range(3)]
    fund(session, template, officer, reference="AUD-OTHER", amount=9_000_000,
         organization=organization(session, "千代田区", "131016"), program_key=OTHER_KEY)
    session.commit()
    return made


def check_zip(data: bytes, applications: list[Application]) -> None:
    """One PDF per application, named by reference, and a manifest whose hashes match."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    expected = {a.reference: a.submissions[-1].snapshot_sha256 for a in applications}
    assert sorted(archive.namelist()) == sorted([f"{r}.pdf" for r in expected] + ["manifest.csv"])
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8"))))
    assert {row["reference"]: row["snapshot_sha256"] for row in rows} == expected
    for row in rows:
        pdf = archive.read(f"{row['reference']}.pdf")
        assert pdf.startswith(b"%PDF")
        assert hashlib.sha256(pdf).hexdigest() == row["pdf_sha256"]


def test_batch_inline_builds_zip_of_the_search(client, auth, session, make_user, app):
    funded = _three_funded(client, auth, session, make_user)
    auditor = make_user(Role.AUDITOR)
    auth.sign_in(auditor)
    search = client.get("/audit/", query_string={"call": KEY, "lg_code": "012335"})
    assert 'action="/audit/batches"' in search.text
    before = {t.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(t))
              for t in (Application, Decision)}
    response = client.post("/audit/batches", data={"call": KEY, "lg_code": "012335"})
    assert response.status_code == 303
    job = session.scalar(sa.select(BatchJob).filter_by(requested_by_id=auditor.id))
    assert response.headers["Location"] == f"/audit/batches/{job.id}"
    session.refresh(job)
    assert job.state is BatchState.DONE, job.error
    assert (job.done, job.total) == (3, 3)
    assert job.criteria == {"program_key": KEY, "lg_code": "012335"}
    assert sorted(job.application_ids) == sorted(a.id for a in funded)

    page = client.get(f"/audit/batches/{job.id}")
    assert page.status_code == 200 and "Refresh" not in page.headers
    assert f"/audit/batches/{job.id}/download" in page.text
    assert f"/audit/batches/{job.id}" in client.get("/audit/batches").text
    download = client.get(f"/audit/batches/{job.id}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    data = download.get_data()
    download.close()
    assert hashlib.sha256(data).hexdigest() == job.result_sha256 and len(data) == job.result_size
    check_zip(data, funded)

    events = session.scalars(sa.select(AuditEvent).where(AuditEvent.tag.in_(
        [AuditTag.BATCH_REQUEST.value, AuditTag.BATCH_DOWNLOAD.value])).order_by(AuditEvent.id)
    ).all()
    assert [e.tag for e in events] == [AuditTag.BATCH_REQUEST, AuditTag.BATCH_DOWNLOAD]
    for event in events:
        assert event.actor_id == auditor.id
        assert (event.subject_type, event.subject_id) == ("batch", job.id)
        assert sorted(event.data["application_ids"]) == sorted(a.id for a in funded)
    assert events[1].data["sha256"] == job.result_sha256
    after = {t.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(t))
             for t in (Application, Decision)}
    assert after == before  # a batch changes no record

    auth.sign_out()
    auth.sign_in(make_user(Role.AUDITOR))  # another auditor: the batch does not exist for them
    assert client.get(f"/audit/batches/{job.id}").status_code == 404
    assert client.get(f"/audit/batches/{job.id}/download").status_code == 404
    assert f"/audit/batches/{job.id}" not in client.get("/audit/batches").text


def test_batch_refused_when_empty_too_large_or_invalid(client, auth, session, make_user,
                                                       monkeypatch):
    _three_funded(client, auth, session, make_user)
    auth.sign_in(make_user(Role.AUDITOR))
    empty = client.post("/audit/batches", data={"organization": "該当なし"})
    assert empty.status_code == 422 and "notice-error" in empty.text
    monkeypatch.setattr(batches, "LIMIT", 2)
    too_many = client.post("/audit/batches", data={"call": KEY})
    assert too_many.status_code == 422 and "notice-error" in too_many.text
    invalid = client.post("/audit/batches", data={"lg_code": "12"})
    assert invalid.status_code == 422 and "error-summary" in invalid.text
    assert session.scalar(sa.select(sa.func.count()).select_from(BatchJob)) == 0


def test_batch_page_refreshes_while_queued(client, auth, session, make_user):
    funded = _three_funded(client, auth, session, make_user)
    auditor = make_user(Role.AUDITOR)
    job = batches.request_batch(session, batches.Criteria(program_key=KEY), actor=auditor,
                                now=NOW)
    session.commit()
    auth.sign_in(auditor)
    page = client.get(f"/audit/batches/{job.id}")
    assert page.status_code == 200 and page.headers["Refresh"] == "3"
    assert "0/3" in page.text or "0 / 3" in page.text
    assert client.get(f"/audit/batches/{job.id}/download").status_code == 404
    assert job.total == len(funded)


# --- RQ ---------------------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)")
    return url


@pytest.fixture(params=BACKENDS)
def file_database(request, tmp_path) -> Iterator[sa.Engine]:
    """A migrated database with the catalog, outside the rolled-back test transaction: a SQLite
    file, or on PostgreSQL a schema of its own, named in the URL so that the worker's
    create_app() works in it too."""
    if request.param == "sqlite":
        url = sa.make_url(f"sqlite:///{tmp_path / 'rq.sqlite'}")
    else:
        schema = f"batch_test_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(os.environ["TEST_DATABASE_URL"])
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    engine = create_engine(url.render_as_string(hide_password=False))
    try:
        upgrade(engine)
        with Session(engine) as session:
            sync_catalog(session, PACKAGE_ROOT / "programs", PACKAGE_ROOT / "rubrics", now=NOW)
            session.commit()
        yield engine
    finally:
        engine.dispose()
        if request.param != "sqlite":
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


@contextlib.contextmanager
def app_on_file(file_database, tmp_path, monkeypatch, **settings: str):
    """The app configured from the environment, as a worker would be, on the file database;
    yields (client, session, funded, app) with two funded applications."""
    environment = {
        "GRANTS_DATABASE_URL": file_database.url.render_as_string(hide_password=False),
        "GRANTS_INSTANCE_DIR": str(tmp_path / "instance"),
        "GRANTS_STORAGE_DIR": str(tmp_path / "files"),
        "GRANTS_BATCH_DIR": str(tmp_path / "batches"),
        "GRANTS_SECRET_KEY": "batch-test-secret",
        **{f"GRANTS_{name}": value for name, value in settings.items()},
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    auth = AuthActions(client)

    # A plain engine: its transactions never take SQLite's write lock before they write, so
    # the test's session never holds up the app's requests or the worker.
    plain = sa.create_engine(file_database.url)
    with Session(plain, expire_on_commit=False) as session:
        def make_user(role: Role = Role.APPLICANT, *, lg_code: str = "011002", **_: Any) -> User:
            n = session.scalar(sa.select(sa.func.count()).select_from(User)) + 1
            org = organization(session, "札幌市", lg_code) if role is Role.APPLICANT else None
            user = accounts.create_user(session, email=f"rq{n}@example.jp", password=PASSWORD,
                                        display_name=f"利用者{n}", role=role, organization=org,
                                        now=NOW)
            session.commit()
            return user

        template = submit_application(client, auth, session, make_user)
        officer = make_user(Role.OFFICER)
        funded = [fund(session, template, officer, reference=f"AUD-Q{n}", amount=2_000_000,
                       partners=[]) for n in range(2)]
        session.commit()
        auditor = make_user(Role.AUDITOR)
        auth.sign_in(auditor)
        try:
            yield client, session, funded, app
        finally:
            session.rollback()  # end the last read before the database goes
    plain.dispose()
    app.extensions["grants.engine"].dispose()  # PostgreSQL connections are closed, not dropped


def check_done(client, session, job, funded) -> None:
    session.refresh(job)
    assert job.state is BatchState.DONE, job.error
    assert job.done == job.total == 2
    download = client.get(f"/audit/batches/{job.id}/download")
    assert download.status_code == 200
    data = download.get_data()
    download.close()
    assert hashlib.sha256(data).hexdigest() == job.result_sha256
    check_zip(data, funded)


@pytest.fixture
def rq_queue(redis_url, monkeypatch):
    """A queue of this test's own (no other suite's jobs), emptied and removed afterwards; one
    record per part, so that the two records make two parts."""
    from redis import Redis
    from rq import Queue

    monkeypatch.setattr(batches, "CHUNK_SIZE", 1)
    connection = Redis.from_url(redis_url)
    queue = Queue(f"grants-test-{uuid.uuid4().hex[:12]}", connection=connection)
    try:
        yield queue
    finally:
        job_ids = set(queue.job_ids)
        for registry in (queue.finished_job_registry, queue.failed_job_registry,
                         queue.deferred_job_registry, queue.started_job_registry):
            job_ids.update(registry.get_job_ids())
        queue.empty()
        queue.delete(delete_jobs=True)
        for job_id in job_ids:
            job = queue.fetch_job(job_id)
            if job is not None:
                job.delete()
        for key in connection.scan_iter(match=f"rq:*:{queue.name}*"):  # the registries
            connection.delete(key)
        connection.close()


def run_batch_on_rq(client, session, queue, monkeypatch, tmp_path, **patches: Any):
    """Request a batch through the app, check it fans out, then let one SimpleWorker (burst)
    run the parts and the finisher; ``patches`` replace grants.jobs functions once queued.
    Returns the batch and the RQ jobs (the parts, then the finisher)."""
    from rq import SimpleWorker

    response = client.post("/audit/batches", data={"call": KEY})
    assert response.status_code == 303
    job = session.scalar(sa.select(BatchJob))
    assert job.state is BatchState.QUEUED  # queued, not built in the request
    assert client.get(response.headers["Location"]).headers["Refresh"] == "3"
    registry = queue.deferred_job_registry
    assert len(queue) == 2 and len(registry) == 1  # two parts queued, the finisher waits
    parts = [queue.fetch_job(job_id) for job_id in queue.job_ids]
    finisher = queue.fetch_job(registry.get_job_ids()[0])
    assert [p.func_name for p in parts] == ["grants.jobs.render_chunk"] * 2
    assert [p.args for p in parts] == [(job.id, [i]) for i in job.application_ids]
    assert (finisher.func_name, finisher.args) == ("grants.jobs.finish_batch", (job.id,))
    assert finisher.allow_dependency_failures
    assert sorted(finisher._dependency_ids) == sorted(p.id for p in parts)

    for name, replacement in patches.items():
        monkeypatch.setattr(jobs, name, replacement)
    worker = SimpleWorker([queue], connection=queue.connection)
    assert worker.work(burst=True)
    assert len(queue) == 0 and len(registry) == 0
    assert list((tmp_path / "batches").glob(".*")) == []  # no staging directory, no partial
    return job, parts, finisher


def test_batch_fans_out_on_rq_workers(rq_queue, file_database, tmp_path, monkeypatch,
                                      redis_url):
    from rq.job import JobStatus

    with app_on_file(file_database, tmp_path, monkeypatch, RQ_QUEUE=rq_queue.name,
                     REDIS_URL=redis_url) as (client, session, funded, app):
        assert app.config["REDIS_URL"] == redis_url
        job, parts, finisher = run_batch_on_rq(client, session, rq_queue, monkeypatch,
                                               tmp_path)
        assert [p.get_status() for p in [*parts, finisher]] == [JobStatus.FINISHED] * 3
        check_done(client, session, job, funded)
        assert [p.name for p in (tmp_path / "batches").iterdir()] == [f"batch-{job.id}.zip"]


def test_a_failed_part_fails_the_batch_on_rq(rq_queue, file_database, tmp_path, monkeypatch,
                                             redis_url):
    from rq.job import JobStatus

    with app_on_file(file_database, tmp_path, monkeypatch, RQ_QUEUE=rq_queue.name,
                     REDIS_URL=redis_url) as (client, session, funded, _app):
        broken, real = funded[1].id, jobs.render_record

        def render(db, application):
            if application.id == broken:
                raise RuntimeError("the PDF renderer is not available")
            return real(db, application)

        job, parts, finisher = run_batch_on_rq(client, session, rq_queue, monkeypatch,
                                               tmp_path,
                                               render_record=render)
        assert [p.get_status() for p in [*parts, finisher]] == [
            JobStatus.FINISHED, JobStatus.FAILED, JobStatus.FINISHED]  # the finisher ran
        session.refresh(job)
        assert job.state is BatchState.FAILED and job.done == 1
        assert job.error == "render: RuntimeError: the PDF renderer is not available"
        assert job.result_path is None and list((tmp_path / "batches").iterdir()) == []
        assert client.get(f"/audit/batches/{job.id}/download").status_code == 404


def test_a_part_that_dies_silently_fails_the_batch_on_rq(rq_queue, file_database, tmp_path,
                                                         monkeypatch, redis_url):
    """A part whose work horse died never says so in the batch: the finisher does."""
    from rq.job import JobStatus

    def killed(job_id: int, application_ids: list[int]) -> None:
        raise SystemError("work horse killed")

    with app_on_file(file_database, tmp_path, monkeypatch, RQ_QUEUE=rq_queue.name,
                     REDIS_URL=redis_url) as (client, session, _funded, _app):
        job, parts, finisher = run_batch_on_rq(client, session, rq_queue, monkeypatch,
                                               tmp_path,
                                               render_chunk=killed)
        assert [p.get_status() for p in [*parts, finisher]] == [
            JobStatus.FAILED, JobStatus.FAILED, JobStatus.FINISHED]
        session.refresh(job)
        assert job.state is BatchState.FAILED and job.done == 0
        assert job.error == (f"worker: batch {job.id}: records 1-1 of 2 failed on a worker: "
                             "SystemError: work horse killed")
        assert list((tmp_path / "batches").glob("*")) == []


def test_batch_in_a_background_thread_without_redis(file_database, tmp_path, monkeypatch):
    with app_on_file(file_database, tmp_path, monkeypatch, BATCH_RUNNER="thread") as (
            client, session, funded, app):
        assert app.config["REDIS_URL"] is None
        response = client.post("/audit/batches", data={"call": KEY})
        assert response.status_code == 303  # answered before the records are rendered
        job = session.scalar(sa.select(BatchJob))
        builder = next(t for t in threading.enumerate() if t.name == f"batch-{job.id}")
        builder.join(timeout=120)
        check_done(client, session, job, funded)
