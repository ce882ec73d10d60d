"""`flask grants check` refuses a rule "in principle" that does not say what the applicant's
justification for an exception must explain (run as a subprocess on a fresh instance)."""

from __future__ import annotations

from tests.test_cli_check import PROGRAM, check, folders


def test_check_refuses_a_principle_rule_without_its_justification_prompt(tmp_path):
    programs = folders(tmp_path)
    source = programs / f"{PROGRAM}.yaml"
    text = source.read_text(encoding="utf-8")
    start = text.index("    justification:\n", text.index("severity: principle"))
    end = text.index("\n", text.index("      en: ", start)) + 1
    source.write_text(text[:start] + text[end:], encoding="utf-8")
    line = text[: text.index("id: equipment-under-half")].count("\n") + 1

    result = check(tmp_path)

    assert result.returncode == 1
    [refusal] = [out for out in result.stdout.splitlines()
                 if out.startswith(f"{programs}/{PROGRAM}.yaml:{line}: rules[")]
    assert refusal.endswith(': severity "principle" needs `justification`: what the reason asks')
    assert result.stderr.strip().endswith("1 error(s) in 1 file(s)")


def test_check_accepts_the_shipped_principle_rule(tmp_path):
    folders(tmp_path)

    result = check(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"programs/{PROGRAM}.yaml: ok ({PROGRAM}, " in result.stdout
