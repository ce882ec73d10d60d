"""Drafts: saving, concurrent edits, expired sessions and CSRF, bad input kept intact."""

from __future__ import annotations

import re

import pytest

from grants.domain.workflow import Role
from grants.models import Program
from grants.services import apply
from tests.conftest import NOW, csrf_token
from tests.web.journey import TINY_PDF, lock_version


@pytest.fixture
def draft(session, make_user):
    user = make_user(Role.APPLICANT, lg_code="011002")
    application = apply.start(session, session.get(Program, "ict-kizuna-2010"), actor=user, now=NOW)
    session.commit()
    return user, application


def step_url(application, step="overview"):
    return f"/applications/{application.id}/steps/{step}"


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
