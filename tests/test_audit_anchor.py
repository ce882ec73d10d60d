"""`flask grants audit anchor` writes the chain's head outside the database, and
`flask grants audit verify --anchor FILE` fails once the chain no longer reaches it.

Run as an operator runs them: ``flask --app wsgi`` in a subprocess, on a fresh instance directory
(its own SQLite database), never on the test database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from grants.services.anchors import append_line
from tests.conftest import ROOT

# What the subprocess must not inherit: it would point it at another database or settings.
_OWN_SETTINGS = ("DATABASE_URL", "SECRET_KEY", "REDIS_URL", "TEST_DATABASE_URL")


def grants(instance: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("GRANTS_") and k not in _OWN_SETTINGS}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "grants", *args], cwd=ROOT,
        env={**clean, "GRANTS_INSTANCE_DIR": str(instance), **env},
        capture_output=True, text=True, timeout=180, check=False)


def chain(instance: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(instance / "grants.sqlite") as db:
        return db.execute("SELECT id, hash FROM audit_events ORDER BY id").fetchall()


def delete_newest_event(instance: Path) -> None:
    with sqlite3.connect(instance / "grants.sqlite") as db:
        db.execute("DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance with the schema and the programs loaded (one audit event per file)."""
    instance = tmp_path_factory.mktemp("loaded")
    for command in ("migrate", "load"):
        result = grants(instance, command)
        assert result.returncode == 0, result.stderr
    assert len(chain(instance)) >= 3
    return instance


@pytest.fixture
def instance(loaded: Path, tmp_path: Path) -> Path:
    """A copy of the loaded instance this test may tamper with."""
    return Path(shutil.copytree(loaded, tmp_path / "instance"))


def test_anchor_appends_the_head_to_the_configured_file(instance):
    events = chain(instance)
    result = grants(instance, "audit", "anchor")
    assert result.returncode == 0, result.stderr
    anchors = instance / "audit-anchors.jsonl"  # the default, under the instance directory
    assert stat.S_IMODE(anchors.stat().st_mode) == 0o600
    [line] = anchors.read_text().splitlines()
    anchor = json.loads(line)
    assert anchor["head"] == events[-1][1]
    assert anchor["last_id"] == events[-1][0] and anchor["count"] == len(events)
    at = dt.datetime.fromisoformat(anchor["at"])
    assert abs(dt.datetime.now(dt.UTC) - at) < dt.timedelta(minutes=5)
    out = result.stdout
    assert f"anchored audit chain head {events[-1][1]}" in out
    assert f"{len(events)} event(s), the last one event {events[-1][0]}" in out
    assert f"at {anchor['at']} (" in out
    assert at.astimezone(dt.timezone(dt.timedelta(hours=9))).strftime("%Y-%m-%d %H:%M") in out
    assert "JST)" in out and f"appended to {anchors}" in out

    elsewhere = instance / "elsewhere.jsonl"
    overridden = instance / "override.jsonl"
    grants(instance, "audit", "anchor", GRANTS_AUDIT_ANCHOR_FILE=str(elsewhere))
    grants(instance, "audit", "anchor", "--file", str(overridden),
           GRANTS_AUDIT_ANCHOR_FILE=str(elsewhere))
    assert len(elsewhere.read_text().splitlines()) == 1  # the setting, then --file over it
    assert json.loads(overridden.read_text())["head"] == events[-1][1]
    assert len(anchors.read_text().splitlines()) == 1


def test_an_empty_chain_is_not_anchored(tmp_path):
    assert grants(tmp_path, "migrate").returncode == 0
    result = grants(tmp_path, "audit", "anchor")
    assert result.returncode == 0, result.stderr
    assert "the audit chain is empty: nothing to anchor" in result.stdout
    assert not (tmp_path / "audit-anchors.jsonl").exists()


def test_verify_fails_once_the_newest_events_are_deleted(instance):
    anchors = instance / "audit-anchors.jsonl"
    first = grants(instance, "audit", "anchor")
    assert first.returncode == 0, first.stderr
    held = grants(instance, "audit", "verify", "--anchor", str(anchors))
    assert held.returncode == 0, held.stderr
    assert "audit chain intact" in held.stdout
    assert f"1 anchor(s) reached; the last: line 1 of {anchors}" in held.stdout

    newest_id, newest_hash = chain(instance)[-1]
    count = len(chain(instance))
    delete_newest_event(instance)
    plain = grants(instance, "audit", "verify")  # the chain alone cannot tell
    assert plain.returncode == 0 and "audit chain intact" in plain.stdout

    result = grants(instance, "audit", "verify", "--anchor", str(anchors))
    assert result.returncode == 1
    anchored_at = json.loads(anchors.read_text())["at"]
    assert (f"ANCHOR NOT REACHED: line 1 of {anchors} (anchored {anchored_at}: "
            f"{count} event(s), head {newest_hash}): event {newest_id} is no longer in the chain "
            f"({count - 1} event(s) now)") in result.stderr
    assert "anchor(s) reached" not in result.stdout


def test_verify_names_the_anchor_a_rewritten_event_no_longer_matches(instance):
    anchors = instance / "audit-anchors.jsonl"
    assert grants(instance, "audit", "anchor").returncode == 0
    newest_id, _ = chain(instance)[-1]
    with sqlite3.connect(instance / "grants.sqlite") as db:
        db.execute("UPDATE audit_events SET hash = ? WHERE id = ?", ("e" * 64, newest_id))
    result = grants(instance, "audit", "verify", "--anchor", str(anchors))
    assert result.returncode == 1
    assert f"BROKEN at event {newest_id} " in result.stderr
    assert "ANCHOR NOT REACHED: line 1 of" in result.stderr
    assert f"event {newest_id} now has hash {'e' * 64}" in result.stderr


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read anchor file"),
    ("", "holds no anchor"),
    ("GOOD\n{\"at\": \"2026-11-20T01:00:00+00:00\"\n", ", line 2: not JSON"),
    ("GOOD\nGOOD\n[]\n", ", line 3: not a JSON object"),
])
def test_verify_refuses_a_missing_empty_or_malformed_anchor_file(instance, content, message):
    anchors = instance / "anchors.jsonl"
    if content is not None:
        events = chain(instance)
        good = json.dumps({"at": "2026-11-20T01:00:00+00:00", "count": len(events),
                           "head": events[-1][1], "last_id": events[-1][0]})
        anchors.write_text(content.replace("GOOD", good))
    result = grants(instance, "audit", "verify", "--anchor", str(anchors))
    assert result.returncode == 1
    assert message in result.stderr and str(anchors) in result.stderr
    assert "Traceback" not in result.stderr


def test_a_line_cut_short_stays_apart_from_the_next_anchor(tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_text('{"at": "2026-11-20T01:00:00+00:00", "cou')  # a write that was cut off
    anchors.chmod(0o640)
    append_line(anchors, '{"next": 1}')
    assert anchors.read_text().splitlines() == [
        '{"at": "2026-11-20T01:00:00+00:00", "cou', '{"next": 1}']
    assert stat.S_IMODE(anchors.stat().st_mode) == 0o640  # an existing file keeps its mode
