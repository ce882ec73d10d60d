"""Production over plain HTTP: a page saying HTTPS is needed, not "This form has expired".

The app runs with production settings on the test database; the test client asks over
http:// or https://, directly or with the X-Forwarded-Proto a TLS proxy sends, trusted or not
(GRANTS_PROXY_COUNT). Load balancers keep reaching /healthz over plain HTTP.
"""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy.orm import sessionmaker

from grants import create_app
from grants.domain.workflow import Role
from tests.conftest import PASSWORD, csrf_token

HTTP, HTTPS = "http://grants.example.jp", "https://grants.example.jp"
PAGE = "This site must be reached over HTTPS; the sign-in cookie cannot be set over plain HTTP."
SECRET = "Pr0d-" + uuid.uuid4().hex + "-" + uuid.uuid4().hex


@pytest.fixture
def production(app_config, connection):
    def make(**settings):
        app = create_app({**app_config, "ENV": "production", "SECRET_KEY": SECRET,
                          "ALLOW_SQLITE": True, "SITE_URL": HTTPS, "DEFAULT_LOCALE": "en",
                          "WTF_CSRF_ENABLED": True, **settings})
        app.extensions["grants.sessionmaker"] = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        return app
    return make


def test_sign_in_over_plain_http_gets_a_page_naming_https(production, make_user, caplog):
    client = production().test_client()
    with caplog.at_level(logging.WARNING):
        page = client.get("/sign-in", base_url=HTTP)
        posted = client.post("/sign-in", base_url=HTTP,
                             data={"email": make_user(Role.OFFICER).email, "password": PASSWORD})
    for response in (page, posted):
        assert response.status_code == 400
        assert PAGE in response.text
        assert "This form has expired" not in response.text
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(message.startswith("refused plain-http (in production the session cookie is "
                                  "Secure") and message.endswith("GET /sign-in account=None")
               for message in warnings)
    assert any("POST /sign-in" in message for message in warnings)
    assert not any("GRANTS_PROXY_COUNT" in message for message in warnings)


def test_over_https_sign_in_works(production, make_user):
    client = production().test_client()
    officer = make_user(Role.OFFICER)
    page = client.get("/sign-in", base_url=HTTPS)
    assert page.status_code == 200
    signed = client.post("/sign-in", base_url=HTTPS, headers={"Referer": f"{HTTPS}/sign-in"},
                         data={"email": officer.email, "password": PASSWORD,
                               "csrf_token": csrf_token(page.text)})
    assert signed.status_code == 302
    assert client.get("/account", base_url=HTTPS).status_code == 200


def test_the_japanese_page(production):
    response = production(DEFAULT_LOCALE="ja").test_client().get("/", base_url=HTTP)
    assert response.status_code == 400
    assert "このサイトには HTTPS で接続してください" in response.text


def test_health_checks_and_static_files_stay_on_plain_http(production):
    client = production().test_client()
    health = client.get("/healthz", base_url=HTTP)
    assert health.status_code == 200
    style = client.get("/static/grants.css", base_url=HTTP)
    assert style.status_code == 200
    style.close()
    assert client.get("/no-such-page", base_url=HTTP).status_code == 400


def test_a_forwarded_https_is_trusted_only_behind_the_configured_proxies(production, caplog):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    with caplog.at_level(logging.WARNING):
        untrusted = production().test_client().get("/sign-in", base_url=HTTP,
                                                   headers=forwarded)
    assert untrusted.status_code == 400 and PAGE in untrusted.text
    [message] = [r.getMessage() for r in caplog.records if "plain-http" in r.getMessage()]
    assert ("X-Forwarded-Proto says 'https' but is not trusted: GRANTS_PROXY_COUNT is 0; set it "
            "to the number of proxies in front of the app (1 behind one nginx)") in message

    behind_nginx = production(PROXY_COUNT=1).test_client()
    assert behind_nginx.get("/sign-in", base_url=HTTP, headers=forwarded).status_code == 200
    plain_at_proxy = behind_nginx.get("/sign-in", base_url=HTTP,
                                      headers={"X-Forwarded-Proto": "http"})
    assert plain_at_proxy.status_code == 400


def test_development_serves_plain_http(app):
    assert app.config["ENV"] == "development"
    assert app.test_client().get("/sign-in", base_url=HTTP).status_code == 200


def test_a_link_token_in_a_refused_path_is_not_logged(production, caplog):
    token = "k3Y-s3cr3t-l1nk-t0k3n-abcdefghijklmnop"
    with caplog.at_level(logging.WARNING):
        response = production().test_client().get(f"/invitation/{token}", base_url=HTTP)
    assert response.status_code == 400
    [message] = [r.getMessage() for r in caplog.records if "plain-http" in r.getMessage()]
    assert "/invitation/<token>" in message and token not in caplog.text
