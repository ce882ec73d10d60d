"""The sustainability dashboard through the test client: the numbers of each year after
completion, the costs by payer, the rubric against what happened, the drill-down to the projects
behind each number, the CSV, the completion-year filter, and who may read it.

Four projects of ICT絆, reviewed, awarded, accepted, reported and completed (the final amount
fixed), with follow-up reports added as rows. Today is 2026-11-20 (FY2026):

    A  score 5, ended FY2022: operating in FY2023, FY2024 and FY2025
    B  score 2, ended FY2022: partly in FY2023, stopped in FY2024, no report since
    C  score 4, ended FY2022: operating in FY2023, no report for FY2024, operating in FY2025
    D  score 3, ended FY2024: no report for FY2025 (its first year)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from grants.domain.workflow import Role
from grants.models import FollowupReport, Operating, PlanVersion
from tests.conftest import NOW
from tests.post_award_helpers import accepted_report, completed, granted
from tests.web.reviewflow import KEY, rubric_for

URL = f"/sustainability/calls/{KEY}"
SUSTAIN = "sustainable_after_funding"


def complete(client, auth, session, make_user, score: int, project_end: dt.date):
    """A completed project whose reviewers rated every criterion `score`, ending on
    `project_end` (the plan in force)."""
    funded = granted(client, auth, session, make_user, score=score)
    plan = session.scalar(sa.select(PlanVersion).filter_by(application_id=funded.application.id))
    plan.project_end = project_end
    report = accepted_report(session, funded, [])
    completed(session, funded, report, 0)
    return funded


def follow_up(session, funded, fiscal_year: int, operating: Operating,
              costs: dict[str, int] | None = None, *, completion: int = 2022) -> None:
    session.add(FollowupReport(
        application_id=funded.application.id, fiscal_year=fiscal_year,
        year_number=fiscal_year - completion, operating=operating,
        stop_reason=None if operating is Operating.YES else "利用者が減少したため。",
        users=10, operating_costs=costs or {}, submitted_at=NOW,
        submitted_by_id=funded.applicant.id))


@pytest.fixture
def projects(client, auth, session, make_user):
    ended = dt.date(2023, 3, 31)  # FY2022
    a = complete(client, auth, session, make_user, 5, ended)
    b = complete(client, auth, session, make_user, 2, ended)
    c = complete(client, auth, session, make_user, 4, ended)
    d = complete(client, auth, session, make_user, 3, dt.date(2025, 3, 31))  # FY2024
    follow_up(session, a, 2023, Operating.YES, {"own_budget": 1_000_000, "user_fees": 500_000})
    follow_up(session, a, 2024, Operating.YES, {"own_budget": 1_200_000})
    follow_up(session, a, 2025, Operating.YES, {"own_budget": 1_200_000})
    follow_up(session, b, 2023, Operating.PARTLY, {"user_fees": 300_000})
    follow_up(session, b, 2024, Operating.STOPPED)
    follow_up(session, c, 2023, Operating.YES, {"local_government": 800_000})
    follow_up(session, c, 2025, Operating.YES, {"local_government": 700_000})
    session.commit()
    return {name: funded.application for name, funded in zip("ABCD", (a, b, c, d), strict=True)}


def _cells(html: str, caption: str) -> list[list[str]]:
    """The text of each body row of the table with this caption."""
    table = html[html.index(caption):]
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    return [[re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def _references(html: str) -> list[str]:
    return re.findall(r'<td><a href="/[a-z/]+/\d+">([^<]+)</a></td>', html)


def test_the_dashboard_counts_each_year_after_completion(client, auth, make_user, projects):
    auth.sign_in(make_user(Role.OFFICER))
    client.post("/language", data={"locale": "en", "next": "/"})
    page = client.get(URL)
    assert page.status_code == 200
    html = page.text
    assert '<svg class="chart" role="img"' in html
    assert "<title id=\"survival-title\">Share of funded projects operating" in html
    assert _cells(html, "Projects by standing in each year after completion") == [
        ["Year 1", "4", "2 (50.0%)", "1 (25.0%)", "0 (0.0%)", "1 (25.0%)"],
        ["Year 2", "3", "1 (33.3%)", "0 (0.0%)", "1 (33.3%)", "1 (33.3%)"],
        ["Year 3", "3", "2 (66.7%)", "0 (0.0%)", "1 (33.3%)", "0 (0.0%)"],
        ["Year 4", "0", "–", "–", "–", "–"],
        ["Year 5", "0", "–", "–", "–", "–"],
    ]
    assert _cells(html, "Yearly operating costs reported, by payer") == [
        ["Year 1", "¥1,000,000 (38.5%)", "¥800,000 (30.8%)", "¥800,000 (30.8%)", "¥2,600,000"],
        ["Year 2", "¥1,200,000 (100.0%)", "–", "–", "¥1,200,000"],
        ["Year 3", "¥1,200,000 (63.2%)", "¥700,000 (36.8%)", "–", "¥1,900,000"],
        ["Year 4", "–", "–", "–", "¥0"],
        ["Year 5", "–", "–", "–", "¥0"],
    ]
    assert "The grantee organization" in html and "The local government" in html
    rubric = _cells(html, "Mean score per criterion by standing at the latest report")
    sustain = next(row for row in rubric if row[0].startswith("Continuation after the funding"))
    assert sustain[1:] == ["4.50 (2)", "– (0)", "2.00 (1)", "+2.50"]
    assert len(rubric) == 12  # every criterion of the rubric
    assert "Every project (4)" in html


def test_each_number_opens_the_projects_behind_it(client, auth, make_user, projects):
    officer = make_user(Role.OFFICER)
    auth.sign_in(officer)
    page = client.get(URL).text
    stopped_in_year_2 = f"{URL}/projects?year=2&amp;standing=stopped"
    assert stopped_in_year_2 in page
    shown = client.get(stopped_in_year_2.replace("&amp;", "&"))
    assert shown.status_code == 200
    b = projects["B"]
    assert _references(shown.text) == [b.reference]
    assert f'href="/manage/applications/{b.id}"' in shown.text
    assert f'href="{URL}"' in client.get(f"/manage/applications/{b.id}").text  # and back
    assert _references(client.get(f"{URL}/projects?year=1&payer=user_fees").text) == \
        [projects["A"].reference, projects["B"].reference]
    assert _references(client.get(f"{URL}/projects?standing=no_report").text) == \
        [projects["D"].reference]  # at the latest report
    assert _references(client.get(f"{URL}/projects?year=2").text) == \
        [projects[name].reference for name in "ABC"]
    everyone = [projects[name].reference for name in "ABCD"]
    assert _references(client.get(f"{URL}/projects").text) == everyone
    edited = client.get(f"{URL}/projects?year=99&standing=lost&payer=nobody")
    assert edited.status_code == 200  # a hand-edited link: the stray values are left out
    assert _references(edited.text) == everyone
    assert _references(client.get(f"{URL}/projects?year=abc&standing=lost").text) == everyone


def test_the_filter_keeps_the_projects_completed_in_one_fiscal_year(
        client, auth, make_user, projects):
    auth.sign_in(make_user(Role.OFFICER))
    page = client.get(URL, query_string={"completion_year": "2024"})
    assert page.status_code == 200
    assert '<option selected value="2024">' in page.text
    assert f"{URL}/projects?completion_year=2024" in page.text
    assert _references(client.get(f"{URL}/projects?completion_year=2024").text) == \
        [projects["D"].reference]
    ended_2022 = client.get(f"{URL}/projects", query_string={"completion_year": "2022"})
    assert _references(ended_2022.text) == [projects[name].reference for name in "ABC"]
    for wrong in ("2023", "x", "２０２４"):
        refused = client.get(URL, query_string={"completion_year": wrong})
        assert refused.status_code == 422
        assert 'class="error-summary"' in refused.text and "<svg" not in refused.text
    for url in (f"{URL}/projects", f"{URL}/sustainability.csv"):
        refused = client.get(url, query_string={"completion_year": "9" * 5000})
        assert refused.status_code == 422 and 'class="error-summary"' in refused.text


def test_the_plan_in_force_sets_the_completion_year(client, auth, session, make_user, projects):
    d = projects["D"]
    session.add(PlanVersion(application_id=d.id, number=2, category_amounts={},
                            project_end=dt.date(2025, 4, 1), scope="延長", created_at=NOW))
    session.commit()  # ends a day later, in FY2025: its first year (FY2026) has not ended
    auth.sign_in(make_user(Role.OFFICER))
    assert _references(client.get(f"{URL}/projects?completion_year=2025").text) == [d.reference]
    assert _references(client.get(f"{URL}/projects?year=1").text) == \
        [projects[name].reference for name in "ABC"]


def test_the_csv_has_a_row_per_project_and_year(client, auth, session, make_user, projects):
    auth.sign_in(make_user(Role.OFFICER))
    exported = client.get(f"{URL}/sustainability.csv")
    assert exported.status_code == 200
    assert exported.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert exported.data.startswith(b"\xef\xbb\xbf")
    assert "sustainability.csv" in exported.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:8] == ["受付番号", "申請者", "完了年度", "完了後の年次", "年度", "運営状況",
                          "報告の有無", "運営費（円）"]
    assert header[8:11] == ["事業実施団体の自主財源 [own_budget]（円）",
                            "地方公共団体 [local_government]（円）",
                            "利用者の負担（利用料・会費） [user_fees]（円）"]
    rubric = rubric_for(session, projects["A"])
    assert header[11:] == [f"{c.title.ja} [{c.id}]" for c in rubric.criteria()]
    by_reference = {}
    for row in body:
        by_reference.setdefault(row[0], []).append(row)
    b = by_reference[projects["B"].reference]
    assert [row[3:11] for row in b] == [
        ["1", "2023", "一部運営", "はい", "300000", "", "", "300000"],
        ["2", "2024", "停止", "はい", "0", "", "", ""],
        ["3", "2025", "停止", "いいえ", "", "", "", ""]]
    sustain = header.index(f"{rubric.criterion(SUSTAIN).title.ja} [{SUSTAIN}]")
    assert {row[sustain] for row in b} == {"2.00"}
    d = by_reference[projects["D"].reference]
    assert [row[3:8] for row in d] == [["1", "2025", "報告なし", "いいえ", ""]]
    assert len(body) == 3 + 3 + 3 + 1
    filtered = client.get(f"{URL}/sustainability.csv?completion_year=2024")
    assert "fy2024" in filtered.headers["Content-Disposition"]
    assert len(list(csv.reader(io.StringIO(filtered.data.decode("utf-8-sig"))))) == 2


def test_a_call_without_funded_projects_says_so(client, auth, make_user):
    auth.sign_in(make_user(Role.ADMIN))
    page = client.get(URL)
    assert page.status_code == 200 and "<svg" not in page.text
    csv_rows = client.get(f"{URL}/sustainability.csv").data.decode("utf-8-sig").splitlines()
    assert len(csv_rows) == 1  # the header alone
    assert client.get("/sustainability/calls/no-such-call").status_code == 404
    assert client.get("/sustainability/calls/no-such-call/projects").status_code == 404


def test_auditors_read_it_and_open_projects_on_their_own_pages(client, auth, make_user,
                                                              projects):
    auth.sign_in(make_user(Role.AUDITOR))
    assert KEY in client.get("/sustainability/").text
    page = client.get(f"{URL}/projects?standing=stopped")
    assert page.status_code == 200
    b = projects["B"]
    assert f'href="/audit/applications/{b.id}"' in page.text
    assert f'href="{URL}"' in client.get(f"/audit/applications/{b.id}").text
    assert "/manage/" not in client.get(URL).text.split("<main", 1)[1]


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.REVIEWER])
def test_applicants_and_reviewers_may_not(client, auth, make_user, role):
    auth.sign_in(make_user(role))
    for url in ("/sustainability/", URL, f"{URL}/projects", f"{URL}/sustainability.csv"):
        assert client.get(url).status_code == 403


def test_the_call_pages_link_to_it(client, auth, make_user):
    auth.sign_in(make_user(Role.OFFICER))
    assert 'href="/sustainability/"' in client.get("/manage/").text
    assert f'href="{URL}"' in client.get(f"/manage/calls/{KEY}").text
