"""`flask grants users …` as an operator runs it: separate processes on a fresh database.

Each change is checked in the database the command wrote (state, sessions, outbox, audit chain);
each refusal is one line on stderr with exit code 1. Most lines run through `flask`'s own entry
point in one process (see tests/test_cli_commands.py) to keep the module quick.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from grants.cli import NOT_INITIALIZED
from tests.test_cli_commands import flask, flask_lines

PASSWORD = "long enough password"
STAFF = (("admin@example.jp", "管理者 一郎", "admin"),
         ("officer@example.jp", "事務局 花子", "officer"),
         ("reviewer@example.jp", "評価者 次郎", "reviewer"))


def _query(instance: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(instance / "grants.sqlite") as connection:
        return connection.execute(sql, args).fetchall()


def _events(instance: Path, tag: str) -> list[tuple]:
    return [(actor, json.loads(data)) for actor, data in _query(
        instance, "SELECT actor_id, data FROM audit_events WHERE tag = ? ORDER BY id", tag)]


def _open_session(instance: Path, email: str, token_hash: str) -> None:
    """A signed-in browser of the account, as the sign-in page leaves it."""
    with sqlite3.connect(instance / "grants.sqlite") as connection:
        connection.execute(
            "INSERT INTO user_sessions (token_hash, user_id, created_at, last_seen_at) "
            "SELECT ?, id, '2026-11-20 01:00:00.000000', '2026-11-20 01:00:00.000000' "
            "FROM users WHERE email = ?", (token_hash, email))


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with an admin, an officer and a reviewer, made by the commands."""
    path = tmp_path_factory.mktemp("users")
    migrated = flask(path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    results = flask_lines(path, [
        ["create-user", "--email", email, "--name", name, "--role", role, "--password", PASSWORD]
        for email, name, role in STAFF])
    assert [code for code, _out, _err in results] == [0, 0, 0], results
    return path


@pytest.fixture
def instance(made: Path, tmp_path: Path) -> Path:
    """A fresh copy of that instance for each test."""
    copy = tmp_path / "instance"
    shutil.copytree(made, copy)
    return copy


def test_disable_and_enable_with_an_address_typed_any_way(instance):
    _open_session(instance, "officer@example.jp", "a" * 64)
    _open_session(instance, "officer@example.jp", "b" * 64)
    disabled = flask(instance, "users", "disable", "　ＯＦＦＩＣＥＲ＠example.jp ",
                     "--reason", "退職のため")
    assert (disabled.returncode, disabled.stderr) == (0, "")
    assert disabled.stdout == "disabled officer@example.jp: 2 open session(s) ended\n"
    assert _query(instance, "SELECT active FROM users WHERE email = 'officer@example.jp'") \
        == [(0,)]
    assert _query(instance, "SELECT count(*) FROM user_sessions WHERE revoked_at IS NULL") \
        == [(0,)]
    assert _events(instance, "admin:account:disable") == [
        (None, {"reason": "退職のため", "sessions_ended": 2})]
    listing = flask_lines(instance, [["users", "list", "--disabled"],
                                     ["users", "enable", "officer@example.jp", "--reason", "復職"],
                                     ["users", "list", "--disabled"]])
    assert listing[0][0] == 0 and listing[0][1].endswith("1 account(s)\n")
    assert re.search(r"officer@example\.jp\s+officer\s+disabled\s+2026-11-20 10:00\s+事務局 花子",
                     listing[0][1])
    assert listing[1] == (0, "enabled officer@example.jp: it may sign in again\n", "")
    assert listing[2] == (0, "0 account(s)\n", "")
    assert _events(instance, "admin:account:enable") == [(None, {"reason": "復職"})]


def test_list_every_account_or_one_role(instance):
    _open_session(instance, "reviewer@example.jp", "c" * 64)
    [everyone, reviewers, messy] = flask_lines(
        instance, [["users", "list"], ["users", "list", "--role", "reviewer"],
                   ["users", "list", "--role", " Reviewer "]])
    assert everyone[0] == 0 and everyone[1].endswith("3 account(s)\n")
    lines = everyone[1].splitlines()
    assert lines[0].split() == ["E-mail", "Role", "State", "Last", "sign-in", "(JST)", "Name",
                                "Organization"]
    assert [line.split()[0] for line in lines[1:4]] == sorted(e for e, _n, _r in STAFF)
    assert reviewers[1].endswith("1 account(s)\n") and "reviewer@example.jp" in reviewers[1]
    assert "2026-11-20 10:00" in reviewers[1]  # the sign-in above, in Japan time
    assert messy[1] == reviewers[1]


def test_set_role_ends_sessions_and_records_both_roles(instance):
    _open_session(instance, "reviewer@example.jp", "d" * 64)
    result = flask(instance, "users", "set-role", "reviewer@example.jp", "OFFICER",
                   "--reason", "事務局へ異動")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == ("reviewer@example.jp is now officer (was reviewer): "
                             "1 open session(s) ended\n")
    assert _query(instance, "SELECT role FROM users WHERE email = 'reviewer@example.jp'") \
        == [("officer",)]
    assert _events(instance, "admin:account:role_change") == [
        (None, {"reason": "事務局へ異動", "from": "reviewer", "to": "officer",
                "sessions_ended": 1})]


def test_reset_link_is_queued_and_printed_only_when_asked(instance):
    quiet, shown = flask_lines(instance, [
        ["users", "reset-link", "reviewer@example.jp", "--reason", "電話で依頼"],
        ["users", "reset-link", "reviewer@example.jp", "--reason", "メール不達", "--print-link"]])
    assert quiet[0] == 0 and "/password/reset/" not in quiet[1]
    assert "queued a password-reset e-mail to reviewer@example.jp" in quiet[1]
    assert "GRANTS_SMTP_URL is not set" in quiet[1]
    assert shown[0] == 0
    printed = shown[1].splitlines()[-1]
    assert re.fullmatch(r"http://127\.0\.0\.1:5000/password/reset/[\w-]{40,}", printed)
    bodies = [body for (body,) in _query(
        instance, "SELECT body FROM outbox_messages WHERE to_address = 'reviewer@example.jp' "
                  "ORDER BY id")]
    assert len(bodies) == 2 and printed in bodies[1] and printed not in bodies[0]
    assert _events(instance, "admin:account:reset_link") == [
        (None, {"reason": "電話で依頼", "link_shown": False}),
        (None, {"reason": "メール不達", "link_shown": True})]
    token = printed.rsplit("/", 1)[1]
    assert not _query(instance, "SELECT id FROM audit_events WHERE data LIKE ?", f"%{token}%")


REFUSALS = [
    (["disable", "nobody@example.jp", "--reason", "r"],
     "no account with the e-mail address 'nobody@example.jp'"),
    (["disable", "admin@example.jp", "--reason", "r"],
     "admin@example.jp is the last enabled admin: make another account admin first"),
    (["set-role", "admin@example.jp", "auditor", "--reason", "r"],
     "admin@example.jp is the last enabled admin: make another account admin first"),
    (["set-role", "officer@example.jp", "emperor", "--reason", "r"],
     "unknown role 'emperor': one of reviewer, officer, auditor, admin"),
    (["set-role", "officer@example.jp", "applicant", "--reason", "r"],
     "unknown role 'applicant': one of reviewer, officer, auditor, admin"),
    (["list", "--role", "emperor"],
     "unknown role 'emperor': one of applicant, reviewer, officer, auditor, admin"),
    (["disable", "officer@example.jp"],
     "a reason is required (--reason TEXT): it is kept in the audit log"),
    (["enable", "officer@example.jp", "--reason", "\u3000 "],
     "a reason is required (--reason TEXT): it is kept in the audit log"),
    (["enable", "officer@example.jp", "--reason", "x" * 501],
     "the reason is too long: at most 500 characters"),
    (["enable", "officer@example.jp", "--reason", "r"],
     "nothing to change: officer@example.jp is already so"),
    (["set-role", "officer@example.jp", "officer", "--reason", "r"],
     "nothing to change: officer@example.jp is already so"),
]


def test_refusals_are_one_line_with_exit_code_1_and_change_nothing(instance):
    before = _query(instance, "SELECT count(*) FROM audit_events")
    results = flask_lines(instance, [["users", *line] for line, _error in REFUSALS])
    for (line, error), result in zip(REFUSALS, results, strict=True):
        assert result == (1, "", f"Error: {error}\n"), line
    assert _query(instance, "SELECT count(*) FROM audit_events") == before
    assert _query(instance, "SELECT email, role, active FROM users ORDER BY id") == [
        (email, role, 1) for email, _name, role in STAFF]


def test_a_second_admin_lets_the_first_one_go_and_the_chain_holds(instance):
    results = flask_lines(instance, [
        ["users", "set-role", "officer@example.jp", "admin", "--reason", "交代"],
        ["users", "disable", "admin@example.jp", "--reason", "退任"],
        ["users", "disable", "officer@example.jp", "--reason", "r"],
        ["audit", "verify"]])
    assert [code for code, _out, _err in results] == [0, 0, 1, 0], results
    assert results[2][2] == ("Error: officer@example.jp is the last enabled admin: make another "
                             "account admin first\n")
    assert "audit chain intact: 5 event(s)" in results[3][1]  # 3 accounts made, 2 changes


def test_every_users_command_has_help_and_needs_an_initialized_database(tmp_path):
    commands = ["list", "disable", "enable", "reset-link", "set-role"]
    helps = flask_lines(tmp_path, [["users", "--help"],
                                   *(["users", name, "--help"] for name in commands)])
    assert all(code == 0 and out.startswith("Usage: flask grants users") for code, out, _ in helps)
    assert "--print-link" in helps[4][1] and "--reason" in helps[2][1]
    refused = flask_lines(tmp_path, [["users", "list"],
                                     ["users", "disable", "a@example.jp", "--reason", "r"]])
    assert refused == [(1, "", f"Error: {NOT_INITIALIZED}\n")] * 2
