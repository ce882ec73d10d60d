"""Conditions (`when`, `show_when`): a closed, nestable set, its schema, checks and evaluation.

Nothing here evaluates text as code: a condition is data, matched field by field.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Annotated, NamedTuple, Protocol

from annotated_types import Ge
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from grants.domain.application_data import ApplicationData, FormLayout, OrgType
from grants.domain.errors import Loc

FieldId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
COUNTABLE_KINDS = frozenset(
    {"number", "yen", "multi_choice", "file", "partners", "consortium", "budget_lines"}
)
_ANSWER_TYPES = {"yes_no": bool, "number": int, "yen": int}
_TYPE_WORDS = {bool: "true or false", int: "whole numbers", str: "texts"}
_FORM_NAMES = ("field", "applicant_type", "local_governments_at_least", "all", "any", "not")
_FORMS = frozenset(name if name != "not" else "not_" for name in _FORM_NAMES)


def _scalar(value: object) -> bool | int | str:
    """Accept the answer values a condition can compare with: true/false, an integer, a text."""
    if isinstance(value, bool | int | str):
        return value
    raise PydanticCustomError("scalar", "expected true/false, a whole number or a text")


Scalar = Annotated[bool | int | str, PlainValidator(_scalar)]


class Condition(BaseModel):
    """One node of a condition tree; exactly one form is used (docs/program-schema.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_min_length=1)

    field: FieldId | None = None
    equals: Scalar | None = None
    in_: tuple[Scalar, ...] | None = Field(None, alias="in", min_length=1)
    at_least: Annotated[int, Strict()] | None = None
    applicant_type: tuple[OrgType, ...] | None = Field(None, min_length=1)
    local_governments_at_least: Annotated[int, Strict(), Ge(1)] | None = None
    all: tuple[Condition, ...] | None = Field(None, min_length=1)
    any: tuple[Condition, ...] | None = Field(None, min_length=1)
    not_: Condition | None = Field(None, alias="not")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        """Refuse mixed forms, so `{field: x, all: [...]}` cannot silently ignore half of it."""
        used = self.model_fields_set
        operators = used & {"equals", "in_", "at_least"}
        forms = used & _FORMS
        if operators and "field" not in used:
            raise ValueError("equals / in / at_least need a `field`")
        if "field" in used and len(operators) != 1:
            raise ValueError("a field condition needs exactly one of equals, in, at_least")
        if len(forms) != 1:
            raise ValueError(f"use exactly one of: {', '.join(_FORM_NAMES)}")
        return self

    @property
    def form(self) -> str:
        """Name the form: equals, in, at_least, applicant_type, local_governments_at_least, ..."""
        used = self.model_fields_set
        for name in ("equals", "in_", "at_least", "applicant_type", "all", "any", "not_"):
            if name in used:
                return name.rstrip("_")
        return "local_governments_at_least"


class _FormField(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def show_when(self) -> Condition | None: ...


class FormShape(FormLayout, Protocol):
    """What evaluating a condition needs of a program; `definitions.Program` has it.

    A protocol, so the schema can use conditions without conditions importing the schema.
    """

    def all_fields(self) -> Sequence[_FormField]: ...

    def field(self, field_id: str) -> _FormField: ...


def holds(condition: Condition, data: ApplicationData, program: FormShape) -> bool:
    """Return whether `condition` is true for this application.

    A multi_choice answer `equals` a value when the value is among those chosen; `at_least`
    compares a number, or counts chosen values, partners, consortium members, budget lines or
    uploaded files.
    """
    form = condition.form
    if form == "all":
        return all(holds(c, data, program) for c in condition.all or ())
    if form == "any":
        return any(holds(c, data, program) for c in condition.any or ())
    if form == "not":
        return condition.not_ is not None and not holds(condition.not_, data, program)
    if form == "applicant_type":
        return data.applicant_type in (condition.applicant_type or ())
    if form == "local_governments_at_least":
        minimum = condition.local_governments_at_least or 0
        return len(data.local_government_codes(program)) >= minimum
    value = answer_value(condition.field or "", data, program)
    if form == "equals":
        return matches(value, condition.equals)
    if form == "in":
        return any(matches(value, expected) for expected in condition.in_ or ())
    return _at_least(value, condition.at_least or 0)


class Visibility(NamedTuple):
    """Which fields are shown, and the application with the answers of hidden fields dropped."""

    shown: frozenset[str]
    data: ApplicationData


def visibility(program: FormShape, data: ApplicationData) -> Visibility:
    """Work out which fields are shown (`show_when`), in form order.

    An answer left in a field that is now hidden (the applicant changed an earlier answer) is
    dropped, so it counts as unanswered for later `show_when`s and for every rule.
    """
    hidden: set[str] = set()
    current = data
    for field in program.all_fields():
        if field.show_when is not None and not holds(field.show_when, current, program):
            hidden.add(field.id)
            current = replace(
                current,
                answers={k: v for k, v in current.answers.items() if k not in hidden},
                attachments={k: v for k, v in current.attachments.items() if k not in hidden},
            )
    shown = frozenset(f.id for f in program.all_fields() if f.id not in hidden)
    return Visibility(shown, current)


def answer_value(field_id: str, data: ApplicationData, program: FormShape) -> object:
    """Return a field's answer; for a file field, the number of files uploaded."""
    if program.field(field_id).kind == "file":
        return data.attachment_count(field_id)
    return data.answers.get(field_id)


def _same(answer: object, expected: object) -> bool:
    # True == 1 in Python; an answer of `true` must not match `equals: 1`.
    if isinstance(answer, bool) or isinstance(expected, bool):
        return answer is expected
    return answer == expected


def matches(answer: object, expected: object) -> bool:
    """Compare an answer with a value; a list answer (multi_choice) matches if it contains it."""
    if isinstance(answer, list | tuple):
        return any(_same(item, expected) for item in answer)
    return _same(answer, expected)


def _at_least(value: object, minimum: int) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        return value >= minimum
    if isinstance(value, list | tuple):
        return len(value) >= minimum
    return False


def show(value: object) -> str:
    """Write a YAML value the way an author would type it (true, 3, "text")."""
    return json.dumps(value, ensure_ascii=False)


def value_problem(field: Mapping[str, object], value: object, choices: Sequence[str] | None) -> str:
    """Explain why `value` can never match an answer of the (raw) field; "" when it can."""
    kind, name = field.get("kind"), field.get("id")
    if kind in ("file", "partners", "consortium", "budget_lines"):
        return f"a {kind} field has no single answer to compare; use at_least"
    expected = _ANSWER_TYPES.get(str(kind), str)
    if type(value) is not expected:
        return (
            f"{show(value)} can never match field {name!r}: {kind} answers are "
            f'{_TYPE_WORDS[expected]} (quote a text such as "yes" to keep it a text)'
        )
    if choices is not None and value not in choices:
        return f"{show(value)} is not a choice of field {name!r} (choices: {', '.join(choices)})"
    return ""


def condition_problems(
    loc: Loc,
    raw: object,
    fields: Mapping[str, Mapping[str, object]],
    choices_of: Callable[[Mapping[str, object]], Sequence[str] | None],
) -> list[tuple[Loc, str]]:
    """Check a raw condition's field references and compared values (before, or despite, the
    schema: they are reported together with schema errors).
    """
    problems: list[tuple[Loc, str]] = []
    for node_loc, node in _raw_nodes(loc, raw):
        name = node.get("field")
        if isinstance(name, str):
            problems += _field_problems(node_loc, node, fields.get(name), fields, choices_of)
    return problems


def referenced_fields(loc: Loc, raw: object) -> list[tuple[Loc, str]]:
    """Every field a raw condition names, with the location of its `field` key."""
    return [
        ((*node_loc, "field"), node["field"])
        for node_loc, node in _raw_nodes(loc, raw)
        if isinstance(node.get("field"), str)
    ]


def _raw_nodes(loc: Loc, raw: object) -> Iterator[tuple[Loc, Mapping[str, object]]]:
    """Walk a raw condition tree (all, any, not), yielding each mapping with its location."""
    if not isinstance(raw, Mapping):
        return
    yield loc, raw
    for key in ("all", "any"):
        items = raw.get(key)
        for index, item in enumerate(items if isinstance(items, list) else []):
            yield from _raw_nodes((*loc, key, index), item)
    yield from _raw_nodes((*loc, "not"), raw.get("not"))


def _field_problems(
    loc: Loc,
    raw: Mapping[str, object],
    field: Mapping[str, object] | None,
    fields: Mapping[str, Mapping[str, object]],
    choices_of: Callable[[Mapping[str, object]], Sequence[str] | None],
) -> list[tuple[Loc, str]]:
    """Check one `{field: ..., <operator>: ...}` node against the field it names."""
    if field is None:
        return [((*loc, "field"), unknown_field(str(raw.get("field")), fields))]
    problems: list[tuple[Loc, str]] = []
    compared = [((*loc, "equals"), raw["equals"])] if "equals" in raw else []
    values = raw.get("in") if isinstance(raw.get("in"), list) else []
    compared += [((*loc, "in", i), value) for i, value in enumerate(values)]
    for value_loc, value in compared:
        if value is not None and (message := value_problem(field, value, choices_of(field))):
            problems.append((value_loc, message))
    if "at_least" in raw and field.get("kind") not in COUNTABLE_KINDS:
        kinds = ", ".join(sorted(COUNTABLE_KINDS))
        problems.append(((*loc, "at_least"), f"at_least needs a field of kind {kinds}"))
    return problems


def unknown_field(name: str, fields: Mapping[str, object]) -> str:
    """Word an unknown field reference, suggesting the closest field id."""
    close = difflib.get_close_matches(name, list(fields), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown field {name!r}{hint}"
