"""What the auditor sees when a batch failed, was lost or expired, and running it again.

The pages say why in a plain sentence of the reader's language, never with the exception the
log keeps; a batch still "running" past GRANTS_BATCH_DEADLINE_HOURS is failed when its page is
shown; an expired ZIP (``batches prune``) keeps its row and hash, and "Run the batch again"
queues the same applications as a new batch, for its requester only. Single documents built
in the background (grants.services.document_jobs) get the same treatment on their own page.
Records are stand-ins here: the real renderer's output is tested in test_audit_batches.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from grants import jobs
from grants.domain.workflow import Role
from grants.models import AuditEvent, BatchJob, BatchState
from grants.rendering import RenderTimeout
from grants.services import batches
from grants.services.audit import AuditTag
from grants.services.auditing import Criteria
from tests.conftest import NOW
from tests.web.reviewflow import KEY
from tests.web.test_audit_batches import _three_funded

STUB_PDF = b"%PDF-1.7\n% stand-in\n%%EOF\n"
RETENTION = dt.timedelta(days=30)
DEADLINE = dt.timedelta(hours=12)


@pytest.fixture
def stub_records(monkeypatch):
    monkeypatch.setattr(jobs, "render_record", lambda _session, _application: STUB_PDF)


@pytest.fixture
def auditor(client, auth, session, make_user, stub_records):
    _three_funded(client, auth, session, make_user)
    person = make_user(Role.AUDITOR)
    auth.sign_in(person)
    client.post("/language", data={"locale": "en"})
    return person


def _batch(client, session, auditor) -> BatchJob:
    response = client.post("/audit/batches", data={"call": KEY})
    assert response.status_code == 303
    job = session.scalars(sa.select(BatchJob).filter_by(requested_by_id=auditor.id)
                          .order_by(BatchJob.id.desc())).first()
    session.refresh(job)
    return job


def _prune(session, app, now: dt.datetime) -> batches.Pruned:
    return batches.prune(session, app.config["BATCH_DIR"], now=now, retention=RETENTION,
                         deadline=DEADLINE)


def _requests(session) -> list[AuditEvent]:
    return list(session.scalars(sa.select(AuditEvent).filter_by(
        tag=AuditTag.BATCH_REQUEST.value).order_by(AuditEvent.id)))


def test_an_expired_zip_says_so_and_is_built_again_from_the_same_applications(
        app, client, session, auditor):
    job = _batch(client, session, auditor)
    assert job.state is BatchState.DONE
    digest = job.result_sha256
    assert _prune(session, app, NOW + RETENTION - dt.timedelta(minutes=1)).expired == 0
    assert _prune(session, app, NOW + RETENTION + dt.timedelta(minutes=1)).expired == 1
    session.refresh(job)
    assert job.expired and job.result_sha256 == digest

    page = client.get(f"/audit/batches/{job.id}")
    assert page.status_code == 200 and "Refresh" not in page.headers
    assert "The ZIP was deleted 30 days after it was made" in page.text
    assert digest in page.text
    assert f'action="/audit/batches/{job.id}/again"' in page.text
    assert f"/audit/batches/{job.id}/download" not in page.text
    assert client.get(f"/audit/batches/{job.id}/download").status_code == 404
    listing = client.get("/audit/batches").text
    assert "Expired" in listing

    again = client.post(f"/audit/batches/{job.id}/again")
    assert again.status_code == 303
    rebuilt = _batch_after(session, auditor, job)
    assert again.headers["Location"] == f"/audit/batches/{rebuilt.id}"
    assert rebuilt.state is BatchState.DONE  # built inline (BATCH_RUNNER=request)
    assert rebuilt.application_ids == job.application_ids and rebuilt.criteria == job.criteria
    download = client.get(f"/audit/batches/{rebuilt.id}/download")
    assert download.status_code == 200
    download.close()
    session.refresh(job)
    assert job.expired  # the old batch stays as it was: history
    request = _requests(session)[-1]
    assert (request.subject_id, request.actor_id) == (rebuilt.id, auditor.id)
    assert request.data == {"criteria": job.criteria, "application_ids": job.application_ids,
                            "rerun_of": job.id}


def _batch_after(session, auditor, job: BatchJob) -> BatchJob:
    newer = session.scalar(sa.select(BatchJob).where(BatchJob.requested_by_id == auditor.id,
                                                     BatchJob.id > job.id))
    session.refresh(newer)
    return newer


def test_a_failed_batch_says_why_in_a_sentence_and_runs_again(
        client, session, auditor, monkeypatch):
    def broken(_session, _application):
        raise RuntimeError("weasyprint exploded at 0xdeadbeef")

    monkeypatch.setattr(jobs, "render_record", broken)
    job = _batch(client, session, auditor)
    assert job.state is BatchState.FAILED
    assert job.error == "render: RuntimeError: weasyprint exploded at 0xdeadbeef"

    page = client.get(f"/audit/batches/{job.id}")
    assert 'role="alert"' in page.text
    assert "The batch could not be built. A PDF could not be made." in page.text
    for raw in ("RuntimeError", "0xdeadbeef", "render:"):
        assert raw not in page.text
    client.post("/language", data={"locale": "ja"})
    assert "PDF を作成できませんでした" in client.get(f"/audit/batches/{job.id}").text
    client.post("/language", data={"locale": "en"})

    monkeypatch.setattr(jobs, "render_record", lambda _session, _application: STUB_PDF)
    again = client.post(f"/audit/batches/{job.id}/again")
    rebuilt = _batch_after(session, auditor, job)
    assert again.headers["Location"] == f"/audit/batches/{rebuilt.id}"
    assert rebuilt.state is BatchState.DONE
    session.refresh(job)
    assert job.state is BatchState.FAILED


@pytest.mark.parametrize(("error", "sentence"), [
    ("timeout: RenderTimeout: rendering took longer than 60 s", "took too long to make"),
    ("font: MissingJapaneseFont: no font", "lacks the Japanese font"),
    ("missing: LookupError: application 7 has no submission", "could not be found"),
    ("write: OSError: [Errno 28] No space left on device", "its disk may be full"),
    ("worker: batch 1: records 1-10 of 20 failed on a worker: SystemError", "stopped before"),
    ("version: 0.1.0 vs 0.2.0", "The worker runs a different version of Grants (0.1.0 vs "
                                "0.2.0); restart the workers after an upgrade."),
    ("version: garbled", "An error on the server stopped it."),
    ("KeyError: 'x'", "An error on the server stopped it."),  # kept before errors had kinds
])
def test_each_kind_of_failure_has_its_sentence(client, session, auditor, error, sentence):
    job = batches.request_batch(session, Criteria(program_key=KEY), actor=auditor, now=NOW)
    batches.fail_batch(session, job.id, error, now=lambda: NOW)
    page = client.get(f"/audit/batches/{job.id}").text
    assert sentence in page
    assert error not in page and "Error" not in page.replace("notice-error", "")


def test_a_batch_lost_past_the_deadline_fails_when_its_page_is_shown(
        client, session, auditor, frozen_clock):
    job = batches.request_batch(session, Criteria(program_key=KEY), actor=auditor,
                                now=NOW - DEADLINE + dt.timedelta(minutes=5))
    session.commit()
    waiting = client.get(f"/audit/batches/{job.id}")
    assert waiting.headers["Refresh"] == "3"  # still within the deadline

    job.created_at = NOW - DEADLINE - dt.timedelta(minutes=5)
    session.commit()
    page = client.get(f"/audit/batches/{job.id}")
    assert "Refresh" not in page.headers
    assert "It was not finished 12 hours after it was asked for" in page.text
    assert f'action="/audit/batches/{job.id}/again"' in page.text
    session.refresh(job)
    assert job.state is BatchState.FAILED
    assert job.error == "lost: not finished 12 hours after its request"
    assert "Failed" in client.get("/audit/batches").text


def test_a_batch_under_way_or_ready_is_not_run_again(client, session, auditor):
    ready = _batch(client, session, auditor)
    queued = batches.request_batch(session, Criteria(program_key=KEY), actor=auditor, now=NOW)
    session.commit()
    count = session.scalar(sa.select(sa.func.count()).select_from(BatchJob))
    for job in (ready, queued):
        response = client.post(f"/audit/batches/{job.id}/again", follow_redirects=True)
        assert response.status_code == 200
        assert "there is nothing to run again" in response.text
    assert session.scalar(sa.select(sa.func.count()).select_from(BatchJob)) == count


def test_only_the_requester_runs_a_batch_again(client, auth, session, auditor, make_user):
    job = batches.request_batch(session, Criteria(program_key=KEY), actor=auditor, now=NOW)
    batches.fail_batch(session, job.id, "render: RuntimeError: x", now=lambda: NOW)
    count = session.scalar(sa.select(sa.func.count()).select_from(BatchJob))
    auth.sign_out()
    assert client.post(f"/audit/batches/{job.id}/again").status_code in (302, 303)  # sign in
    for role, refused in ((Role.AUDITOR, 404), (Role.OFFICER, 404), (Role.APPLICANT, 403),
                          (Role.REVIEWER, 403), (Role.ADMIN, 403)):
        auth.sign_in(make_user(role))
        assert client.post(f"/audit/batches/{job.id}/again").status_code == refused, role
        assert client.post("/audit/batches/987654/again").status_code in (403, 404)
        auth.sign_out()
    assert session.scalar(sa.select(sa.func.count()).select_from(BatchJob)) == count


# --- single documents --------------------------------------------------------------------------


def _too_slow_then(monkeypatch, background) -> None:
    """Renders that miss the request's limit, then ``background`` renders the job."""
    calls = iter(range(1_000))

    def render(session, application):
        if next(calls) % 2 == 0:
            raise RenderTimeout("rendering took longer than 20 s and was stopped")
        return background(session, application)

    monkeypatch.setattr(jobs, "render_record", render)


def test_a_slow_record_expires_and_fails_like_a_batch(app, client, session, auditor,
                                                      monkeypatch):
    _too_slow_then(monkeypatch, lambda _session, _application: STUB_PDF)
    record_url = _some_record(client)
    response = client.get(record_url)
    assert response.status_code == 303
    page_url = response.headers["Location"]
    job = session.scalar(sa.select(BatchJob).filter_by(requested_by_id=auditor.id))
    session.refresh(job)
    assert job.state is BatchState.DONE
    assert client.get(f"{page_url}.pdf").status_code == 200

    assert _prune(session, app, NOW + RETENTION + dt.timedelta(days=1)).expired == 1
    page = client.get(page_url)
    assert "This PDF was deleted 30 days after it was made" in page.text
    assert client.get(f"{page_url}.pdf").status_code == 404

    def hopeless(_session, _application):
        raise OSError(28, "No space left on device")

    _too_slow_then(monkeypatch, hopeless)
    failed = client.get(client.get(record_url).headers["Location"])
    assert ("The document could not be made. The file could not be saved on the server (its "
            "disk may be full).") not in failed.text  # the render failed, not the saving
    assert "The document could not be made. A PDF could not be made." in failed.text
    assert "No space left" not in failed.text and "OSError" not in failed.text


def _some_record(client) -> str:
    search = client.get("/audit/", query_string={"call": KEY}).text
    start = search.index('href="/audit/applications/') + len('href="')
    return search[start:search.index('"', start)] + "/record.pdf"
