"""Hostile or careless definition files are refused fast, each with file:line and a message:
never a traceback, never a hang. Also the checks a valid-looking file can still fail:
`show_when` cycles, rubric weights that do not add up to 100, a call closing at 23:59.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from grants.config import PACKAGE_ROOT
from grants.domain.definitions import load_program_file, parse_program
from grants.domain.errors import DefinitionErrors
from grants.domain.program_references import program_warnings
from grants.domain.rubrics import parse_rubric
from tests.domain.conftest import program_yaml

FILE = "programs/test.yaml"
ROOT = Path(__file__).resolve().parents[2]

# Nine lists of nine aliases, nine deep: a few hundred bytes that expand to 9**9 items.
LAUGHS = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 10)
)

FORM = """\
applicant_types: [local_government]
steps:
  - id: main
    title: {ja: 入力, en: Input}
    fields:
      - id: title
        kind: text
        label: {ja: 名称, en: Title}
      - id: kind_of_work
        kind: text
        label: {ja: 種別, en: Kind}
        show_when: {field: %s, equals: a}
      - id: detail
        kind: text
        label: {ja: 詳細, en: Detail}
        show_when: {any: [{field: %s, equals: b}]}
"""
VALID = FORM % ("title", "kind_of_work")


@contextmanager
def quickly(seconds: float = 2.0) -> Iterator[None]:
    started = time.monotonic()
    yield
    assert time.monotonic() - started < seconds


def errors_of(text: str) -> list[str]:
    with quickly(), pytest.raises(DefinitionErrors) as caught:
        parse_program(text, FILE)
    return [str(e) for e in caught.value.errors]


# --- YAML that would hang or crash the loader ----------------------------------------------


def test_billion_laughs_is_refused_at_its_first_alias():
    assert errors_of(LAUGHS) == [
        f"{FILE}:2: a1[0]: YAML aliases (*a0) are not allowed: write the value out"
    ]


def test_an_alias_inside_a_program_is_refused_with_its_field():
    text = program_yaml(VALID).replace(
        "label: {ja: 詳細, en: Detail}", "label: *label"
    ).replace("label: {ja: 種別, en: Kind}", "label: &label {ja: 種別, en: Kind}")

    assert errors_of(text) == [
        f"{FILE}:25: steps[0].fields[2].label: YAML aliases (*label) are not allowed: "
        "write the value out"
    ]


def test_deep_nesting_is_refused_without_a_recursion_error():
    assert errors_of("x: " + "[" * 100_000 + "]" * 100_000) == [
        f"{FILE}:1: x{'[0]' * 39}: nested more than 40 levels deep"
    ]


def test_deep_nesting_in_complex_keys_is_refused_too():
    assert errors_of("? " * 5_000 + "x") == [f"{FILE}:1: nested more than 40 levels deep"]


def test_a_five_thousand_digit_number_is_refused_with_its_field():
    text = program_yaml(VALID).replace(
        "fiscal_year: 2010", "fiscal_year: " + "9" * 5000
    )

    assert errors_of(text) == [f"{FILE}:5: fiscal_year: a number longer than 30 characters"]


def test_a_five_thousand_digit_share_is_a_schema_error_not_a_traceback():
    quota = '  quotas:\n    - track: general\n      share: "1' + "0" * 5000 + '/3"\n'
    text = program_yaml(VALID).replace(
        '  closes: "2011-01-14 17:00"\n', '  closes: "2011-01-14 17:00"\n' + quota
    )

    share = [m for m in errors_of(text) if "share" in m]
    assert share[0].startswith(
        f'{FILE}:13: call.quotas[0].share: expected a share written as a fraction like "1/2" '
        '(got "100000'
    )
    assert len(share[0]) < 250  # the echoed value is cut short


def test_text_over_256_kib_is_refused_before_parsing():
    assert errors_of("# " + "x" * (256 * 1024)) == [
        f"{FILE}:1: the file is larger than 256 KiB: a definition is a short text"
    ]


# --- files that are not definition files ---------------------------------------------------


def load_errors(path: Path) -> list[str]:
    with quickly(), pytest.raises(DefinitionErrors) as caught:
        load_program_file(path)
    return [str(e) for e in caught.value.errors]


def test_a_directory_named_yaml_is_refused(tmp_path):
    path = tmp_path / "dir.yaml"
    path.mkdir()

    assert load_errors(path) == [f"{path}:1: a directory: a definition must be a YAML file"]


def test_a_broken_link_and_a_pipe_are_refused_without_blocking(tmp_path):
    link, pipe = tmp_path / "link.yaml", tmp_path / "pipe.yaml"
    link.symlink_to(tmp_path / "missing.yaml")
    os.mkfifo(pipe)

    for path in (link, pipe):
        assert load_errors(path) == [
            f"{path}:1: not a regular file (a broken link, a pipe?): a definition must be a "
            "YAML file"
        ]


def test_a_file_over_256_kib_is_refused_unread(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"# " + b"x" * (256 * 1024))

    assert load_errors(path) == [
        f"{path}:1: the file is larger than 256 KiB: a definition is a short text"
    ]


def test_bytes_that_are_not_utf8_are_refused_with_their_line(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"schema: 1\nid: caf\xe9\n")

    assert load_errors(path) == [f"{path}:2: the file is not valid UTF-8"]


def test_a_yml_file_loads_with_its_stem_as_id(tmp_path):
    path = tmp_path / "test.yml"
    path.write_text(program_yaml(VALID), encoding="utf-8")

    assert load_program_file(path).id == "test"


# --- show_when that cannot be decided ------------------------------------------------------


def test_show_when_on_its_own_field_is_refused():
    assert errors_of(program_yaml(FORM % ("title", "detail"))) == [
        f"{FILE}:26: steps[0].fields[2].show_when.any[0].field: "
        "field 'detail' cannot be shown depending on its own answer"
    ]


def test_show_when_cycle_is_refused_once_with_its_path():
    assert errors_of(program_yaml(FORM % ("detail", "kind_of_work"))) == [
        f"{FILE}:26: steps[0].fields[2].show_when.any[0].field: "
        "show_when forms a cycle: kind_of_work → detail → kind_of_work "
        "(each field waits on the next to be shown)"
    ]


def test_show_when_on_an_earlier_field_is_fine(parse):
    program = parse(VALID)

    assert [f.id for f in program.all_fields()] == ["title", "kind_of_work", "detail"]


def test_a_long_chain_of_show_whens_is_checked_without_recursion():
    fields = "".join(  # longer than Python's recursion limit
        f"      - id: f{n}\n        kind: text\n        label: {{ja: 項目, en: Item}}\n"
        f"        show_when: {{field: f{(n + 1) % 1500}, equals: x}}\n"
        for n in range(1500)
    )
    text = program_yaml(
        "applicant_types: [local_government]\nsteps:\n  - id: main\n"
        f"    title: {{ja: 入力, en: Input}}\n    fields:\n{fields}"
    )

    with pytest.raises(DefinitionErrors) as caught:  # not timed: 1500 fields take a while
        parse_program(text, FILE)
    messages = [str(e) for e in caught.value.errors]
    assert len(messages) == 1
    assert "show_when forms a cycle: f0 → f1 → f2 → " in messages[0]
    assert messages[0].endswith("f1499 → f0 (each field waits on the next to be shown)")


# --- warnings: valid, but likely not meant -------------------------------------------------


def test_a_call_closing_at_2359_is_warned_about():
    text = program_yaml(VALID).replace('"2011-01-14 17:00"', '"2011-01-14 23:59"')

    parse_program(text, FILE)  # valid: only a warning
    assert [str(w) for w in program_warnings(text, FILE)] == [
        f"{FILE}:10: call.closes: warning: `closes` is exclusive, so 23:59 refuses "
        "submissions from 23:59:00; write the next day's 00:00 to keep the whole day"
    ]
    assert program_warnings(text.replace("23:59", "17:00"), FILE) == []


def test_the_shipped_programs_have_no_warnings():
    for path in sorted((PACKAGE_ROOT / "programs").glob("*.yaml")):
        assert program_warnings(path.read_text(encoding="utf-8"), path.name) == []


# --- rubric weights --------------------------------------------------------------------------


RUBRIC = """\
schema: 1
id: small
title: {ja: 審査基準, en: Rubric}
source: {ja: 出典, en: Source}
scale:
  levels:
    - {score: 0, label: {ja: 不十分, en: Poor}, descriptor: {ja: なし, en: None}}
    - {score: 1, label: {ja: 十分, en: Good}, descriptor: {ja: あり, en: Some}}
unrated: exclude
disagreement_threshold: 20
sections:
  - id: main
    title: {ja: 主, en: Main}
    criteria:
      - {id: one, title: {ja: 一, en: One}, question: {ja: 問, en: Q}, guidance: {ja: 着眼点, en: G}, weight: 60}
      - {id: two, title: {ja: 二, en: Two}, question: {ja: 問, en: Q}, guidance: {ja: 着眼点, en: G}, weight: %s}
"""  # noqa: E501


def test_rubric_weights_must_add_up_to_100():
    assert [c.weight for c in parse_rubric(RUBRIC % 40, "rubrics/small.yaml").criteria()] == [
        60, 40]
    with pytest.raises(DefinitionErrors) as caught:
        parse_rubric(RUBRIC % 30, "rubrics/small.yaml")

    assert [str(e) for e in caught.value.errors] == [
        "rubrics/small.yaml:11: sections: the criteria's weights must add up to 100 "
        "(they add up to 90)"
    ]


def test_a_bad_weight_is_reported_alone_not_also_as_a_wrong_sum():
    with pytest.raises(DefinitionErrors) as caught:
        parse_rubric(RUBRIC % '"40"', "rubrics/small.yaml")

    assert [e.field for e in caught.value.errors] == ["sections[0].criteria[1].weight"]
