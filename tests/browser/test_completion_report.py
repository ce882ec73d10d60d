"""The grantee files a completion report (実績報告) in a real Chromium, every page checked with
axe-core: from the application's page to the report, cost lines typed as people type them,
equipment, an evidence file, filing refused while a variance's reason is missing (the answers
kept), then filed. The officer then sees it waiting.

The project is one of the demo call's awards, its grant decision accepted through the service
(what the grantee's acceptance page does), so this module needs nothing of another's pages.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from grants.db import get_session
from grants.domain.workflow import State
from grants.models import Application, CompletionReport, ReportState, User
from grants.services import grant_decisions
from grants.services.plans import plan_in_force
from grants.services.programs import definition_of
from tests.browser.applicant import pdf_upload
from tests.browser.conftest import Server, Visitor
from tests.conftest import NOW

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

GRANTEES = ("npo@example.jp", "third@example.jp")  # the demo call's applicants
PASSWORD = "applicant-demo"
REASON = "研修の受講者が計画より増えたため。"


@pytest.fixture(scope="module")
def project(server: Server) -> dict[str, Any]:
    """A demo award whose grantee accepted the grant decision: its id, the grantee's e-mail,
    the plan's amounts by category title, the category over its plan by a fifth, the
    equipment category's title (its line bought outright pays for the item) and a day inside
    the project period (the item's acquisition)."""
    with server.app.test_request_context():
        session = get_session()
        grantees = session.scalars(sa.select(User).where(User.email.in_(GRANTEES))).all()
        by_organization = {user.organization_id: user for user in grantees}
        application = session.scalars(sa.select(Application).where(
            Application.state == State.AWARDED,
            Application.organization_id.in_(by_organization)).order_by(Application.id)).first()
        grantee = by_organization[application.organization_id]
        grant_decisions.accept(session, application, actor=grantee, now=NOW)
        session.commit()
        plan = plan_in_force(session, application)
        definition = definition_of(application.program_version)
        titles = {c.id: c.title.ja for c in definition.budget.categories}
        planned = {titles[c]: amount for c, amount in plan.category_amounts.items() if amount}
        return {"id": application.id, "email": grantee.email, "planned": planned,
                "over": max(planned, key=planned.__getitem__),
                "equipment": next(c.title.ja for c in definition.budget.categories
                                  if c.equipment),
                "acquired_on": grant_decisions.grant_of(session, application).project_start}


def _fill_lines(page: Any, project: dict[str, Any]) -> None:
    """One line per planned category, the largest a fifth over its plan, typed with
    full-width digits and 円 the way a Japanese keyboard gives them."""
    rows = page.locator("#lines tbody tr")
    while rows.count() < len(project["planned"]):
        page.get_by_role("button", name="行を追加").first.click()
    for n, (title, planned) in enumerate(project["planned"].items()):
        amount = planned + planned // 5 if title == project["over"] else planned
        row = rows.nth(n)
        row.locator("select").first.select_option(label=title)
        if title == project["equipment"]:
            row.locator("select").nth(1).select_option("purchase")
        row.locator("input").first.fill(f"{title}の実績")
        row.locator("input.number").fill(f"{amount:,}円".translate(str.maketrans(
            "0123456789,", "０１２３４５６７８９，")))


def test_the_grantee_files_a_completion_report(visitor: Visitor, server: Server,
                                               project: dict[str, Any]) -> None:
    page = visitor.page
    visitor.sign_in(project["email"], PASSWORD)
    visitor.go(f"/applications/{project['id']}")
    page.get_by_role("link", name="実績報告", exact=True).click()
    visitor.check()
    expect(page.locator("h1")).to_have_text("実績報告")
    expect(page.locator("main")).to_contain_text("提出期限は")

    _fill_lines(page, project)
    items = page.locator("#equipment tbody tr").first
    items.locator("input").first.fill("会議用サーバ")
    items.locator("select").select_option("computer")
    items.locator('input[type="date"]').fill(project["acquired_on"].isoformat())
    items.locator("input.number").fill("600,000")
    page.locator("#jobs_created").fill("2")
    page.get_by_label("事業の成果").fill("地域の高齢者向け見守りサービスを開始した。")
    page.locator("#evidence").set_input_files(pdf_upload("領収書.pdf"))
    page.locator("#evidence-files").get_by_role("button", name="アップロード").click()
    visitor.check()
    expect(page.locator("#evidence-files .file-list")).to_contain_text("領収書.pdf")
    expect(page.locator(f"#variance-{_category_id(server, project)}")).to_contain_text("+20.0 %")

    # Filing without the reason the variance needs: refused, with everything kept.
    page.get_by_role("button", name="実績報告を提出する").click()
    visitor.check()
    expect(page.get_by_role("alert")).to_contain_text(project["over"])
    expect(page.locator("#lines tbody tr").first.locator("input").first).to_have_value(
        f"{next(iter(project['planned']))}の実績")
    page.get_by_label(project["over"], exact=True).fill(REASON)
    page.get_by_role("button", name="実績報告を提出する").click()
    visitor.check()
    expect(page.locator("main")).to_contain_text("実績報告を提出しました。")
    expect(page.locator("main")).to_contain_text("事務局の確認待ち")
    expect(page.locator("main")).to_contain_text(REASON)

    with server.app.test_request_context():
        session = get_session()
        [report] = session.scalars(sa.select(CompletionReport).filter_by(
            application_id=project["id"])).all()
        assert report.state is ReportState.SUBMITTED
        assert report.equipment[0]["cost_yen"] == 600_000
        assert session.get(Application, project["id"]).state is State.REPORTED


def test_the_officer_sees_the_report_waiting(visitor: Visitor, project: dict[str, Any]) -> None:
    page = visitor.page
    visitor.sign_in("officer@example.jp", "officer-demo")
    visitor.go(f"/manage/applications/{project['id']}")
    page.get_by_role("link", name="実績報告", exact=True).click()
    visitor.check()
    expect(page.locator("main")).to_contain_text(REASON)
    expect(page.locator("main")).to_contain_text("領収書.pdf")
    expect(page.get_by_role("button", name="受理又は差戻しを記録する")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/manage/applications/\d+/completion-report$"))


def _category_id(server: Server, project: dict[str, Any]) -> str:
    with server.app.test_request_context():
        application = get_session().get(Application, project["id"])
        definition = definition_of(application.program_version)
    return next(c.id for c in definition.budget.categories if c.title.ja == project["over"])
