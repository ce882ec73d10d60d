"""The log an operator reads: an access line per request with an id the response echoes,
refusals with the account id only, and JSON lines that parse."""

from __future__ import annotations

import json
import logging
import re

import pytest
from sqlalchemy.orm import sessionmaker

from grants import create_app
from grants.config import ConfigError, load_settings
from grants.domain.workflow import Role

WRONG_PASSWORD = "not the password 9z"


@pytest.fixture(autouse=True)
def info_logs(caplog):
    caplog.set_level(logging.INFO, logger="grants")
    return caplog


def _app(app_config, connection, **settings):
    app = create_app({**app_config, **settings})
    app.extensions["grants.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    return app


def _lines(caplog, logger):
    return [record for record in caplog.records if record.name == logger]


def test_each_request_has_an_id_in_its_access_line_and_response(client, caplog):
    response = client.get("/sign-in?next=/applications&token=s3cret")
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch("[0-9a-f]{32}", request_id)
    (line,) = _lines(caplog, "grants.access")
    assert (line.request_id, line.method, line.path, line.status) == (
        request_id, "GET", "/sign-in", 200)
    assert isinstance(line.duration_ms, int) and line.duration_ms >= 0
    assert (line.account_id, line.client) == (None, "127.0.0.1")
    assert "s3cret" not in caplog.text and "next=" not in caplog.text  # no query strings
    assert client.get("/sign-in").headers["X-Request-ID"] != request_id


@pytest.mark.parametrize(("offered", "kept"), [
    ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", True),  # nginx's $request_id
    ("3f2b8c1e-7d4a-4e5b-9c6d-0a1b2c3d4e5f", True),  # a UUID
    ("short", False),
    ("has spaces in it", False),
    ("x" * 200, False),
    ("id\u3000全角", False),
])
def test_a_sane_request_id_from_the_proxy_is_kept(client, caplog, offered, kept):
    response = client.get("/healthz", headers={"X-Request-ID": offered})
    (line,) = _lines(caplog, "grants.access")
    assert line.request_id == response.headers["X-Request-ID"]
    assert (response.headers["X-Request-ID"] == offered) is kept


def test_secret_tokens_in_paths_are_not_logged(client, caplog):
    client.get("/password/reset/SeCrEtToKeN123")
    client.get("/verify/SeCrEtToKeN456")
    assert [line.path for line in _lines(caplog, "grants.access")] == [
        "/password/reset/<token>", "/verify/<token>"]
    assert "SeCrEtToKeN" not in caplog.text


def test_the_access_line_names_the_signed_in_account(client, auth, make_user, caplog):
    user = make_user()
    auth.sign_in(user)
    client.get("/account")
    assert _lines(caplog, "grants.access")[-1].account_id == user.id


def test_a_failed_sign_in_is_logged_with_the_account_id_only(client, auth, make_user, caplog,
                                                             capsys):
    user = make_user()
    auth.sign_in(user, WRONG_PASSWORD)
    (line,) = _lines(caplog, "grants.security")
    assert (line.reason, line.detail, line.account_id) == ("sign-in", "bad_credentials", user.id)
    assert line.levelno == logging.WARNING
    written = capsys.readouterr().err  # what the app's own handler wrote
    assert f"account={user.id}" in written
    for secret in (WRONG_PASSWORD, user.email, user.display_name):
        assert secret not in caplog.text and secret not in written


def test_a_sign_in_for_an_unknown_address_logs_no_address(client, caplog, capsys):
    typed = "nobody-at-all@example.jp"
    client.post("/sign-in", data={"email": typed, "password": WRONG_PASSWORD})
    (line,) = _lines(caplog, "grants.security")
    assert (line.detail, line.account_id) == ("bad_credentials", None)
    written = capsys.readouterr().err
    for secret in (typed, "nobody-at-all", WRONG_PASSWORD):
        assert secret not in caplog.text and secret not in written


def test_throttled_sign_ins_are_logged(app, client, auth, make_user, caplog):
    user = make_user()
    for _ in range(app.config["SIGNIN_MAX_FAILURES"] + 1):
        auth.sign_in(user, WRONG_PASSWORD)
    details = [(line.detail, line.account_id) for line in _lines(caplog, "grants.security")]
    assert details[-1] == ("too_many_attempts", user.id)
    assert WRONG_PASSWORD not in caplog.text


def test_a_forbidden_page_is_logged_with_the_account(client, auth, make_user, caplog):
    applicant = make_user(Role.APPLICANT)
    auth.sign_in(applicant)
    response = client.get("/manage/outbox")
    assert response.status_code == 403
    (line,) = _lines(caplog, "grants.security")
    assert (line.reason, line.path, line.account_id) == ("forbidden", "/manage/outbox",
                                                         applicant.id)
    assert line.request_id == response.headers["X-Request-ID"]


def test_a_csrf_failure_says_why(app_config, connection, caplog):
    client = _app(app_config, connection, WTF_CSRF_ENABLED=True).test_client()
    response = client.post("/sign-in", data={"email": "a@example.jp", "password": "x" * 12})
    assert response.status_code == 400
    (line,) = _lines(caplog, "grants.security")
    assert (line.reason, line.detail) == ("csrf", "The CSRF token is missing.")
    assert "a@example.jp" not in caplog.text


def test_json_lines_parse_and_carry_the_fields(app_config, connection, make_user, capsys):
    client = _app(app_config, connection, LOG_FORMAT="json").test_client()
    user = make_user()
    capsys.readouterr()
    ok = client.get("/calls", headers={"X-Request-ID": "req-from-nginx-0001"})
    client.post("/sign-in", data={"email": user.email, "password": WRONG_PASSWORD})
    written = capsys.readouterr().err
    entries = [json.loads(line) for line in written.splitlines()]
    assert entries and all({"time", "level", "logger", "message", "request_id"} <= e.keys()
                           for e in entries)
    access = next(e for e in entries if e["request_id"] == ok.headers["X-Request-ID"])
    assert access["logger"] == "grants.access" and access["status"] == ok.status_code
    assert access["path"] == "/calls" and access["time"].endswith("+00:00")
    refused = next(e for e in entries if e["logger"] == "grants.security")
    assert (refused["account_id"], refused["detail"]) == (user.id, "bad_credentials")
    assert WRONG_PASSWORD not in written and user.email not in written


def test_text_lines_carry_the_request_id(client, capsys):
    response = client.get("/healthz")
    written = capsys.readouterr().err
    assert f"INFO grants.access [{response.headers['X-Request-ID']}] GET /healthz 200" in written


def test_settings_log_format(tmp_path):
    production = {"GRANTS_ENV": "production", "SECRET_KEY": "Yx7-Lq2_Zr9vT4mW8nB3cK6pH1sD5fG0",
                  "DATABASE_URL": "postgresql+psycopg://db/grants",
                  "GRANTS_SITE_URL": "https://grants.example.jp",
                  "GRANTS_INSTANCE_DIR": str(tmp_path)}
    assert load_settings(environ=production)["LOG_FORMAT"] == "json"
    assert load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={})["LOG_FORMAT"] == "text"
    with pytest.raises(ConfigError, match="GRANTS_LOG_FORMAT"):
        load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={"GRANTS_LOG_FORMAT": "xml"})
