"""Drafts: saving, concurrent edits, expired sessions and CSRF, bad input kept intact."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from grants.domain.workflow import Role
from tests.conftest import NOW, csrf_token
from tests.web.journey import TINY_PDF, lock_version, step_url


def test_save_step_keeps_answers_and_resumes(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application))
    response = client.post(
        step_url(application),
        data={
            "lock_version": lock_version(page.text),
            "f_project_title": "見守りネットワーク",
            "f_track": "general",
            "action": "save",
        },
    )
    assert response.status_code == 303
    session.refresh(application)
    assert application.answers["project_title"] == "見守りネットワーク"
    assert "見守りネットワーク" in client.get(step_url(application)).text


def test_bad_number_rerenders_with_summary_and_answers_intact(client, auth, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "plan"))
    response = client.post(
        step_url(application, "plan"),
        data={
            "lock_version": lock_version(page.text),
            "f_jobs_target": "たくさん",
            "f_project_goal": "高齢者の見守り",
            "action": "next",
        },
    )
    assert response.status_code == 422
    assert "error-summary" in response.text
    assert "たくさん" in response.text and "高齢者の見守り" in response.text


def test_fullwidth_yen_amount_with_commas_is_read(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "budget"))
    response = client.post(
        step_url(application, "budget"),
        data={
            "lock_version": lock_version(page.text),
            "f_own_funding_yen": "１，２００，０００円",
            "action": "save",
        },
    )
    assert response.status_code == 303
    session.refresh(application)
    assert application.answers["own_funding_yen"] == 1_200_000


def test_second_save_on_stale_copy_sees_conflict_and_nothing_overwritten(
    app, client, auth, session, draft, make_user
):
    user, application = draft
    colleague = make_user(Role.APPLICANT, organization=user.organization)
    auth.sign_in(user)
    stale = lock_version(client.get(step_url(application)).text)
    other = app.test_client()
    other.post("/sign-in", data={"email": colleague.email, "password": "correct horse battery"})
    fresh = lock_version(other.get(step_url(application)).text)
    assert (
        other.post(
            step_url(application),
            data={"lock_version": fresh, "f_project_title": "同僚の題名", "action": "save"},
        ).status_code
        == 303
    )
    response = client.post(
        step_url(application),
        data={"lock_version": stale, "f_project_title": "私の題名", "action": "save"},
    )
    assert response.status_code == 409
    assert "私の題名" in response.text  # my answer is still in the form
    session.refresh(application)
    assert application.answers["project_title"] == "同僚の題名"  # theirs was not overwritten
    # Saving again from the conflict page is a deliberate overwrite, and works.
    again = client.post(
        step_url(application),
        data={
            "lock_version": lock_version(response.text),
            "f_project_title": "私の題名",
            "action": "save",
        },
    )
    assert again.status_code == 303
    session.refresh(application)
    assert application.answers["project_title"] == "私の題名"


def test_expired_session_keeps_answers_through_sign_in(app, client, session, draft):
    user, application = draft
    # No signed-in session: the POST arrives after the session expired.
    response = client.post(
        step_url(application),
        data={"lock_version": "1", "f_project_title": "長時間かけて書いた題名", "action": "save"},
    )
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    signed_in = client.post(
        response.headers["Location"],
        data={"email": user.email, "password": "correct horse battery"},
    )
    assert signed_in.status_code == 302
    page = client.get(signed_in.headers["Location"])
    assert "長時間かけて書いた題名" in page.text


def test_csrf_on_missing_token_refused_and_answers_kept(app_config, connection, session, draft):
    from sqlalchemy.orm import sessionmaker

    from grants import create_app

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    app.extensions["grants.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    client = app.test_client()
    user, application = draft
    sign_in_page = client.get("/sign-in")
    client.post(
        "/sign-in",
        data={
            "email": user.email,
            "password": "correct horse battery",
            "csrf_token": csrf_token(sign_in_page.text),
        },
    )
    page = client.get(step_url(application))
    assert page.status_code == 200
    # A token from an earlier session (e.g. the server restarted with the session lost).
    response = client.post(
        step_url(application),
        data={
            "csrf_token": "stale-token",
            "lock_version": lock_version(page.text),
            "f_project_title": "消えてはいけない文章",
            "action": "save",
        },
    )
    assert response.status_code == 303
    restored = client.get(response.headers["Location"])
    assert "消えてはいけない文章" in restored.text
    session.refresh(application)
    assert "project_title" not in application.answers  # shown again, not silently saved
    token = csrf_token(restored.text)
    saved = client.post(
        step_url(application),
        data={
            "csrf_token": token,
            "lock_version": lock_version(restored.text),
            "f_project_title": "消えてはいけない文章",
            "action": "save",
        },
    )
    assert saved.status_code == 303


def test_upload_refused_with_reason(client, auth, session, draft):
    import io

    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "attachments"))
    response = client.post(
        step_url(application, "attachments"),
        data={
            "lock_version": lock_version(page.text),
            "action": "upload",
            "upload_project_plan": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "plan.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "plan.pdf" in response.text
    session.refresh(application)
    assert application.attachments == []


PROJECT_PLAN_TYPES = "添付できる形式: PDF（.pdf）、Word（.docx・.doc）、Excel（.xlsx・.xls）"


@pytest.mark.parametrize(
    ("content", "filename", "reason"),
    [
        (b"<html><script>alert(1)</script></html>", "plan.html", PROJECT_PLAN_TYPES),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "plan.svg", PROJECT_PLAN_TYPES),
        (b"MZ\x90\x00" + bytes(60), "plan.exe", PROJECT_PLAN_TYPES),
        (TINY_PDF, "plan.docx", "ファイル名は「.docx」ですが、中身はPDFです。"),
    ],
)
def test_upload_of_a_type_not_allowed_refused_naming_file_and_types(
    client, auth, session, draft, content, filename, reason
):
    import io

    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "attachments"))
    response = client.post(
        step_url(application, "attachments"),
        data={
            "lock_version": lock_version(page.text),
            "action": "upload",
            "upload_project_plan": (io.BytesIO(content), filename),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert f"{filename}: ファイル名" in response.text
    assert reason in response.text
    session.refresh(application)
    assert application.attachments == []


def test_attachment_step_names_each_fields_types_and_offers_only_them(client, auth, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "attachments"))
    assert 'name="upload_project_plan" accept=".pdf,.docx,.doc,.xlsx,.xls,.pptx,.ppt"' in page.text
    assert 'name="upload_partnership_agreement" accept=".pdf,.jpg,.jpeg,.jpe,.jfif,.png"' in (
        page.text
    )
    photo_types = "PDF（.pdf）、JPEG（.jpg・.jpeg・.jpe・.jfif）、PNG（.png）"
    assert f"添付できる形式: {photo_types}。1ファイル20 MBまで。" in page.text


def test_upload_accepted_and_listed_with_hash(client, auth, session, draft):
    import hashlib
    import io

    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "attachments"))
    response = client.post(
        step_url(application, "attachments"),
        data={
            "lock_version": lock_version(page.text),
            "action": "upload",
            "upload_project_plan": (io.BytesIO(TINY_PDF), "事業計画書.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    session.refresh(application)
    [attachment] = application.attachments
    assert attachment.sha256 == hashlib.sha256(TINY_PDF).hexdigest()
    assert attachment.filename == "事業計画書.pdf"
    with client.get(f"/applications/{application.id}/attachments/{attachment.id}") as download:
        assert download.data == TINY_PDF
        assert re.search("attachment", download.headers["Content-Disposition"])


def test_partner_found_by_name_and_added_with_prefecture(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "partners"))
    searched = client.post(
        step_url(application, "partners"),
        data={
            "lock_version": lock_version(page.text),
            "action": "search",
            "partner_query": "伊達市",
        },
    )
    results = client.get(searched.headers["Location"])
    assert "北海道 伊達市" in results.text and "福島県 伊達市" in results.text
    added = client.post(
        step_url(application, "partners"),
        data={"lock_version": lock_version(results.text), "action": "add_partner:072133"},
    )
    assert added.status_code == 303
    session.refresh(application)
    assert application.answers["partners"] == [
        {"code": "072133", "name": "伊達市", "kind": "local_government", "role": ""}
    ]


def test_partner_ward_code_refused_naming_the_city(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "partners"))
    response = client.post(
        step_url(application, "partners"),
        data={
            "lock_version": lock_version(page.text),
            "action": "save",
            "f_partners-0-kind": "local_government",
            "f_partners-0-code": "011011",
        },
    )
    assert response.status_code == 422
    assert "札幌市（011002）" in response.text
    session.refresh(application)
    assert "partners" not in application.answers


def test_closed_call_cannot_be_started(client, auth, make_user):
    npo = make_user(Role.APPLICANT, kind="npo", lg_code=None)
    auth.sign_in(npo)
    response = client.post("/calls/ict-furusato-genki-2009/start")
    assert response.status_code == 409
    assert client.get("/applications").text.count("G26-") == 0


def test_oversized_file_refused_with_limit_and_answers_kept(app, client, auth, session, draft):
    import io

    from werkzeug.test import EnvironBuilder

    app.config["MAX_UPLOAD_MB"] = 1
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "attachments"))
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)
    builder = EnvironBuilder(
        path=step_url(application, "attachments"),
        method="POST",
        data={
            "lock_version": lock_version(page.text),
            "action": "upload",
            "upload_project_plan": (io.BytesIO(big), "big.pdf"),
        },
    )
    environ = builder.get_environ()
    try:  # werkzeug spools a large test body to a temporary file that it never closes
        response = client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()
    assert response.status_code == 422
    assert "big.pdf" in response.text and "1" in response.text
    session.refresh(application)
    assert application.attachments == []


# --- program limits: rows of a list answer ------------------------------------------------------


def budget_rows(count: int, *, start: int = 0) -> dict[str, str]:
    rows = {}
    for i in range(start, start + count):
        rows[f"f_budget_lines-{i}-category"] = "system"
        rows[f"f_budget_lines-{i}-description"] = "x"
        rows[f"f_budget_lines-{i}-acquisition"] = "none"
        rows[f"f_budget_lines-{i}-amount_yen"] = "1000"
    return rows


def shown_rows(html: str, field: str = "budget_lines") -> int:
    return len(re.findall(rf'name="f_{field}-\d+-description"', html)) or len(
        re.findall(rf'name="f_{field}-\d+-role"', html)
    )


def test_ten_thousand_budget_lines_refused_naming_the_limit_and_nothing_saved(
    client, auth, session, draft
):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "budget"))
    data = {"lock_version": lock_version(page.text), "action": "save",
            "f_own_funding_yen": "500000"}
    response = client.post(step_url(application, "budget"), data={**data, **budget_rows(10_000)})
    assert response.status_code == 422
    assert (
        "この欄に入力できるのは100行までですが、10000行が送信されたため、"
        "このページの内容は保存されていません。" in response.text
    )
    assert shown_rows(response.text) == 100  # the page stays small
    assert 'value="500,000"' in response.text  # the other answers are intact
    session.refresh(application)
    assert "budget_lines" not in application.answers
    assert "own_funding_yen" not in application.answers


def test_budget_lines_up_to_the_limit_saved_and_no_more_rows_offered(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "budget"))
    data = {"lock_version": lock_version(page.text), "action": "more_rows", **budget_rows(100)}
    response = client.post(step_url(application, "budget"), data=data)
    assert response.status_code == 303
    session.refresh(application)
    assert len(application.answers["budget_lines"]) == 100
    again = client.get(response.headers["Location"])
    assert shown_rows(again.text) == 100  # not 100 + blank rows
    assert 'value="more_rows"' not in again.text
    assert "100行まで入力できます。" in again.text


def test_one_budget_line_over_the_limit_refused(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "budget"))
    data = {"lock_version": lock_version(page.text), "action": "save", **budget_rows(101)}
    response = client.post(step_url(application, "budget"), data=data)
    assert response.status_code == 422
    assert "101行が送信された" in response.text
    session.refresh(application)
    assert "budget_lines" not in application.answers


@pytest.mark.parametrize("index", ["²", "١", "9" * 5000, "-1", "0x1"])
def test_row_numbers_that_are_not_ours_are_ignored_without_error(
    client, auth, session, draft, index
):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "budget"))
    data = {
        "lock_version": lock_version(page.text),
        "action": "save",
        **budget_rows(1),
        f"f_budget_lines-{index}-amount_yen": "5",
        f"f_budget_lines-{index}-description": "y",
    }
    response = client.post(step_url(application, "budget"), data=data)
    assert response.status_code == 303
    session.refresh(application)
    assert [line["description"] for line in application.answers["budget_lines"]] == ["x"]


def test_adding_a_partner_to_a_full_list_refused_and_answers_kept(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "partners"))
    data = {"lock_version": lock_version(page.text), "action": "add_partner:072133"}
    for i in range(50):
        data[f"f_partners-{i}-kind"] = "other"
        data[f"f_partners-{i}-name"] = f"協力団体{i}"
    response = client.post(step_url(application, "partners"), data=data)
    assert response.status_code == 422
    assert "この欄に入力できるのは50行までで、すでに上限に達しているため" in response.text
    assert "協力団体49" in response.text
    session.refresh(application)
    assert "partners" not in application.answers


@pytest.mark.parametrize(("rows", "shown"), [("abc", 2), ("-1", 2), ("", 2), ("3", 5),
                                             ("100000", 100), ("9" * 5000, 100)])
def test_rows_parameter_clamped_to_the_program_limit(client, auth, draft, rows, shown):
    user, application = draft
    auth.sign_in(user)
    response = client.get(step_url(application, "budget"), query_string={"rows": rows})
    assert response.status_code == 200
    assert shown_rows(response.text) == shown
    assert shown_rows(response.text, "partners") == 0


def test_partner_search_query_is_cut_to_fifty_characters(client, auth, draft):
    user, application = draft
    auth.sign_in(user)
    query = "伊達市" + "x" * 10_000
    response = client.get(step_url(application, "partners"), query_string={"q": query})
    assert response.status_code == 200
    assert f'name="partner_query" value="{query[:50]}"' in response.text
    assert query[:51] not in response.text


# --- answers kept for an expired session: bounded -------------------------------------------------


def test_answers_too_large_to_keep_are_not_kept_and_sign_in_says_so(client, session, draft):
    from grants.models import KeptForm

    _user, application = draft
    response = client.post(
        step_url(application),
        data={"lock_version": "1", "f_project_summary": "あ" * 100_000, "action": "save"},
    )
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    sign_in = client.get(response.headers["Location"])
    assert "送信された回答は一度に256 KBを超えていたため、保持できませんでした。" in sign_in.text
    assert session.query(KeptForm).filter_by(application_id=application.id).count() == 0


def test_kept_answers_capped_oldest_dropped_first(client, session, draft):
    import datetime as dt

    from grants.models import KeptForm
    from grants.web import kept

    _user, application = draft
    session.add_all(
        KeptForm(token=f"old-{i:04d}", application_id=application.id, step_id="overview",
                 data={"f_project_title": [f"題名{i}"]},
                 created_at=NOW - dt.timedelta(minutes=i + 1))
        for i in range(kept.MAX_KEPT_FORMS)
    )
    session.commit()
    response = client.post(
        step_url(application),
        data={"lock_version": "1", "f_project_title": "最新の題名", "action": "save"},
    )
    assert response.status_code == 302
    tokens = set(session.scalars(sa.select(KeptForm.token)))
    assert len(tokens) == kept.MAX_KEPT_FORMS == 1_000
    assert "old-0999" not in tokens  # the oldest went
    assert "old-0998" in tokens and "old-0000" in tokens
    [newest] = tokens - {f"old-{i:04d}" for i in range(kept.MAX_KEPT_FORMS)}
    assert session.get(KeptForm, newest).data["f_project_title"] == ["最新の題名"]
