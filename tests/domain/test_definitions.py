"""Loading program YAML: the model, and every kind of bad file reported with file, line, field."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from grants.domain.definitions import definition_sha256, load_program_file, parse_program
from grants.domain.errors import DefinitionError, DefinitionErrors

FILE = "programs/test.yaml"
BUDGET_FIELD = """\
      - id: budget_lines
        kind: budget_lines
        label: {ja: 経費, en: Budget}
"""
CATEGORIES = """\
budget:
  categories:
    - id: equipment
      title: {ja: 機器, en: equipment}
"""


@pytest.fixture
def body(program_text):
    """Build a small valid program file; `fields`, `rules` and `extra` add to it."""

    def _body(fields: str = "", rules: str = "", extra: str = "") -> str:
        return program_text(
            f"""\
applicant_types: [local_government]
{extra}steps:
  - id: main
    title: {{ja: 入力, en: Input}}
    fields:
      - id: title
        kind: text
        label: {{ja: 名称, en: Title}}
{fields}rules:
  - id: first
    kind: required_answer
    field: title
    equals: ok
{rules}"""
        )

    return _body


def _errors(text: str) -> list[DefinitionError]:
    with pytest.raises(DefinitionErrors) as caught:
        parse_program(text, FILE)
    return caught.value.errors


def _line_of(text: str, marker: str, occurrence: int = 1) -> int:
    """Return the 1-based line of the `occurrence`-th line containing `marker`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    return hits[occurrence - 1]


# --- a good file ---------------------------------------------------------------------------------


def test_parse_program_valid_file_builds_program(kizuna):
    assert kizuna.id == "test"
    assert kizuna.call.opens == datetime(2010, 11, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert kizuna.call.closes.utcoffset().total_seconds() == 9 * 3600
    assert [f.id for f in kizuna.all_fields()][:2] == ["track", "school_count"]
    assert kizuna.field("school_count").kind == "number"
    assert kizuna.partners_field.id == "partners"
    assert kizuna.budget_field.id == "budget_lines"
    assert [c.value for c in kizuna.choices(kizuna.field("track"))] == ["general", "education"]


def test_parse_program_defaults_are_filled(body):
    program = parse_program(body(), FILE)
    field = program.field("title")

    assert (field.required, field.max_length, field.help, field.show_when) == (
        False,
        200,
        None,
        None,
    )
    assert program.budget.award_rounding_yen == 1000
    assert program.rules[0].severity == "error"


def test_parse_program_rule_without_id_gets_kind_and_index(body):
    text = body(rules="  - kind: required_answer\n    field: title\n    equals: x\n")

    program = parse_program(text, FILE)

    assert [r.id for r in program.rules] == ["first", "required_answer-1"]


def test_program_is_immutable(kizuna):
    with pytest.raises(ValidationError):
        kizuna.id = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        kizuna.title.ja = "変更"


def test_program_field_unknown_id_raises_key_error(kizuna):
    with pytest.raises(KeyError):
        kizuna.field("nope")


def test_definition_sha256_hashes_utf8_bytes():
    text = "id: テスト\n"

    assert definition_sha256(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_load_program_file_id_must_equal_file_stem(tmp_path, body):
    path = tmp_path / "other-name.yaml"
    path.write_text(body(), encoding="utf-8")

    with pytest.raises(DefinitionErrors) as caught:
        load_program_file(path)

    [error] = caught.value.errors
    assert (error.file, error.line, error.field) == (str(path), 2, "id")
    assert "expected 'other-name'" in error.message


def test_load_program_file_matching_stem_loads(tmp_path, body):
    path = tmp_path / "test.yaml"
    path.write_text(body(), encoding="utf-8")

    assert load_program_file(path).id == "test"


def test_load_program_file_not_utf8_names_line(tmp_path, body):
    path = tmp_path / "test.yaml"
    path.write_bytes(body().encode("utf-8") + b"# \xff\n")

    with pytest.raises(DefinitionErrors, match="not valid UTF-8") as caught:
        load_program_file(path)

    assert caught.value.errors[0].line == body().count("\n") + 1


# --- bad files: each names file, line and field -----------------------------------------------


def test_parse_program_typo_key_names_line_and_field(body):
    text = body(fields=_field("other", "text", "requird: true"))

    [error] = _errors(text)

    assert (error.file, error.line) == (FILE, _line_of(text, "requird"))
    assert error.field == "steps[0].fields[1].requird"
    assert error.message == "unknown key 'requird' (did you mean 'required'?)"


def test_parse_program_unknown_field_kind_matches_spec_format(body):
    text = body(fields=_field("other", "txt"))

    [error] = _errors(text)

    assert str(error).startswith(
        f"{FILE}:{_line_of(text, 'kind: txt')}: steps[0].fields[1].kind: "
        "unknown field kind 'txt' (expected one of text, long_text, number"
    )


def test_parse_program_key_of_other_kind_says_so(body):
    text = body(fields=_field("other", "number", "max_length: 3"))

    [error] = _errors(text)

    assert error.field == "steps[0].fields[1].max_length"
    assert error.message == "key 'max_length' is not allowed for kind 'number'"


def test_parse_program_amount_as_text_is_wrong_type(body):
    rules = '  - kind: amount_cap\n    cases:\n      - amount_yen: "100万"\n'
    text = body(rules=rules, fields=BUDGET_FIELD, extra=CATEGORIES)

    [error] = _errors(text)

    assert error.line == _line_of(text, "100万")
    assert error.field == "rules[1].cases[0].amount_yen"
    assert "whole yen" in error.message
    assert '(got "100万")' in error.message


def test_parse_program_unknown_rule_kind_names_kind_line(body):
    text = body(rules="  - id: magic\n    kind: magic_rule\n")

    [error] = _errors(text)

    assert (error.line, error.field) == (_line_of(text, "magic_rule"), "rules[1].kind")
    assert error.message.startswith("unknown rule kind 'magic_rule' (expected one of ")


def test_parse_program_unknown_field_reference_in_condition(body):
    rules = "  - kind: required_answer\n    field: title\n    equals: x\n"
    text = body(rules=rules + "    when: {field: titel, equals: x}\n")

    [error] = _errors(text)

    assert (error.line, error.field) == (_line_of(text, "titel"), "rules[1].when.field")
    assert error.message == "unknown field 'titel' (did you mean 'title'?)"


def test_parse_program_duplicate_key_names_second_occurrence(body):
    text = body().replace("kind: grant\n", "kind: grant\nkind: contract\n")

    [error] = _errors(text)

    assert (error.line, error.field) == (_line_of(text, "kind: contract"), "kind")
    assert error.message == f"duplicate key 'kind' (first at line {_line_of(text, 'kind: grant')})"


def test_parse_program_yaml_syntax_error_gives_line(body):
    text = body().replace("  - id: main\n", "  - id: main\n   bad: [indent\n")

    [error] = _errors(text)

    assert error.message.startswith("YAML syntax error:")
    assert error.line == _line_of(text, "bad: [indent")


def test_parse_program_reports_every_error_at_once(body):
    text = body(
        fields="      - id: title\n        kind: yes_no\n        label: {ja: a}\n",
        rules="  - kind: required_attachment\n    field: title\n",
    ).replace('closes: "2011-01-14 17:00"', 'closes: "2010-01-14 17:00"')

    errors = _errors(text)

    assert {(e.field, e.line) for e in errors} == {
        ("call.closes", _line_of(text, "closes")),
        ("steps[0].fields[1].id", _line_of(text, "- id: title", 2)),
        ("steps[0].fields[1].label.en", _line_of(text, "label: {ja: a}")),
        ("rules[1].field", _line_of(text, "field: title", 2)),
    }


def _field(field_id: str, kind: str, *extra: str) -> str:
    lines = [f"      - id: {field_id}", f"        kind: {kind}", "        label: {ja: a, en: b}"]
    return "\n".join([*lines, *(f"        {line}" for line in extra)]) + "\n"


CROSS_REFERENCE_CASES = [
    pytest.param(
        BUDGET_FIELD,
        "  - kind: amount_cap\n    cases:\n      - per_unit_yen: 5\n        unit_field: title\n"
        "        unit_label: {ja: 校, en: school}\n",
        CATEGORIES,
        "rules[1].cases[0].unit_field",
        "field 'title' is a text field, not number",
        id="unit_field-not-number",
    ),
    pytest.param(
        "",
        "  - kind: required_attachment\n    field: title\n",
        "",
        "rules[1].field",
        "field 'title' is a text field, not file",
        id="attachment-not-file",
    ),
    pytest.param(
        BUDGET_FIELD,
        "  - kind: forbidden_acquisition\n    categories: [equipmnt]\n"
        "    acquisition_types: [purchase]\n",
        CATEGORIES,
        "rules[1].categories[0]",
        "unknown budget category 'equipmnt'",
        id="unknown-category",
    ),
    pytest.param(
        _field("track", "choice", "choices_from: tracks"),
        "",
        "",
        "steps[0].fields[1].choices_from",
        "needs a non-empty `tracks` list",
        id="choices-from-tracks-without-tracks",
    ),
    pytest.param(
        _field("p1", "partners") + _field("p2", "partners"),
        "",
        "",
        "steps[0].fields[2].kind",
        "only one partners field is allowed",
        id="two-partners-fields",
    ),
    pytest.param(
        BUDGET_FIELD,
        "",
        "",
        "steps[0].fields[1].kind",
        "needs at least one budget category",
        id="budget-lines-without-categories",
    ),
    pytest.param(
        "",
        "  - kind: min_local_governments\n    min: 2\n",
        "",
        "rules[1].kind",
        "a rule of kind min_local_governments needs a partners field",
        id="min-local-governments-without-partners",
    ),
    pytest.param(
        "",
        "  - id: first\n    kind: required_answer\n    field: title\n    equals: x\n",
        "",
        "rules[1].id",
        'duplicate rule "first"',
        id="duplicate-rule-id",
    ),
    pytest.param(
        _field("title", "text"),
        "",
        "",
        "steps[0].fields[1].id",
        'duplicate field "title"',
        id="duplicate-field-id",
    ),
    pytest.param(
        _field("flag", "yes_no"),
        "  - kind: required_answer\n    field: flag\n    equals: yes_please\n",
        "",
        "rules[1].equals",
        "can never match field 'flag'",
        id="equals-text-on-yes-no",
    ),
    pytest.param(
        _field("pick", "choice", "choices: [{value: 'yes', label: {ja: a, en: b}}]"),
        "  - kind: required_answer\n    field: pick\n    equals: yes\n",
        "",
        "rules[1].equals",
        'quote a text such as "yes"',
        id="unquoted-yes-becomes-bool",
    ),
]


@pytest.mark.parametrize(("fields", "rules", "extra", "field", "message"), CROSS_REFERENCE_CASES)
def test_parse_program_cross_reference_error_names_field(
    body, fields, rules, extra, field, message
):
    text = body(fields=fields, rules=rules, extra=extra)

    errors = _errors(text)

    assert [(e.field, message in e.message) for e in errors] == [(field, True)], errors


def test_parse_program_quota_for_unknown_track(body):
    text = body().replace(
        '  closes: "2011-01-14 17:00"\n',
        '  closes: "2011-01-14 17:00"\n  quotas:\n    - track: education\n      share: "1/3"\n',
    )

    [error] = _errors(text)

    assert (error.field, error.message) == ("call.quotas[0].track", "unknown track 'education'")


def test_parse_program_share_as_float_is_refused(body):
    text = body().replace(
        '  closes: "2011-01-14 17:00"\n',
        '  closes: "2011-01-14 17:00"\n  quotas:\n    - track: x\n      share: 0.33\n',
    )

    messages = [e.message for e in _errors(text)]

    assert 'expected a share written as a fraction like "1/2" (got 0.33)' in messages


def test_parse_program_unreachable_cap_case_is_error(body):
    rules = (
        "  - kind: amount_cap\n    cases:\n      - amount_yen: 1\n"
        "      - amount_yen: 2\n        when: {applicant_type: [npo]}\n"
    )
    text = body(rules=rules, fields=BUDGET_FIELD, extra=CATEGORIES)

    [error] = _errors(text)

    assert error.field == "rules[1].cases[1]"
    assert "never used" in error.message


def test_parse_program_tracks_without_track_choice_is_error(body):
    extra = "tracks:\n  - id: general\n    title: {ja: a, en: b}\n    description: {ja: a, en: b}\n"

    [error] = _errors(body(extra=extra))

    assert (error.field, error.line) == ("tracks", _line_of(body(extra=extra), "tracks:"))


def test_parse_program_unsafe_yaml_tag_is_refused_not_run(tmp_path, body):
    marker = tmp_path / "ran"
    text = body() + f'extra: !!python/object/apply:os.system ["touch {marker}"]\n'

    [error] = _errors(text)

    assert error.message.startswith("YAML syntax error:")
    assert not marker.exists()


def test_parse_program_empty_file_is_error():
    [error] = _errors("# nothing here\n")

    assert (error.line, error.message) == (1, "the file is empty")


def test_parse_program_not_a_mapping_is_error():
    [error] = _errors("- just\n- a list\n")

    assert (error.line, error.field) == (1, "")
    assert error.message.startswith("expected a mapping")


def test_definition_errors_str_lists_every_error_sorted_by_line():
    errors = DefinitionErrors(
        [DefinitionError("b.yaml", 3, "x", "late"), DefinitionError("b.yaml", 1, "", "early")]
    )

    assert str(errors) == "b.yaml:1: early\nb.yaml:3: x: late"


# --- limits: file types and rows --------------------------------------------------------------


def test_file_field_default_types_are_pdf_office_and_photos(body):
    program = parse_program(body(fields=_field("plan", "file")), FILE)

    assert program.field("plan").file_types == (
        "pdf", "docx", "doc", "xlsx", "xls", "pptx", "ppt", "jpeg", "png",
    )  # fmt: skip


def test_file_field_shorthands_spelled_out_once_in_order(body):
    text = body(fields=_field("plan", "file", "accept: [xlsx, office, image, png]"))

    program = parse_program(text, FILE)

    assert program.field("plan").file_types == (
        "xlsx", "docx", "doc", "xls", "pptx", "ppt", "jpeg", "png",
    )  # fmt: skip


@pytest.mark.parametrize("value", ["html", "exe", "svg", "docm", "jpg"])
def test_file_field_unknown_type_names_line_and_expected_types(body, value):
    text = body(fields=_field("plan", "file", f"accept: [pdf, {value}]"))

    [error] = _errors(text)

    assert (error.line, error.field) == (_line_of(text, "accept:"), "steps[0].fields[1].accept[1]")
    assert error.message.startswith("must be one of 'pdf', 'docx', 'doc'")
    assert error.message.endswith(f'(got "{value}")')


def test_file_field_empty_accept_list_is_error(body):
    [error] = _errors(body(fields=_field("plan", "file", "accept: []")))

    assert error.field == "steps[0].fields[1].accept"
    assert error.message == "needs at least 1 item(s)"


def test_row_limits_default_to_fifty_partners_and_a_hundred_budget_lines(body):
    fields = _field("partners", "partners") + BUDGET_FIELD
    program = parse_program(body(fields=fields, extra=CATEGORIES), FILE)

    assert (program.partners_field.max_rows, program.budget_field.max_rows) == (50, 100)


def test_row_limits_set_per_field(body):
    budget = BUDGET_FIELD + "        max_rows: 500\n"
    fields = _field("partners", "partners", "max_rows: 8") + budget
    program = parse_program(body(fields=fields, extra=CATEGORIES), FILE)

    assert (program.partners_field.max_rows, program.budget_field.max_rows) == (8, 500)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "must be at least 1 (got 0)"),
        ("501", "must be at most 500 (got 501)"),
        ('"50"', 'expected a whole number (got "50")'),
        ("10000", "must be at most 500 (got 10000)"),
    ],
)
def test_row_limit_out_of_range_names_line_and_bound(body, value, message):
    text = body(fields=_field("partners", "partners", f"max_rows: {value}"))

    [error] = _errors(text)

    assert (error.line, error.field) == (_line_of(text, "max_rows"), "steps[0].fields[1].max_rows")
    assert error.message == message


def test_row_limit_is_not_a_key_of_other_kinds(body):
    [error] = _errors(body(fields=_field("other", "text", "max_rows: 5")))

    assert error.message == "key 'max_rows' is not allowed for kind 'text'"
