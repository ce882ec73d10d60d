"""Conditions: each form, nesting, and how answers of hidden fields are dropped."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from grants.domain.conditions import Condition, holds, visibility

FIELDS = """\
applicant_types: [local_government, npo]
steps:
  - id: main
    title: {ja: 入力, en: Input}
    fields:
      - id: count
        kind: number
        label: {ja: 数, en: Count}
      - id: flag
        kind: yes_no
        label: {ja: フラグ, en: Flag}
      - id: topics
        kind: multi_choice
        label: {ja: 分野, en: Topics}
        choices:
          - {value: health, label: {ja: 医療, en: Health}}
          - {value: school, label: {ja: 教育, en: School}}
      - id: detail
        kind: text
        label: {ja: 詳細, en: Detail}
        show_when: {field: flag, equals: true}
      - id: more
        kind: text
        label: {ja: 追加, en: More}
        show_when: {field: detail, equals: "yes"}
      - id: doc
        kind: file
        label: {ja: 書類, en: Document}
      - id: partners
        kind: partners
        label: {ja: 連携, en: Partners}
"""


@pytest.fixture
def program(parse):
    return parse(FIELDS)


def _cond(raw):
    return Condition.model_validate(raw)


def test_equals_true_does_not_match_one(program, application):
    assert not holds(_cond({"field": "count", "equals": True}), application(count=1), program)
    assert not holds(_cond({"field": "flag", "equals": 1}), application(flag=True), program)
    assert holds(_cond({"field": "flag", "equals": True}), application(flag=True), program)


def test_equals_unanswered_field_is_false(program, application):
    assert not holds(_cond({"field": "flag", "equals": False}), application(), program)


def test_equals_multi_choice_matches_a_chosen_value(program, application):
    data = application(topics=["health", "school"])

    assert holds(_cond({"field": "topics", "equals": "school"}), data, program)
    assert not holds(_cond({"field": "topics", "equals": "farm"}), data, program)


def test_in_matches_any_listed_value(program, application):
    condition = _cond({"field": "count", "in": [2, 3]})

    assert holds(condition, application(count=3), program)
    assert not holds(condition, application(count=4), program)


@pytest.mark.parametrize(("count", "expected"), [(1, False), (2, True), (None, False)])
def test_at_least_number_boundary(program, application, count, expected):
    assert holds(_cond({"field": "count", "at_least": 2}), application(count=count), program) is (
        expected
    )


def test_at_least_counts_partners_and_files(program, application, partner):
    data = application(
        partners=[partner("012025"), partner(None, kind="npo")], attachments={"doc": 1}
    )

    assert holds(_cond({"field": "partners", "at_least": 2}), data, program)
    assert holds(_cond({"field": "doc", "at_least": 1}), data, program)
    assert not holds(_cond({"field": "doc", "at_least": 2}), data, program)


def test_applicant_type_matches_lead_type(program, application):
    condition = _cond({"applicant_type": ["npo"]})

    assert holds(condition, application(applicant_type="npo", lead=None), program)
    assert not holds(condition, application(applicant_type="local_government"), program)


def test_local_governments_at_least_counts_distinct_codes_with_lead(program, application, partner):
    condition = _cond({"local_governments_at_least": 2})
    same = application(partners=[partner("011002"), partner("011002")])
    bad_code = application(partners=[partner("12345")])  # not six digits: not a local government
    two = application(partners=[partner("012025")])

    assert not holds(condition, same, program)
    assert not holds(condition, bad_code, program)
    assert holds(condition, two, program)


def test_all_any_not_nest(program, application):
    data = application(count=5, flag=False)
    both = _cond(
        {"all": [{"field": "count", "at_least": 5}, {"not": {"field": "flag", "equals": True}}]}
    )
    either = _cond({"any": [{"field": "count", "equals": 1}, {"field": "flag", "equals": True}]})

    assert holds(both, data, program)
    assert not holds(either, data, program)


@pytest.mark.parametrize(
    "raw",
    [
        {"field": "count", "equals": 1, "all": [{"applicant_type": ["npo"]}]},
        {"field": "count"},
        {"equals": 1},
        {"field": "count", "equals": 1, "at_least": 1},
        {},
    ],
)
def test_condition_mixed_or_incomplete_forms_are_refused(raw):
    with pytest.raises(ValidationError, match=r"exactly one|need a `field`"):
        Condition.model_validate(raw)


def test_visibility_hidden_field_hides_fields_that_depend_on_it(program, application):
    # `more` depends on `detail`, which is hidden once `flag` is false: its stale answer is gone.
    shown, data = visibility(program, application(flag=False, detail="yes", more="x"))

    assert {"detail", "more"}.isdisjoint(shown)
    assert "detail" not in data.answers
    assert "more" not in data.answers


def test_visibility_shown_chain_keeps_answers(program, application):
    shown, data = visibility(program, application(flag=True, detail="yes", more="x"))

    assert {"detail", "more"} <= shown
    assert data.answers["more"] == "x"
