"""Batch use cases: requesting (what is refused, what is audited) and building (progress,
failure, a batch that is not queued any more), in one go and in parts as RQ workers run it
(parts in any order, a part run twice, a failed part, a part that died without a word).

Building with the real records is tested end to end in tests/web/test_audit_batches.py; here a
stand-in renderer makes the failures and the progress observable.
"""

from __future__ import annotations

import zipfile

import pytest
import sqlalchemy as sa

from grants.domain.workflow import Role
from grants.models import AuditEvent, BatchJob, BatchState
from grants.services import batches
from grants.services.audit import AuditTag
from grants.services.auditing import Criteria
from tests.conftest import NOW
from tests.web.reviewflow import KEY, submit_application
from tests.web.test_audit_search import OTHER_KEY, fund


@pytest.fixture
def three(client, auth, session, make_user):
    template = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    made = [fund(session, template, officer, reference=f"AUD-S{n}", amount=1_000_000)
            for n in range(3)]
    session.commit()
    return made


def _request(session, make_user, criteria=None):
    job = batches.request_batch(session, criteria or Criteria(program_key=KEY),
                                actor=make_user(Role.AUDITOR), now=NOW)
    session.commit()
    return job


def _done(session, job):
    """The progress as stored (the counting updates bypass the session's objects)."""
    return session.scalar(sa.select(BatchJob.done).filter_by(id=job.id))


def _stand_in(_session, application):
    return b"%PDF-stand-in " + application.reference.encode()


def test_request_batch_fixes_the_applications_and_is_audited(session, make_user, three):
    job = _request(session, make_user)
    assert job.state is BatchState.QUEUED and (job.done, job.total) == (0, 3)
    assert sorted(job.application_ids) == sorted(a.id for a in three)
    event = session.scalar(sa.select(AuditEvent).filter_by(tag=AuditTag.BATCH_REQUEST.value))
    assert event.actor_id == job.requested_by_id
    assert event.data == {"criteria": {"program_key": KEY}, "application_ids": job.application_ids}


def test_request_batch_refuses_empty_and_too_large_searches(session, make_user, three):
    with pytest.raises(batches.BatchRefused, match="empty"):
        _request(session, make_user, Criteria(program_key=OTHER_KEY))
    with pytest.raises(batches.BatchRefused, match="too_many"):
        batches.request_batch(session, Criteria(), actor=make_user(Role.AUDITOR), now=NOW,
                              limit=2)


def test_build_batch_counts_progress_and_writes_the_manifest(session, make_user, three,
                                                             tmp_path):
    tmp_path = tmp_path / "batches"
    job = _request(session, make_user)
    seen = []

    def render(_session, application):
        seen.append(_done(session, job))
        return _stand_in(_session, application)

    built = batches.build_batch(session, job.id, directory=tmp_path, render=render,
                                now=lambda: NOW)
    assert built.state is BatchState.DONE and built.done == 3
    assert seen == [0, 1, 2]
    assert built.started_at == NOW and built.finished_at == NOW
    path = tmp_path / batches.result_name(built)
    assert path == tmp_path / f"batch-{job.id}.zip"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no partial file left
    archive = zipfile.ZipFile(path)
    manifest = archive.read("manifest.csv").decode().splitlines()
    assert manifest[0] == "reference,pdf_sha256,snapshot_sha256"
    assert len(manifest) == 4
    info = archive.getinfo("AUD-S0.pdf")
    assert info.compress_type == zipfile.ZIP_STORED and info.external_attr >> 16 == 0o644


def test_build_batch_failure_is_recorded_and_leaves_no_file(session, make_user, three,
                                                           tmp_path):
    tmp_path = tmp_path / "batches"
    job = _request(session, make_user)

    def render(_session, application):
        if _done(session, job) == 1:  # the second record
            raise RuntimeError("the PDF renderer is not available")
        return b"%PDF-stand-in"

    built = batches.build_batch(session, job.id, directory=tmp_path, render=render,
                                now=lambda: NOW)
    assert built.state is BatchState.FAILED
    assert built.error == "render: RuntimeError: the PDF renderer is not available"
    assert built.done == 1 and built.result_path is None
    assert list(tmp_path.iterdir()) == []
    assert batches.result_name(built) is None


def test_build_batch_leaves_a_batch_that_is_not_queued_alone(session, make_user, three,
                                                            tmp_path):
    job = _request(session, make_user)
    job.state = BatchState.RUNNING
    session.commit()

    def render(_session, _application):
        raise AssertionError("a running batch is not built twice")

    assert batches.build_batch(session, job.id, directory=tmp_path, render=render,
                               now=lambda: NOW).state is BatchState.RUNNING
    assert batches.build_batch(session, 987654, directory=tmp_path, render=render,
                               now=lambda: NOW) is None


def test_batch_constraints_refuse_impossible_states(session, make_user, three):
    job = _request(session, make_user)
    job.state = BatchState.DONE  # done, but nothing rendered and no file
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()
    session.rollback()


def test_file_names_and_manifest_are_plain():
    assert batches.file_name("G26-7K3M-9QXP") == "G26-7K3M-9QXP.pdf"
    assert batches.file_name("../a b/c") == ".._a_b_c.pdf"
    assert batches.manifest([("R1", "a" * 64, "b" * 64)]) == (
        b"reference,pdf_sha256,snapshot_sha256\nR1," + b"a" * 64 + b"," + b"b" * 64 + b"\n")


def test_chunks_keep_the_batch_order():
    assert batches.chunks([5, 3, 9, 1, 7], 2) == [[5, 3], [9, 1], [7]]
    assert batches.chunks(list(range(25))) == [list(range(0, 10)), list(range(10, 20)),
                                               list(range(20, 25))]
    assert batches.chunks([]) == []


def test_parts_in_any_order_make_the_same_zip_as_one_go(session, make_user, three, tmp_path):
    tmp_path = tmp_path / "batches"  # (tmp_path holds the app's files too)
    whole = _request(session, make_user)
    in_parts = _request(session, make_user)
    assert in_parts.application_ids == whole.application_ids
    built = batches.build_batch(session, whole.id, directory=tmp_path, render=_stand_in,
                                now=lambda: NOW)
    first, second = batches.chunks(in_parts.application_ids, 2)
    for part in (second, first, second):  # the last one again: a part run twice
        assert batches.render_records(session, in_parts.id, part, directory=tmp_path,
                                      render=_stand_in, now=lambda: NOW) is None
        session.refresh(in_parts)
        assert in_parts.state is BatchState.RUNNING and in_parts.started_at == NOW
    assert in_parts.done == 3  # each record counted once
    staged = tmp_path / batches.staging_name(in_parts.id)
    assert sorted(p.name for p in staged.iterdir()) == sorted(
        f"{i}.{ext}" for i in in_parts.application_ids for ext in ("pdf", "json"))

    finished = batches.finish_batch(session, in_parts.id, directory=tmp_path, now=lambda: NOW)
    assert finished.state is BatchState.DONE and finished.done == finished.total == 3
    assert finished.result_sha256 == built.result_sha256  # byte for byte the same ZIP
    assert finished.result_size == built.result_size
    assert not staged.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"batch-{whole.id}.zip", f"batch-{in_parts.id}.zip"])
    # Finished: neither another part nor the finisher again changes anything.
    assert batches.render_records(session, in_parts.id, first, directory=tmp_path,
                                  render=_stand_in, now=lambda: NOW) is None
    again = batches.finish_batch(session, in_parts.id, directory=tmp_path, now=lambda: NOW,
                                 failure="too late")
    assert again.state is BatchState.DONE and again.error is None and not staged.exists()


def test_a_failed_part_fails_the_batch_and_stops_the_others(session, make_user, three,
                                                            tmp_path):
    tmp_path = tmp_path / "batches"  # (tmp_path holds the app's files too)
    job = _request(session, make_user)
    first, second = batches.chunks(job.application_ids, 2)
    assert batches.render_records(session, job.id, second, directory=tmp_path,
                                  render=_stand_in, now=lambda: NOW) is None

    def broken(_session, _application):
        raise RuntimeError("the PDF renderer is not available")

    error = batches.render_records(session, job.id, first, directory=tmp_path, render=broken,
                                   now=lambda: NOW)
    assert error == "render: RuntimeError: the PDF renderer is not available"
    session.refresh(job)
    assert job.state is BatchState.FAILED and job.error == error and job.done == 1

    def unused(_session, _application):
        raise AssertionError("a failed batch renders nothing more")

    assert batches.render_records(session, job.id, first, directory=tmp_path, render=unused,
                                  now=lambda: NOW) is None
    finished = batches.finish_batch(session, job.id, directory=tmp_path, now=lambda: NOW,
                                    failure="the part's job failed in RQ")
    assert finished.state is BatchState.FAILED and finished.error == error  # the first error
    assert finished.result_path is None and list(tmp_path.iterdir()) == []


def test_finish_fails_a_batch_with_a_record_missing_or_a_silent_failure(session, make_user,
                                                                         three, tmp_path):
    tmp_path = tmp_path / "batches"  # (tmp_path holds the app's files too)
    missing = _request(session, make_user)
    first, second = batches.chunks(missing.application_ids, 2)
    batches.render_records(session, missing.id, first, directory=tmp_path, render=_stand_in,
                           now=lambda: NOW)  # the second part never ran
    finished = batches.finish_batch(session, missing.id, directory=tmp_path, now=lambda: NOW)
    assert finished.state is BatchState.FAILED
    assert finished.error == f"missing: LookupError: application {second[0]} was not rendered"
    assert list(tmp_path.iterdir()) == []

    died = _request(session, make_user)  # a part died before it started: still queued
    finished = batches.finish_batch(session, died.id, directory=tmp_path, now=lambda: NOW,
                                    failure="worker: records 1-2 failed on a worker: killed")
    assert finished.state is BatchState.FAILED and finished.done == 0
    assert finished.error == "worker: records 1-2 failed on a worker: killed"
    assert batches.finish_batch(session, 987654, directory=tmp_path, now=lambda: NOW) is None
