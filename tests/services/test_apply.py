"""The submit use case: deadline, blocking findings, file integrity, snapshot, audit chain."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from grants.domain import records
from grants.domain.workflow import Role, State
from grants.models import AuditEvent, Program
from grants.services import apply
from grants.services.audit import event_body
from grants.storage import LocalStorage
from tests.conftest import NOW
from tests.web.journey import TINY_PDF

VALID_ANSWERS = {
    "representative": "札幌市長",
    "contact_person": "情報政策課 山田",
    "project_title": "地域見守りICT",
    "project_summary": "高齢者の見守りをICTで行う。",
    "track": "general",
    "field_of_use": "welfare",
    "period_start": "2026-12-01",
    "period_end": "2027-03-31",
    "regional_issue": "高齢化",
    "project_goal": "見守り体制の構築",
    "end_user_needs": "住民アンケート",
    "business_model": "利用料",
    "stakeholders": "市、社協、事業者",
    "project_leader": "課長",
    "progress_management": "月次会議",
    "human_resources_plan": "地域人材を雇用し育成する",
    "develops_local_ict_people": True,
    "jobs_target": 5,
    "local_government_partnership": False,
    "partners": [],
    "budget_lines": [
        {
            "category": "human_resources",
            "description": "育成",
            "acquisition": "none",
            "amount_yen": 30_000_000,
        },
        {
            "category": "equipment",
            "description": "端末",
            "acquisition": "lease",
            "amount_yen": 10_000_000,
        },
    ],
    "own_funding_yen": 1_000_000,
    "would_proceed_without_subsidy": True,
    "operating_cost_per_year_yen": 2_000_000,
    "operating_cost_payer": "own_budget",
    "continuation_plan": "市の予算で継続",
}


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "files")


@pytest.fixture
def ready(session, make_user, storage):
    """A kizuna draft with every answer and the required plan attached."""
    user = make_user(Role.APPLICANT, lg_code="011002")
    application = apply.start(session, session.get(Program, "ict-kizuna-2010"), actor=user, now=NOW)
    application.answers = dict(VALID_ANSWERS)
    apply.add_attachment(
        session,
        application,
        field_id="project_plan",
        stored_sha256=storage.put(TINY_PDF),
        filename="plan.pdf",
        mime_type="application/pdf",
        size_bytes=len(TINY_PDF),
        actor=user,
        now=NOW,
    )
    session.flush()
    return user, application


def test_submit_valid_draft_freezes_snapshot(session, ready, storage):
    user, application = ready
    assert [f for f in apply.findings_for(application) if f.severity == "error"] == []
    receipt = apply.submit(session, application, actor=user, storage=storage, now=NOW)
    submission = application.submissions[0]
    assert application.state is State.SUBMITTED
    assert receipt.snapshot_sha256 == records.sha256_hex(submission.snapshot.encode())
    snapshot = json.loads(submission.snapshot)
    assert snapshot["answers"]["budget_lines"][1]["amount_yen"] == 10_000_000
    assert snapshot["attachments"][0]["sha256"] == records.sha256_hex(TINY_PDF)
    assert records.canonical_json(snapshot).decode() == submission.snapshot


def test_submit_after_deadline_refused_in_japan_time(session, ready, storage):
    user, application = ready
    closes = apply.definition_of(application.program_version).call.closes
    with pytest.raises(apply.CallClosed):
        apply.submit(session, application, actor=user, storage=storage, now=closes)
    one_second_before = closes - dt.timedelta(seconds=1)
    apply.submit(session, application, actor=user, storage=storage, now=one_second_before)
    assert application.state is State.SUBMITTED


def test_submit_with_blocking_finding_refused_and_state_unchanged(session, ready, storage):
    user, application = ready
    answers = dict(application.answers)
    answers["budget_lines"] = [
        {
            "category": "equipment",
            "description": "端末購入",
            "acquisition": "purchase",
            "amount_yen": 20_000_000,
        },
        {
            "category": "human_resources",
            "description": "育成",
            "acquisition": "none",
            "amount_yen": 20_000_000,
        },
    ]
    application.answers = answers
    with pytest.raises(apply.SubmissionRefused) as refused:
        apply.submit(session, application, actor=user, storage=storage, now=NOW)
    assert any(f.field == "budget_lines" for f in refused.value.findings)
    assert application.state is State.DRAFT and application.submissions == []


def test_submit_with_lost_file_refused(session, ready, storage):
    user, application = ready
    storage.path(application.attachments[0].sha256).unlink()
    with pytest.raises(apply.SubmissionRefused) as refused:
        apply.submit(session, application, actor=user, storage=storage, now=NOW)
    assert [f.kind for f in refused.value.findings] == ["attachment_integrity"]
    assert application.state is State.DRAFT


def test_submit_twice_returns_same_receipt(session, ready, storage):
    user, application = ready
    first = apply.submit(session, application, actor=user, storage=storage, now=NOW)
    second = apply.submit(
        session, application, actor=user, storage=storage, now=NOW + dt.timedelta(seconds=5)
    )
    assert first == second
    assert len(application.submissions) == 1


def test_audit_chain_links_every_event(session, ready, storage):
    user, application = ready
    apply.submit(session, application, actor=user, storage=storage, now=NOW)
    events = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert events[0].prev_hash == records.GENESIS
    chain = [(event_body(e), e.prev_hash, e.hash) for e in events]
    assert records.verify_chain(chain) is None
    assert events[-1].tag == "apply:application:submit"


def test_save_with_stale_version_raises_conflict(session, ready):
    user, application = ready
    with pytest.raises(apply.EditConflict):
        apply.save_answers(
            session,
            application,
            {"project_title": "x"},
            expected_version=application.lock_version - 1,
            actor=user,
            now=NOW,
        )


def test_every_change_bumps_the_lock_version_even_within_one_clock_tick(session, ready, storage):
    # The clock is frozen: updated_at never changes, yet each change must be seen by others.
    user, application = ready
    versions = [application.lock_version]
    apply.save_answers(session, application, dict(application.answers),
                       expected_version=versions[-1], actor=user, now=NOW)
    versions.append(application.lock_version)
    attachment = apply.add_attachment(
        session, application, field_id="other_documents", stored_sha256=storage.put(TINY_PDF),
        filename="more.pdf", mime_type="application/pdf", size_bytes=len(TINY_PDF),
        actor=user, now=NOW)
    versions.append(application.lock_version)
    apply.remove_attachment(session, application, attachment.id, actor=user, now=NOW)
    versions.append(application.lock_version)
    assert versions == sorted(set(versions)), versions
