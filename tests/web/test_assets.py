"""The asset register (財産管理台帳) through the pages: entered at the final amount (the grant's
shares of the items never more in all than the final amount), read by the grantee, the officer
and the auditor; a disposal inside the restriction asked for with its repayment shown (the
officers told), refused with a reason, asked again and approved (the grantee's members told,
each in their language), or withdrawn; a decision on a request decided, withdrawn or replaced
meanwhile refused with a message; after the restriction recorded directly; other
organizations, other roles and other applications' ids refused."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from grants import clock
from grants.domain.definitions import JST
from grants.domain.workflow import Role
from grants.models import Asset, AssetDisposal, AssetState, AuditEvent, ChangeState
from grants.services import assets
from grants.services.audit import AuditTag
from tests.conftest import NOW
from tests.post_award_helpers import accepted_report, completed, granted
from tests.web.accounts_helpers import mails_to
from tests.web.consensus_helpers import tags

LINES = [{"category": "system", "description": "システム構築", "acquisition": "none",
          "amount_yen": 6_000_000},
         {"category": "equipment", "description": "機器", "acquisition": "purchase",
          "amount_yen": 3_000_000}]
EQUIPMENT = [
    {"name": "配信サーバ", "kind": "computer", "acquired_on": "2026-12-01", "cost_yen": 1_200_000},
    {"name": "業務用PC", "kind": "pc", "acquired_on": "2027-01-15", "cost_yen": 600_000},
    {"name": "タブレット", "kind": "pc", "acquired_on": "2027-01-15", "cost_yen": 499_999},
]
FINAL = 3_000_000  # of 9,000,000 eligible: the grant paid a third of each item
# The working as pinned for the register's arithmetic (the final amount's own tests compute it).
WORKING = {"final_yen": FINAL, "eligible_total_yen": 9_000_000}


def _at(monkeypatch, day: dt.date) -> None:
    moment = dt.datetime.combine(day, dt.time(10, 0), JST).astimezone(dt.UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)


@pytest.fixture
def funded(client, auth, session, make_user):
    """A COMPLETED project whose two items at or above ¥500,000 are in the register."""
    funded = granted(client, auth, session, make_user)
    report = accepted_report(session, funded, LINES, equipment=EQUIPMENT)
    completed(session, funded, report, working=WORKING)
    entered = assets.register_from_report(session, funded.application, report,
                                          actor=funded.officer, now=NOW)
    session.commit()
    assert [a.name for a in entered] == ["配信サーバ", "業務用PC"]
    return funded


def _assets(session, funded) -> list[Asset]:
    session.expire_all()
    return list(session.scalars(sa.select(Asset).filter_by(
        application_id=funded.application.id).order_by(Asset.id)))


def test_the_register_is_made_from_the_report_and_the_final_amount(session, funded):
    server, pc = _assets(session, funded)
    assert (server.cost_yen, server.subsidized_yen, server.useful_life_years,
            server.restricted_until) == (1_200_000, 400_000, 5, dt.date(2031, 11, 30))
    assert (pc.cost_yen, pc.subsidized_yen, pc.useful_life_years, pc.restricted_until) == (
        600_000, 200_000, 4, dt.date(2031, 1, 14))
    assert server.state is AssetState.HELD
    events = session.scalars(sa.select(AuditEvent).filter_by(
        tag=AuditTag.ASSET_REGISTER.value, subject_id=funded.application.id)
        .order_by(AuditEvent.id)).all()
    assert [e.data["asset_id"] for e in events] == [server.id, pc.id]
    assert events[0].data["eligible_total_yen"] == 9_000_000


def test_the_eligible_total_of_the_final_amount_computation_is_used_when_given(
        client, auth, session, make_user):
    funded = granted(client, auth, session, make_user)
    report = accepted_report(session, funded, LINES, equipment=EQUIPMENT)
    completed(session, funded, report,
              working={"final_yen": FINAL, "eligible_total_yen": 8_000_000})
    server, pc = assets.register_from_report(session, funded.application, report,
                                             actor=funded.officer, now=NOW)
    assert (server.subsidized_yen, pc.subsidized_yen) == (450_000, 225_000)


def test_the_shares_never_add_up_to_more_than_the_final_amount(client, auth, session,
                                                               make_user):
    funded = granted(client, auth, session, make_user)
    report = accepted_report(session, funded, LINES, equipment=EQUIPMENT)
    completed(session, funded, report,
              working={"final_yen": 1_000_000, "eligible_total_yen": 1_000_000})

    entered = assets.register_from_report(session, funded.application, report,
                                          actor=funded.officer, now=NOW)

    # The items cost ¥2,299,999 in all, more than the ¥1,000,000 eligible: their total is the
    # base, the tablet below the threshold included.
    assert [a.subsidized_yen for a in entered] == [521_739, 260_869]  # ×1,000,000/2,299,999
    assert sum(a.subsidized_yen for a in entered) <= 1_000_000
    event = session.scalars(sa.select(AuditEvent).filter_by(
        tag=AuditTag.ASSET_REGISTER.value, subject_id=funded.application.id)).first()
    assert event.data["share_base_yen"] == 2_299_999


def test_grantee_officer_and_auditor_read_the_register(client, auth, session, make_user, funded):
    application = funded.application
    pages = {funded.applicant: (f"/applications/{application.id}",
                                f"/applications/{application.id}/assets"),
             funded.officer: (f"/manage/applications/{application.id}",
                              f"/manage/applications/{application.id}/assets"),
             make_user(Role.AUDITOR): (f"/audit/applications/{application.id}",
                                       f"/audit/applications/{application.id}/assets")}
    for user, (home, register) in pages.items():
        auth.sign_in(user)
        assert f'href="{register}"' in client.get(home).text, user.role
        page = client.get(register)
        assert page.status_code == 200, user.role
        for text in ("配信サーバ", "2031-11-30", "¥400,000", "業務用PC", "2031-01-14", "¥200,000"):
            assert text in page.text, (user.role, text)
        assert "タブレット" not in page.text
        auth.sign_out()


def test_a_disposal_inside_the_period_is_asked_for_refused_and_approved(
        client, auth, session, monkeypatch, funded):
    application = funded.application
    server, _pc = _assets(session, funded)
    url = f"/applications/{application.id}/assets/{server.id}"
    _at(monkeypatch, dt.date(2027, 7, 1))  # 7 months into the server's 60
    auth.sign_in(funded.applicant)
    page = client.get(url)
    assert page.status_code == 200 and "¥353,333" in page.text  # 400,000 × 53 / 60, today
    request = {"kind": "dispose", "planned_on": "2027/07/１５", "reason": "老朽化により更新する。"}
    early = client.post(f"{url}/disposal-request", data={**request, "planned_on": "2027-06-30"})
    assert early.status_code == 409 and "老朽化により更新する。" in early.text
    blank = client.post(f"{url}/disposal-request", data={**request, "reason": "\u3000"})
    assert blank.status_code == 422 and "2027-07-15" in blank.text
    assert client.post(f"{url}/disposal-request", data=request).status_code == 303
    (asked,) = session.scalars(sa.select(AssetDisposal).filter_by(asset_id=server.id)).all()
    assert (asked.state, asked.planned_on, asked.repayment_yen) == (
        ChangeState.PENDING, dt.date(2027, 7, 15), 346_666)  # 400,000 × 52 / 60
    assert asked.computation["remaining_months"] == 52
    shown = client.get(url).text
    assert "¥346,666" in shown and "disposal-request" not in shown  # one request at a time
    again = client.post(f"{url}/disposal-request", data=request)
    assert again.status_code == 409
    auth.sign_out()

    auth.sign_in(funded.officer)
    flagged = client.get(f"/manage/applications/{application.id}").text
    assert f'id="pending-disposal-{asked.id}"' in flagged and "財産の処分又は転用" in flagged
    decision = f"/manage/applications/{application.id}/assets/{server.id}/decision"
    assert "¥346,666" in client.get(f"/manage/applications/{application.id}/assets/{server.id}"
                                    ).text
    unexplained = client.post(decision, data={"outcome": "refuse", "reason": " \u3000",
                                              "disposal": asked.id})
    assert unexplained.status_code == 422 and 'name="outcome"' in unexplained.text
    refusal = {"outcome": "refuse", "reason": "更新計画の説明が不足しています。",
               "disposal": asked.id}
    assert client.post(decision, data=refusal).status_code == 303
    session.expire_all()
    assert asked.state is ChangeState.REFUSED and server.state is AssetState.HELD
    twice = client.post(decision, data={"outcome": "approve", "disposal": asked.id})
    assert twice.status_code == 409 and "すでに判断されたか取り下げられています" in twice.text
    auth.sign_out()

    auth.sign_in(funded.applicant)
    assert "更新計画の説明が不足しています。" in client.get(url).text
    assert client.post(f"{url}/disposal-request",
                       data={**request, "kind": "repurpose"}).status_code == 303
    auth.sign_out()
    auth.sign_in(funded.officer)
    (_refused, second) = server.disposals
    assert client.post(decision, data={"outcome": "approve", "disposal": second.id}
                       ).status_code == 303
    session.expire_all()
    assert server.state is AssetState.REPURPOSED
    assert [d.state for d in server.disposals] == [ChangeState.REFUSED, ChangeState.APPROVED]
    assert tags(session, application)[-4:] == [
        AuditTag.DISPOSAL_REQUEST, AuditTag.DISPOSAL_REFUSE, AuditTag.DISPOSAL_REQUEST,
        AuditTag.DISPOSAL_APPROVE]
    approved = session.scalars(sa.select(AuditEvent).filter_by(
        tag=AuditTag.DISPOSAL_APPROVE.value)).one()
    assert approved.data["repayment_yen"] == 346_666
    auth.sign_out()


def test_on_the_last_day_of_the_period_approval_is_needed_and_nothing_is_repaid(
        client, auth, session, monkeypatch, funded):
    _server, pc = _assets(session, funded)
    url = f"/applications/{funded.application.id}/assets/{pc.id}"
    _at(monkeypatch, dt.date(2031, 1, 14))
    auth.sign_in(funded.applicant)
    record = client.post(f"{url}/disposal-record", data={
        "kind": "dispose", "disposed_on": "2031-01-14", "reason": "廃棄した。"})
    assert record.status_code == 409 and "2031-01-14" in record.text
    assert client.post(f"{url}/disposal-request", data={
        "kind": "dispose", "planned_on": "2031-01-14", "reason": "廃棄する。"}).status_code == 303
    session.expire_all()
    (asked,) = pc.disposals
    assert (asked.repayment_yen, asked.computation["approval_required"]) == (0, True)


def test_after_the_period_the_grantee_records_the_disposal_directly(
        client, auth, session, monkeypatch, funded):
    _server, pc = _assets(session, funded)
    url = f"/applications/{funded.application.id}/assets/{pc.id}"
    _at(monkeypatch, dt.date(2031, 1, 15))  # the day after the PC's restriction
    auth.sign_in(funded.applicant)
    page = client.get(url)
    assert page.status_code == 200 and "disposal-record" in page.text
    assert "disposal-request" not in page.text
    asked = client.post(f"{url}/disposal-request", data={
        "kind": "dispose", "planned_on": "2031-01-15", "reason": "売却する。"})
    assert asked.status_code == 409 and "2031-01-14" in asked.text
    future = client.post(f"{url}/disposal-record", data={
        "kind": "dispose", "disposed_on": "2031-01-16", "reason": "売却した。"})
    assert future.status_code == 409
    assert client.post(f"{url}/disposal-record", data={
        "kind": "dispose", "disposed_on": "2031-01-15", "reason": "売却した。"}).status_code == 303
    session.expire_all()
    (recorded,) = pc.disposals
    assert pc.state is AssetState.DISPOSED
    assert (recorded.state, recorded.repayment_yen, recorded.decided_by_id) == (
        ChangeState.APPROVED, 0, None)
    event = session.scalars(sa.select(AuditEvent).filter_by(
        tag=AuditTag.DISPOSAL_RECORD.value)).one()
    assert event.data["approval_required"] is False
    again = client.post(f"{url}/disposal-record", data={
        "kind": "dispose", "disposed_on": "2031-01-15", "reason": "売却した。"})
    assert again.status_code == 409


def test_others_are_refused(client, auth, session, make_user, funded):
    application = funded.application
    server, _pc = _assets(session, funded)
    own = f"/applications/{application.id}/assets"
    request = {"kind": "dispose", "planned_on": "2027-12-01", "reason": "更新する。"}
    stranger = make_user(Role.APPLICANT, lg_code="131016")
    auth.sign_in(stranger)
    for url in (own, f"{own}/{server.id}"):
        assert client.get(url).status_code == 404
    assert client.post(f"{own}/{server.id}/disposal-request", data=request).status_code == 404
    auth.sign_out()
    for role in (Role.REVIEWER, Role.AUDITOR, Role.OFFICER):
        auth.sign_in(make_user(role))
        assert client.post(f"{own}/{server.id}/disposal-request", data=request
                           ).status_code == 403, role
        auth.sign_out()
    auth.sign_in(make_user(Role.REVIEWER))
    for url in (own, f"/manage/applications/{application.id}/assets",
                f"/audit/applications/{application.id}/assets"):
        assert client.get(url).status_code == 403, url
    auth.sign_out()
    auth.sign_in(make_user(Role.ADMIN))  # reads, never decides
    assert client.get(f"/manage/applications/{application.id}/assets").status_code == 200
    assert client.post(f"/manage/applications/{application.id}/assets/{server.id}/decision",
                       data={"outcome": "approve"}).status_code == 403
    auth.sign_out()
    # Another application's asset id, and an application with no register yet.
    other = granted(client, auth, session, make_user)
    auth.sign_in(other.applicant)
    assert client.get(f"/applications/{other.application.id}/assets").status_code == 404
    assert client.get(f"/applications/{other.application.id}/assets/{server.id}"
                      ).status_code == 404
    auth.sign_out()
    auth.sign_in(funded.applicant)
    assert client.get(f"{own}/987654").status_code == 404
    assert session.scalar(sa.select(sa.func.count()).select_from(AssetDisposal)) == 0


def _ask(client, url: str, kind: str = "dispose") -> int:
    return client.post(f"{url}/disposal-request", data={
        "kind": kind, "planned_on": "2027/7/15", "reason": "老朽化により更新する。"}).status_code


def test_the_grantee_withdraws_a_pending_request(client, auth, session, make_user, monkeypatch,
                                                 funded):
    application = funded.application
    server, _pc = _assets(session, funded)
    url = f"/applications/{application.id}/assets/{server.id}"
    _at(monkeypatch, dt.date(2027, 7, 1))
    auth.sign_in(funded.applicant)
    assert _ask(client, url) == 303
    (asked,) = server.disposals
    told = mails_to(session, funded.officer.email)[-1]
    assert "財産処分の承認申請" in told.subject and application.reference in told.subject
    assert "¥346,666" in told.body and "老朽化により更新する。" in told.body
    assert f"/manage/applications/{application.id}/assets/{server.id}\n" in told.body
    withdraw = f"{url}/disposals/{asked.id}/withdraw"
    assert "承認申請を取り下げる" in client.get(url).text
    auth.sign_out()
    for outsider in (make_user(Role.APPLICANT, lg_code="131016"), funded.officer):
        auth.sign_in(outsider)
        assert client.post(withdraw).status_code in (403, 404)
        auth.sign_out()
    auth.sign_in(funded.applicant)

    assert client.post(withdraw).status_code == 303

    session.expire_all()
    assert (asked.state, asked.decided_by_id) == (ChangeState.WITHDRAWN, funded.applicant.id)
    assert server.state is AssetState.HELD
    assert tags(session, application)[-1] == AuditTag.DISPOSAL_WITHDRAW
    page = client.get(url).text
    assert "取下げ日時" in page and "disposal-request" in page  # may ask again
    again = client.post(withdraw)
    assert again.status_code == 409
    assert "すでに判断されたか取り下げられています" in again.text
    assert client.post(f"{url}/disposals/987654/withdraw").status_code == 404
    assert _ask(client, url, "repurpose") == 303
    auth.sign_out()

    # The officer's page showed the withdrawn request: its decision never lands on the new one.
    auth.sign_in(funded.officer)
    decision = f"/manage/applications/{application.id}/assets/{server.id}/decision"
    stale = client.post(decision, data={"outcome": "approve", "disposal": asked.id})
    assert stale.status_code == 409
    session.expire_all()
    assert [d.state for d in server.disposals] == [ChangeState.WITHDRAWN, ChangeState.PENDING]
    assert server.state is AssetState.HELD


def test_the_decision_tells_each_member_in_their_language(client, auth, session, make_user,
                                                        monkeypatch, funded):
    application = funded.application
    english = make_user(Role.APPLICANT, organization=application.organization)
    english.locale = "en"
    session.commit()
    server, pc = _assets(session, funded)
    _at(monkeypatch, dt.date(2027, 7, 1))
    auth.sign_in(funded.applicant)
    for asset in (server, pc):
        assert _ask(client, f"/applications/{application.id}/assets/{asset.id}") == 303
    auth.sign_out()
    auth.sign_in(funded.officer)
    manage = f"/manage/applications/{application.id}/assets"
    session.expire_all()
    assert client.post(f"{manage}/{server.id}/decision", data={
        "outcome": "approve", "disposal": server.disposals[0].id}).status_code == 303
    assert client.post(f"{manage}/{pc.id}/decision", data={
        "outcome": "refuse", "reason": "更新の必要性が確認できません。",
        "disposal": pc.disposals[0].id}).status_code == 303

    approved_ja, refused_ja = mails_to(session, funded.applicant.email)[-2:]
    assert "配信サーバ" in approved_ja.subject and "承認されました" in approved_ja.body
    assert "¥346,666 の納付が必要です" in approved_ja.body
    assert f"/applications/{application.id}/assets/{server.id}\n" in approved_ja.body
    assert "承認されませんでした" in refused_ja.body
    assert "更新の必要性が確認できません。" in refused_ja.body
    approved_en, refused_en = mails_to(session, english.email)[-2:]
    assert "is approved" in approved_en.body and "A repayment of ¥346,666" in approved_en.body
    assert "is refused" in refused_en.body


def test_a_request_left_pending_on_a_disposed_asset_is_refused(client, auth, session,
                                                               monkeypatch, funded):
    """Two requests left pending together (as a double click made them before the row lock):
    once one is approved, the other cannot dispose of the asset again."""
    server, _pc = _assets(session, funded)
    _at(monkeypatch, dt.date(2027, 7, 1))
    found = assets.working(server, dt.date(2027, 7, 15))
    twins = [AssetDisposal(asset_id=server.id, kind="dispose", planned_on=dt.date(2027, 7, 15),
                           reason="更新する。", repayment_yen=found.repayment_yen,
                           computation=found.to_dict(), requested_at=NOW,
                           requested_by_id=funded.applicant.id) for _ in range(2)]
    session.add_all(twins)
    session.commit()
    auth.sign_in(funded.officer)
    decision = f"/manage/applications/{funded.application.id}/assets/{server.id}/decision"
    assert client.post(decision, data={"outcome": "approve", "disposal": twins[0].id}
                       ).status_code == 303

    second = client.post(decision, data={"outcome": "approve", "disposal": twins[1].id})

    assert second.status_code == 409 and "この財産はすでに処分又は転用されています。" in second.text
    session.expire_all()
    assert [d.state for d in twins] == [ChangeState.APPROVED, ChangeState.PENDING]
    assert tags(session, funded.application).count(AuditTag.DISPOSAL_APPROVE) == 1
