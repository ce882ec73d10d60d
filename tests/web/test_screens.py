"""What a real-browser walk met on the screens: content types, conflicts, Enter, ids, headers."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from grants.domain.workflow import Role
from grants.models import BatchJob, BatchState, Program
from grants.services import apply
from grants.services.reviewing import rubric_version_for
from tests.conftest import NOW
from tests.web.journey import TINY_PDF, lock_version, step_url
from tests.web.reviewflow import KEY, clone_in_review, review_all, rubric_for, submit_application


class Page(HTMLParser):
    """The parts of a page these tests look at: ids, aria-describedby, forms and their buttons."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.described_by: list[str] = []
        self.forms: list[list[dict[str, str]]] = []  # each form's submit buttons, in DOM order
        self.elements: dict[str, dict[str, str]] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if "id" in found:
            self.ids.append(found["id"])
            self.elements[found["id"]] = {"tag": tag, **found}
        self.described_by += found.get("aria-describedby", "").split()
        if tag == "form":
            self.forms.append([])
        elif tag == "button" and found.get("type", "submit") == "submit" and self.forms:
            self.forms[-1].append(found)

    def check_ids(self) -> None:
        duplicates = sorted({i for i in self.ids if self.ids.count(i) > 1})
        assert not duplicates, f"duplicate ids: {duplicates}"
        missing = sorted(set(self.described_by) - set(self.ids))
        assert not missing, f"aria-describedby points to no element: {missing}"


def checked(response, status: int = 200) -> Page:
    assert response.status_code == status, response.text[:2000]
    page = Page(response.text)
    page.check_ids()
    return page


# --- a refused upload, and conflicts -------------------------------------------------------------


def test_save_after_a_refused_upload_is_no_conflict_and_says_what_was_not_attached(
    client, auth, session, draft
):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "attachments"))
    refused = client.post(
        step_url(application, "attachments"),
        data={
            "lock_version": lock_version(page.text),
            "action": "upload",
            "upload_project_plan": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "plan.pdf"),
            "upload_partnership_agreement": (io.BytesIO(TINY_PDF), "agreement.pdf"),
        },
        content_type="multipart/form-data",
    )
    shown = checked(refused, 422)
    assert "次のファイルは添付されていません" in refused.text and "plan.pdf" in refused.text
    assert "upload_project_plan-error" in shown.elements["upload_project_plan"]["aria-describedby"]
    session.refresh(application)
    assert [a.filename for a in application.attachments] == ["agreement.pdf"]
    saved = client.post(
        step_url(application, "attachments"),
        data={"lock_version": lock_version(refused.text), "action": "save"},
    )
    assert saved.status_code == 303


def _budget(description: str, amount: str = "3,000,000") -> dict[str, str]:
    return {
        "f_budget_lines-0-category": "system",
        "f_budget_lines-0-description": description,
        "f_budget_lines-0-acquisition": "none",
        "f_budget_lines-0-amount_yen": amount,
    }


def test_conflict_shows_the_saved_budget_rows_beside_mine(
    app, client, auth, session, draft, make_user
):
    user, application = draft
    colleague = make_user(Role.APPLICANT, organization=user.organization)
    auth.sign_in(user)
    stale = lock_version(client.get(step_url(application, "budget")).text)
    other = app.test_client()
    other.post("/sign-in", data={"email": colleague.email, "password": "correct horse battery"})
    fresh = lock_version(other.get(step_url(application, "budget")).text)
    theirs = other.post(step_url(application, "budget"),
                        data={"lock_version": fresh, "action": "save", **_budget("同僚の研修費")})
    assert theirs.status_code == 303
    mine = client.post(step_url(application, "budget"),
                       data={"lock_version": stale, "action": "save", **_budget("私の研修費")})
    checked(mine, 409)
    saved_part = mine.text.split('class="saved-value"', 1)[1]
    assert "同僚の研修費" in saved_part and "¥3,000,000" in saved_part
    assert "私の研修費" in mine.text  # mine are still in the form
    assert colleague.display_name in mine.text


def test_conflict_with_my_own_other_tab_says_so(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)
    stale = lock_version(client.get(step_url(application)).text)
    first = client.post(step_url(application), data={
        "lock_version": stale, "f_project_title": "一つ目のタブ", "action": "save"})
    assert first.status_code == 303
    again = client.post(step_url(application), data={
        "lock_version": stale, "f_project_title": "二つ目のタブ", "action": "save"})
    checked(again, 409)
    assert "別のウィンドウでこの申請を保存しました" in again.text


# --- Enter ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["overview", "partners", "budget"])
def test_enter_in_a_field_does_the_primary_action(client, auth, draft, step):
    user, application = draft
    auth.sign_in(user)
    page = checked(client.get(step_url(application, step)))
    step_form = next(buttons for buttons in page.forms if any(
        b.get("value") == "next" for b in buttons))
    first = step_form[0]  # the button a browser presses on Enter
    assert first["value"] == "next" and first["tabindex"] == "-1"


def test_enter_in_the_partner_search_box_searches(client, auth, draft):
    user, application = draft
    auth.sign_in(user)
    page = checked(client.get(step_url(application, "partners")))
    target = page.elements["partner_query"]["data-enter-button"]
    assert page.elements[target]["value"] == "search"
    with client.get("/static/enter.js") as script:
        assert script.status_code == 200 and "enterButton" in script.text
    assert 'src="/static/enter.js?v=' in client.get(step_url(application, "partners")).text


# --- the project period ---------------------------------------------------------------------------


def test_end_date_before_start_date_is_a_finding_that_blocks_submission(
    client, auth, session, draft
):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application))
    client.post(step_url(application), data={
        "lock_version": lock_version(page.text), "f_period_start": "2027-03-31",
        "f_period_end": "2026-12-01", "action": "save"})
    message = "「事業実施期間（終了日）」は「事業実施期間（開始日）」以降の日付にしてください"
    assert message in client.get(step_url(application)).text
    assert message in client.get(f"/applications/{application.id}/check").text
    page = client.get(step_url(application))
    client.post(step_url(application), data={
        "lock_version": lock_version(page.text), "f_period_start": "2026-12-01",
        "f_period_end": "2026-12-01", "action": "save"})
    assert message not in client.get(step_url(application)).text


def test_end_date_message_in_english(client, auth, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application))
    client.post(step_url(application), data={
        "lock_version": lock_version(page.text), "f_period_start": "2027-03-31",
        "f_period_end": "2026-12-01", "action": "save"})
    client.post("/language", data={"locale": "en", "next": "/"})
    assert "“Project period (end)” cannot be before “Project period (start)”." in (
        client.get(step_url(application)).text)


# --- officers, auditors and exports ---------------------------------------------------------------


@pytest.fixture
def reviewed(client, auth, session, make_user):
    """A submitted application, and a copy of it in review with two submitted reviews."""
    template = submit_application(client, auth, session, make_user)
    [application] = clone_in_review(session, template, 1)
    rubric = rubric_for(session, template)
    reviewers = [make_user(Role.REVIEWER) for _ in range(2)]
    review_all(session, [application], reviewers, rubric_version_for(session, template).id, rubric)
    return template, application, rubric


def test_scores_exports_head_columns_with_criterion_titles(client, auth, make_user, reviewed):
    _, _, rubric = reviewed
    auth.sign_in(make_user(Role.OFFICER))
    exported = client.get(f"/manage/calls/{KEY}/scores.csv")
    assert exported.headers["Content-Type"] == "text/csv; charset=utf-8"
    header = next(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    expected = [f"{c.title.ja} [{c.id}]" for c in rubric.criteria()]
    assert header[2:-2] == expected
    ranking = client.get(f"/manage/calls/{KEY}/ranking.csv")
    assert ranking.headers["Content-Type"] == "text/csv; charset=utf-8"
    workbook = load_workbook(io.BytesIO(client.get(f"/manage/calls/{KEY}/export.xlsx").data))
    sheet = workbook.worksheets[1]
    assert [cell.value for cell in sheet[1]][2:-2] == expected
    client.post("/language", data={"locale": "en", "next": "/"})
    english = client.get(f"/manage/calls/{KEY}/scores.csv").data.decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(english)))[2:-2] == [
        f"{c.title.en} [{c.id}]" for c in rubric.criteria()]


def test_officer_page_with_decide_and_moderate_forms_has_unique_ids(
    client, auth, make_user, reviewed
):
    _, application, _ = reviewed
    auth.sign_in(make_user(Role.OFFICER))
    page = checked(client.get(f"/manage/applications/{application.id}"))
    assert {"decision-rationale", "rationale"} <= set(page.ids)
    refused = client.post(f"/manage/applications/{application.id}/decide",
                          data={"outcome": "award", "amount_yen": "x", "rationale": ""})
    shown = checked(refused, 422)
    assert 'href="#decision-rationale"' in refused.text
    assert shown.elements["decision-rationale"]["aria-describedby"] == "decision-rationale-error"


def _batch(session, auditor, state: BatchState) -> BatchJob:
    job = BatchJob(requested_by_id=auditor.id, criteria={}, application_ids=[1], total=1,
                   done=1 if state is BatchState.DONE else 0, state=state,
                   result_sha256="0" * 64 if state is BatchState.DONE else None,
                   result_size=1234 if state is BatchState.DONE else None,
                   result_path="batch-1.zip" if state is BatchState.DONE else None,
                   error="render: RuntimeError: x" if state is BatchState.FAILED else None)
    session.add(job)
    session.commit()
    return job


@pytest.mark.parametrize("state", [BatchState.DONE, BatchState.RUNNING, BatchState.FAILED])
def test_batch_page_is_html(client, auth, session, make_user, state):
    auditor = make_user(Role.AUDITOR)
    job = _batch(session, auditor, state)
    auth.sign_in(auditor)
    response = client.get(f"/audit/batches/{job.id}")
    checked(response)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    if state is BatchState.DONE:
        assert f'<a class="button" href="/audit/batches/{job.id}/download">' in response.text
    elif state is BatchState.FAILED:
        assert f'action="/audit/batches/{job.id}/again"' in response.text
    else:
        assert response.headers["Refresh"] == "3"


def test_auditor_lands_on_the_funded_search_after_sign_in(client, auth, make_user):
    response = auth.sign_in(make_user(Role.AUDITOR))
    assert response.status_code in (302, 303)
    assert response.headers["Location"] == "/audit/"


# --- every page of a walk: unique ids, described-by targets that exist ----------------------------


def test_walk_has_unique_ids_and_existing_describedby_targets(
    app, client, auth, session, make_user, reviewed
):
    template, application, _ = reviewed
    definition_steps = ("overview", "plan", "partners", "budget", "attachments")
    applicant = make_user(Role.APPLICANT, lg_code="011002")
    draft = apply.start(session, session.get(Program, KEY), actor=applicant, now=NOW)
    session.commit()
    auth.sign_in(applicant)
    checked(client.get("/"))
    checked(client.get("/applications"))
    for step in definition_steps:
        page = client.get(step_url(draft, step))
        checked(page)
        bad = client.post(step_url(draft, step), data={
            "lock_version": lock_version(page.text), "action": "save",
            "f_project_title": "x" * 10_000, "f_jobs_target": "たくさん",
            **_budget("研修費", amount="たくさん")})
        checked(bad, 422 if step in ("overview", "plan", "budget") else 303)
    checked(client.get(f"/applications/{draft.id}/check"))
    auth.sign_out()
    auditor = make_user(Role.AUDITOR)
    auth.sign_in(auditor)
    checked(client.get("/audit/"))
    checked(client.get("/audit/", query_string={"lg_code": "abc"}), 422)
    checked(client.get(f"/audit/batches/{_batch(session, auditor, BatchState.DONE).id}"))
    auth.sign_out()
    auth.sign_in(make_user(Role.OFFICER))
    app.config["WTF_CSRF_ENABLED"] = True  # each form's token field has an id too
    checked(client.get(f"/manage/calls/{KEY}"))
    officer_page = client.get(f"/manage/applications/{application.id}")
    checked(officer_page)
    assert officer_page.text.count('name="csrf_token"') >= 4  # one per form, none with an id
    checked(client.get(f"/manage/applications/{template.id}"))
    checked(app.test_client().get("/sign-in"))
