"""The shipped rubrics (rubrics/*.yaml): each loads, each program names one, each carries the
criteria the seeds call for in both languages; and a broken rubric reports every problem with its
line and dotted field.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from grants.config import PACKAGE_ROOT
from grants.domain.definitions import load_program_file
from grants.domain.errors import DefinitionError, DefinitionErrors
from grants.domain.findings import LocalizedText
from grants.domain.rubrics import Rubric, Unrated, load_rubric_file, parse_rubric
from grants.domain.scoring import aggregate, score

ROOT = Path(__file__).resolve().parents[2]
RUBRIC_FILES = sorted((PACKAGE_ROOT / "rubrics").glob("*.yaml"))
PROGRAM_FILES = sorted((PACKAGE_ROOT / "programs").glob("*.yaml"))

# Criteria every shipped rubric must have (by id), with the signals each must show at least.
REQUIRED_CRITERIA: dict[str, set[str]] = {
    # seed 003 「地域ICT利活用事業の成功のためには・・・」
    "budget_driven": {"own_funding_share", "proceeds_without_subsidy"},  # 「予算ありき」
    "sustainable_after_funding": {"operating_cost_after", "operating_cost_payer"},  # 「金の切れ目」
    "goal_ict_as_means": {"equipment_share"},  # hardware-centred?
    "needs_and_business_model": set(),
    "stakeholders_involved": {"partner_kinds"},
    "leader_and_progress": set(),
    # seed 001 「２ 基本理念」
    "resident_centred": set(),  # 「地域住民本位」
    "self_reliant": set(),  # 「地域自立型」
    "lifting_lagging_regions": set(),  # 「底上げ型」
    "diverse_partnerships": {"local_governments", "partner_kinds"},  # 「多様な連携型」
    "kind_to_vulnerable": set(),  # 「人に優しい」
}

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")


def _load(path: Path) -> Rubric:
    return load_rubric_file(path)


def _texts(rubric: Rubric) -> list[tuple[str, LocalizedText]]:
    """Every user-visible text of a rubric, named by where it is."""
    texts = [("title", rubric.title), ("source", rubric.source)]
    for level in rubric.scale.levels:
        texts += [(f"level {level.score} label", level.label),
                  (f"level {level.score} descriptor", level.descriptor)]
    for section in rubric.sections:
        texts.append((f"section {section.id}", section.title))
        for c in section.criteria:
            texts += [(f"{c.id}.title", c.title), (f"{c.id}.question", c.question),
                      (f"{c.id}.guidance", c.guidance)]
    return texts


# --- the shipped files ---------------------------------------------------------------------


def test_rubrics_and_programs_are_found():
    assert len(RUBRIC_FILES) >= 2
    assert len(PROGRAM_FILES) == 5


@pytest.mark.parametrize("path", RUBRIC_FILES, ids=lambda p: p.stem)
def test_shipped_rubric_loads(path):
    rubric = _load(path)

    assert rubric.id == path.stem
    assert rubric.criteria()


@pytest.mark.parametrize("path", PROGRAM_FILES, ids=lambda p: p.stem)
def test_every_program_names_a_shipped_rubric(path):
    shipped = {p.stem for p in RUBRIC_FILES}

    assert load_program_file(path).rubric in shipped


def test_every_shipped_rubric_is_used_by_a_program():
    used = {load_program_file(p).rubric for p in PROGRAM_FILES}

    assert {p.stem for p in RUBRIC_FILES} <= used


@pytest.mark.parametrize("path", RUBRIC_FILES, ids=lambda p: p.stem)
def test_every_text_is_in_both_languages(path):
    for where, text in _texts(_load(path)):
        assert JAPANESE.search(text.ja), f"{where}: ja is not Japanese"
        assert LATIN.search(text.en), f"{where}: en has no English"
        assert text.ja.strip() != text.en.strip(), f"{where}: en repeats ja"


@pytest.mark.parametrize("path", RUBRIC_FILES, ids=lambda p: p.stem)
def test_required_criteria_are_present_with_their_signals(path):
    rubric = _load(path)
    ids = {c.id for c in rubric.criteria()}

    assert set(REQUIRED_CRITERIA) <= ids, f"missing {sorted(set(REQUIRED_CRITERIA) - ids)}"
    for criterion_id, signals in REQUIRED_CRITERIA.items():
        assert signals <= set(rubric.criterion(criterion_id).signals), criterion_id


@pytest.mark.parametrize("path", RUBRIC_FILES, ids=lambda p: p.stem)
def test_weights_add_up_to_100_as_the_files_say(path):
    assert sum(c.weight for c in _load(path).criteria()) == 100


@pytest.mark.parametrize("path", RUBRIC_FILES, ids=lambda p: p.stem)
def test_knockouts_are_few_and_at_the_bottom_of_the_scale(path):
    rubric = _load(path)
    knockouts = [c for c in rubric.criteria() if c.knockout_at_or_below is not None]

    assert [c.id for c in knockouts] == ["sustainable_after_funding"]
    assert all(c.knockout_at_or_below == rubric.scale.min for c in knockouts)


@pytest.mark.parametrize("path", RUBRIC_FILES, ids=lambda p: p.stem)
def test_a_low_score_always_needs_a_comment(path):
    rubric = _load(path)

    for c in rubric.criteria():
        assert c.comment_required_at_or_below == rubric.scale.min + 1, c.id
        if c.knockout_at_or_below is not None:
            assert c.knockout_at_or_below <= c.comment_required_at_or_below, c.id


@pytest.mark.parametrize("path", RUBRIC_FILES, ids=lambda p: p.stem)
def test_scale_runs_zero_to_five_with_every_criterion_rated(path):
    rubric = _load(path)

    assert [level.score for level in rubric.scale.levels] == [0, 1, 2, 3, 4, 5]
    assert rubric.unrated is Unrated.FORBID


@pytest.mark.parametrize("path", RUBRIC_FILES, ids=lambda p: p.stem)
def test_shipped_rubric_scores_knockouts_and_flags(path):
    rubric = _load(path)
    every = {c.id: 0 for c in rubric.criteria()}
    knockout = rubric.criterion("sustainable_after_funding")

    threes = score(rubric, dict.fromkeys(every, 3))
    fours = score(rubric, dict.fromkeys(every, 4))
    fives = score(rubric, dict.fromkeys(every, 5))
    ended = score(rubric, {**dict.fromkeys(every, 5), knockout.id: 0})

    assert (threes.total, fours.total, fives.total) == (Decimal("60.00"), Decimal("80.00"),
                                                         Decimal("100.00"))
    assert ended.knockouts == (knockout.id,)
    assert ended.total == Decimal(100 - knockout.weight)
    # One whole level apart on every criterion is within the threshold; two levels are not.
    assert not aggregate(rubric, [threes, fours]).flagged
    assert aggregate(rubric, [threes, fives]).flagged
    assert aggregate(rubric, [fives, ended]).knockout


# --- error reporting -------------------------------------------------------------------------

SIGNAL_CHOICES = ("'equipment_share', 'own_funding_share', 'proceeds_without_subsidy', "
                  "'operating_cost_after', 'operating_cost_payer', 'local_governments' or "
                  "'partner_kinds'")

# Line numbers matter: the expected errors below name them.
BROKEN = """\
schema: 1
id: regional-ict
title: {ja: 審査基準, en: Rubric}
source: {ja: シード資料003, en: Seed 003}
scale:
  levels:
    - score: 0
      label: {ja: 不十分, en: Inadequate}
      descriptor: {ja: 記載なし, en: Absent}
    - score: 1
      label: {ja: 標準, en: Adequate}
      descriptor: {ja: 妥当, en: Sound}
    - score: 3
      label: {ja: 優秀, en: Excellent}
      descriptor: {ja: 模範, en: A model}
unrated: skip
disagreement_threshold: 20
sections:
  - id: success_factors
    title: {ja: 成功要因, en: Success factors}
    criteria:
      - id: budget_driven
        title: {ja: 予算ありき, en: Budget-driven}
        question: {ja: 質問, en: Question}
        guidance: {ja: 着眼点, en: Guidance}
        wieght: 12
        signals: [own_funding_share, own_funding]
  - id: principles
    title: {ja: 基本理念, en: Principles}
    criteria:
      - id: budget_driven
        title: {ja: 予算ありき, en: Budget-driven}
        question: {ja: 質問, en: Question}
        guidance: {ja: 着眼点}
        weight: 12
        comment_required_at_or_below: 1
        knockout_at_or_below: -1
"""


def _errors(path: Path) -> list[str]:
    with pytest.raises(DefinitionErrors) as caught:
        load_rubric_file(path)
    errors = caught.value.errors
    assert all(isinstance(e, DefinitionError) for e in errors)
    assert str(caught.value) == "\n".join(str(e) for e in errors)
    return [str(e) for e in errors]


def test_a_broken_rubric_reports_every_problem_with_line_and_field(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")

    assert _errors(path) == [
        f"{path}:2: id: must equal the file name: expected 'broken'",
        f"{path}:5: scale: levels must be consecutive whole numbers, rising, e.g. 0 to 5",
        f"""{path}:16: unrated: must be one of 'exclude', 'zero' or 'forbid' (got "skip")""",
        f"{path}:22: sections[0].criteria[0].weight: required key is missing",
        f"{path}:26: sections[0].criteria[0].wieght: unknown key 'wieght' "
        "(did you mean 'weight'?)",
        f"{path}:27: sections[0].criteria[0].signals[1]: must be one of {SIGNAL_CHOICES} "
        '(got "own_funding")',
        f"{path}:31: sections[1].criteria[0].id: duplicate criterion id 'budget_driven'",
        f"{path}:34: sections[1].criteria[0].guidance.en: required key is missing",
        f"{path}:37: sections[1].criteria[0].knockout_at_or_below: "
        "must be a score on the scale (0 to 3)",
    ]


VALID = """\
schema: 1
id: small
title: {ja: 審査基準, en: Rubric}
source: {ja: シード資料003, en: Seed 003}
scale:
  levels:
    - score: 0
      label: {ja: 不十分, en: Inadequate}
      descriptor: {ja: 記載なし, en: Absent}
    - score: 1
      label: {ja: 標準, en: Adequate}
      descriptor: {ja: 妥当, en: Sound}
    - score: 2
      label: {ja: 優秀, en: Excellent}
      descriptor: {ja: 模範, en: A model}
unrated: exclude
disagreement_threshold: 20
sections:
  - id: success_factors
    title: {ja: 成功要因, en: Success factors}
    criteria:
      - id: budget_driven
        title: {ja: 予算ありき, en: Budget-driven}
        question: {ja: 質問, en: Question}
        guidance: {ja: 着眼点, en: Guidance}
        weight: 100
        comment_required_at_or_below: 0
        signals: [own_funding_share]
"""


def test_the_small_valid_rubric_loads(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(VALID, encoding="utf-8")

    rubric = load_rubric_file(path)

    assert (rubric.scale.min, rubric.scale.max, rubric.signal_kinds()) == (
        0, 2, ("own_funding_share",))


def test_a_missing_level_descriptor_and_other_problems_are_each_reported(tmp_path):
    path = tmp_path / "small.yaml"
    text = (VALID
            .replace("      descriptor: {ja: 妥当, en: Sound}\n", "")
            .replace("disagreement_threshold: 20", "disagreement_threshold: 0")
            .replace("        weight: 100\n", "        weight: 0\n        weight: 101\n")
            .replace("comment_required_at_or_below: 0", "comment_required_at_or_below: 3")
            .replace("[own_funding_share]", "own_funding_share"))
    text += """\
  - id: Success_factors
    title: {ja: 成功要因, en: Success factors}
    criteria: []
"""
    path.write_text(text, encoding="utf-8")

    assert _errors(path) == [
        f"{path}:10: scale.levels[1].descriptor: required key is missing",
        f"{path}:16: disagreement_threshold: must be at least 1 (got 0)",
        f"{path}:26: sections[0].criteria[0].weight: duplicate key 'weight' (first at line 25)",
        f"{path}:26: sections[0].criteria[0].weight: "
        "must be at most 100 (got 101)",
        f"{path}:27: sections[0].criteria[0].comment_required_at_or_below: "
        "must be a score on the scale (0 to 2)",
        f'{path}:28: sections[0].criteria[0].signals: expected a list (got "own_funding_share")',
        f"{path}:29: sections[1].id: is not a valid id (expected the pattern "
        '^[a-z][a-z0-9_-]*$) (got "Success_factors")',
        f"{path}:31: sections[1].criteria: needs at least 1 item(s)",
    ]


def test_parse_rubric_names_the_file_it_is_given():
    with pytest.raises(DefinitionErrors) as caught:
        parse_rubric(VALID.replace("unrated: exclude", "unrated: none"), "rubrics/small.yaml",
                     expected_id="small")

    assert [str(e) for e in caught.value.errors] == [
        """rubrics/small.yaml:16: unrated: must be one of 'exclude', 'zero' or 'forbid' """
        """(got "none")""",
    ]


def test_a_knockout_at_the_top_of_the_scale_is_refused(tmp_path):
    path = tmp_path / "small.yaml"
    top = "comment_required_at_or_below: 0\n        knockout_at_or_below: 2"
    path.write_text(VALID.replace("comment_required_at_or_below: 0", top), encoding="utf-8")

    assert _errors(path) == [
        f"{path}:28: sections[0].criteria[0].knockout_at_or_below: "
        "must be below the top score 2, or every application is out",
    ]


# --- half-marks and thresholds ---------------------------------------------------------------

STEPPED = (VALID
           .replace("scale:\n  levels:", "scale:\n  step: STEP\n  levels:")
           .replace("sections:\n", "thresholds:\n  each_criterion: EACH\n  overall: OVERALL\n"
                                   "sections:\n")
           .replace("        weight: 100\n", "        weight: 100\n        threshold: OWN\n"))
STEP_CHOICES = "must divide one point into whole steps: 1, 0.5, 0.25, 0.2, 0.125 or 0.1"
NUMBER = "expected a number such as 3 or 2.5"


def _stepped(step="0.5", each="1", overall="1.5", own="1.5") -> str:
    return (STEPPED.replace("STEP", step).replace("EACH", each).replace("OVERALL", overall)
            .replace("OWN", own))


def test_a_rubric_with_half_marks_and_thresholds_loads():
    rubric = parse_rubric(_stepped(), "rubrics/small.yaml", expected_id="small")

    assert rubric.scale.step == Fraction(1, 2)
    assert rubric.scale.marks() == (0, Fraction(1, 2), 1, Fraction(3, 2), 2)
    assert (rubric.thresholds.each_criterion, rubric.thresholds.overall) == (1, Fraction(3, 2))
    assert rubric.minimum(rubric.criterion("budget_driven")) == Fraction(3, 2)


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"step": "0.3"}, [f"6: scale.step: {STEP_CHOICES} (got 0.3)"]),
        ({"step": "0"}, [f"6: scale.step: {STEP_CHOICES} (got 0)"]),
        ({"step": "-0.5"}, [f"6: scale.step: {STEP_CHOICES} (got -0.5)"]),
        ({"step": "2"}, [f"6: scale.step: {STEP_CHOICES} (got 2)"]),
        ({"step": "0.05"}, [f"6: scale.step: {STEP_CHOICES} (got 0.05)"]),
        ({"step": "half"}, [f'6: scale.step: {NUMBER} (got "half")']),
        ({"step": "true"}, [f"6: scale.step: {NUMBER} (got true)"]),
        ({"step": ".nan"}, [f"6: scale.step: {NUMBER} (got NaN)"]),
        ({"step": ".inf"}, [f"6: scale.step: {NUMBER} (got Infinity)"]),
        ({"each": "1.3"}, ["20: thresholds.each_criterion: must be on the scale's steps of 0.5 "
                           "(got 1.3)"]),
        ({"each": "3"}, ["20: thresholds.each_criterion: must be a score on the scale (0 to 2) "
                         "(got 3)"]),
        ({"each": "１"}, [f'20: thresholds.each_criterion: {NUMBER} (got "１")']),
        ({"overall": "-1"}, ["21: thresholds.overall: must be a score on the scale (0 to 2) "
                             "(got -1)"]),
        ({"own": '"1"'}, [f'31: sections[0].criteria[0].threshold: {NUMBER} (got "1")']),
        ({"own": "1.25"}, ["31: sections[0].criteria[0].threshold: must be on the scale's "
                           "steps of 0.5 (got 1.25)"]),
        ({"step": "1", "own": "1.5", "each": "0.5", "overall": "1"}, [
            "20: thresholds.each_criterion: must be on the scale's steps of 1 (got 0.5)",
            "31: sections[0].criteria[0].threshold: must be on the scale's steps of 1 (got 1.5)"]),
        ({"own": "123456789012345678901234567890"}, [
            "31: sections[0].criteria[0].threshold: must be a score on the scale (0 to 2) "
            "(got 123456789012345678901234567890)"]),
    ],
    ids=lambda v: str(v),
)
def test_hostile_steps_and_thresholds_are_each_reported_with_their_line(values, errors):
    with pytest.raises(DefinitionErrors) as caught:
        parse_rubric(_stepped(**values), "rubrics/small.yaml", expected_id="small")

    assert [str(e) for e in caught.value.errors] == [f"rubrics/small.yaml:{e}" for e in errors]


def test_the_overall_threshold_is_on_the_sum_of_every_criterion():
    two = VALID.replace("weight: 100", "weight: 50") + """\
      - id: sustainable
        title: {ja: 事業継続, en: Continuation}
        question: {ja: 質問, en: Question}
        guidance: {ja: 着眼点, en: Guidance}
        weight: 50
"""
    ok = two.replace("sections:\n", "thresholds: {overall: 4}\nsections:\n")
    over = two.replace("sections:\n", "thresholds: {overall: 4.5}\nsections:\n")

    assert parse_rubric(ok, "rubrics/small.yaml", expected_id="small").thresholds.overall == 4
    with pytest.raises(DefinitionErrors) as caught:
        parse_rubric(over, "rubrics/small.yaml", expected_id="small")
    assert [str(e) for e in caught.value.errors] == [
        "rubrics/small.yaml:18: thresholds.overall: must be a sum the 2 criteria's scores can "
        "reach (0 to 4) (got 4.5)"]


@pytest.mark.parametrize(
    ("value", "accepted"),
    [(0, True), (2, True), (Fraction(3, 2), True), (1.5, True), (2.5, False), (-0.5, False),
     (1.25, False), (True, False), ("1", False), (float("nan"), False), (None, False)],
)
def test_a_scale_accepts_only_its_marks(value, accepted):
    rubric = parse_rubric(_stepped(), "rubrics/small.yaml", expected_id="small")

    assert rubric.scale.accepts(value) is accepted


@pytest.mark.parametrize("path", RUBRIC_FILES, ids=lambda p: p.stem)
def test_shipped_rubrics_have_whole_marks_and_no_thresholds(path):
    # The source documents set no minimum score: docs/rubric-schema.md shows the EU's as an
    # example instead of inventing one.
    rubric = _load(path)

    assert rubric.scale.step == 1
    assert rubric.thresholds.each_criterion is rubric.thresholds.overall is None
    assert all(c.threshold is None for c in rubric.criteria())
