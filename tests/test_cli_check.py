"""`flask grants check` on hostile definition folders, run as an operator runs it: a subprocess on
a fresh instance. Every bad file is refused as file:line: field: message, with exit status 1,
and nothing hangs; a warning alone does not fail the check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from grants.config import PACKAGE_ROOT
from tests.conftest import ROOT

_OWN_SETTINGS = ("DATABASE_URL", "SECRET_KEY", "REDIS_URL", "TEST_DATABASE_URL")
PROGRAM = "ict-kizuna-2010"
LAUGHS = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 10)
)


def check(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("GRANTS_") and k not in _OWN_SETTINGS}
    env = {**clean, "GRANTS_INSTANCE_DIR": str(tmp_path / "instance"),
           "GRANTS_PROGRAMS_DIR": str(tmp_path / "programs"),
           "GRANTS_RUBRICS_DIR": str(tmp_path / "rubrics")}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "grants", "check"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def folders(tmp_path: Path) -> Path:
    """Copy the shipped rubrics and one program; return the programs folder."""
    shutil.copytree(PACKAGE_ROOT / "rubrics", tmp_path / "rubrics")
    programs = tmp_path / "programs"
    programs.mkdir()
    shutil.copy(PACKAGE_ROOT / "programs" / f"{PROGRAM}.yaml", programs)
    return programs


def test_check_refuses_each_hostile_file_with_its_line(tmp_path):
    programs = folders(tmp_path)
    (programs / "laughs.yaml").write_text(LAUGHS, encoding="utf-8")
    (programs / "deep.yaml").write_text("x: " + "[" * 50_000 + "]" * 50_000, encoding="utf-8")
    (programs / "digits.yaml").write_text("schema: 1\nfiscal_year: " + "9" * 5000 + "\n",
                                          encoding="utf-8")
    (programs / "huge.yml").write_bytes(b"# " + b"x" * (256 * 1024))
    (programs / "latin.yaml").write_bytes(b"schema: 1\nid: caf\xe9\n")
    (programs / "folder.yaml").mkdir()
    (programs / "gone.yaml").symlink_to(tmp_path / "missing.yaml")
    shutil.copy(programs / f"{PROGRAM}.yaml", programs / f"{PROGRAM}.yml")

    result = check(tmp_path)

    out = {line.split(": ", 1)[0].removeprefix(str(programs) + "/"): line.split(": ", 1)[1]
           for line in result.stdout.splitlines()
           if line.startswith(str(programs)) and ": ok (" not in line}
    assert out == {
        "deep.yaml:1": "x" + "[0]" * 39 + ": nested more than 40 levels deep",
        "digits.yaml:2": "fiscal_year: a number longer than 30 characters",
        "folder.yaml:1": "a directory: a definition must be a YAML file",
        "gone.yaml:1": "not a regular file (a broken link, a pipe?): a definition must be a "
                       "YAML file",
        "huge.yml:1": "the file is larger than 256 KiB: a definition is a short text",
        f"{PROGRAM}.yml:1": f"{PROGRAM}.yaml already defines '{PROGRAM}': keep one file",
        "laughs.yaml:2": "a1[0]: YAML aliases (*a0) are not allowed: write the value out",
        "latin.yaml:2": "the file is not valid UTF-8",
    }
    assert f"programs/{PROGRAM}.yaml: ok ({PROGRAM}, " in result.stdout
    assert result.stderr.strip().endswith("8 error(s) in 8 file(s)")
    assert result.returncode == 1


def test_check_reads_yml_and_warns_on_a_close_at_2359_without_failing(tmp_path):
    programs = folders(tmp_path)
    source = programs / f"{PROGRAM}.yaml"
    text = source.read_text(encoding="utf-8").replace('closes: "2027-03-31 17:00"',
                                                      'closes: "2027-03-31 23:59"')
    source.unlink()
    (programs / f"{PROGRAM}.yml").write_text(text, encoding="utf-8")
    line = text[: text.index('"2027-03-31 23:59"')].count("\n") + 1

    result = check(tmp_path)

    assert result.returncode == 0, result.stderr
    assert f"programs/{PROGRAM}.yml: ok ({PROGRAM}, " in result.stdout
    assert (f"{programs}/{PROGRAM}.yml:{line}: call.closes: warning: `closes` is exclusive, so "
            "23:59 refuses submissions from 23:59:00") in result.stdout
