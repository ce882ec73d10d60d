"""Domain errors, and the wording of definition problems.

Errors are raised by pure code and mapped to HTTP (or CLI output) by the layers above.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class DomainError(Exception):
    """Base class of every error the domain raises on purpose."""


@dataclass(frozen=True)
class DefinitionError:
    """One problem in a definition file, located by line and dotted field path."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        if self.field:
            return f"{self.file}:{self.line}: {self.field}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


class DefinitionErrors(DomainError):
    """Every problem found in a definition file, in one pass (sorted by line)."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.file, e.line, e.field))
        super().__init__("\n".join(str(e) for e in self.errors))


Loc = tuple[str | int, ...]  # a place in a definition's data: keys and list indexes

_WORDS = {
    "missing": "required key is missing",
    "missing_keyword_argument": "required key is missing",
    "string_type": "expected a text",
    "string_too_short": "must not be empty",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
    "dict_type": "expected a mapping (key: value lines)",
    "dataclass_type": "expected a text in both languages: {ja: ..., en: ...}",
    "dataclass_exact_type": "expected a text in both languages: {ja: ..., en: ...}",
}
_SCALARS = (str, int, float, bool, type(None))
_ECHO_CHARS = 80


def explain(
    error: Mapping[str, Any],
    *,
    known_keys: Collection[str],
    kinds_by_list: Mapping[str, Sequence[str]],
) -> tuple[Loc, str]:
    """Turn one pydantic error (from `ValidationError.errors()`) into a location and a message
    a program author can act on.

    Args:
        error: the pydantic error dict (type, loc, msg, input, ctx).
        known_keys: every key of the schema, to tell a typo from a key used in the wrong place.
        kinds_by_list: the kinds allowed in each discriminated list ("fields", "rules").
    """
    kind, loc = error["type"], tuple(error["loc"])
    ctx, value = error.get("ctx") or {}, error.get("input")
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return loc, _unknown_key(loc, known_keys, kinds_by_list)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        owner = next((p for p in reversed(loc) if isinstance(p, str)), "")
        expected = ", ".join(kinds_by_list.get(owner, ()))
        noun = owner.removesuffix("s")
        if kind == "union_tag_not_found":
            return (*loc, "kind"), f"missing `kind` (expected one of {expected})"
        tag = ctx.get("tag")
        return (*loc, "kind"), f"unknown {noun} kind {tag!r} (expected one of {expected})"
    if kind in ("int_type", "int_parsing") and str(loc[-1] if loc else "").endswith("_yen"):
        message = "expected an amount in whole yen written as a plain integer, e.g. 100000000"
    elif kind in _WORDS:
        message = _WORDS[kind]
    elif kind in ("literal_error", "enum"):
        message = f"must be one of {ctx.get('expected')}"
    elif kind == "string_pattern_mismatch":
        message = f"is not a valid id (expected the pattern {ctx.get('pattern')})"
    elif kind == "too_short":
        message = f"needs at least {ctx.get('min_length')} item(s)"
    elif kind in ("greater_than_equal", "greater_than"):
        message = f"must be at least {ctx.get('ge', ctx.get('gt'))}"
    elif kind in ("less_than_equal", "less_than"):
        message = f"must be at most {ctx.get('le', ctx.get('lt'))}"
    else:
        message = str(error.get("msg", kind)).removeprefix("Value error, ")
    if isinstance(value, _SCALARS) and kind not in ("missing", "string_too_short"):
        message += f" (got {_echo(value)})"
    return loc, message


def _echo(value: object) -> str:
    """Quote a wrong value back, cut short: a hostile file could hold a megabyte in one value."""
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= _ECHO_CHARS else f"{shown[:_ECHO_CHARS]}…"


def _unknown_key(
    loc: Loc, known_keys: Collection[str], kinds_by_list: Mapping[str, Sequence[str]]
) -> str:
    key = str(loc[-1]) if loc else ""
    owner_kind = loc[-2] if len(loc) >= 2 else None
    all_kinds = {k for kinds in kinds_by_list.values() for k in kinds}
    if key in known_keys:
        where = f" for kind {owner_kind!r}" if owner_kind in all_kinds else " here"
        return f"key {key!r} is not allowed{where}"
    close = difflib.get_close_matches(key, list(known_keys), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r}{hint}"
