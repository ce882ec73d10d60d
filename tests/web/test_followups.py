"""Follow-up reports (状況報告) through the pages: the schedule after completion, filing refused
until the fiscal year has ended, the answers (operating, reason, users, the cost by who pays it
typed as people type yen, KPI results beside their targets; no more users than the column
holds), one report a year, the officer's
list of what is overdue across calls and per call; other organizations and roles refused."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from grants import clock
from grants.domain.definitions import JST
from grants.domain.fiscal import day_in_fiscal_year, fiscal_year, fiscal_year_start
from grants.domain.workflow import Role
from grants.models import AuditEvent, FollowupReport, Operating
from grants.services.audit import AuditTag
from grants.services.programs import definition_of
from grants.web import followups as followup_pages
from tests.post_award_helpers import PROJECT_END, accepted_report, completed, granted

LINES = [{"category": "human_resources", "description": "研修講師の謝金", "acquisition": "none",
          "amount_yen": 3_000_000}]
# The project ends with the test application's period (2027-03-31, FY2026): the first report
# is on FY2027, may be filed from 2028-04-01 and is due by 2028-06-30.
FIRST = fiscal_year(PROJECT_END) + 1
OPENS = fiscal_year_start(FIRST + 1)
DUE = day_in_fiscal_year(FIRST + 1, "06-30")
FILING = {"operating": "partly", "stop_reason": "冬季は利用者が少なく一部休止した。",
          "users": "１，２００", "cost_local_government": "１，２００，０００円",
          "cost_user_fees": "¥300,000", "cost_private_funding": "", "cost_own_budget": "0",
          "cost_other": "", "kpi_jobs_target": "3人を雇用した。", "note": "来年度は通年運営。"}


def _at(monkeypatch, day: dt.date) -> None:
    moment = dt.datetime.combine(day, dt.time(10, 0), JST).astimezone(dt.UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)


@pytest.fixture(autouse=True)
def jobs_as_kpi(monkeypatch):
    """The program's KPI: the jobs target the application states (the program file may name
    other fields; this module pins one)."""
    def with_kpi(version):
        definition = definition_of(version)
        post_award = definition.post_award.model_copy(update={"kpi_fields": ("jobs_target",)})
        return definition.model_copy(update={"post_award": post_award})
    monkeypatch.setattr(followup_pages, "definition_of", with_kpi)


def _complete(client, auth, session, make_user):
    funded = granted(client, auth, session, make_user)
    completed(session, funded, accepted_report(session, funded, LINES), 3_000_000)
    return funded


@pytest.fixture
def funded(client, auth, session, make_user):
    return _complete(client, auth, session, make_user)


def _reports(session, funded) -> list[FollowupReport]:
    session.expire_all()
    return list(session.scalars(sa.select(FollowupReport).filter_by(
        application_id=funded.application.id)))


def _sign_in_at(auth, monkeypatch, user, day: dt.date) -> None:
    """Move the clock (a new session: the last one has long timed out) and sign in."""
    auth.sign_out()
    _at(monkeypatch, day)
    auth.sign_in(user)


def test_the_grantee_files_each_year_once_that_year_has_ended(
        client, auth, session, monkeypatch, funded):
    application = funded.application
    auth.sign_in(funded.applicant)
    home = client.get(f"/applications/{application.id}").text
    assert f'href="/applications/{application.id}/followups"' in home
    listing = client.get(f"/applications/{application.id}/followups")
    assert listing.status_code == 200
    for year in range(5):
        assert day_in_fiscal_year(FIRST + 1 + year, "06-30").isoformat() in listing.text
    assert OPENS.isoformat() in listing.text  # when the first may be filed
    url = f"/applications/{application.id}/followups/{FIRST}"
    early = client.post(url, data=FILING)
    assert early.status_code == 409 and OPENS.isoformat() in early.text
    assert FILING["stop_reason"] in early.text  # the answers stay
    assert client.get(f"/applications/{application.id}/followups/{FIRST + 5}").status_code == 404
    assert _reports(session, funded) == []

    _sign_in_at(auth, monkeypatch, funded.applicant, OPENS)
    page = client.get(url)
    target = json.loads(application.submissions[-1].snapshot)["answers"]["jobs_target"]
    assert page.status_code == 200 and f"{target}" in page.text
    no_reason = client.post(url, data={**FILING, "stop_reason": " \u3000"})
    assert no_reason.status_code == 422 and "1,200,000" in no_reason.text
    bad_yen = client.post(url, data={**FILING, "cost_user_fees": "1.5"})
    assert bad_yen.status_code == 422 and FILING["note"] in bad_yen.text and "1.5" in bad_yen.text
    negative = client.post(url, data={**FILING, "users": "-1"})
    assert negative.status_code == 422
    assert _reports(session, funded) == []
    assert client.post(url, data=FILING).status_code == 303
    (report,) = _reports(session, funded)
    assert (report.fiscal_year, report.year_number, report.operating, report.users) == (
        FIRST, 1, Operating.PARTLY, 1200)
    assert report.operating_costs == {"local_government": 1_200_000, "user_fees": 300_000}
    assert report.kpi_results == {"jobs_target": "3人を雇用した。"}
    assert report.stop_reason == FILING["stop_reason"]
    event = session.scalars(sa.select(AuditEvent).filter_by(
        tag=AuditTag.FOLLOWUP_FILE.value, subject_id=application.id)).one()
    assert event.data["fiscal_year"] == FIRST and event.data["users"] == 1200
    assert client.get(url).status_code == 303  # filed: the page shows it in the list
    assert client.post(url, data={**FILING, "operating": "yes"}).status_code == 409
    shown = client.get(f"/applications/{application.id}/followups").text
    assert "¥1,500,000" in shown and "3人を雇用した。" in shown  # the total cost
    second = client.post(f"/applications/{application.id}/followups/{FIRST + 1}",
                         data={**FILING, "operating": "yes", "stop_reason": ""})
    assert second.status_code == 409 and fiscal_year_start(FIRST + 2).isoformat() in second.text
    assert len(_reports(session, funded)) == 1


def test_a_service_operating_needs_no_reason_and_keeps_none(
        client, auth, session, monkeypatch, funded):
    _sign_in_at(auth, monkeypatch, funded.applicant, DUE + dt.timedelta(days=30))  # overdue
    assert client.post(f"/applications/{funded.application.id}/followups/{FIRST}", data={
        **FILING, "operating": "yes", "stop_reason": "書いたが運営中。", "users": ""}
    ).status_code == 303
    (report,) = _reports(session, funded)
    assert (report.operating, report.stop_reason, report.users) == (Operating.YES, None, None)


def test_users_are_bounded_by_what_the_column_holds(client, auth, session, monkeypatch, funded):
    _sign_in_at(auth, monkeypatch, funded.applicant, OPENS)
    url = f"/applications/{funded.application.id}/followups/{FIRST}"

    huge = client.post(url, data={**FILING, "users": "2,000,000,001"})

    assert huge.status_code == 422
    assert "2,000,000,000以下の値を入力してください。" in huge.text
    assert 'value="2,000,000,001"' in huge.text and FILING["note"] in huge.text
    assert _reports(session, funded) == []
    most = client.post(url, data={**FILING, "users": "２，０００，０００，０００"})
    assert most.status_code == 303
    assert _reports(session, funded)[0].users == 2_000_000_000


def test_officers_see_what_is_overdue_across_calls_and_per_call(
        client, auth, session, make_user, monkeypatch, funded):
    late = _complete(client, auth, session, make_user)
    _sign_in_at(auth, monkeypatch, funded.applicant, DUE)
    assert client.post(f"/applications/{funded.application.id}/followups/{FIRST}",
                       data=FILING).status_code == 303
    _sign_in_at(auth, monkeypatch, funded.officer, DUE)
    assert 'href="/manage/followups/overdue"' in client.get("/manage/").text
    assert late.application.reference not in client.get("/manage/followups/overdue").text
    _sign_in_at(auth, monkeypatch, funded.officer, DUE + dt.timedelta(days=1))
    page = client.get("/manage/followups/overdue")
    assert page.status_code == 200
    assert late.application.reference in page.text
    assert funded.application.reference not in page.text
    key = late.application.program_version.program_key
    assert late.application.reference in client.get(f"/manage/followups/overdue?call={key}").text
    other_call = client.get("/manage/followups/overdue?call=ict-furusato-genki-2009")
    assert other_call.status_code == 200 and late.application.reference not in other_call.text
    assert client.get("/manage/followups/overdue?call=no-such-call").status_code == 404
    officer_view = client.get(f"/manage/applications/{funded.application.id}/followups")
    assert officer_view.status_code == 200 and FILING["stop_reason"] in officer_view.text
    _sign_in_at(auth, monkeypatch, make_user(Role.AUDITOR), DUE + dt.timedelta(days=1))
    assert FILING["stop_reason"] in client.get(
        f"/audit/applications/{funded.application.id}/followups").text
    assert f'href="/audit/applications/{funded.application.id}/followups"' in client.get(
        f"/audit/applications/{funded.application.id}").text
    assert client.get("/manage/followups/overdue").status_code == 403


def test_others_are_refused(client, auth, session, make_user, monkeypatch, funded):
    application = funded.application
    running = granted(client, auth, session, make_user)  # not completed: nothing owed yet
    people = {role: make_user(role) for role in (Role.OFFICER, Role.AUDITOR, Role.REVIEWER,
                                                 Role.ADMIN)}
    stranger = make_user(Role.APPLICANT, lg_code="131016")
    url = f"/applications/{application.id}/followups"
    _sign_in_at(auth, monkeypatch, stranger, OPENS)
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/{FIRST}").status_code == 404
    assert client.post(f"{url}/{FIRST}", data=FILING).status_code == 404
    for role, user in people.items():
        _sign_in_at(auth, monkeypatch, user, OPENS)
        assert client.post(f"{url}/{FIRST}", data=FILING).status_code == 403, role
    _sign_in_at(auth, monkeypatch, people[Role.REVIEWER], OPENS)
    for page in (f"/manage/applications/{application.id}/followups",
                 f"/audit/applications/{application.id}/followups", "/manage/followups/overdue"):
        assert client.get(page).status_code == 403, page
    _sign_in_at(auth, monkeypatch, running.applicant, OPENS)
    assert client.get(f"/applications/{running.application.id}/followups").status_code == 404
    assert client.post(f"/applications/{running.application.id}/followups/{FIRST}",
                       data=FILING).status_code == 404
    assert _reports(session, funded) == []
