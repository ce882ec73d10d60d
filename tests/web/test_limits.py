"""Hard limits per request: body size by route (413 with a page in Japanese), query numbers
clamped, downloads never cached or sniffed.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy.orm import sessionmaker
from werkzeug.test import EnvironBuilder

from grants import create_app
from grants.domain.workflow import Role
from grants.web import limits
from tests.conftest import csrf_token
from tests.web.journey import TINY_PDF, lock_version, step_url

MiB = 1024 * 1024
FORM_TOO_LARGE = "送信されたデータがこのページで受け付けられる量（%d MB、または一度に送れる項目数）"


def post_large(client, url, data):
    """Post a multipart body of several MiB: werkzeug spools it to a file it never closes."""
    builder = EnvironBuilder(path=url, method="POST", data=data)
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()


# --- body size per route --------------------------------------------------------------------------


def test_sign_in_over_one_mib_refused_with_a_page_in_japanese(client, make_user):
    user = make_user(Role.APPLICANT)
    response = client.post("/sign-in", data={"email": user.email, "password": "x" * MiB})
    assert response.status_code == 413
    assert FORM_TOO_LARGE % 1 in response.text
    assert client.get("/applications").status_code == 302  # not signed in


def test_sign_in_under_the_limit_still_works(client, make_user):
    user = make_user(Role.APPLICANT)
    response = client.post("/sign-in", data={
        "email": user.email, "password": "correct horse battery", "padding": "x" * (MiB // 2)})
    assert response.status_code == 302


def test_limit_applies_before_the_csrf_check_reads_the_form(app_config, connection):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    app.extensions["grants.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    limits.install(app)
    limits.install(app)  # installing twice changes nothing
    assert app.before_request_funcs[None].count(limits.limit_body) == 1
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"csrf_token": token, "password": "x" * (2 * MiB)})
    assert response.status_code == 413  # not 400: the body was never read


def test_step_without_files_refused_over_two_mib_answers_untouched(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application))
    response = client.post(step_url(application), data={
        "lock_version": lock_version(page.text), "action": "save",
        "f_project_title": "題名", "f_project_summary": "x" * (2 * MiB + 1)})
    assert response.status_code == 413
    assert FORM_TOO_LARGE % 2 in response.text
    session.refresh(application)
    assert "project_title" not in application.answers


def test_step_without_files_under_two_mib_reaches_the_form_checks(client, auth, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application))
    response = client.post(step_url(application), data={
        "lock_version": lock_version(page.text), "action": "save",
        "f_project_summary": "x" * (3 * MiB // 2)})
    assert response.status_code == 422  # too long for the field: said beside it
    assert "error-summary" in response.text


def test_step_with_files_keeps_the_upload_limit(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "attachments"))
    pdf = TINY_PDF + b"%" + b"0" * (3 * MiB)  # a comment after %%EOF: still a PDF
    response = post_large(client, step_url(application, "attachments"), {
        "lock_version": lock_version(page.text), "action": "upload",
        "upload_project_plan": (io.BytesIO(pdf), "事業計画書.pdf")})
    assert response.status_code == 303
    session.refresh(application)
    assert [a.size_bytes for a in application.attachments] == [len(pdf)]


def test_upload_step_over_the_upload_limit_names_files(app, client, auth, draft):
    user, application = draft
    auth.sign_in(user)
    app.config["MAX_CONTENT_LENGTH"] = 3 * MiB
    response = post_large(client, step_url(application, "attachments"), {
        "lock_version": "1", "action": "upload",
        "upload_project_plan": (io.BytesIO(b"%PDF-" + b"0" * (4 * MiB)), "big.pdf")})
    assert response.status_code == 413
    assert "一度に送信したデータが 3 MB" in response.text


def test_browser_post_of_three_hundred_budget_lines_gets_the_rows_message(client, auth, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "budget"))
    data = {"lock_version": lock_version(page.text), "action": "save"}
    for i in range(300):  # 1,200 parts: over Werkzeug's default of 1,000 for one form
        row = f"f_budget_lines-{i}-"
        data |= {row + "category": "system", row + "acquisition": "none",
                 row + "description": "x", row + "amount_yen": "1"}
    response = client.post(step_url(application, "budget"), data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "この欄に入力できるのは100行までですが、300行が送信された" in response.text


def test_other_forms_keep_the_default_number_of_parts(client, make_user):
    data = {f"field{i}": "x" for i in range(1_100)}
    response = client.post("/sign-in", data=data, content_type="multipart/form-data")
    assert response.status_code == 413


# --- query numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("", 7), ("abc", 7), ("1.5", 7), ("１２", 7), ("²", 7), (" 12 ", 12), ("0", 1), ("-5", 1),
    ("50", 50), ("101", 100), ("9" * 5000, 100), ("-" + "9" * 5000, 1),
])
def test_int_arg_clamps_numbers_and_defaults_the_rest(app, text, expected):
    with app.test_request_context("/", query_string={"n": text}):
        assert limits.int_arg("n", 7, low=1, high=100) == expected


@pytest.mark.parametrize("page", ["abc", "0", "-1", "9" * 30, "9" * 5000, "1e9", "１"])
def test_audit_page_parameter_never_fails(client, auth, make_user, page):
    auth.sign_in(make_user(Role.AUDITOR))
    response = client.get("/audit/", query_string={"page": page})
    assert response.status_code == 200
    assert "該当する交付決定済みの申請：0件" in response.text


# --- downloads ------------------------------------------------------------------------------------


def test_attachment_download_is_a_file_never_cached_or_sniffed(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)
    page = client.get(step_url(application, "attachments"))
    client.post(step_url(application, "attachments"), data={
        "lock_version": lock_version(page.text), "action": "upload",
        "upload_project_plan": (io.BytesIO(TINY_PDF), "計画.pdf")},
        content_type="multipart/form-data")
    session.refresh(application)
    [attachment] = application.attachments
    with client.get(f"/applications/{application.id}/attachments/{attachment.id}") as download:
        assert download.status_code == 200
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.headers["Cache-Control"] == "no-store"
        assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_every_download_route_is_never_cached(client, auth, make_user):
    auth.sign_in(make_user(Role.OFFICER))
    export = client.get("/manage/calls/ict-kizuna-2010/ranking.csv")
    assert export.status_code == 200
    assert export.headers["Content-Disposition"].startswith("attachment")
    assert export.headers["Cache-Control"] == "no-store"
    assert export.headers["X-Content-Type-Options"] == "nosniff"
