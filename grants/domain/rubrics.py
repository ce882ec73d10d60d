"""Rubrics: the YAML schema (version 1) reviewers score against, as frozen pydantic models.

The schema is documented in docs/rubric-schema.md. A rubric states its scale with a descriptor
for every level (and the step between marks: half-marks where it says `step: 0.5`), its
sections and weighted criteria, how an unrated criterion counts (never silently zero), the
spread that flags an application for moderation, the minimum scores an application must reach
(thresholds), which score ranks (`ranking_score`: mean, moderated mean or consensus), and which
signals each criterion shows beside it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import Field, PlainValidator, model_validator
from pydantic_core import PydanticCustomError

from grants.domain.definitions import Key, Slug, StrictInt, Text, _Model
from grants.domain.errors import Loc
from grants.domain.findings import quoted_ja
from grants.domain.signals import SIGNAL_KINDS
from grants.domain.yaml_documents import items, parse_document, read_utf8, schema_keys

Weight = Annotated[int, Field(strict=True, ge=1, le=100)]
MAX_STEPS_PER_POINT = 10  # step 0.1 at the finest: a reviewer picks from a short list


def mark(value: object) -> Fraction:
    """Read a score exactly as written: 3, 2.5 (a float through its shortest decimal form, so
    a stored 0.1 is 1/10, never the binary 0.1000000000000000055…).

    Raises:
        ValueError: for anything but a finite number (a bool, text, NaN, infinity).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction | Decimal):
        raise ValueError(f"not a score: {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a score: {value!r}")
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


def format_mark(value: Fraction | int | float) -> str:
    """Write a score the way it is typed: 3, 2.5, 0.25 (no trailing zeros)."""
    exact = mark(value)
    if exact.denominator == 1:
        return str(exact.numerator)
    return format(Decimal(exact.numerator) / Decimal(exact.denominator), "f").rstrip("0")


def _number(value: object) -> Fraction:
    try:
        return mark(value)
    except ValueError:
        raise PydanticCustomError("score", "expected a number such as 3 or 2.5") from None


def _step(value: object) -> Fraction:
    step = _number(value)
    if step <= 0 or step > 1 or (1 / step).denominator != 1 or 1 / step > MAX_STEPS_PER_POINT:
        raise PydanticCustomError(
            "step", "must divide one point into whole steps: 1, 0.5, 0.25, 0.2, 0.125 or 0.1")
    return step


Mark = Annotated[Fraction, PlainValidator(_number)]
Step = Annotated[Fraction, PlainValidator(_step)]


class Unrated(StrEnum):
    """How a criterion left unrated in a submitted review counts."""

    EXCLUDE = "exclude"  # left out: the total is normalized over the rated criteria' weights
    ZERO = "zero"  # counts as the lowest level of the scale
    FORBID = "forbid"  # a review cannot be submitted with an unrated criterion


class RankingScore(StrEnum):
    """Which score ranks and decides an application."""

    MEAN = "mean"  # the mean of the counted reviews' totals, moderation left aside
    MODERATED = "moderated"  # the mean with the officer's moderated scores in place
    CONSENSUS = "consensus"  # the approved consensus report's scores; unscored without one


class Level(_Model):
    score: StrictInt
    label: Text
    descriptor: Text


class Scale(_Model):
    levels: tuple[Level, ...] = Field(min_length=2)
    step: Step = Fraction(1)  # 0.5: half-marks between the levels

    @model_validator(mode="after")
    def _consecutive(self) -> Scale:
        scores = [level.score for level in self.levels]
        if scores != list(range(scores[0], scores[0] + len(scores))):
            raise ValueError("levels must be consecutive whole numbers, rising, e.g. 0 to 5")
        return self

    @property
    def min(self) -> int:
        return self.levels[0].score

    @property
    def max(self) -> int:
        return self.levels[-1].score

    def level(self, score: int) -> Level:
        return self.levels[score - self.min]

    def accepts(self, value: object) -> bool:
        """Tell whether `value` is a score a reviewer may give: on the scale, on its steps."""
        try:
            exact = mark(value)
        except ValueError:
            return False
        return self.min <= exact <= self.max and ((exact - self.min) / self.step).denominator == 1

    def takes(self, title: Text) -> Text:
        """What a criterion takes, for a refused rating: 0 to 5, in steps of 0.5 where not 1."""
        low, high, step = self.min, self.max, format_mark(self.step)
        if self.step == 1:
            return Text(f"{quoted_ja(title.ja)}の評点は{low}〜{high}です。",
                        f"“{title.en}” takes a score from {low} to {high}.")
        return Text(f"{quoted_ja(title.ja)}の評点は{low}〜{high}の{step}刻みです。",
                    f"“{title.en}” takes a score from {low} to {high} in steps of {step}.")

    def marks(self) -> tuple[Fraction, ...]:
        """Every score a reviewer may give, lowest first: the levels and the steps between."""
        count = int((self.max - self.min) / self.step)
        return tuple(self.min + n * self.step for n in range(count + 1))


class Criterion(_Model):
    id: Key
    title: Text
    question: Text
    guidance: Text
    weight: Weight
    comment_required_at_or_below: StrictInt | None = None
    knockout_at_or_below: StrictInt | None = None
    threshold: Mark | None = None  # this criterion's minimum, instead of `each_criterion`
    signals: tuple[Literal[SIGNAL_KINDS], ...] = ()  # type: ignore[valid-type]


class Section(_Model):
    id: Key
    title: Text
    criteria: tuple[Criterion, ...] = Field(min_length=1)


class Thresholds(_Model):
    """Minimum scores an application must reach to be fundable, like the EU's 3 of 5 on every
    criterion and 10 of 15 overall: compared with the application's score per criterion that
    ranks (`ranking_score`: the moderated mean by default; see `grants.domain.thresholds`)."""

    each_criterion: Mark | None = None
    overall: Mark | None = None  # of the sum of the criteria's scores, unweighted


class Rubric(_Model):
    """A rubric: the scale, the weighted criteria in sections, and how reviews are combined."""

    schema_version: Literal[1] = Field(alias="schema")
    id: Slug
    title: Text
    source: Text
    scale: Scale
    unrated: Unrated
    disagreement_threshold: Annotated[int, Field(strict=True), Ge(1), Le(100)]
    thresholds: Thresholds = Thresholds()
    ranking_score: RankingScore = RankingScore.MODERATED
    sections: tuple[Section, ...] = Field(min_length=1)

    @cached_property
    def _criteria(self) -> dict[str, Criterion]:
        return {c.id: c for section in self.sections for c in section.criteria}

    def criteria(self) -> tuple[Criterion, ...]:
        """Every criterion, in the order of the file."""
        return tuple(self._criteria.values())

    def signal_kinds(self) -> tuple[str, ...]:
        """Every signal kind some criterion shows, once, in the order of the file."""
        return tuple(dict.fromkeys(kind for c in self.criteria() for kind in c.signals))

    def criterion(self, criterion_id: str) -> Criterion:
        """Return a criterion by id (KeyError for an unknown one)."""
        return self._criteria[criterion_id]

    def minimum(self, criterion: Criterion) -> Fraction | None:
        """The score a criterion must reach: its own `threshold`, else `each_criterion`."""
        return criterion.threshold if criterion.threshold is not None \
            else self.thresholds.each_criterion


def load_rubric_file(path: str | Path) -> Rubric:
    """Load and validate `rubrics/<id>.yaml`; the rubric id must equal the file-name stem.

    Raises:
        DefinitionErrors: every problem in the file, each with file, line and field.
    """
    path = Path(path)
    return parse_rubric(read_utf8(path), str(path), expected_id=path.stem)


def parse_rubric(text: str, filename: str, *, expected_id: str | None = None) -> Rubric:
    """Validate a rubric given as text; `filename` names it in error reports."""
    return parse_document(text, filename, Rubric, expected_id=expected_id,
                          known_keys=_KNOWN_KEYS, kinds_by_list={}, references=_references)


def _references(data: object, _root: object) -> list[tuple[Loc, str]]:
    """Unique ids, thresholds that lie on the scale, and weights that add up to 100."""
    data = data if isinstance(data, Mapping) else {}
    problems: list[tuple[Loc, str]] = []
    scores = [level.get("score") for _, level in items(data.get("scale"), "levels", ("scale",))]
    scores = [s for s in scores if isinstance(s, int)]
    step = _raw_step(data.get("scale"))
    seen: dict[str, Loc] = {}
    for section_loc, section in items(data, "sections"):
        for loc, criterion in items(section, "criteria", section_loc):
            criterion_id = str(criterion.get("id"))
            if criterion_id in seen:
                problems.append(((*loc, "id"), f"duplicate criterion id {criterion_id!r}"))
            seen.setdefault(criterion_id, loc)
            problems += _threshold_problems(loc, criterion, scores)
            problems += _minimum_problems((*loc, "threshold"), criterion.get("threshold"),
                                          scores, step)
    problems += _rubric_threshold_problems(data, scores, step, count=len(seen))
    problems += _weight_problems(data)
    section_ids = [str(section.get("id")) for _, section in items(data, "sections")]
    problems += [
        ((*loc, "id"), f"duplicate section id {section.get('id')!r}")
        for i, (loc, section) in enumerate(items(data, "sections"))
        if str(section.get("id")) in section_ids[:i]
    ]
    return problems


def _weight_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Weights read as percentages, so they must add up to 100 (checked once each is valid)."""
    weights = [criterion.get("weight")
               for section_loc, section in items(data, "sections")
               for _, criterion in items(section, "criteria", section_loc)]
    valid = [w for w in weights if type(w) is int and 1 <= w <= 100]
    if not valid or len(valid) != len(weights) or sum(valid) == 100:
        return []
    return [(("sections",), f"the criteria's weights must add up to 100 (they add up to "
                            f"{sum(valid)})")]


def _threshold_problems(loc: Loc, criterion: Mapping[str, Any], scores: list[int]
                        ) -> list[tuple[Loc, str]]:
    if not scores:
        return []
    low, high = min(scores), max(scores)
    problems = [
        ((*loc, key), f"must be a score on the scale ({low} to {high})")
        for key in ("comment_required_at_or_below", "knockout_at_or_below")
        if isinstance(criterion.get(key), int) and not low <= criterion[key] <= high
    ]
    if criterion.get("knockout_at_or_below") == high:
        problems.append(((*loc, "knockout_at_or_below"),
                         f"must be below the top score {high}, or every application is out"))
    return problems


def _raw_step(scale: object) -> Fraction | None:
    """The scale's step as written, if it is a valid one (a bad step is reported by the schema)."""
    value = scale.get("step", 1) if isinstance(scale, Mapping) else 1
    try:
        return _step(value)
    except PydanticCustomError:
        return None


def _minimum_problems(loc: Loc, value: object, scores: list[int], step: Fraction | None,
                      count: int = 1) -> list[tuple[Loc, str]]:
    """A minimum must be a score reviewers can give (`count` criteria summed: on `count` times
    the scale), else it could never be met exactly, or always is."""
    try:
        minimum = mark(value)
    except ValueError:
        return []  # absent, or not a number: the schema says so
    if not scores:
        return []
    low, high = min(scores) * count, max(scores) * count
    got = f" (got {format_mark(minimum)})"
    if not low <= minimum <= high:
        where = "a score on the scale" if count == 1 else \
            f"a sum the {count} criteria's scores can reach"
        return [(loc, f"must be {where} ({low} to {high}){got}")]
    if step is not None and ((minimum - low) / step).denominator != 1:
        return [(loc, f"must be on the scale's steps of {format_mark(step)}{got}")]
    return []


def _rubric_threshold_problems(data: Mapping[str, Any], scores: list[int], step: Fraction | None,
                               *, count: int) -> list[tuple[Loc, str]]:
    thresholds = data.get("thresholds")
    if not isinstance(thresholds, Mapping):
        return []
    problems = _minimum_problems(("thresholds", "each_criterion"),
                                 thresholds.get("each_criterion"), scores, step)
    if count:
        problems += _minimum_problems(("thresholds", "overall"), thresholds.get("overall"),
                                      scores, step, count)
    return problems


_KNOWN_KEYS = schema_keys(sys.modules[__name__])
