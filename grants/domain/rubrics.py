"""Rubrics: the YAML schema (version 1) reviewers score against, as frozen pydantic models.

The schema is documented in docs/rubric-schema.md. A rubric states its scale with a descriptor
for every level, its sections and weighted criteria, how an unrated criterion counts (never
silently zero), the spread that flags an application for moderation, and which signals each
criterion shows beside it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import Field, model_validator

from grants.domain.definitions import Key, Slug, StrictInt, Text, _Model
from grants.domain.errors import Loc
from grants.domain.signals import SIGNAL_KINDS
from grants.domain.yaml_documents import items, parse_document, read_utf8, schema_keys

Weight = Annotated[int, Field(strict=True, ge=1, le=100)]


class Unrated(StrEnum):
    """How a criterion left unrated in a submitted review counts."""

    EXCLUDE = "exclude"  # left out: the total is normalized over the rated criteria' weights
    ZERO = "zero"  # counts as the lowest level of the scale
    FORBID = "forbid"  # a review cannot be submitted with an unrated criterion


class Level(_Model):
    score: StrictInt
    label: Text
    descriptor: Text


class Scale(_Model):
    levels: tuple[Level, ...] = Field(min_length=2)

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


class Criterion(_Model):
    id: Key
    title: Text
    question: Text
    guidance: Text
    weight: Weight
    comment_required_at_or_below: StrictInt | None = None
    knockout_at_or_below: StrictInt | None = None
    signals: tuple[Literal[SIGNAL_KINDS], ...] = ()  # type: ignore[valid-type]


class Section(_Model):
    id: Key
    title: Text
    criteria: tuple[Criterion, ...] = Field(min_length=1)


class Rubric(_Model):
    """A rubric: the scale, the weighted criteria in sections, and how reviews are combined."""

    schema_version: Literal[1] = Field(alias="schema")
    id: Slug
    title: Text
    source: Text
    scale: Scale
    unrated: Unrated
    disagreement_threshold: Annotated[int, Field(strict=True), Ge(1), Le(100)]
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
    seen: dict[str, Loc] = {}
    for section_loc, section in items(data, "sections"):
        for loc, criterion in items(section, "criteria", section_loc):
            criterion_id = str(criterion.get("id"))
            if criterion_id in seen:
                problems.append(((*loc, "id"), f"duplicate criterion id {criterion_id!r}"))
            seen.setdefault(criterion_id, loc)
            problems += _threshold_problems(loc, criterion, scores)
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


_KNOWN_KEYS = schema_keys(sys.modules[__name__])
