"""Load program definitions: YAML with line numbers, schema errors mapped to file:line:field, and
the cross-reference checks the schema alone cannot make.

Loading reports every problem of a file in one pass (see `parse_program`). The models are in
`grants.domain.definitions`, which also re-exports `parse_program` and `load_program_file`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from grants.domain import definitions
from grants.domain.conditions import Loc, condition_problems, show, unknown_field, value_problem
from grants.domain.definitions import FIELD_KINDS, RULE_KINDS, Program
from grants.domain.errors import DefinitionError, DefinitionErrors, explain


def load_program_file(path: str | Path) -> Program:
    """Load and validate `programs/<id>.yaml`; the program id must equal the file-name stem.

    Raises:
        DefinitionErrors: every problem in the file, each with file, line and field.
        OSError: the file cannot be read.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")  # not read_text(): keep the bytes definition_sha256 hashes
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        error = DefinitionError(str(path), line, "", "the file is not valid UTF-8")
        raise DefinitionErrors([error]) from None
    return parse_program(text, str(path), expected_id=path.stem)


def parse_program(text: str, filename: str, *, expected_id: str | None = None) -> Program:
    """Validate a program definition given as text; `filename` names it in error reports.

    Every problem is collected before raising: YAML duplicate keys, schema errors and cross
    references (which run on the raw data, so they are reported even when the schema fails).

    Args:
        text: the YAML text.
        filename: shown in each error, e.g. "programs/ict-kizuna-2010.yaml".
        expected_id: when given (the file-name stem), the program's `id` must equal it.

    Raises:
        DefinitionErrors: every problem, each with file, line and dotted field path.
    """
    try:
        root, data, problems = _compose(text)
    except yaml.YAMLError as exc:
        line, problem = _yaml_problem(exc, text)
        error = DefinitionError(filename, line, "", f"YAML syntax error: {problem}")
        raise DefinitionErrors([error]) from None
    if root is None:
        raise DefinitionErrors([DefinitionError(filename, 1, "", "the file is empty")])
    program = None
    try:
        program = Program.model_validate(data)
    except ValidationError as exc:
        problems += [
            _Problem(*explain(e, known_keys=_KNOWN_KEYS, kinds_by_list=_KINDS_BY_LIST))
            for e in _without_echoes(exc.errors(include_url=False))
        ]
    problems += [_Problem(loc, msg) for loc, msg in _References(data, root).problems()]
    if expected_id is not None and isinstance(data, dict) and data.get("id") != expected_id:
        problems.append(_Problem(("id",), f"must equal the file name: expected {expected_id!r}"))
    if problems or program is None:
        raise DefinitionErrors([p.error(filename, root) for p in problems])
    return program


def _without_echoes(errors: list[Any]) -> list[Any]:
    """Drop "too short" errors on a list whose items already failed: pydantic counts only the
    items that validated, so a list with one bad item would also be reported as empty.
    """

    def inside(error: Any, container: Any) -> bool:
        return error is not container and error["loc"][: len(container["loc"])] == container["loc"]

    return [
        e
        for e in errors
        if e["type"] != "too_short" or not any(inside(other, e) for other in errors)
    ]


# --- YAML: node tree, lines, duplicate keys -------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe loader that keeps timestamps as text: the schema parses dates itself."""


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


class _Problem:
    """A problem found while loading: a location in the data, or an explicit line."""

    def __init__(self, loc: Loc, message: str, line: int | None = None) -> None:
        self.loc, self.message, self.line = loc, message, line

    def error(self, filename: str, root: yaml.Node) -> DefinitionError:
        line, path = _locate(root, self.loc)
        return DefinitionError(filename, self.line or line, path, self.message)


def _compose(text: str) -> tuple[yaml.Node | None, object, list[_Problem]]:
    """Compose the node tree (for lines), then build plain data from it with the safe loader."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None, []
        return root, loader.construct_document(root), _duplicate_keys(root)
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.YAMLError, text: str) -> tuple[int, str]:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return mark.line + 1, str(getattr(exc, "problem", None) or exc)
    position = getattr(exc, "position", None)  # ReaderError: a character YAML refuses
    line = text[:position].count("\n") + 1 if isinstance(position, int) else 1
    return line, str(exc)


def _duplicate_keys(root: yaml.Node) -> list[_Problem]:
    """Find keys repeated in one mapping: PyYAML would silently keep only the last one."""
    problems: list[_Problem] = []
    stack: list[tuple[yaml.Node, Loc]] = [(root, ())]
    visited: set[int] = set()  # aliases share nodes; visit each once
    while stack:
        node, loc = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                name, line = str(key.value), key.start_mark.line + 1
                if name in first:
                    message = f"duplicate key {name!r} (first at line {first[name]})"
                    problems.append(_Problem((*loc, name), message, line))
                first.setdefault(name, line)
                stack.append((value, (*loc, name)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*loc, i)) for i, item in enumerate(node.value))
    return problems


def _locate(root: yaml.Node, loc: Loc) -> tuple[int, str]:
    """Return the line of the deepest node on `loc`, and `loc` as a dotted path.

    A key's own line is used (not its value's), so a block value still points at its key.
    Discriminator tags pydantic puts in `loc` (a field's or rule's kind) are skipped.
    """
    node: yaml.Node | None = root
    line, parts = root.start_mark.line + 1, []
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pairs = [(k, v) for k, v in node.value if str(k.value) == str(part)]
            if not pairs and _kind_of(node) == part:
                continue
            node = pairs[-1][1] if pairs else None
            line = pairs[-1][0].start_mark.line + 1 if pairs else line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if 0 <= part < len(node.value) else None
            line = node.start_mark.line + 1 if node is not None else line
        else:
            node = None
        parts.append(part)
    return line, _dotted(parts)


def _kind_of(node: yaml.MappingNode) -> object:
    return next((v.value for k, v in node.value if k.value == "kind"), None)


def _dotted(parts: Sequence[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


# --- cross references (on the raw data, so they show up alongside schema errors) -----------

_NEEDS_FIELD = {
    "min_local_governments": "partners",
    "amount_cap": "budget_lines",
    "category_share": "budget_lines",
    "forbidden_acquisition": "budget_lines",
}


def _items(container: object, key: str, loc: Loc = ()) -> list[tuple[Loc, Mapping[str, Any]]]:
    value = container.get(key) if isinstance(container, Mapping) else None
    if not isinstance(value, list):
        return []
    return [((*loc, key, i), item) for i, item in enumerate(value) if isinstance(item, Mapping)]


class _References:
    """Check what the schema alone cannot: unique ids, and that every reference resolves."""

    def __init__(self, data: object, root: yaml.Node) -> None:
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        self.root = root
        self.steps = _items(self.data, "steps")
        self.fields = [f for loc, step in self.steps for f in _items(step, "fields", loc)]
        self.by_id: dict[str, Mapping[str, Any]] = {}
        for _, field in self.fields:
            self.by_id.setdefault(str(field.get("id")), field)
        self.kinds = {field.get("kind") for _, field in self.fields}
        self.rules = _items(self.data, "rules")
        self.categories = _items(self.data.get("budget"), "categories", ("budget",))

    def problems(self) -> list[tuple[Loc, str]]:
        return [
            *self._duplicates(),
            *self._field_problems(),
            *self._rule_problems(),
            *self._condition_problems(),
            *self._quota_problems(),
        ]

    def _line(self, loc: Loc) -> int:
        return _locate(self.root, loc)[0]

    def _ids(self, key: str) -> list[str]:
        return [str(item.get("id")) for _, item in _items(self.data, key)]

    def _duplicates(self) -> list[tuple[Loc, str]]:
        def ids(entries: list[tuple[Loc, Mapping[str, Any]]], key: str = "id") -> list:
            return [((*loc, key), item.get(key)) for loc, item in entries]

        rules = [((*loc, "id"), r.get("id", f"{r.get('kind')}-{loc[-1]}")) for loc, r in self.rules]
        groups = [
            ("step", ids(self.steps)),
            ("field", ids(self.fields)),
            ("rule", rules),
            ("category", ids(self.categories)),
            *((key, ids(_items(self.data, key))) for key in _LISTS_WITH_IDS),
            ("quota track", ids(_items(self.data.get("call"), "quotas", ("call",)), "track")),
            *(("choice", ids(_items(f, "choices", loc), "value")) for loc, f in self.fields),
        ]
        problems = []
        for what, entries in groups:
            first: dict[object, Loc] = {}
            for loc, value in entries:
                if isinstance(value, str | int) and value in first:
                    line = self._line(first[value])
                    problems.append((loc, f"duplicate {what} {show(value)} (first at line {line})"))
                first.setdefault(value, loc)
        return problems

    def _field_problems(self) -> list[tuple[Loc, str]]:
        problems, single = [], {}
        for loc, field in self.fields:
            kind, source = field.get("kind"), field.get("choices_from")
            if source in ("tracks", "fields_of_use") and not _items(self.data, source):
                problems.append(((*loc, "choices_from"), f"needs a non-empty `{source}` list"))
            if kind in ("partners", "budget_lines") and kind in single:
                message = (
                    f"only one {kind} field is allowed (first at line {self._line(single[kind])})"
                )
                problems.append(((*loc, "kind"), message))
            single.setdefault(kind, loc)
        if "budget_lines" in single and not self.categories:
            message = "a budget_lines field needs at least one budget category (budget.categories)"
            problems.append(((*single["budget_lines"], "kind"), message))
        if _items(self.data, "tracks") and not any(
            f.get("choices_from") == "tracks" and f.get("kind") == "choice" for _, f in self.fields
        ):
            problems.append((("tracks",), "tracks need a choice field with `choices_from: tracks`"))
        return problems

    def _rule_problems(self) -> list[tuple[Loc, str]]:
        problems: list[tuple[Loc, str]] = []
        categories = {str(c.get("id")) for _, c in self.categories}
        for loc, rule in self.rules:
            kind = rule.get("kind")
            if kind == "required_attachment":
                problems += self._reference(loc, rule, "field", {"file"})
            elif kind == "required_answer":
                problems += self._reference(loc, rule, "field", None)
                field = self.by_id.get(str(rule.get("field")))
                message = field and value_problem(field, rule.get("equals"), self._choices(field))
                if message and "equals" in rule:
                    problems.append(((*loc, "equals"), message))
            elif kind == "amount_cap":
                problems += self._case_problems(loc, rule)
            values = rule.get("categories")
            for i, category in enumerate(values if isinstance(values, list) else []):
                if isinstance(category, str) and category not in categories:
                    message = f"unknown budget category {category!r}"
                    problems.append(((*loc, "categories", i), message))
            needed = _NEEDS_FIELD.get(str(kind))
            if needed and needed not in self.kinds:
                problems.append(((*loc, "kind"), f"a rule of kind {kind} needs a {needed} field"))
        return problems

    def _case_problems(self, loc: Loc, rule: Mapping[str, Any]) -> list[tuple[Loc, str]]:
        problems, default_seen = [], False
        for case_loc, case in _items(rule, "cases", loc):
            if default_seen:
                message = "this case is never used: an earlier case has no `when`"
                problems.append((case_loc, message))
            default_seen = default_seen or "when" not in case
            problems += self._reference(case_loc, case, "unit_field", {"number"})
        return problems

    def _reference(
        self, loc: Loc, owner: Mapping[str, Any], key: str, kinds: set[str] | None
    ) -> list[tuple[Loc, str]]:
        name = owner.get(key)
        if not isinstance(name, str):
            return []
        field = self.by_id.get(name)
        if field is None:
            return [((*loc, key), unknown_field(name, self.by_id))]
        if kinds and field.get("kind") not in kinds:
            expected = " or ".join(sorted(kinds))
            return [((*loc, key), f"field {name!r} is a {field.get('kind')} field, not {expected}")]
        return []

    def _choices(self, field: Mapping[str, Any]) -> list[str] | None:
        if field.get("kind") not in ("choice", "multi_choice"):
            return None
        source = field.get("choices_from")
        if source in ("tracks", "fields_of_use"):
            return self._ids(source)
        return [str(c.get("value")) for _, c in _items(field, "choices")]

    def _condition_problems(self) -> list[tuple[Loc, str]]:
        roots = [((*loc, "show_when"), f.get("show_when")) for loc, f in self.fields]
        roots += [((*loc, "when"), r.get("when")) for loc, r in self.rules]
        roots += [
            ((*loc, "when"), case.get("when"))
            for rule_loc, rule in self.rules
            for loc, case in _items(rule, "cases", rule_loc)
        ]
        return [
            problem
            for loc, raw in roots
            for problem in condition_problems(loc, raw, self.by_id, self._choices)
        ]

    def _quota_problems(self) -> list[tuple[Loc, str]]:
        tracks = set(self._ids("tracks"))
        return [
            ((*loc, "track"), f"unknown track {quota.get('track')!r}")
            for loc, quota in _items(self.data.get("call"), "quotas", ("call",))
            if isinstance(quota.get("track"), str) and quota.get("track") not in tracks
        ]


_LISTS_WITH_IDS = ("tracks", "fields_of_use", "eligibility_questions")
_KINDS_BY_LIST = {"fields": FIELD_KINDS, "rules": RULE_KINDS}


def _schema_keys() -> frozenset[str]:
    """Collect every key of the schema, to tell a typo from a key used in the wrong place."""
    keys = {"ja", "en"}
    for model in [m for m in list(vars(definitions).values()) if isinstance(m, type)]:
        if not issubclass(model, BaseModel):
            continue
        keys |= {info.alias or name for name, info in model.model_fields.items()}
    return frozenset(keys)


_KNOWN_KEYS = _schema_keys()
