"""The whole path after the award through the pages, with the clock moved as the years pass:
the grantee accepts the grant decision, files the completion report after the project ends,
the officer accepts it and fixes the final amount, and the grantee files the five yearly
follow-up reports, each once its fiscal year is over; the reminders of a year go out once; the
audit record then holds every post-award section.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pikepdf
import sqlalchemy as sa

from grants import clock, jobs
from grants.domain.definitions import JST
from grants.domain.fiscal import day_in_fiscal_year, fiscal_year, fiscal_year_start
from grants.domain.workflow import State
from grants.models import FinalAmount, FollowupReminder, FollowupReport, PlanVersion
from grants.services import followups
from tests.post_award_helpers import PROJECT_END, awarded
from tests.web.test_completion_report import lock_of, report_form

FIRST = fiscal_year(PROJECT_END) + 1  # the first follow-up covers the year after completion
FOLLOWUP = {"operating": "yes", "stop_reason": "", "users": "８５０",
            "cost_local_government": "１，５００，０００円", "cost_user_fees": "¥200,000",
            "cost_private_funding": "", "cost_own_budget": "", "cost_other": "",
            "kpi_project_goal": "見守り登録者 850人（目標 600人）",
            "kpi_human_resources_plan": "地元人材 4人が運営を担う。",
            "note": "地域の見守りに定着した。"}


def _on(monkeypatch, auth, user, day: dt.date) -> None:
    """Move the clock to 10:00 Japan time on `day` and sign `user` in afresh."""
    auth.sign_out()
    moment = dt.datetime.combine(day, dt.time(10), JST).astimezone(dt.UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)
    auth.sign_in(user)


def test_from_the_award_to_the_fifth_follow_up(app, client, auth, session, make_user,
                                               monkeypatch):
    with app.test_request_context():
        funded = awarded(client, auth, session, make_user)
    application, grantee, officer = funded.application, funded.applicant, funded.officer

    auth.sign_in(grantee)
    assert "交付決定" in client.get(f"/applications/{application.id}/grant-decision").text
    assert client.post(f"/applications/{application.id}/grant-decision/accept",
                       data={"accept_conditions": "y"}).status_code == 303
    session.expire_all()
    assert application.state is State.GRANTED

    _on(monkeypatch, auth, grantee, PROJECT_END + dt.timedelta(days=10))
    report_url = f"/applications/{application.id}/completion-report"
    filed = client.post(report_url, data=report_form(
        lock_of(client.get(report_url).text), action="submit"))
    assert filed.status_code == 303, filed.text[:2000]

    _on(monkeypatch, auth, officer, PROJECT_END + dt.timedelta(days=20))
    manage = f"/manage/applications/{application.id}"
    assert client.post(f"{manage}/completion-report",
                       data={"outcome": "accept"}).status_code == 303
    working = client.get(f"{manage}/final-amount").text
    assert "eligible" in working or "対象経費" in working
    assert client.post(f"{manage}/final-amount").status_code == 303
    session.expire_all()
    assert application.state is State.COMPLETED
    final = session.scalar(sa.select(FinalAmount).filter_by(application_id=application.id))
    assert 0 < final.amount_yen <= 4_000_000

    for number in range(1, 6):
        year = FIRST + number - 1
        due = day_in_fiscal_year(year + 1, "06-30")
        _on(monkeypatch, auth, grantee, due - dt.timedelta(days=30))
        with app.test_request_context():
            reminded = [q for q in followups.remind(session, now=clock.now())
                        if q.application.id == application.id]
            assert len(reminded) == 1  # 30 days before: once
            assert followups.remind(session, now=clock.now()) == []  # run again: nothing
        session.commit()
        url = f"/applications/{application.id}/followups/{year}"
        assert client.post(url, data=FOLLOWUP).status_code == 303, year
        assert fiscal_year(clock.now().astimezone(JST).date()) == year + 1
    assert client.post(f"/applications/{application.id}/followups/{FIRST + 5}",
                       data=FOLLOWUP).status_code == 404  # five, no more
    auth.sign_out()

    session.expire_all()
    reports = session.scalars(sa.select(FollowupReport).filter_by(
        application_id=application.id).order_by(FollowupReport.fiscal_year)).all()
    assert [(r.fiscal_year, r.year_number, r.users) for r in reports] == [
        (FIRST + n, n + 1, 850) for n in range(5)]
    assert session.scalar(sa.select(sa.func.count()).select_from(FollowupReminder).where(
        FollowupReminder.application_id == application.id)) == 5
    assert fiscal_year_start(FIRST + 5) <= clock.now().astimezone(JST).date()

    with app.test_request_context():
        pdf = pikepdf.open(io.BytesIO(jobs.render_record(session, application)))
    files = {name: json.loads(spec.get_file().read_bytes())
             for name, spec in pdf.attachments.items() if name.endswith(".json")}
    assert {"grant_decision.json", "plans.json", "completion_reports.json",
            "final_amount.json", "followups.json"} <= set(files)
    assert [r["fiscal_year"] for r in files["followups.json"]["followup_reports"]] == [
        FIRST + n for n in range(5)]
    plan = session.scalar(sa.select(PlanVersion).filter_by(application_id=application.id))
    assert plan.number == 1 and plan.project_end == PROJECT_END
