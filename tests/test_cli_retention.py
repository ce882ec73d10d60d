"""`flask grants retention report` and `flask grants purge` as an operator runs them: separate
processes on a fresh instance after `flask grants init`, with the real clock.

The demo call was decided in March 2010 (FY2009), so its rejected applications were kept until
2015-03-31 and may be purged; one decided today is kept five more fiscal years. Each line runs
through `flask`'s own entry point (tests/test_cli_commands.py), and the database the commands
wrote is read back: states, rows, files, audit events and the chain.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from grants.cli import NOT_INITIALIZED
from grants.domain.retention import books_kept_until
from grants.storage import LocalStorage
from tests.test_cli_commands import flask, flask_lines


def _query(instance: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(instance / "grants.sqlite") as connection:
        return connection.execute(sql, args).fetchall()


def _events(instance: Path, tag: str) -> list[tuple]:
    return [(actor, json.loads(data)) for actor, data in _query(
        instance, "SELECT actor_id, data FROM audit_events WHERE tag = ? ORDER BY id", tag)]


def _event_count(instance: Path) -> int:
    return _query(instance, "SELECT count(*) FROM audit_events")[0][0]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("retention")
    result = flask(path, "init")
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def instance(made: Path, tmp_path: Path) -> Path:
    """A fresh copy of that instance for each test."""
    copy = tmp_path / "instance"
    shutil.copytree(made, copy)
    return copy


def _rejected(instance: Path) -> list[tuple[int, str]]:
    return _query(instance, "SELECT id, reference FROM applications WHERE state = 'rejected' "
                            "ORDER BY reference")


def _closed(instance: Path) -> list[tuple[int, str]]:
    """The demo's rejected and declined applications, closed in 2010: long purgeable."""
    return _query(instance, "SELECT id, reference FROM applications "
                            "WHERE state IN ('rejected', 'declined') ORDER BY reference")


def test_the_report_lists_every_application_and_the_flag_only_the_purgeable(instance):
    [everything, purgeable] = flask_lines(instance, [["retention", "report"],
                                                     ["retention", "report", "--purgeable"]])
    assert everything[0] == 0 and everything[2] == ""
    lines = everything[1].splitlines()
    assert lines[0].split() == ["Reference", "State", "Kept", "until", "Purgeable", "from"]
    states = dict(_query(instance, "SELECT reference, state FROM applications"))
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert set(rows) == set(states)
    for reference, line in rows.items():
        if states[reference] in ("rejected", "declined"):  # decided in 2010
            assert line.split()[1:] == [states[reference], "2015-03-31", "2015-04-01"]
        elif states[reference] == "completed":  # three fiscal years ago: kept for years
            assert line.split()[2] > dt.date.today().isoformat()
        else:
            assert line.split()[1:3] == [states[reference], "-"]
    assert "not decided yet" in rows[next(r for r, s in states.items() if s == "draft")]
    assert "the grant decision is not answered yet" in rows[
        next(r for r, s in states.items() if s == "awarded")]
    closed = [reference for _id, reference in _closed(instance)]
    assert lines[-1].startswith(f"{len(states)} application(s), {len(closed)} may be purged")
    assert purgeable[0] == 0
    assert [line.split()[0] for line in purgeable[1].splitlines()[1:-1]] == closed


def test_a_purge_inside_retention_exits_1_in_one_line_and_records_the_attempt(instance):
    application_id, reference = _rejected(instance)[0]
    now = dt.datetime.now(dt.UTC)
    _query(instance, "UPDATE decisions SET decided_at = ? WHERE application_id = ?",
           now.strftime("%Y-%m-%d %H:%M:%S.%f"), application_id)
    kept_until = books_kept_until(now)
    result = flask(instance, "purge", reference)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"Error: {reference} is kept until {kept_until}: it may be purged "
                             f"from {kept_until + dt.timedelta(days=1)}\n")
    assert _query(instance, "SELECT state FROM applications WHERE id = ?", application_id) \
        == [("rejected",)]
    assert _events(instance, "admin:application:purge_refuse") == [
        (None, {"reference": reference, "state": "rejected",
                "kept_until": kept_until.isoformat(), "hold": None})]


def test_a_purge_after_retention_removes_prints_it_and_the_chain_still_verifies(instance):
    application_id, reference = _rejected(instance)[0]
    own = LocalStorage(instance / "files").put(b"%PDF-1.4 only this application's file")
    _query(instance, "UPDATE attachments SET sha256 = ? WHERE application_id = ?", own,
           application_id)
    before = _event_count(instance)
    [purged, again, verify] = flask_lines(instance, [["purge", reference.lower()],
                                                     ["purge", reference], ["audit", "verify"]])
    assert (purged[0], purged[2]) == (0, "")
    lines = purged[1].splitlines()
    assert lines[0] == f"purged {reference} (rejected, kept until 2015-03-31)"
    assert lines[1].startswith("deleted: attachments 1, kept_forms 0, outbox_messages ")
    assert lines[2].startswith("free text emptied in: applications 1, submissions 1, reviews ")
    assert lines[3:] == ["files removed from storage: 1", f"  {own}"]
    assert not LocalStorage(instance / "files").exists(own)
    assert again == (1, "", f"Error: {reference} cannot be purged: purged already\n")
    assert verify[0] == 0
    assert f"audit chain intact: {before + 2} event(s)" in verify[1]

    assert _query(instance, "SELECT state FROM applications WHERE id = ?", application_id) \
        == [("purged",)]
    assert _query(instance, "SELECT count(*) FROM attachments WHERE application_id = ?",
                  application_id) == [(0,)]
    assert _query(instance, "SELECT count(*) FROM outbox_messages WHERE application_id = ?",
                  application_id) == [(0,)]
    [(snapshot, answers, rationale)] = _query(
        instance, "SELECT s.snapshot, a.answers, d.rationale FROM submissions s "
                  "JOIN applications a ON a.id = s.application_id "
                  "JOIN decisions d ON d.application_id = a.id WHERE a.id = ?", application_id)
    for text in (snapshot, answers):
        assert "デモ 太郎" not in text and "011-000-0000" not in text
    assert json.loads(snapshot)["attachments"][0]["filename"] == ""
    assert rationale == ""
    [(actor, tombstone)] = _events(instance, "admin:application:purge")
    assert actor is None
    assert tombstone["reference"] == reference and tombstone["files_removed"] == [own]


def test_a_file_other_applications_share_stays(instance):
    _application_id, reference = _rejected(instance)[0]
    result = flask(instance, "purge", reference)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == [
        "files removed from storage: 0",
        "files kept, another application uses the same bytes: 1"]
    [(shared,)] = _query(instance, "SELECT DISTINCT sha256 FROM attachments")
    assert LocalStorage(instance / "files").verify(shared)


def test_an_unknown_reference_is_one_line_and_no_event(instance):
    before = _event_count(instance)
    assert flask_lines(instance, [["purge", "G10-NONE-NONE"]]) == [
        (1, "", "Error: no application 'G10-NONE-NONE'\n")]
    assert _event_count(instance) == before


def test_the_commands_have_help_and_need_an_initialized_database(tmp_path):
    helps = flask_lines(tmp_path, [["retention", "--help"], ["retention", "report", "--help"],
                                   ["purge", "--help"]])
    assert all(code == 0 and out.startswith("Usage: flask grants") for code, out, _ in helps)
    assert "--purgeable" in helps[1][1]
    refused = flask_lines(tmp_path, [["retention", "report"], ["purge", "G10-0000-0000"]])
    assert refused == [(1, "", f"Error: {NOT_INITIALIZED}\n")] * 2
