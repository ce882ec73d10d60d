"""The sustainability dashboard, its drill-down and its CSV run a fixed number of SQL queries,
however many funded projects a call has (10 against 600)."""

from __future__ import annotations

import datetime as dt

from grants.domain.workflow import Role, State
from grants.models import FollowupReport, Operating, PlanVersion
from grants.services.reviewing import rubric_version_for
from tests.conftest import NOW
from tests.web.reviewflow import KEY, clone_in_review, review_all, rubric_for, submit_application
from tests.web.test_review_queries import counted

URL = f"/sustainability/calls/{KEY}"
STANDINGS = (Operating.YES, Operating.PARTLY, Operating.STOPPED)


def completed_projects(session, template, reviewers, count: int) -> None:
    """`count` completed projects cloned from `template`, reviewed, with a plan in force
    (ending in FY2020 to FY2023) and a varying number of follow-up reports."""
    clones = clone_in_review(session, template, count)
    review_all(session, clones, reviewers, rubric_version_for(session, template).id,
               rubric_for(session, template))
    for n, application in enumerate(clones):
        application.state = State.COMPLETED
        completion = 2020 + n % 4
        session.add(PlanVersion(application_id=application.id, number=1, category_amounts={},
                                project_end=dt.date(completion + 1, 3, 31), scope="計画のとおり",
                                created_at=NOW))
        for year in range(1, n % 6):
            operating = STANDINGS[(n + year) % 3]
            session.add(FollowupReport(
                application_id=application.id, fiscal_year=completion + year, year_number=year,
                operating=operating,
                stop_reason=None if operating is Operating.YES else "利用者が減少したため。",
                operating_costs={"own_budget": 100_000 * year, "user_fees": 10_000 * n},
                submitted_at=NOW, submitted_by_id=template.created_by_id))
    session.commit()


def _queries(client, connection, url: str) -> int:
    with counted(connection) as statements:
        response = client.get(url)
    assert response.status_code == 200, response.text[:2000]
    return len(statements)


def test_the_dashboard_does_not_grow_with_projects(client, auth, session, make_user, connection):
    template = submit_application(client, auth, session, make_user)
    reviewers = [make_user(Role.REVIEWER) for _ in range(2)]
    officer = make_user(Role.OFFICER)
    urls = [URL, f"{URL}?completion_year=2021", f"{URL}/projects",
            f"{URL}/projects?year=2&standing=stopped", f"{URL}/sustainability.csv"]
    counts, shown = [], []
    for size in (10, 590):  # 10, then 600 in all
        completed_projects(session, template, reviewers, size)
        auth.sign_in(officer)
        counts.append([_queries(client, connection, url) for url in urls])
        shown.append(client.get(f"{URL}/projects").text.count('href="/manage/applications/'))
        auth.sign_out()
    assert shown == [10, 600]
    assert counts[0] == counts[1], counts
