"""The retention report and the purge, on the migrated schema with a frozen clock.

A funded project is built through the real pages up to the award (tests.post_award_helpers),
then as rows to COMPLETED; a rejected one is decided through the officer's page. The purge is
checked table by table: free text emptied, structure, amounts, scores and hashes kept, files
gone from storage unless another application still uses the same bytes, one tombstone event,
and the audit chain still whole.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from grants.db import Base
from grants.domain.retention import Hold, StillRetained
from grants.domain.workflow import Action, Role, State, fire
from grants.models import (
    Asset,
    AssetDisposal,
    Assignment,
    Attachment,
    AuditEvent,
    ChangeState,
    CompletionReport,
    Decision,
    DisposalKind,
    FinalAmount,
    GrantAnswer,
    KeptForm,
    OutboxMessage,
    PlanVersion,
    RedressGround,
    RedressRequest,
    Review,
    ReviewVersion,
    Submission,
)
from grants.services import audit
from grants.services.retention import (
    BLANKED,
    UnknownApplication,
    purge,
    remove_files,
    retention_report,
)
from grants.storage import LocalStorage
from tests.conftest import NOW
from tests.post_award_helpers import (
    Funded,
    accepted_report,
    awarded,
    completed,
    grant_decision,
    granted,
    requested_by_category,
)
from tests.web.reviewflow import in_review, submit_application, submit_review

JST = dt.timezone(dt.timedelta(hours=9))
FIXED_AT = NOW  # 2026-11-20 10:00 JST: FY2026, kept to the end of FY2031
KEPT_UNTIL = dt.date(2032, 3, 31)
# The project ends 2027-03-31 (FY2026): its fifth follow-up covers FY2031 and is due on
# 2032-06-30, so a completed project without assets is kept to the end of FY2032.
REPORTS_KEPT_UNTIL = dt.date(2033, 3, 31)
LAST_MINUTE = dt.datetime(2032, 3, 31, 23, 59, tzinfo=JST)
FIRST_MINUTE = dt.datetime(2032, 4, 1, 0, 0, tzinfo=JST)
NETWORK_RESTRICTION = dt.date(2036, 5, 31)


def _completed(client, auth, session, make_user, *, with_asset: bool = True) -> Funded:
    """A COMPLETED project whose report names people, with a network asset and a disposal
    (unless `with_asset` is False)."""
    funded = granted(client, auth, session, make_user)
    amounts = requested_by_category(funded.application)
    lines = [{"category": category, "description": "謝金 鈴木一郎", "acquisition": "none",
              "amount_yen": yen} for category, yen in amounts.items()]
    equipment = [{"name": "山田さんの見守りサーバ", "kind": "network", "acquired_on": "2026-06-01",
                  "cost_yen": 600_000}]
    report = accepted_report(session, funded, lines, equipment=equipment)
    report.variance_reasons = {"equipment": "担当 佐藤の退職による"}
    completed(session, funded, report, sum(amounts.values()), now=FIXED_AT)
    if not with_asset:
        return funded
    asset = Asset(application_id=funded.application.id, report_id=report.id,
                  name="山田さんの見守りサーバ", kind="network", acquired_on=dt.date(2026, 6, 1),
                  cost_yen=600_000, subsidized_yen=600_000, useful_life_years=10,
                  restricted_until=dt.date(2036, 5, 31))
    session.add(asset)
    session.flush()
    session.add(AssetDisposal(
        asset_id=asset.id, kind=DisposalKind.DISPOSE, planned_on=dt.date(2030, 1, 1),
        reason="佐藤様宅へ移設", repayment_yen=0, computation={"note": "鈴木さん試算"},
        state=ChangeState.REFUSED, requested_at=NOW, requested_by_id=funded.applicant.id,
        decided_at=NOW, decided_by_id=funded.officer.id, decision_reason="理由不足"))
    session.commit()
    return funded


def _rejected(client, auth, session, make_user):
    application, officer, reviewers = in_review(client, auth, session, make_user)
    for reviewer in reviewers:
        assert submit_review(client, auth, session, application, reviewer, 2).status_code == 303
    auth.sign_in(officer)
    decided = client.post(f"/manage/applications/{application.id}/decide", data={
        "outcome": "reject", "amount_yen": "", "rationale": "継続性が確認できない。"})
    assert decided.status_code == 303, decided.text[:2000]
    auth.sign_out()
    session.expire_all()
    assert application.state is State.REJECTED
    return application


def _storage(app) -> LocalStorage:
    return LocalStorage(app.config["STORAGE_DIR"])


def _events(session, tag) -> list[AuditEvent]:
    return list(session.scalars(sa.select(AuditEvent).filter_by(tag=str(tag))
                                .order_by(AuditEvent.id)))


def test_the_report_lists_every_application_with_its_last_day_and_first_purgeable_day(
        client, auth, session, make_user):
    funded = _completed(client, auth, session, make_user)
    draft = submit_application(client, auth, session, make_user, lg_code="012131")
    rows = {row.reference: row for row in retention_report(session, FIRST_MINUTE.date())}
    project = rows[funded.application.reference]
    assert (project.state, project.retention.kept_until) == (State.COMPLETED,
                                                             NETWORK_RESTRICTION)
    assert project.retention.purgeable_from == dt.date(2036, 6, 1)
    assert not project.purgeable
    waiting = rows[draft.reference]
    assert (waiting.state, waiting.retention.hold, waiting.purgeable) == (
        State.SUBMITTED, Hold.UNDECIDED, False)
    assert list(rows) == sorted(rows)
    assert retention_report(session, FIRST_MINUTE.date(), purgeable_only=True) == []
    after = retention_report(session, dt.date(2036, 6, 1), purgeable_only=True)
    assert [row.reference for row in after] == [funded.application.reference]


def test_the_report_is_one_query_however_many_applications(client, auth, session, make_user,
                                                           connection):
    submit_application(client, auth, session, make_user)
    statements = []
    sa.event.listen(connection, "before_cursor_execute",
                    lambda *args: statements.append(args[2]))
    assert len(retention_report(session, NOW.date())) == 1
    assert len(statements) == 1


def test_a_purge_inside_retention_is_refused_with_its_last_day_and_recorded(
        client, auth, session, make_user):
    funded = _completed(client, auth, session, make_user, with_asset=False)
    reference = funded.application.reference
    with pytest.raises(StillRetained) as refused:
        purge(session, reference.lower(), actor=None, now=LAST_MINUTE)
    assert refused.value.retention.kept_until == REPORTS_KEPT_UNTIL
    session.commit()
    session.expire_all()
    assert funded.application.state is State.COMPLETED
    assert session.scalars(sa.select(Attachment)).all()
    [event] = _events(session, audit.AuditTag.PURGE_REFUSE)
    assert (event.actor_id, event.subject_id) == (None, funded.application.id)
    assert event.data == {"reference": reference, "state": "completed",
                          "kept_until": "2033-03-31", "hold": None}


def test_a_purge_after_retention_empties_free_text_keeps_proof_and_leaves_a_tombstone(
        app, client, auth, session, make_user):
    funded = _completed(client, auth, session, make_user)
    application = funded.application
    session.add(KeptForm(token="t" * 64, application_id=application.id, step_id="overview",
                         data={"f_title": "山田"}))
    session.commit()
    storage = _storage(app)
    files = {a.sha256 for a in application.attachments}
    attachments = len(application.attachments)
    snapshot_hashes = [s.snapshot_sha256 for s in application.submissions]
    outbox = session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                            .filter_by(application_id=application.id))
    assert files and all(storage.exists(sha256) for sha256 in files) and outbox
    events_before = audit.verify(session).count

    purged = purge(session, application.reference, actor=None,
                   now=dt.datetime(2036, 6, 1, tzinfo=JST))
    session.commit()
    assert remove_files(session, storage, purged.unreferenced) == sorted(files)
    session.expire_all()

    assert not any(storage.exists(sha256) for sha256 in files)
    assert application.state is State.PURGED
    assert purged.deleted == {"attachments": attachments, "kept_forms": 1,
                              "outbox_messages": outbox}
    assert session.scalars(sa.select(Attachment).filter_by(
        application_id=application.id)).all() == []
    assert session.scalars(sa.select(OutboxMessage).filter_by(
        application_id=application.id)).all() == []
    [submission] = application.submissions
    snapshot = json.loads(submission.snapshot)
    assert submission.snapshot_sha256 == snapshot_hashes[0]
    assert snapshot["submitted_by"]["email"] == "" and snapshot["submitted_by"]["name"] == ""
    assert {a["filename"] for a in snapshot["attachments"]} == {""}
    assert {a["sha256"] for a in snapshot["attachments"]} == files
    assert "テスト事業" not in submission.snapshot and "地域の課題" not in submission.snapshot
    assert "テスト事業" not in json.dumps(application.answers, ensure_ascii=False)
    budget = next(v for v in snapshot["answers"].values()
                  if isinstance(v, list) and v and "amount_yen" in v[0])
    assert [line["description"] for line in budget] == [""] * len(budget)
    assert sum(line["amount_yen"] for line in budget) > 0

    reviews = session.scalars(sa.select(Review).join(Assignment)
                              .filter(Assignment.application_id == application.id)).all()
    assert reviews and all(set(r.comments.values()) == {""} and r.ratings for r in reviews)
    versions = session.scalars(sa.select(ReviewVersion).where(
        ReviewVersion.review_id.in_([r.id for r in reviews]))).all()
    assert versions and all(set(v.comments.values()) == {""} for v in versions)
    decision = session.scalar(sa.select(Decision).filter_by(application_id=application.id))
    assert decision.rationale == "" and decision.amount_yen > 0
    plan = session.scalar(sa.select(PlanVersion).filter_by(application_id=application.id))
    assert plan.scope == "" and plan.category_amounts
    report = session.scalar(sa.select(CompletionReport).filter_by(
        application_id=application.id))
    assert {line["description"] for line in report.lines} == {""}
    assert report.outcome == "" and report.variance_reasons == {"equipment": ""}
    assert report.equipment[0]["name"] == "" and report.equipment[0]["cost_yen"] == 600_000
    final = session.scalar(sa.select(FinalAmount).filter_by(application_id=application.id))
    assert final.amount_yen > 0 and final.confirmed_at == FIXED_AT
    asset = session.scalar(sa.select(Asset).filter_by(application_id=application.id))
    assert (asset.name, asset.cost_yen, asset.restricted_until) == (
        "", 600_000, NETWORK_RESTRICTION)
    [disposal] = asset.disposals
    assert (disposal.reason, disposal.decision_reason, disposal.computation) == (
        "", "", {"note": ""})
    grant = grant_decision(session, application)
    assert grant.conditions and grant.amount_yen > 0

    [tombstone] = _events(session, audit.AuditTag.PURGE)
    assert tombstone.data["reference"] == application.reference
    assert tombstone.data["state"] == "completed"
    assert tombstone.data["kept_until"] == "2036-05-31"
    assert tombstone.data["deleted"] == purged.deleted
    assert tombstone.data["files_removed"] == sorted(files)
    assert {f["sha256"] for f in tombstone.data["files"]} == files
    assert tombstone.data["snapshots"] == snapshot_hashes
    assert tombstone.data["blanked"]["reviews"] == len(reviews)
    assert {"applications", "submissions", "decisions", "plan_versions", "completion_reports",
            "assets", "asset_disposals"} <= set(tombstone.data["blanked"])
    chain = audit.verify(session)
    assert chain.broken is None and chain.count == events_before + 1


def test_a_file_another_application_still_uses_stays_in_storage(app, client, auth, session,
                                                                make_user):
    rejected = _rejected(client, auth, session, make_user)
    other = submit_application(client, auth, session, make_user, lg_code="012131")
    shared = {a.sha256 for a in rejected.attachments} & {a.sha256 for a in other.attachments}
    assert shared  # the same PDF bytes, stored once
    purged = purge(session, rejected.reference, actor=None, now=FIRST_MINUTE)
    session.commit()
    assert purged.unreferenced == []
    assert remove_files(session, _storage(app), sorted(shared)) == []
    assert all(_storage(app).verify(sha256) for sha256 in shared)
    [tombstone] = _events(session, audit.AuditTag.PURGE)
    assert tombstone.data["files_removed"] == []


def test_a_rejected_application_is_kept_to_the_end_of_the_fifth_fiscal_year_after_its_decision(
        client, auth, session, make_user):
    rejected = _rejected(client, auth, session, make_user)
    with pytest.raises(StillRetained):
        purge(session, rejected.reference, actor=None, now=LAST_MINUTE)
    purged = purge(session, rejected.reference, actor=None, now=FIRST_MINUTE)
    assert (purged.state, purged.kept_until) == (State.REJECTED, KEPT_UNTIL)
    session.commit()
    session.expire_all()
    assert rejected.state is State.PURGED
    with pytest.raises(StillRetained) as again:
        purge(session, rejected.reference, actor=None, now=FIRST_MINUTE)
    assert again.value.retention.hold is Hold.PURGED
    refusals = [e.data["hold"] for e in _events(session, audit.AuditTag.PURGE_REFUSE)]
    assert refusals == [None, "purged"]


def test_a_declined_award_counts_from_the_decline(client, auth, session, make_user):
    funded = awarded(client, auth, session, make_user)
    grant = grant_decision(session, funded.application)
    declined_at = dt.datetime(2027, 4, 1, 9, 0, tzinfo=JST)  # FY2027; the award was in FY2026
    grant.answer, grant.answered_at, grant.answered_by_id, grant.decline_reason = (
        GrantAnswer.DECLINED, declined_at, funded.applicant.id, "代表 田中の事情")
    funded.application.state = fire(funded.application.state, Action.DECLINE_GRANT,
                                    Role.APPLICANT)
    session.commit()
    [row] = [r for r in retention_report(session, NOW.date())
             if r.reference == funded.application.reference]
    assert row.retention.kept_until == dt.date(2033, 3, 31)
    purge(session, funded.application.reference, actor=None,
          now=dt.datetime(2033, 4, 1, tzinfo=JST))
    session.commit()
    session.expire_all()
    assert grant.decline_reason == "" and grant.answer is GrantAnswer.DECLINED


def test_an_open_evaluation_review_holds_a_rejected_application(client, auth, session,
                                                                make_user):
    rejected = _rejected(client, auth, session, make_user)
    session.add(RedressRequest(
        application_id=rejected.id, ground=RedressGround.OTHER, description="再審査を求めます",
        requested_by_id=rejected.created_by_id, requested_at=NOW))
    session.commit()
    with pytest.raises(StillRetained) as refused:
        purge(session, rejected.reference, actor=None, now=FIRST_MINUTE)
    assert refused.value.retention.hold is Hold.REDRESS_OPEN


def test_an_application_in_progress_is_refused_and_an_unknown_reference_names_itself(
        client, auth, session, make_user):
    application = submit_application(client, auth, session, make_user)
    with pytest.raises(StillRetained) as refused:
        purge(session, application.reference, actor=None, now=FIRST_MINUTE)
    assert refused.value.retention.hold is Hold.UNDECIDED
    assert session.get(Submission, application.submissions[0].id).snapshot_sha256
    with pytest.raises(UnknownApplication, match="no application 'NOPE-1'"):
        purge(session, " nope-1 ", actor=None, now=FIRST_MINUTE)
    assert [e.data["hold"] for e in _events(session, audit.AuditTag.PURGE_REFUSE)] == [
        "undecided"]


def test_every_table_holding_an_applications_records_is_decided_by_the_purge():
    holding = {"applications"}
    while more := {table.name for table in Base.metadata.tables.values()
                   if any(fk.column.table.name in holding for fk in table.foreign_keys)} - holding:
        holding |= more
    emptied = {model.__tablename__ for model, _finder, _columns in BLANKED}
    # the application and its snapshots are redacted, these rows deleted, reminders hold no text
    redacted, deleted, untouched = ({"applications", "submissions"},
                                    {"attachments", "kept_forms", "outbox_messages"},
                                    {"followup_reminders"})
    assert holding == emptied | redacted | deleted | untouched
