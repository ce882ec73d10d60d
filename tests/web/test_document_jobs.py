"""Documents too slow for their request: review packets and audit records go to the background.

With the in-request render limit forced tiny, the download redirects to the job's page; the
job runs inline (BATCH_RUNNER=request), in a thread, or on an RQ worker (TEST_REDIS_URL); the
page then offers the PDF to the person who asked and nobody else, and the download is audited
as a direct one is. Documents come from the real renderer.
"""

from __future__ import annotations

import hashlib
import io
import threading

import pypdf
import pytest
import sqlalchemy as sa

from grants import jobs
from grants.domain.workflow import Role
from grants.models import Assignment, AssignmentState, AuditEvent, BatchJob, BatchState
from grants.models.batches import DocumentKind
from grants.rendering import RenderTimeout, limits
from grants.services import document_jobs
from grants.services.audit import AuditTag, verify
from grants.version import installed_version
from tests.conftest import NOW
from tests.documents.conftest import Decided, decided
from tests.web import test_audit_batches as batch_tests
from tests.web.reviewflow import submit_application
from tests.web.test_audit_batches import app_on_file
from tests.web.test_audit_search import fund

# The batches' fixtures: a database the workers share, and a Redis queue of the test's own.
file_database = batch_tests.file_database
redis_url = batch_tests.redis_url
rq_queue = batch_tests.rq_queue


@pytest.fixture
def too_slow(monkeypatch):
    """No render fits in a request any more; background renders keep their own limit."""
    monkeypatch.setattr(limits, "REQUEST_RENDER_SECONDS", 0.001)


@pytest.fixture
def decided_application(app, client, auth, session, make_user) -> Decided:
    with app.test_request_context():  # the decision's e-mails render templates
        return decided(client, auth, session, make_user)


def _text(pdf: bytes) -> str:
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return text.replace("\n", "")


def _events(session, tag: AuditTag) -> list[AuditEvent]:
    return list(session.scalars(sa.select(AuditEvent).filter_by(tag=tag.value)
                                .order_by(AuditEvent.id)))


def _job_of(session, user) -> BatchJob:
    return session.scalar(sa.select(BatchJob).filter_by(requested_by_id=user.id))


def _download(client, page_url: str) -> bytes:
    """Follow the job's page to its PDF, as the person who asked would."""
    page = client.get(page_url)
    assert page.status_code == 200 and "Refresh" not in page.headers
    pdf_url = f"{page_url}.pdf"
    assert f'href="{pdf_url}"' in page.text
    response = client.get(pdf_url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    return response.data


def test_a_slow_officer_packet_is_built_in_the_background_for_its_requester_only(
        client, auth, session, make_user, decided_application, too_slow):
    d = decided_application
    auth.sign_in(d.officer)
    packet_url = f"/manage/applications/{d.application.id}/packet.pdf"

    response = client.get(packet_url)

    job = _job_of(session, d.officer)
    page_url = f"/manage/applications/{d.application.id}/packet/{job.id}"
    assert response.status_code == 303 and response.headers["Location"] == page_url
    session.refresh(job)
    assert job.state is BatchState.DONE, job.error
    assert job.document is DocumentKind.OFFICER_PACKET
    assert list(job.application_ids) == [d.application.id]
    assert _events(session, AuditTag.PACKET_DOWNLOAD) == []  # queued is not downloaded
    pdf = _download(client, page_url)
    assert hashlib.sha256(pdf).hexdigest() == job.result_sha256
    text = _text(pdf)
    assert d.application.reference in text
    for reviewer in d.reviewers:  # the program office's packet: every review
        assert d.comments[reviewer.id] in text
    [event] = _events(session, AuditTag.PACKET_DOWNLOAD)
    assert event.actor_id == d.officer.id and event.subject_id == d.application.id
    pdfs = [a.sha256 for a in d.application.attachments if a.mime_type == "application/pdf"]
    assert event.data == {"appended": pdfs, "skipped": [], "bytes": len(pdf)} and pdfs
    assert verify(session).broken is None
    # A document job is not a batch of records: not listed, not reachable as one.
    assert f"/audit/batches/{job.id}" not in client.get("/audit/batches").text
    assert client.get(f"/audit/batches/{job.id}").status_code == 404
    assert client.get(f"/audit/batches/{job.id}/download").status_code == 404

    auth.sign_out()
    auth.sign_in(make_user(Role.OFFICER))  # another officer: the job does not exist for them
    assert client.get(page_url).status_code == 404
    assert client.get(f"{page_url}.pdf").status_code == 404
    auth.sign_out()
    auth.sign_in(d.reviewers[0])  # not the program office: refused as the packet itself is
    assert client.get(page_url).status_code == 403
    assert client.get(f"{page_url}.pdf").status_code == 403
    assert len(_events(session, AuditTag.PACKET_DOWNLOAD)) == 1


def test_a_slow_reviewer_packet_holds_only_their_review_and_stays_theirs(
        client, auth, session, decided_application, too_slow):
    d = decided_application
    mine, theirs = d.reviewers
    assignments = {a.reviewer_id: a for a in session.scalars(
        sa.select(Assignment).filter_by(application_id=d.application.id))}
    auth.sign_in(mine)

    response = client.get(f"/review/assignments/{assignments[mine.id].id}/packet.pdf")

    job = _job_of(session, mine)
    page_url = f"/review/assignments/{assignments[mine.id].id}/packet/{job.id}"
    assert response.status_code == 303 and response.headers["Location"] == page_url
    assert job.document is DocumentKind.REVIEWER_PACKET
    text = _text(_download(client, page_url))
    assert d.comments[mine.id] in text
    assert d.comments[theirs.id] not in text and theirs.display_name not in text
    [event] = _events(session, AuditTag.PACKET_DOWNLOAD)
    assert event.actor_id == mine.id

    auth.sign_out()
    auth.sign_in(theirs)  # through their own assignment, or through mine: nothing there
    their_page = f"/review/assignments/{assignments[theirs.id].id}/packet/{job.id}"
    for url in (their_page, f"{their_page}.pdf", page_url, f"{page_url}.pdf"):
        assert client.get(url).status_code == 404
    auth.sign_out()
    auth.sign_in(mine)
    assignments[mine.id].state = AssignmentState.DECLINED  # no longer theirs to review
    assignments[mine.id].decline_reason = "利害関係が判明した"
    session.commit()
    assert client.get(page_url).status_code == 404
    assert client.get(f"{page_url}.pdf").status_code == 404


def _funded(client, auth, session, make_user):
    template = submit_application(client, auth, session, make_user)
    application = fund(session, template, make_user(Role.OFFICER), reference="AUD-SLOW",
                       amount=5_000_000, partners=[])
    session.commit()
    return application


def test_a_slow_audit_record_is_built_in_the_background_and_audited_when_downloaded(
        client, auth, session, make_user, too_slow):
    funded = _funded(client, auth, session, make_user)
    auditor = make_user(Role.AUDITOR)
    auth.sign_in(auditor)

    response = client.get(f"/audit/applications/{funded.id}/record.pdf")

    job = _job_of(session, auditor)
    page_url = f"/audit/applications/{funded.id}/record/{job.id}"
    assert response.status_code == 303 and response.headers["Location"] == page_url
    assert job.document is DocumentKind.RECORD
    assert _events(session, AuditTag.RECORD_DOWNLOAD) == []
    pdf = _download(client, page_url)
    assert "AUD-SLOW" in _text(pdf)
    [event] = _events(session, AuditTag.RECORD_DOWNLOAD)
    assert event.actor_id == auditor.id and event.data["application_ids"] == [funded.id]
    assert event.data["sha256"] == hashlib.sha256(pdf).hexdigest() == job.result_sha256
    assert verify(session).broken is None

    auth.sign_out()
    auth.sign_in(make_user(Role.AUDITOR))
    assert client.get(page_url).status_code == 404
    assert client.get(f"{page_url}.pdf").status_code == 404


def test_a_render_in_time_still_downloads_directly(client, auth, session, make_user):
    funded = _funded(client, auth, session, make_user)
    auth.sign_in(make_user(Role.AUDITOR))

    response = client.get(f"/audit/applications/{funded.id}/record.pdf")

    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert session.scalar(sa.select(sa.func.count()).select_from(BatchJob)) == 0


def test_the_page_reloads_itself_until_the_document_is_ready(client, auth, session, make_user):
    funded = _funded(client, auth, session, make_user)
    auditor = make_user(Role.AUDITOR)
    job = document_jobs.request_document(session, DocumentKind.RECORD, funded, actor=auditor,
                                         now=NOW)
    session.commit()
    auth.sign_in(auditor)
    page_url = f"/audit/applications/{funded.id}/record/{job.id}"

    page = client.get(page_url)

    assert page.status_code == 200 and page.headers["Refresh"] == "3"
    assert 'role="status"' in page.text and f'href="{page_url}.pdf"' not in page.text
    assert client.get(f"{page_url}.pdf").status_code == 404
    # The job's page answers for this document only, not for another application's.
    other = fund(session, funded, make_user(Role.OFFICER), reference="AUD-OTHER",
                 amount=1_000_000)
    session.commit()
    assert client.get(f"/audit/applications/{other.id}/record/{job.id}").status_code == 404


def test_a_document_too_slow_even_in_the_background_fails_clearly(
        client, auth, session, make_user, too_slow, monkeypatch):
    funded = _funded(client, auth, session, make_user)
    auditor = make_user(Role.AUDITOR)
    auth.sign_in(auditor)

    def hopeless(_session, _application):
        raise RenderTimeout("rendering took longer than 60 s and was stopped")

    monkeypatch.setattr(jobs, "render_record", hopeless)
    response = client.get(f"/audit/applications/{funded.id}/record.pdf")

    assert response.status_code == 303
    job = _job_of(session, auditor)
    session.refresh(job)
    assert job.state is BatchState.FAILED and job.error.startswith("timeout: RenderTimeout")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "Refresh" not in page.headers
    assert 'role="alert"' in page.text and "PDF の作成に時間がかかりすぎた" in page.text
    assert "longer than 60 s" not in page.text and "RenderTimeout" not in page.text
    assert client.get(f"{response.headers['Location']}.pdf").status_code == 404
    assert _events(session, AuditTag.RECORD_DOWNLOAD) == []


# --- where the job runs, as batches do ---------------------------------------------------------


def _request_slow_record(client, session, funded) -> tuple[BatchJob, str]:
    response = client.get(f"/audit/applications/{funded[0].id}/record.pdf")
    assert response.status_code == 303  # answered before the record is rendered
    return session.scalar(sa.select(BatchJob)), response.headers["Location"]


def test_a_slow_document_in_a_background_thread_without_redis(file_database, tmp_path,
                                                              monkeypatch, too_slow):
    with app_on_file(file_database, tmp_path, monkeypatch, BATCH_RUNNER="thread") as (
            client, session, funded, _app):
        job, page_url = _request_slow_record(client, session, funded)
        builder = next(t for t in threading.enumerate() if t.name == f"document-{job.id}")
        builder.join(timeout=120)
        session.refresh(job)
        assert job.state is BatchState.DONE, job.error
        assert hashlib.sha256(_download(client, page_url)).hexdigest() == job.result_sha256
        assert [p.name for p in (tmp_path / "batches").iterdir()] == [f"document-{job.id}.pdf"]


def test_a_slow_document_on_an_rq_worker(rq_queue, file_database, tmp_path, monkeypatch,
                                        redis_url, too_slow):
    from rq import SimpleWorker
    from rq.job import JobStatus

    with app_on_file(file_database, tmp_path, monkeypatch, RQ_QUEUE=rq_queue.name,
                     REDIS_URL=redis_url) as (client, session, funded, _app):
        job, page_url = _request_slow_record(client, session, funded)
        assert job.state is BatchState.QUEUED
        assert client.get(page_url).headers["Refresh"] == "3"
        [queued] = [rq_queue.fetch_job(job_id) for job_id in rq_queue.job_ids]
        assert (queued.func_name, queued.args) == ("grants.jobs.build_document", (job.id,))
        assert queued.meta == {jobs.VERSION_KEY: installed_version()}

        assert SimpleWorker([rq_queue], connection=rq_queue.connection).work(burst=True)

        assert queued.get_status() == JobStatus.FINISHED
        session.refresh(job)
        assert job.state is BatchState.DONE, job.error
        assert "AUD-Q0" in _text(_download(client, page_url))
