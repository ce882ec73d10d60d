"""Every `flask grants` command as an operator runs it: a separate process on a fresh instance.

`init` seeds the closed demo call, `packet` and `record` write PDFs outside any request in
either language, and on a database nobody initialized every data command says in one line what
to run. To keep the module fast, help texts, the one-line refusals and the English documents
run in one process each (the app loads once) that calls `flask`'s own entry point per line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from grants.cli import NOT_INITIALIZED
from grants.db import create_engine
from grants.domain.definitions import JST
from grants.domain.fiscal import fiscal_year, fiscal_year_end
from tests.conftest import ROOT, upgrade

# Runs each command line given as JSON through `flask`'s own entry point, in this one process,
# and prints [exit code, stdout, stderr] for each (a traceback lands in stderr).
DRIVER = """
import contextlib, io, json, sys, traceback
from flask.cli import main
results = []
for args in json.loads(sys.argv[1]):
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            sys.argv = ["flask", "--app", "wsgi", *args]
            main()
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        except Exception:
            traceback.print_exc()
            code = 1
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""

DATA_COMMANDS = [
    ["load"],
    ["demo"],
    ["create-user", "--email", "x@example.jp", "--name", "X", "--role", "officer",
     "--password", "long enough password"],
    ["packet", "G10-0000-0000", "-o", "out.pdf"],
    ["record", "G10-0000-0000", "-o", "out.pdf"],
    ["outbox", "send"],
    ["audit", "verify"],
    ["audit", "anchor"],
]
ALL_COMMANDS = [*DATA_COMMANDS, ["init"], ["migrate"], ["check"], ["audit"], ["outbox"]]
STAGES = {"draft": 4, "returned": 3, "submitted": 5, "in_review": 8, "rejected": 4,
          # the six awards after the decision (grants.services.demo_post_award)
          "awarded": 1, "declined": 1, "granted": 1, "reported": 1, "completed": 2}
AWARDS = 6


def _environment(instance: Path) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("GRANTS_") and key != "DATABASE_URL"}
    environment["GRANTS_INSTANCE_DIR"] = str(instance)
    return environment


def flask(instance: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "grants", *args], cwd=ROOT,
        env=_environment(instance), capture_output=True, text=True, timeout=300, check=False)


def flask_lines(instance: Path, command_lines: list[list[str]],
                **settings: str) -> list[tuple[int, str, str]]:
    """Each command line's exit code, output and errors, all in one process."""
    environment = _environment(instance) | {f"GRANTS_{k}": v for k, v in settings.items()}
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps([["grants", *line] for line in command_lines])],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return [tuple(row) for row in json.loads(result.stdout)]


def _query(instance: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(instance / "grants.sqlite") as connection:
        return connection.execute(sql).fetchall()


def _counts(instance: Path) -> dict[str, int]:
    tables = ("applications", "users", "organizations", "reviews", "moderations", "decisions",
              "audit_events", "outbox_messages")
    return {table: _query(instance, f"SELECT count(*) FROM {table}")[0][0]  # noqa: S608
            for table in tables}


def _text(path: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh instance after `flask grants init`, as `make run` leaves it."""
    path = tmp_path_factory.mktemp("instance")
    result = flask(path, "init")
    assert result.returncode == 0, result.stderr
    assert "30 applications seeded, at every stage" in result.stdout
    return path


@pytest.fixture(scope="module")
def awarded(instance: Path) -> str:
    return _query(instance, "SELECT reference FROM applications WHERE state = 'awarded' "
                            "ORDER BY id LIMIT 1")[0][0]


def test_init_seeds_a_closed_call_at_every_stage(instance):
    states = dict(_query(instance, "SELECT state, count(*) FROM applications GROUP BY state"))
    assert states == STAGES
    programs = _query(instance, "SELECT DISTINCT v.program_key FROM applications a "
                                "JOIN program_versions v ON v.id = a.program_version_id")
    assert programs == [("ict-furusato-genki-2009",)]
    counts = _counts(instance)
    assert counts["reviews"] > 0 and counts["moderations"] > 0
    assert counts["decisions"] == AWARDS + STAGES["rejected"]


def test_init_takes_the_awards_through_every_stage_after_the_decision(instance):
    """Two projects completed three fiscal years before today, with two follow-ups each (one
    stopped in its second), an asset each (one repurposed with approval); a plan change waits."""
    today = dt.datetime.now(JST).date()
    this_year = fiscal_year(today)
    ends = _query(instance, "SELECT a.state, p.project_end FROM plan_versions p "
                            "JOIN applications a ON a.id = p.application_id ORDER BY a.id")
    assert [(state, fiscal_year(dt.date.fromisoformat(str(end)))) for state, end in ends] == [
        ("granted", this_year), ("reported", this_year - 1), ("completed", this_year - 3),
        ("completed", this_year - 3)]
    reports = _query(instance, "SELECT fiscal_year, operating FROM followup_reports "
                               "ORDER BY application_id, fiscal_year")
    # each year's report is filed two months after the year ends (in April and May of this
    # fiscal year, the last year's is not filed yet)
    years = [y for y in (this_year - 2, this_year - 1)
             if fiscal_year_end(y) + dt.timedelta(days=60) < today]
    assert reports == [(y, "yes") for y in years] + [
        (y, "stopped" if n else "yes") for n, y in enumerate(years)]
    assert sorted(_query(instance, "SELECT state FROM assets")) == [("held",), ("repurposed",)]
    assert _query(instance, "SELECT state FROM asset_disposals") == [("approved",)]
    assert _query(instance, "SELECT state FROM change_requests") == [("pending",)]
    lines = {line["description"] for (saved,) in _query(instance, "SELECT lines FROM "
                                                       "completion_reports")
             for line in json.loads(saved)}  # each in its category's Japanese title
    assert "ICT機器・設備の実績" in lines and not any("_" in line for line in lines)


def test_init_again_adds_nothing_and_the_audit_chain_holds(instance):
    before = _counts(instance)
    again = flask(instance, "init")
    assert again.returncode == 0, again.stderr
    assert "its applications are already there" in again.stdout
    assert _counts(instance) == before
    verify = flask(instance, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert f"audit chain intact: {before['audit_events']} event(s)" in verify.stdout


JAPANESE = {"packet": ("審査資料", "受付番号"), "record": ("監査用記録", "受付番号")}
ENGLISH = {"packet": ("Review packet", "Reference"), "record": ("Audit record", "Reference")}


def _assert_document(path: Path, reference: str, labels: tuple[str, ...],
                     other: tuple[str, ...]) -> None:
    text = _text(path)
    assert reference in text
    assert all(label in text for label in labels), text[:500]
    assert not any(label in text for label in other), text[:500]


@pytest.mark.parametrize("kind", ["packet", "record"])
def test_documents_are_written_outside_any_request(instance, awarded, tmp_path, kind):
    output = tmp_path / f"{kind}.pdf"
    result = flask(instance, kind, awarded, "-o", str(output))
    assert result.returncode == 0, result.stderr
    assert f"wrote {output}" in result.stdout
    _assert_document(output, awarded, JAPANESE[kind], ENGLISH[kind][:1])


def test_documents_in_english_and_an_unknown_reference(instance, awarded, tmp_path):
    lines = [[kind, awarded, "-o", str(tmp_path / f"{kind}.pdf"), "--locale", "en"]
             for kind in ("packet", "record")]
    results = flask_lines(instance, [*lines, ["record", "G10-NONE-NONE", "-o", "r.pdf"]])
    for kind, (code, out, err) in zip(("packet", "record"), results, strict=False):
        assert code == 0 and "Traceback" not in err, err  # WeasyPrint may warn about CSS
        assert out.startswith(f"wrote {tmp_path / kind}.pdf")
        _assert_document(tmp_path / f"{kind}.pdf", awarded, ENGLISH[kind], JAPANESE[kind][:1])
    assert results[2] == (1, "", "Error: no submitted application 'G10-NONE-NONE'\n")


def test_every_command_has_help(tmp_path):
    lines = [["--help"], *[[*line[:2], "--help"] if line[0] in ("audit", "outbox")
                           else [line[0], "--help"] for line in ALL_COMMANDS]]
    results = flask_lines(tmp_path, lines)
    for line, (code, out, err) in zip(lines, results, strict=True):
        assert (code, err) == (0, ""), (line, err)
        assert out.startswith("Usage: flask grants"), (line, out)
    assert "--locale [ja|en]" in results[4][1] and "--locale [ja|en]" in results[5][1]


def test_a_database_never_initialized_gets_one_line_for_every_data_command(tmp_path):
    results = flask_lines(tmp_path, DATA_COMMANDS)
    for line, (code, out, err) in zip(DATA_COMMANDS, results, strict=True):
        assert code == 1, (line, out, err)
        assert err == f"Error: {NOT_INITIALIZED}\n", (line, err)
    # and as its own process, as the tester ran it
    packet = flask(tmp_path, "packet", "G10-0000-0000", "-o", str(tmp_path / "p.pdf"))
    assert packet.returncode == 1
    assert packet.stderr == f"Error: {NOT_INITIALIZED}\n"
    assert "Traceback" not in packet.stderr


def test_a_database_behind_the_migrations_gets_the_same_line(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'grants.sqlite'}")
    upgrade(engine, "277e627ed194")  # the second of the migrations
    engine.dispose()
    assert flask_lines(tmp_path, [["load"]]) == [(1, "", f"Error: {NOT_INITIALIZED}\n")]


def test_demo_data_is_refused_in_production(tmp_path):
    database = tmp_path / "production.sqlite"
    results = flask_lines(tmp_path, [["init"], ["demo"]], ENV="production",
                          SECRET_KEY="k" * 48, DATABASE_URL=f"sqlite:///{database}",
                          ALLOW_SQLITE="1", SITE_URL="https://grants.example.jp")
    refusal = "Error: demo accounts have published passwords: refused when GRANTS_ENV=production\n"
    assert results == [(1, "", refusal)] * 2
    if database.exists():  # refused before anything was written
        with sqlite3.connect(database) as connection:
            assert connection.execute("SELECT name FROM sqlite_master").fetchall() == []
