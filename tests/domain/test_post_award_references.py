"""A program's `post_award` targets must name fields of its form: the jobs target a number
field, each KPI target an answer that reads as text (never rows or files)."""

from __future__ import annotations

import pytest

from grants.domain.definitions import parse_program
from grants.domain.errors import DefinitionErrors
from tests.domain.conftest import KIZUNA, program_yaml

TARGETS = KIZUNA.replace("""\
      - id: budget_lines
""", """\
      - id: jobs
        kind: number
        label: {ja: 雇用創出数の目標, en: Jobs target}
      - id: goal
        kind: long_text
        label: {ja: 目標, en: Goal}
      - id: plan_file
        kind: file
        label: {ja: 計画書, en: Plan}
      - id: budget_lines
""")


def _problems(post_award: str) -> list[str]:
    text = program_yaml(TARGETS + post_award)
    with pytest.raises(DefinitionErrors) as caught:
        parse_program(text, "programs/test.yaml")
    return [f"{error.field}: {error.message}" for error in caught.value.errors]


def test_targets_naming_fields_of_the_form_load():
    program = parse_program(program_yaml(TARGETS + """\
post_award:
  jobs_required: true
  jobs_target_field: jobs
  kpi_fields: [goal, track, school_count]
"""), "programs/test.yaml")

    assert program.post_award.jobs_target_field == "jobs"
    assert program.post_award.kpi_fields == ("goal", "track", "school_count")


def test_unknown_and_unfit_target_fields_are_refused():
    assert _problems("""\
post_award:
  jobs_target_field: goal
  kpi_fields: [gaol, plan_file, budget_lines, partners]
""") == [
        "post_award.jobs_target_field: field 'goal' is a long_text field, not number",
        "post_award.kpi_fields[0]: unknown field 'gaol' (did you mean 'goal'?)",
        "post_award.kpi_fields[1]: field 'plan_file' is a file field: a KPI target is an answer "
        "shown as text, not rows or files",
        "post_award.kpi_fields[2]: field 'budget_lines' is a budget_lines field: a KPI target "
        "is an answer shown as text, not rows or files",
        "post_award.kpi_fields[3]: field 'partners' is a partners field: a KPI target is an "
        "answer shown as text, not rows or files",
    ]


def test_an_unknown_jobs_target_field_is_refused():
    assert _problems("post_award:\n  jobs_target_field: jobz\n") == [
        "post_award.jobs_target_field: unknown field 'jobz' (did you mean 'jobs'?)"]
