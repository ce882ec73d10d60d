"""The completion report (実績報告) through the pages: the due date from the plan in force, a draft
saved with amounts and dates as people type them, filing refused (everything kept) while a
reason or the jobs are missing, a line is malformed, the equipment costs more than the
equipment bought outright or was acquired outside the project period, the officer's return
for correction (the next filing a new row starting from the returned one) and acceptance (a
second answer refused with a message), evidence files of their own, e-mails, audit events, and
who may see what."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from grants import clock
from grants.domain.definitions import JST
from grants.domain.workflow import Role, State
from grants.models import Attachment, CompletionReport, OutboxMessage, PlanVersion, ReportState
from grants.services.audit import AuditTag
from tests.conftest import NOW
from tests.post_award_helpers import PROJECT_END, granted
from tests.web.accounts_helpers import mails_to
from tests.web.consensus_helpers import tags
from tests.web.journey import TINY_PDF

REASON = "タブレット端末の単価が見積りより上がったため。"
MISSING = "領収書の写しが不足しています。"
LINES = (("human_resources", "研修講師の謝金", "none", "３，２００，０００円"),
         ("equipment", "タブレット端末", "purchase", "¥1,200,000"))


@pytest.fixture
def project(app, client, auth, session, make_user):
    """A granted ICT絆 project (plan version 1: ¥3,000,000 people, ¥1,000,000 equipment)."""
    with app.test_request_context():
        return granted(client, auth, session, make_user)


def url(project, suffix: str = "") -> str:
    return f"/applications/{project.application.id}/completion-report{suffix}"


def manage_url(project) -> str:
    return f"/manage/applications/{project.application.id}/completion-report"


def report_form(lock: str = "0", *, action: str = "save", reason: str = REASON,
                jobs: str = "4", lines=LINES, **extra: str) -> dict[str, str]:
    data = {"lock_version": lock, "action": action, "jobs_created": jobs,
            "reason_equipment": reason, "kpi_project_goal": "利用者を600人に増やした。",
            "outcome": "研修を修了した12人のうち4人を雇用した。",
            "equipment-0-name": "タブレット端末", "equipment-0-kind": "pc",
            "equipment-0-acquired_on": "２０２７/１/１５", "equipment-0-cost_yen": "1,200,000"}
    for n, (category, description, acquisition, amount) in enumerate(lines):
        data |= {f"lines-{n}-category": category, f"lines-{n}-description": description,
                 f"lines-{n}-acquisition": acquisition, f"lines-{n}-amount_yen": amount}
    return data | extra


def lock_of(html: str) -> str:
    return re.search(r'name="lock_version" type="hidden" value="(\d+)"', html).group(1)


def status(client, path: str) -> int:
    """The status of a download, its file closed."""
    response = client.get(path)
    response.close()
    return response.status_code


def reports_of(session, project) -> list[CompletionReport]:
    session.expire_all()
    return list(session.scalars(sa.select(CompletionReport).filter_by(
        application_id=project.application.id).order_by(CompletionReport.number)))


def test_the_page_shows_the_due_date_of_the_plan_in_force_and_the_targets(
        client, auth, session, project, monkeypatch):
    assert dt.date(2027, 3, 31) == PROJECT_END
    auth.sign_in(project.applicant)

    page = client.get(url(project))

    assert page.status_code == 200
    assert "2027-04-30" in page.text and "期限を過ぎています" not in page.text  # 30 days after
    assert "地域の課題を具体的に解決する計画です。" in page.text  # the project_goal target
    assert "雇用創出数の目標（人）" in page.text  # the jobs target's label, with its answer
    for moment, overdue in ((dt.datetime(2027, 4, 30, 23, 59, tzinfo=JST), False),
                            (dt.datetime(2027, 5, 1, 0, 0, tzinfo=JST), True)):
        monkeypatch.setattr(clock, "now", lambda moment=moment: moment.astimezone(dt.UTC))
        auth.sign_in(project.applicant)  # months later: a new session
        assert ("期限を過ぎています" in client.get(url(project)).text) is overdue
    plan = session.scalar(sa.select(PlanVersion).filter_by(application_id=project.application.id))
    session.add(PlanVersion(application_id=project.application.id, number=2,
                            category_amounts=plan.category_amounts,
                            project_end=dt.date(2027, 6, 30), scope="期間を延長", created_at=NOW))
    session.commit()

    later = client.get(url(project))

    assert "2027-07-30" in later.text and "期限を過ぎています" not in later.text


def test_filing_is_refused_until_reasons_and_jobs_are_given_then_the_officer_is_told(
        client, auth, session, project):
    auth.sign_in(project.applicant)
    saved = client.post(url(project), data=report_form(action="save", reason="", jobs=""))
    assert saved.status_code == 303
    [draft] = reports_of(session, project)
    assert draft.state is ReportState.DRAFT and draft.number == 1
    assert [line["amount_yen"] for line in draft.lines] == [3_200_000, 1_200_000]
    assert draft.equipment == [{"name": "タブレット端末", "kind": "pc",
                                "acquired_on": "2027-01-15", "cost_yen": 1_200_000}]

    page = client.get(url(project))
    refused = client.post(url(project), data=report_form(lock_of(page.text), action="submit",
                                                         reason="\u3000", jobs=""))

    assert refused.status_code == 422
    assert "error-summary" in refused.text
    assert "③ ICT機器・設備整備費" in refused.text and "雇用創出数" in refused.text
    assert "研修講師の謝金" in refused.text and "3,200,000" in refused.text  # kept
    session.expire_all()
    assert project.application.state is State.GRANTED
    assert reports_of(session, project)[0].state is ReportState.DRAFT

    filed = client.post(url(project), data=report_form(lock_of(refused.text), action="submit"))

    assert filed.status_code == 303
    [report] = reports_of(session, project)
    assert report.state is ReportState.SUBMITTED and report.submitted_by_id == project.applicant.id
    assert report.variance_reasons == {"equipment": REASON}
    assert report.kpi_results == {"project_goal": "利用者を600人に増やした。"}
    assert project.application.state is State.REPORTED
    assert tags(session, project.application)[-1] == AuditTag.REPORT_SUBMIT
    [told] = mails_to(session, project.officer.email)[-1:]
    assert project.application.reference in told.subject and "/completion-report" in told.body


def test_a_malformed_line_is_refused_with_the_typed_answers_kept(client, auth, session, project):
    auth.sign_in(project.applicant)
    lines = (("human_resources", "研修講師の謝金", "none", "1.5"),
             ("", "区分のない行", "none", "100"))

    response = client.post(url(project), data=report_form(action="submit", lines=lines))

    assert response.status_code == 422
    assert "error-summary" in response.text
    assert 'value="1.5"' in response.text and "区分のない行" in response.text
    assert reports_of(session, project) == []


def test_an_equipment_item_needs_its_kind_day_and_cost(client, auth, session, project):
    auth.sign_in(project.applicant)

    response = client.post(url(project), data=report_form(**{
        "equipment-0-kind": "", "equipment-0-acquired_on": "2025-02-30",
        "equipment-0-cost_yen": "六十万円"}))

    assert response.status_code == 422
    assert "種類を選んでください。" in response.text
    assert 'value="2025-02-30"' in response.text and 'value="六十万円"' in response.text
    assert reports_of(session, project) == []


def _refused_filing(client, project, **answers: str):
    page = client.get(url(project))
    return client.post(url(project), data=report_form(lock_of(page.text), action="submit",
                                                      **answers))


def test_equipment_no_purchase_paid_for_is_refused_with_everything_kept(
        client, auth, session, project):
    auth.sign_in(project.applicant)

    refused = _refused_filing(client, project, **{"equipment-0-cost_yen": "50,000,000"})

    assert refused.status_code == 422 and "error-summary" in refused.text
    assert ("取得財産の取得価格の合計 ¥50,000,000 が、機器・設備の経費のうち購入による実績額の"
            "合計 ¥1,200,000 を超えています") in refused.text
    assert 'value="50,000,000"' in refused.text and "研修講師の謝金" in refused.text  # kept
    [draft] = reports_of(session, project)
    assert draft.state is ReportState.DRAFT and draft.equipment[0]["cost_yen"] == 50_000_000
    leased = (LINES[0], ("equipment", "タブレット端末", "lease", "¥1,200,000"))
    assert _refused_filing(client, project, lines=leased).status_code == 422  # nothing bought

    filed = _refused_filing(client, project, **{"equipment-0-cost_yen": "１，２００，０００"})

    assert filed.status_code == 303  # exactly what was bought outright
    assert reports_of(session, project)[0].state is ReportState.SUBMITTED


@pytest.mark.parametrize(("typed", "filed"), [
    ("9999-12-31", False), ("2026/11/30", False), ("2027/4/1", False),  # outside the period
    ("2026/12/1", True), ("２０２７/３/３１", True),  # its first and last day
])
def test_equipment_acquired_outside_the_project_period_is_refused(
        client, auth, session, project, typed, filed):
    auth.sign_in(project.applicant)

    response = _refused_filing(client, project, **{"equipment-0-acquired_on": typed})

    assert response.status_code == (303 if filed else 422)
    if not filed:
        assert ("タブレット端末：取得日" in response.text
                and "が補助事業期間（2026-12-01 から 2027-03-31 まで）の外です" in response.text)
        assert f'value="{reports_of(session, project)[0].equipment[0]["acquired_on"]}"' \
            in response.text
        assert project.application.state is State.GRANTED


def test_unpadded_dates_are_read_and_impossible_ones_refused(client, auth, session, project):
    auth.sign_in(project.applicant)
    assert client.post(url(project), data=report_form(**{
        "equipment-0-acquired_on": "2027/2/3"})).status_code == 303
    assert reports_of(session, project)[0].equipment[0]["acquired_on"] == "2027-02-03"

    impossible = client.post(url(project), data=report_form(
        lock_of(client.get(url(project)).text), **{"equipment-0-acquired_on": "２０２７/２/３０"}))

    assert impossible.status_code == 422
    assert "日付を「2026-10-01」の形式で入力してください。" in impossible.text
    assert reports_of(session, project)[0].equipment[0]["acquired_on"] == "2027-02-03"


def test_jobs_created_are_bounded_by_what_the_column_holds(client, auth, session, project):
    auth.sign_in(project.applicant)

    huge = client.post(url(project), data=report_form(jobs="10,000,001"))

    assert huge.status_code == 422
    assert "10,000,000以下の値を入力してください。" in huge.text
    assert 'value="10,000,001"' in huge.text
    assert reports_of(session, project) == []
    most = client.post(url(project), data=report_form(jobs="１０，０００，０００"))
    assert most.status_code == 303
    assert reports_of(session, project)[0].jobs_created == 10_000_000


def test_a_stale_save_is_refused(client, auth, session, project):
    auth.sign_in(project.applicant)
    assert client.post(url(project), data=report_form()).status_code == 303
    lock = lock_of(client.get(url(project)).text)
    assert client.post(url(project), data=report_form(lock)).status_code == 303

    stale = client.post(url(project), data=report_form(lock, outcome="古い内容"))

    assert stale.status_code == 409
    assert "古い内容" in stale.text  # shown again, not saved
    assert reports_of(session, project)[0].outcome != "古い内容"


def _file(client, auth, session, project, *, evidence: bool = False):
    auth.sign_in(project.applicant)
    data = report_form(lock_of(client.get(url(project)).text), action="submit")
    if evidence:
        data["evidence"] = (io.BytesIO(TINY_PDF), "請求書.pdf")
    response = client.post(url(project), data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.text[:3000]
    auth.sign_out()


def test_the_officer_returns_it_and_the_next_filing_starts_from_it(
        client, auth, session, project):
    _file(client, auth, session, project, evidence=True)
    auth.sign_in(project.officer)
    shown = client.get(manage_url(project))
    assert shown.status_code == 200
    assert REASON in shown.text and "請求書.pdf" in shown.text and "+20.0 %" in shown.text

    blank = client.post(manage_url(project), data={"outcome": "return", "reason": " "})
    assert blank.status_code == 422
    assert reports_of(session, project)[0].state is ReportState.SUBMITTED
    returned = client.post(manage_url(project), data={"outcome": "return", "reason": MISSING})
    assert returned.status_code == 303
    auth.sign_out()

    [first] = reports_of(session, project)
    assert first.state is ReportState.RETURNED and first.return_reason == MISSING
    assert project.application.state is State.GRANTED
    assert tags(session, project.application)[-1] == AuditTag.REPORT_RETURN
    assert MISSING in mails_to(session, project.applicant.email)[-1].body

    auth.sign_in(project.applicant)
    page = client.get(url(project))
    assert MISSING in page.text and "研修講師の謝金" in page.text
    assert lock_of(page.text) == "0"
    resaved = client.post(url(project), data=report_form(outcome="領収書を追加した。"))
    assert resaved.status_code == 303

    first, second = reports_of(session, project)
    assert (second.number, second.state, second.outcome) == (2, ReportState.DRAFT,
                                                             "領収書を追加した。")
    assert first.state is ReportState.RETURNED and first.outcome != second.outcome
    slots = session.scalars(sa.select(Attachment.field_id).filter_by(
        application_id=project.application.id, filename="請求書.pdf")).all()
    assert sorted(slots) == ["report_evidence:1", "report_evidence:2"]  # the filed one stays


def test_the_officer_accepts_and_the_grantee_is_told(client, auth, session, project):
    _file(client, auth, session, project)
    auth.sign_in(project.officer)

    accepted = client.post(manage_url(project), data={"outcome": "accept", "reason": ""})

    assert accepted.status_code == 303
    [report] = reports_of(session, project)
    assert report.state is ReportState.ACCEPTED and report.decided_by_id == project.officer.id
    assert project.application.state is State.REPORT_ACCEPTED
    assert tags(session, project.application)[-1] == AuditTag.REPORT_ACCEPT
    assert "受理" in mails_to(session, project.applicant.email)[-1].subject
    again = client.post(manage_url(project), data={"outcome": "accept"})
    assert again.status_code == 409  # nothing is waiting any more: said, not a bare 404
    assert "判断を待っている実績報告はありません。" in again.text
    returned = client.post(manage_url(project), data={"outcome": "return", "reason": "不足"})
    assert returned.status_code == 409
    assert reports_of(session, project)[0].state is ReportState.ACCEPTED


def test_evidence_is_kept_apart_from_the_application_files(client, auth, session, project):
    auth.sign_in(project.applicant)
    data = report_form(action="upload") | {"evidence": (io.BytesIO(TINY_PDF), "領収書.pdf")}
    assert client.post(url(project), data=data,
                       content_type="multipart/form-data").status_code == 303
    evidence = session.scalar(sa.select(Attachment).filter_by(
        application_id=project.application.id, filename="領収書.pdf"))
    assert evidence.field_id == "report_evidence:1"
    file_url = url(project, f"/evidence/{evidence.id}")
    assert status(client, file_url) == 200
    refused = client.post(url(project), content_type="multipart/form-data",
                          data=report_form(lock_of(client.get(url(project)).text),
                                           action="upload")
                          | {"evidence": (io.BytesIO(b"MZ\x90\x00"), "virus.pdf")})
    assert refused.status_code == 422 and "virus.pdf" in refused.text
    auth.sign_out()

    auth.sign_in(project.officer)
    assert status(client, file_url) == 404  # a draft's files are the grantee's own
    auth.sign_out()
    _file(client, auth, session, project)
    auth.sign_in(project.officer)
    assert status(client, file_url) == 200
    auth.sign_out()
    for attachment in project.application.attachments:  # the application's own files
        if not attachment.field_id.startswith("report_evidence"):
            auth.sign_in(project.applicant)
            assert client.get(url(project, f"/evidence/{attachment.id}")).status_code == 404
            auth.sign_out()
            break


def test_removing_evidence_from_the_draft(client, auth, session, project):
    auth.sign_in(project.applicant)
    data = report_form(action="upload") | {"evidence": (io.BytesIO(TINY_PDF), "見積書.pdf")}
    client.post(url(project), data=data, content_type="multipart/form-data")
    evidence = session.scalar(sa.select(Attachment).filter_by(filename="見積書.pdf"))
    page = client.get(url(project))

    removed = client.post(url(project), data=report_form(lock_of(page.text),
                                                         action=f"remove:{evidence.id}"))

    assert removed.status_code == 303
    session.expire_all()
    assert session.scalar(sa.select(Attachment).filter_by(filename="見積書.pdf")) is None
    assert tags(session, project.application)[-1] == AuditTag.ATTACHMENT_REMOVE


def test_other_organizations_and_roles_are_refused(app, client, auth, session, make_user,
                                                    project):
    _file(client, auth, session, project)
    own = (url(project), manage_url(project))
    other = make_user(Role.APPLICANT, lg_code="131016")
    reviewer, auditor = make_user(Role.REVIEWER), make_user(Role.AUDITOR)
    before = session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))

    auth.sign_in(other)
    assert client.get(own[0]).status_code == 404
    assert client.post(own[0], data=report_form()).status_code == 404
    assert client.get(own[1]).status_code == 403
    auth.sign_out()
    auth.sign_in(reviewer)
    assert [client.get(u).status_code for u in own] == [403, 403]
    assert client.post(own[1], data={"outcome": "accept"}).status_code == 403
    auth.sign_out()
    auth.sign_in(auditor)
    assert client.get(own[0]).status_code == 403
    assert client.get(own[1]).status_code == 200  # auditors read a funded project's report
    assert client.post(own[1], data={"outcome": "accept"}).status_code == 403
    auth.sign_out()
    auth.sign_in(project.officer)
    assert client.post(own[0], data=report_form()).status_code == 403
    assert client.get("/manage/applications/987654/completion-report").status_code == 404
    auth.sign_out()
    auth.sign_in(project.applicant)
    assert client.post(own[1], data={"outcome": "accept"}).status_code == 403
    assert client.post(own[0], data=report_form()).status_code == 303  # filed: not changed
    assert reports_of(session, project)[0].state is ReportState.SUBMITTED

    session.expire_all()
    assert project.application.state is State.REPORTED
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == before


def test_a_pending_plan_change_holds_the_report_back_until_it_is_decided(
        client, auth, session, project):
    application = project.application
    auth.sign_in(project.applicant)
    asked = client.post(f"/applications/{application.id}/plan/change", data={
        "amount_human_resources": "3,000,000", "amount_system": "0",
        "amount_equipment": "1,000,000", "project_end": "2027-06-30", "scope": "",
        "reason": "機器の納期が遅れるため。", "plan_version": "1"})
    assert asked.status_code == 303, asked.text[:2000]
    refused = client.post(url(project), data=report_form(
        lock_of(client.get(url(project)).text), action="submit"))
    assert refused.status_code == 422
    assert "計画変更の申請が事務局の判断を待っています。" in refused.text
    assert reports_of(session, project)[0].state is ReportState.DRAFT
    assert application.state is State.GRANTED
    auth.sign_out()
