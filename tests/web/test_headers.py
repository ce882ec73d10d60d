"""Headers on every response: nothing with personal data is kept by a browser or a proxy
(Cache-Control: no-store), and production tells browsers to use HTTPS only (HSTS)."""

from __future__ import annotations

from flask import Response
from sqlalchemy.orm import sessionmaker

from grants import create_app
from grants.domain.workflow import Role
from grants.models import Attachment, Program
from grants.services import apply
from grants.storage import LocalStorage
from tests.conftest import NOW
from tests.web.journey import TINY_PDF
from tests.web.reviewflow import KEY

HSTS = "max-age=31536000; includeSubDomains"


def _directives(response) -> set[str]:
    return {part.strip() for part in response.headers.get("Cache-Control", "").split(",")}


def test_signed_in_page_and_exports_are_not_stored(client, auth, make_user):
    auth.sign_in(make_user(Role.OFFICER))
    for url in (f"/manage/calls/{KEY}", f"/manage/calls/{KEY}/ranking.csv",
                f"/manage/calls/{KEY}/export.xlsx"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in _directives(response), url


def test_attachment_download_is_not_stored(app, client, auth, session, make_user):
    owner = make_user(Role.APPLICANT)
    application = apply.start(session, session.get(Program, KEY), actor=owner, now=NOW)
    sha256 = LocalStorage(app.config["STORAGE_DIR"]).put(TINY_PDF)
    attachment = Attachment(field_id="project_plan", sha256=sha256, filename="plan.pdf",
                            mime_type="application/pdf", size_bytes=len(TINY_PDF),
                            uploaded_by_id=owner.id)
    application.attachments.append(attachment)
    session.commit()
    auth.sign_in(owner)
    with client.get(f"/applications/{application.id}/attachments/{attachment.id}") as download:
        assert download.status_code == 200 and download.data == TINY_PDF
        assert "no-store" in _directives(download)


def test_sign_in_page_and_errors_are_not_stored(client):
    assert "no-store" in _directives(client.get("/sign-in"))
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "no-store" in _directives(missing)


def test_static_files_and_views_that_choose_caching_keep_their_rule(app, client):
    @app.get("/test-cached")
    def cached() -> Response:
        response = Response("public")
        response.cache_control.public = True
        response.cache_control.max_age = 600
        return response

    with client.get("/static/grants.css") as stylesheet:
        assert stylesheet.status_code == 200
        assert "no-store" not in _directives(stylesheet)
    assert _directives(client.get("/test-cached")) == {"public", "max-age=600"}


def test_production_responses_carry_hsts(app_config, connection):
    app = create_app({**app_config, "ENV": "production", "SECRET_KEY": "p" * 48,
                      "ALLOW_SQLITE": True, "SITE_URL": "https://grants.example.jp"})
    app.extensions["grants.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    client = app.test_client()
    for url in ("/sign-in", "/static/grants.css", "/no-such-page"):
        with client.get(url) as response:
            assert response.headers["Strict-Transport-Security"] == HSTS, url


def test_development_responses_carry_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers
