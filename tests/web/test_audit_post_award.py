"""The auditor's search after the award: by what the latest follow-up report said, by a
follow-up report past its due date (31 March against 1 April completions, the due day itself),
and by assets still under their disposal restriction; the batch of such a search says what it
searched for. `complete` is shared with test_audit_queries.

Today is tests.conftest.NOW: 2026-11-20 in Japan (FY2026). With the default rule (five reports,
due 30 June), the report on FY2025 was due on 2026-06-30 and is past due.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Sequence

import pikepdf
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.domain.fiscal import fiscal_year
from grants.domain.followups import overdue, past_due_by_completion, schedule
from grants.domain.workflow import Role, State
from grants.models import (
    Application,
    Asset,
    AssetState,
    BatchJob,
    BatchState,
    CompletionReport,
    FollowupReport,
    Operating,
    PlanVersion,
    ReportState,
)
from grants.services import final_amounts
from tests.conftest import NOW
from tests.post_award_helpers import accepted_report, granted
from tests.web.reviewflow import submit_application
from tests.web.test_audit_search import found, fund


def complete(session: Session, application: Application, user_id: int, *,
             project_end: dt.date, followups: Sequence[Operating] = (),
             assets: Sequence[tuple[dt.date, AssetState]] = (),
             state: State = State.COMPLETED) -> None:
    """Move a funded application to `state` with a plan ending on `project_end`, its first
    follow-up reports answering `followups` in order, and assets (restricted until, state)."""
    plan = PlanVersion(application_id=application.id, number=1, category_amounts={},
                       project_end=project_end, scope="事業計画のとおり", created_at=NOW)
    session.add(plan)
    session.flush()
    report = CompletionReport(
        application_id=application.id, number=1, plan_version_id=plan.id,
        state=ReportState.ACCEPTED, updated_at=NOW, submitted_at=NOW, submitted_by_id=user_id,
        decided_at=NOW, decided_by_id=user_id)
    session.add(report)
    session.flush()
    application.state = state
    completion = fiscal_year(project_end)
    session.add_all(FollowupReport(
        application_id=application.id, fiscal_year=completion + n, year_number=n,
        operating=operating, stop_reason=None if operating is Operating.YES else "利用者減少",
        operating_costs={}, submitted_at=NOW, submitted_by_id=user_id)
        for n, operating in enumerate(followups, start=1))
    session.add_all(Asset(
        application_id=application.id, report_id=report.id, name=f"サーバー{n}",
        kind="computer", acquired_on=dt.date(2020, 4, 1), cost_yen=600_000,
        subsidized_yen=600_000, useful_life_years=5, restricted_until=until, state=asset_state)
        for n, (until, asset_state) in enumerate(assets))
    session.flush()


TODAY = dt.date(2026, 11, 20)
MARCH_2025, APRIL_2025 = dt.date(2025, 3, 31), dt.date(2025, 4, 1)
MARCH_2021, MARCH_2019 = dt.date(2021, 3, 31), dt.date(2019, 3, 31)
YES, PARTLY, STOPPED = Operating.YES, Operating.PARTLY, Operating.STOPPED


@pytest.fixture
def projects(client, auth, session, make_user):
    template = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    made = {}
    plans = {
        # FY2024 completion: its first report (on FY2025) is past due.
        "PA-FILED": dict(project_end=MARCH_2025, followups=[YES],
                         assets=[(TODAY, AssetState.HELD)]),  # restricted through today
        "PA-MISSING": dict(project_end=MARCH_2025,
                           assets=[(TODAY - dt.timedelta(days=1), AssetState.HELD)]),
        # FY2025 completion, one day later: its first report (on FY2026) is due in 2027.
        "PA-APRIL": dict(project_end=APRIL_2025, assets=[(dt.date(2030, 3, 31), AssetState.HELD)]),
        # FY2020: all five reports past due.
        "PA-STOPPED": dict(project_end=MARCH_2021, followups=[YES, YES, PARTLY, YES, STOPPED],
                           assets=[(dt.date(2030, 3, 31), AssetState.DISPOSED)]),
        "PA-PARTLY": dict(project_end=MARCH_2021, followups=[YES, YES, STOPPED, PARTLY],
                          assets=[(dt.date(2030, 3, 31), AssetState.REPURPOSED)]),
        # FY2018: five reports, the last on FY2023; nothing more is owed.
        "PA-DONE": dict(project_end=MARCH_2019, followups=[YES] * 5),
        # Not completed: no follow-up is owed yet, whatever the plan's end.
        "PA-RUNNING": dict(project_end=MARCH_2025, state=State.REPORT_ACCEPTED,
                           assets=[(dt.date(2030, 3, 31), AssetState.HELD)]),
    }
    for reference, plan in plans.items():
        made[reference] = fund(session, template, officer, reference=reference, amount=1_000_000)
        complete(session, made[reference], officer.id, **plan)
    fund(session, template, officer, reference="PA-AWARDED", amount=1_000_000)
    session.commit()
    return made


@pytest.mark.parametrize(("query", "expected"), [
    ({"followup": "operating"}, {"PA-FILED", "PA-DONE"}),
    ({"followup": "partly"}, {"PA-PARTLY"}),
    ({"followup": "stopped"}, {"PA-STOPPED"}),
    ({"followup": "overdue"}, {"PA-MISSING", "PA-PARTLY"}),
    ({"restricted_assets": "y"}, {"PA-FILED", "PA-APRIL", "PA-RUNNING"}),
    ({"followup": "overdue", "restricted_assets": "y"}, set()),
    ({"followup": "operating", "restricted_assets": "y"}, {"PA-FILED"}),
    ({"followup": "operating", "restricted_assets": "0"}, {"PA-FILED", "PA-DONE"}),  # unticked
    ({"followup": "operating", "restricted_assets": ""}, {"PA-FILED", "PA-DONE"}),
    ({"followup": "overdue", "fiscal_year": "2009"}, set()),  # another call's year
])
def test_search_by_followups_and_restricted_assets(client, auth, make_user, projects, query,
                                                   expected):
    auth.sign_in(make_user(Role.AUDITOR))
    page = client.get("/audit/", query_string=query)
    assert page.status_code == 200, page.text[:2000]
    assert found(page.text) == expected


def test_results_show_the_stage_and_latest_followup(client, auth, make_user, projects):
    auth.sign_in(make_user(Role.AUDITOR))
    page = client.get("/audit/", query_string={"restricted_assets": "y"})
    row = page.text.split(">PA-FILED</a>", 1)[1].split("</tr>", 1)[0]
    assert "state-completed" in row and "2025" in row
    stopped = client.get("/audit/", query_string={"followup": "stopped"}).text
    assert "2025" in stopped.split(">PA-STOPPED</a>", 1)[1].split("</tr>", 1)[0]
    box = re.search(r'<input[^>]*id="restricted_assets"[^>]*>', page.text)[0]
    assert "checked" in box  # the search keeps the auditor's answers


def test_the_batch_form_carries_the_search_a_ticked_box_and_a_zero_included(
        client, auth, make_user, projects):
    auth.sign_in(make_user(Role.AUDITOR))
    page = client.get("/audit/", query_string={"restricted_assets": "y", "min_yen": "0"})
    batch_form = page.text.split('action="/audit/batches"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="restricted_assets" value="y">' in batch_form
    assert '<input type="hidden" name="min_yen" value="0">' in batch_form
    assert 'name="followup"' not in batch_form


def test_a_bad_followup_value_rerenders_with_an_error_summary(client, auth, make_user,
                                                              projects):
    auth.sign_in(make_user(Role.AUDITOR))
    page = client.get("/audit/", query_string={"followup": "sometimes"})
    assert page.status_code == 422 and "error-summary" in page.text
    assert found(page.text) == set()


def test_a_batch_of_overdue_projects_names_its_search(client, auth, session, make_user,
                                                      projects):
    auditor = make_user(Role.AUDITOR)
    auth.sign_in(auditor)
    response = client.post("/audit/batches", data={"followup": "overdue",
                                                   "restricted_assets": ""})
    assert response.status_code == 303, response.text[:2000]
    job = session.scalar(sa.select(BatchJob).filter_by(requested_by_id=auditor.id))
    assert job.criteria == {"followup": "overdue"}
    assert sorted(job.application_ids) == sorted(
        projects[r].id for r in ("PA-MISSING", "PA-PARTLY"))
    page = client.get(f"/audit/batches/{job.id}")
    search = client.get("/audit/", query_string={"followup": "overdue"})
    label = search.text.split('value="overdue"', 1)[1].split("</option>", 1)[0].lstrip(" >")
    assert label in page.text


@pytest.mark.parametrize("completion", [
    MARCH_2025, APRIL_2025, MARCH_2021, MARCH_2019, dt.date(2024, 2, 29),
    dt.date(2020, 12, 31), dt.date(2023, 3, 31), dt.date(2023, 4, 1)])
@pytest.mark.parametrize("today", [
    dt.date(2026, 6, 30), dt.date(2026, 7, 1), dt.date(2026, 3, 31), dt.date(2026, 4, 1),
    dt.date(2027, 1, 15), TODAY])
@pytest.mark.parametrize(("years", "due"), [(5, "06-30"), (3, "01-31"), (1, "04-01")])
def test_past_due_counts_agree_with_the_followup_schedule(completion, today, years, due):
    """The search's per-year counts say what grants.domain.followups says of each project."""
    expected = len(overdue(schedule(completion, years, due), set(), today))
    matching = [owed for first, last, owed in past_due_by_completion(today, years, due)
                if (first is None or first <= completion) and completion <= last]
    assert (matching[0] if matching else 0) == expected
    assert len(matching) <= 1


def test_no_followups_owed_when_the_program_asks_for_none():
    assert past_due_by_completion(TODAY, 0, "06-30") == []


def test_a_batch_holds_the_record_and_the_letters_of_a_completed_project(
        app, client, auth, session, make_user):
    funded = granted(client, auth, session, make_user)
    accepted_report(session, funded, [
        {"category": "human_resources", "description": "研修講師", "acquisition": "none",
         "amount_yen": 2_900_000}])
    application = funded.application
    with app.test_request_context():  # confirming e-mails the grantee
        final_amounts.confirm(session, application, actor=funded.officer, now=NOW)
    session.commit()
    auditor = make_user(Role.AUDITOR)
    auth.sign_in(auditor)
    assert client.post("/audit/batches", data={}).status_code == 303
    job = session.scalar(sa.select(BatchJob).filter_by(requested_by_id=auditor.id))
    session.refresh(job)
    assert job.state is BatchState.DONE, job.error
    download = client.get(f"/audit/batches/{job.id}/download")
    archive = zipfile.ZipFile(io.BytesIO(download.get_data()))
    download.close()
    reference = application.reference
    letters = {f"{reference}-grant-decision.pdf", f"{reference}-final-amount.pdf"}
    assert set(archive.namelist()) == {f"{reference}.pdf", "manifest.csv", "letters.csv",
                                       *letters}
    rows = list(csv.DictReader(io.StringIO(archive.read("letters.csv").decode("utf-8"))))
    assert {row["file"] for row in rows} == letters
    for row in rows:
        assert row["reference"] == reference
        assert hashlib.sha256(archive.read(row["file"])).hexdigest() == row["pdf_sha256"]
    record = pikepdf.open(io.BytesIO(archive.read(f"{reference}.pdf")))
    assert {"grant_decision.json", "plans.json", "completion_reports.json",
            "final_amount.json"} <= set(record.attachments)
