"""`flask grants check` on ユビキタスタウン's consortium (連携主体) rule, run as an operator runs it
(a subprocess on a fresh instance): the shipped file passes; a malformed rule is refused as
file:line: field: message."""

from __future__ import annotations

import shutil

import pytest

from grants.config import PACKAGE_ROOT
from tests.test_cli_check import check

PROGRAM = "ubiquitous-town-2009"
RULE = "    kind: consortium_local_governments\n    min: 1\n"


def _folders(tmp_path, text=None):
    shutil.copytree(PACKAGE_ROOT / "rubrics", tmp_path / "rubrics")
    programs = tmp_path / "programs"
    programs.mkdir()
    source = (PACKAGE_ROOT / "programs" / f"{PROGRAM}.yaml").read_text(encoding="utf-8")
    (programs / f"{PROGRAM}.yaml").write_text(text(source) if text else source, encoding="utf-8")
    return programs, source


def test_check_accepts_the_shipped_consortium_rule(tmp_path):
    _folders(tmp_path)

    result = check(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"programs/{PROGRAM}.yaml: ok ({PROGRAM}, " in result.stdout


MIN_LINE, RULE_LINE = "    min: 1", "  - id: consortium-includes-a-local-government"


@pytest.mark.parametrize(("new", "at", "message"), [
    ("    kind: consortium_local_governments\n    min: 0\n", MIN_LINE,
     "must be at least 1 (got 0)"),
    ("    kind: consortium_local_governments\n    min: \"one\"\n", MIN_LINE,
     'expected a whole number (got "one")'),
    # A missing key is reported at the line of the mapping that lacks it.
    ("    kind: consortium_local_governments\n", RULE_LINE, "required key is missing"),
])
def test_check_refuses_a_malformed_consortium_rule(tmp_path, new, at, message):
    programs, source = _folders(tmp_path, lambda text: text.replace(RULE, new))
    line = source[: source.index(at, source.index(RULE_LINE))].count("\n") + 1

    result = check(tmp_path)

    assert result.returncode == 1
    assert f"{programs}/{PROGRAM}.yaml:{line}: rules[0].min: {message}" in (
        result.stdout.splitlines())


def test_check_refuses_a_consortium_rule_without_a_consortium_field(tmp_path):
    programs, source = _folders(
        tmp_path, lambda text: text.replace("kind: consortium\n", "kind: partners\n"))
    rule_line = source[: source.index(RULE)].count("\n") + 1

    result = check(tmp_path)

    assert result.returncode == 1
    out = result.stdout.splitlines()
    assert (f"{programs}/{PROGRAM}.yaml:{rule_line}: rules[0].kind: a rule of kind "
            "consortium_local_governments needs a consortium field") in out
    assert any(line.startswith(f"{programs}/{PROGRAM}.yaml:") and line.endswith(
        "consortium: a `consortium` section needs a field of kind consortium") for line in out)
