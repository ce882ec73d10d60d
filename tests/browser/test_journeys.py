"""The whole life of one application in a real browser: apply, screen, review, decide, audit.

The tests run in file order on one server (see conftest.py): each role works on what the
previous test left. Every page visited is checked with axe-core.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from tests.browser.applicant import (
    KEY,
    PARTNER,
    answer_plain_fields,
    fill_budget,
    pdf_upload,
)
from tests.browser.conftest import Visitor

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="module")
def submitted() -> dict[str, str]:
    """The application the applicant submits: its id and reference, for the roles after."""
    return {}


def continue_step(visitor: Visitor) -> None:
    visitor.page.locator(".actions button[value=next]").click()
    visitor.check()


def test_applicant_applies(visitor: Visitor, submitted: dict[str, str]) -> None:
    page = visitor.page
    visitor.sign_in("sapporo@example.jp", "applicant-demo")
    visitor.go(f"/calls/{KEY}/eligibility")
    for radio in page.locator('input[type=radio][value="yes"]').all():
        radio.check()
    page.get_by_role("button", name="結果を確認する").click()
    visitor.check()
    page.get_by_role("button", name="申請を始める").click()
    visitor.check()
    submitted["id"] = re.search(r"/applications/(\d+)/steps/overview$", page.url).group(1)
    application = f"/applications/{submitted['id']}"

    # Overview: Enter in a text box saves and continues (the form's first, default button).
    answer_plain_fields(page, "overview")
    page.locator('[name="f_project_title"]').press("Enter")
    expect(page).to_have_url(re.compile(r"/steps/plan$"))
    visitor.check()
    answer_plain_fields(page, "plan")
    continue_step(visitor)

    # Partners: Enter in the search box searches (it does not save and continue).
    expect(page).to_have_url(re.compile(r"/steps/partners$"))
    answer_plain_fields(page, "partners")
    page.locator("#partner_query").fill(PARTNER[1])
    page.locator("#partner_query").press("Enter")
    expect(page).to_have_url(re.compile(r"/steps/partners"))
    visitor.check()
    results = page.locator(".search-results li")
    expect(results).to_have_count(2)
    results.filter(has_text=PARTNER[0]).get_by_role("button").click()
    visitor.check()
    expect(page.locator("#f_partners tbody tr").first.locator("input").first).to_have_value(
        PARTNER[0])
    continue_step(visitor)

    # Budget: the saved totals are recalculated on the page.
    expect(page).to_have_url(re.compile(r"/steps/budget$"))
    answer_plain_fields(page, "budget")
    fill_budget(page)
    page.get_by_role("button", name="保存して再計算").click()
    visitor.check()
    expect(page.locator("table.totals tr.total")).to_contain_text("4,000,000")
    continue_step(visitor)

    # Submitting before the required attachment is refused, with the reason.
    expect(page).to_have_url(re.compile(r"/steps/attachments$"))
    visitor.go(f"{application}/check")
    page.locator('[name="confirm"]').check()
    page.get_by_role("button", name="申請を提出する").click()
    visitor.check()
    expect(page.get_by_role("alert")).to_contain_text("申請は提出されませんでした")

    # Upload, then submit: the receipt.
    visitor.go(f"{application}/steps/attachments")
    page.locator("#upload_project_plan").set_input_files(pdf_upload("事業計画書.pdf"))
    page.locator("#upload_project_plan").locator("xpath=..").get_by_role(
        "button", name="アップロード").click()
    visitor.check()
    expect(page.locator(".file-list")).to_contain_text("事業計画書.pdf")
    continue_step(visitor)
    page.locator('[name="confirm"]').check()
    page.get_by_role("button", name="申請を提出する").click()
    visitor.check()
    expect(page.locator("h1")).to_have_text("申請を提出しました")
    expect(page).to_have_url(re.compile(f"{application}/receipt/1$"))
    submitted["reference"] = page.locator(".reference").inner_text()


def in_form(page: Any, button: str) -> Any:
    """The form holding the button of that name (several forms share field names)."""
    return page.locator("form", has=page.get_by_role("button", name=button, exact=True))


def open_application(visitor: Visitor, submitted: dict[str, str]) -> None:
    visitor.go(f"/manage/calls/{KEY}")
    visitor.page.get_by_role("link", name=submitted["reference"]).click()
    visitor.check()


def test_officer_screens_and_assigns(visitor: Visitor, submitted: dict[str, str]) -> None:
    page = visitor.page
    visitor.sign_in("officer@example.jp", "officer-demo")
    open_application(visitor, submitted)
    page.get_by_role("button", name="審査の対象として受理する").click()
    visitor.check()
    form = in_form(page, "割り当てる")
    form.locator("select").select_option(label="審査委員 渡辺")
    form.get_by_role("button", name="割り当てる").click()
    visitor.check()
    expect(page.locator("main")).to_contain_text("審査委員 渡辺")


def test_reviewer_reviews(visitor: Visitor, submitted: dict[str, str]) -> None:
    page = visitor.page
    visitor.sign_in("reviewer@example.jp", "reviewer-demo")
    visitor.go("/review/")
    page.get_by_role("link", name=submitted["reference"]).click()
    visitor.check()
    names = {radio.get_attribute("name")
             for radio in page.locator('input[type=radio][name^="s_"]').all()}
    for name in sorted(names):
        page.locator(f'input[type=radio][name="{name}"]').last.check()
    for comment in page.locator('textarea[name^="c_"]').all():
        comment.fill("計画と体制を確認しました。")
    page.get_by_role("button", name="評価を提出する").click()
    visitor.check()
    expect(page.get_by_role("alert")).to_have_count(0)


def test_rapporteur_drafts_the_consensus_report(visitor: Visitor,
                                               submitted: dict[str, str]) -> None:
    page = visitor.page
    visitor.sign_in("officer@example.jp", "officer-demo")
    open_application(visitor, submitted)
    form = in_form(page, "取りまとめ評価者を指名する")
    form.locator("select").select_option(label="審査委員 渡辺")
    form.get_by_role("button", name="取りまとめ評価者を指名する").click()
    visitor.check()
    visitor.page.context.clear_cookies()

    visitor.sign_in("reviewer@example.jp", "reviewer-demo")
    visitor.go("/review/")
    page.get_by_role("link", name=f"{submitted['reference']} の合意報告").click()
    visitor.check()
    expect(page.locator("table.individual").first).to_contain_text("審査委員 渡辺")
    names = {radio.get_attribute("name")
             for radio in page.locator('input[type=radio][name^="s_"]').all()}
    for name in sorted(names):
        page.locator(f'input[type=radio][name="{name}"]').nth(-2).check()
    for comment in page.locator('textarea[name^="c_"]').all():
        comment.fill("評価者間で合意した評価です。")
    page.get_by_role("button", name="ほかの評価者に回付する").click()
    visitor.check()  # the overall comment is missing: the problems are listed, answers kept
    expect(page.get_by_role("alert")).to_contain_text("全体のコメントを入力してください。")
    page.locator('textarea[name="overall_comment"]').fill("計画は地域の課題に即しています。")
    page.get_by_role("button", name="ほかの評価者に回付する").click()
    visitor.check()
    expect(page.locator("main")).to_contain_text("計画は地域の課題に即しています。")
    visitor.page.context.clear_cookies()

    visitor.sign_in("officer@example.jp", "officer-demo")
    open_application(visitor, submitted)
    page.get_by_role("button", name="合意報告を承認する").click()
    visitor.check()
    expect(page.locator("main")).to_contain_text("合意報告を承認しました。")


def test_officer_moderates_ranks_and_decides(visitor: Visitor, submitted: dict[str, str]) -> None:
    page = visitor.page
    visitor.sign_in("officer@example.jp", "officer-demo")
    open_application(visitor, submitted)
    form = in_form(page, "記録する")
    form.locator('[name="score"]').fill("3")
    form.locator('[name="rationale"]').fill("評価者の根拠を確認し調整しました。")
    form.get_by_role("button", name="記録する").click()
    visitor.check()
    expect(page.locator("main")).to_contain_text("調整後の合計点")

    visitor.go(f"/manage/calls/{KEY}/ranking")
    page.get_by_role("link", name=submitted["reference"]).click()
    visitor.check()
    form = in_form(page, "採否を決定する")
    form.locator('[name="outcome"][value="award"]').check()
    form.locator('[name="rationale"]').fill("審査の結果、採択とします。")
    form.get_by_role("button", name="採否を決定する").click()
    visitor.check()
    expect(page.locator("main")).to_contain_text("採択")


def test_auditor_searches_records_and_batches(visitor: Visitor, submitted: dict[str, str]) -> None:
    page = visitor.page
    visitor.sign_in("auditor@example.jp", "auditor-demo")
    visitor.go("/audit/")
    # Typed in the search form, Enter searches: one row, so the batch below holds one record.
    page.get_by_label("団体名（部分一致）").fill("札幌市")
    page.get_by_label("団体名（部分一致）").press("Enter")
    visitor.check()
    row = page.locator("table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(submitted["reference"])
    row.get_by_role("link").click()
    visitor.check()
    reference = submitted["reference"]

    link = page.get_by_role("link", name="監査用記録（PDF）をダウンロード")
    record = visitor.fetch(link.get_attribute("href"))
    assert record.headers["content-type"] == "application/pdf"
    assert reference in pdf_text(record.body())

    page.go_back()
    page.get_by_role("button", name="検索結果の記録をまとめてZIPでダウンロード").click()
    visitor.check()
    expect(page).to_have_url(re.compile(r"/audit/batches/\d+$"))
    download = page.get_by_role("link", name=re.compile("ZIPファイルをダウンロード"))
    archive = visitor.fetch(download.get_attribute("href"))
    assert archive.body()[:2] == b"PK"


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def test_language_switch(visitor: Visitor) -> None:
    page = visitor.page
    visitor.go(f"/calls/{KEY}")
    page.get_by_role("button", name="English").click()
    visitor.check()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(f"/calls/{KEY}$"))
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.get_by_role("button", name="日本語").click()
    visitor.check()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("link", name="ログイン")).to_be_visible()


@pytest.mark.parametrize("account, password, paths", [
    (None, None, ["/", f"/calls/{KEY}", f"/calls/{KEY}/eligibility", "/sign-in", "/sign-up"]),
    ("sapporo@example.jp", "applicant-demo", [
        "/applications", "/applications/{id}", "/applications/{id}/steps/partners",
        "/applications/{id}/steps/budget", "/applications/{id}/receipt/1"]),
    ("officer@example.jp", "officer-demo", [
        f"/manage/calls/{KEY}", "/manage/applications/{id}", f"/manage/calls/{KEY}/ranking"]),
    ("auditor@example.jp", "auditor-demo", ["/audit/?organization=札幌市",
                                            "/audit/applications/{id}"]),
], ids=["public", "applicant", "officer", "auditor"])
def test_phone_width_has_no_sideways_scroll(phone: Visitor, submitted: dict[str, str],
                                            account: str | None, password: str | None,
                                            paths: list[str]) -> None:
    """At 390×844 (a phone) no page is wider than the screen: wide tables scroll in a box."""
    if account:
        phone.sign_in(account, password)
    problems = []  # every page's, so one run tells all that is wrong
    for path in paths:
        response = phone.page.goto(phone.base_url + path.format(id=submitted.get("id", "0")))
        assert response.ok, (path, response.status)
        problems += phone.violations()
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            problems.append(f"{path} is {width} px wide")
    assert not problems, "\n".join(problems)
