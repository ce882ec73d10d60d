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
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import create_app
from grants.db import create_engine
from grants.domain.workflow import Role
from grants.models import Application, AuditEvent, BatchJob, BatchState, Decision, User
from grants.services import accounts, batches
from grants.services.audit import AuditTag
from grants.services.catalog import sync_catalog
from tests.conftest import NOW, PASSWORD, ROOT, AuthActions, upgrade
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


# --- RQ --------------------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)")
    return url


@pytest.fixture
def file_database(tmp_path) -> sa.Engine:
    """A migrated SQLite file with the catalog, outside the rolled-back test transaction."""
    engine = create_engine(f"sqlite:///{tmp_path / 'rq.sqlite'}")
    upgrade(engine)
    with Session(engine) as session:
        sync_catalog(session, ROOT / "programs", ROOT / "rubrics", now=NOW)
        session.commit()
    yield engine
    engine.dispose()


@contextlib.contextmanager
def app_on_file(file_database, tmp_path, monkeypatch, **settings: str):
    """The app configured from the environment, as a worker would be, on the file database;
    yields (client, session, funded, auditor) with two funded applications."""
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
        yield client, session, funded, app
    plain.dispose()


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


def test_batch_on_rq_worker(redis_url, file_database, tmp_path, monkeypatch):
    from redis import Redis
    from rq import Queue, SimpleWorker

    queue_name = f"grants-test-{uuid.uuid4().hex[:12]}"
    connection = Redis.from_url(redis_url)
    queue = Queue(queue_name, connection=connection)
    try:
        with app_on_file(file_database, tmp_path, monkeypatch, RQ_QUEUE=queue_name,
                         REDIS_URL=redis_url) as (client, session, funded, app):
            assert app.config["REDIS_URL"] == redis_url
            response = client.post("/audit/batches", data={"call": KEY})
            assert response.status_code == 303
            job = session.scalar(sa.select(BatchJob))
            assert job.state is BatchState.QUEUED  # queued, not built in the request
            assert client.get(response.headers["Location"]).headers["Refresh"] == "3"
            assert len(queue) == 1

            worker = SimpleWorker([queue], connection=connection)
            assert worker.work(burst=True)
            check_done(client, session, job, funded)
    finally:
        queue.empty()
        queue.delete(delete_jobs=True)
        for key in connection.scan_iter(match=f"rq:*:{queue_name}"):  # the registries
            connection.delete(key)
        connection.close()


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
