"""`flask grants check` on a program's `post_award` section (run as a subprocess on a fresh
instance): a bad value and a target field that is not in the form are each refused as
file:line: field: message, with exit status 1."""

from __future__ import annotations

from tests.test_cli_check import PROGRAM, check, folders

SHIPPED = """\
  jobs_required: true
  jobs_target_field: jobs_target
  kpi_fields: [project_goal, human_resources_plan]
"""
BROKEN = """\
  jobs_required: true
  report_due_days: 0
  jobs_target_field: jobs_targt
  kpi_fields: [project_goal, project_plan]
"""


def test_check_refuses_bad_post_award_settings_with_file_line_and_field(tmp_path):
    programs = folders(tmp_path)
    source = programs / f"{PROGRAM}.yaml"
    text = source.read_text(encoding="utf-8")
    assert SHIPPED in text
    source.write_text(text.replace(SHIPPED, BROKEN), encoding="utf-8")
    first = text[: text.index(SHIPPED)].count("\n") + 1  # the line of `jobs_required`

    result = check(tmp_path)

    assert result.returncode == 1
    prefix = f"{programs}/{PROGRAM}.yaml:"
    assert [line.removeprefix(prefix) for line in result.stdout.splitlines()
            if line.startswith(prefix)] == [
        f"{first + 1}: post_award.report_due_days: must be at least 1 (got 0)",
        f"{first + 2}: post_award.jobs_target_field: unknown field 'jobs_targt' (did you mean "
        "'jobs_target'?)",
        f"{first + 3}: post_award.kpi_fields[1]: field 'project_plan' is a file field: a KPI "
        "target is an answer shown as text, not rows or files",
    ]
    assert result.stderr.strip().endswith("3 error(s) in 1 file(s)")
