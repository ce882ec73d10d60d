"""The checks of a program definition the schema alone cannot make: unique ids, references that
resolve, conditions that can match, `show_when`s without cycles.

They run on the raw YAML data, so `definitions.parse_program` reports them together with the
schema errors; they need no model, so this module sits below `definitions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from grants.domain.conditions import (
    condition_problems,
    referenced_fields,
    show,
    unknown_field,
    value_problem,
)
from grants.domain.errors import DefinitionError, Loc
from grants.domain.yaml_documents import compose, items, locate


def program_references(data: object, root: yaml.Node) -> list[tuple[Loc, str]]:
    """Every cross-reference problem of a raw program, located in the data."""
    return _References(data, root).problems()


def program_warnings(text: str, filename: str) -> list[DefinitionError]:
    """What a valid program says but likely does not mean: `closes` is exclusive, so a call
    closing at 23:59 refuses submissions in its last minute.
    """
    root, data = compose(text)
    call = data.get("call") if isinstance(data, Mapping) else None
    closes = call.get("closes") if isinstance(call, Mapping) else None
    if not (isinstance(closes, str) and closes.strip().endswith("23:59")):
        return []
    line, path = locate(root, ("call", "closes"))
    message = ("warning: `closes` is exclusive, so 23:59 refuses submissions from 23:59:00; "
               "write the next day's 00:00 to keep the whole day")
    return [DefinitionError(filename, line, path, message)]


_NEEDS_FIELD = {
    "min_local_governments": "partners",
    "consortium_local_governments": "consortium",
    "amount_cap": "budget_lines",
    "category_share": "budget_lines",
    "forbidden_acquisition": "budget_lines",
}


class _References:
    """Check what the schema alone cannot: unique ids, and that every reference resolves."""

    def __init__(self, data: object, root: yaml.Node) -> None:
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        self.root = root
        self.steps = items(self.data, "steps")
        self.fields = [f for loc, step in self.steps for f in items(step, "fields", loc)]
        self.by_id: dict[str, Mapping[str, Any]] = {}
        for _, field in self.fields:
            self.by_id.setdefault(str(field.get("id")), field)
        self.kinds = {field.get("kind") for _, field in self.fields}
        self.rules = items(self.data, "rules")
        self.categories = items(self.data.get("budget"), "categories", ("budget",))

    def problems(self) -> list[tuple[Loc, str]]:
        return [
            *self._duplicates(),
            *self._field_problems(),
            *self._rule_problems(),
            *self._condition_problems(),
            *self._show_when_cycles(),
            *self._quota_problems(),
            *self._post_award_problems(),
        ]

    def _line(self, loc: Loc) -> int:
        return locate(self.root, loc)[0]

    def _ids(self, key: str) -> list[str]:
        return [str(item.get("id")) for _, item in items(self.data, key)]

    def _duplicates(self) -> list[tuple[Loc, str]]:
        def ids(entries: list[tuple[Loc, Mapping[str, Any]]], key: str = "id") -> list:
            return [((*loc, key), item.get(key)) for loc, item in entries]

        rules = [((*loc, "id"), r.get("id", f"{r.get('kind')}-{loc[-1]}")) for loc, r in self.rules]
        groups = [
            ("step", ids(self.steps)),
            ("field", ids(self.fields)),
            ("rule", rules),
            ("category", ids(self.categories)),
            *((key, ids(items(self.data, key))) for key in _LISTS_WITH_IDS),
            ("quota track", ids(items(self.data.get("call"), "quotas", ("call",)), "track")),
            *(("choice", ids(items(f, "choices", loc), "value")) for loc, f in self.fields),
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
            if source in ("tracks", "fields_of_use") and not items(self.data, source):
                problems.append(((*loc, "choices_from"), f"needs a non-empty `{source}` list"))
            if kind in _SINGLE_KINDS and kind in single:
                message = (
                    f"only one {kind} field is allowed (first at line {self._line(single[kind])})"
                )
                problems.append(((*loc, "kind"), message))
            single.setdefault(kind, loc)
        if "budget_lines" in single and not self.categories:
            message = "a budget_lines field needs at least one budget category (budget.categories)"
            problems.append(((*single["budget_lines"], "kind"), message))
        problems += self._consortium_problems(single.get("consortium"))
        if items(self.data, "tracks") and not any(
            f.get("choices_from") == "tracks" and f.get("kind") == "choice" for _, f in self.fields
        ):
            problems.append((("tracks",), "tracks need a choice field with `choices_from: tracks`"))
        return problems

    def _consortium_problems(self, field_loc: Loc | None) -> list[tuple[Loc, str]]:
        """A consortium field and the `consortium` section (who may lead one) go together."""
        has_section = isinstance(self.data.get("consortium"), Mapping)
        if field_loc is not None and not has_section:
            message = "a consortium field needs a `consortium` section saying who may lead one"
            return [((*field_loc, "kind"), message)]
        if field_loc is None and has_section:
            return [(("consortium",), "a `consortium` section needs a field of kind consortium")]
        return []

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
        for case_loc, case in items(rule, "cases", loc):
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
        return [str(c.get("value")) for _, c in items(field, "choices")]

    def _condition_problems(self) -> list[tuple[Loc, str]]:
        roots = [((*loc, "show_when"), f.get("show_when")) for loc, f in self.fields]
        roots += [((*loc, "when"), r.get("when")) for loc, r in self.rules]
        roots += [
            ((*loc, "when"), case.get("when"))
            for rule_loc, rule in self.rules
            for loc, case in items(rule, "cases", rule_loc)
        ]
        return [
            problem
            for loc, raw in roots
            for problem in condition_problems(loc, raw, self.by_id, self._choices)
        ]

    def _show_when_cycles(self) -> list[tuple[Loc, str]]:
        """Refuse a `show_when` that depends on its own field, directly or through other fields:
        whether such a field is shown has no answer.
        """
        needs: dict[str, list[tuple[Loc, str]]] = {}
        for loc, field in self.fields:
            refs = referenced_fields((*loc, "show_when"), field.get("show_when"))
            needs.setdefault(str(field.get("id")), []).extend(
                (ref_loc, name) for ref_loc, name in refs if name in self.by_id
            )
        return [(loc, _cycle_message(cycle)) for loc, cycle in _cycles(needs)]

    def _quota_problems(self) -> list[tuple[Loc, str]]:
        tracks = set(self._ids("tracks"))
        return [
            ((*loc, "track"), f"unknown track {quota.get('track')!r}")
            for loc, quota in items(self.data.get("call"), "quotas", ("call",))
            if isinstance(quota.get("track"), str) and quota.get("track") not in tracks
        ]

    def _post_award_problems(self) -> list[tuple[Loc, str]]:
        """The completion report shows the application's targets beside the results: the jobs
        target must be a number field, each KPI target a field whose answer reads as text."""
        section = self.data.get("post_award")
        if not isinstance(section, Mapping):
            return []
        problems = self._reference(("post_award",), section, "jobs_target_field", {"number"})
        kpis = section.get("kpi_fields")
        for i, name in enumerate(kpis if isinstance(kpis, list) else []):
            loc = ("post_award", "kpi_fields", i)
            field = self.by_id.get(name) if isinstance(name, str) else None
            if isinstance(name, str) and field is None:
                problems.append((loc, unknown_field(name, self.by_id)))
            elif field is not None and field.get("kind") in _ROWS_AND_FILES:
                problems.append((loc, f"field {name!r} is a {field.get('kind')} field: a KPI "
                                      "target is an answer shown as text, not rows or files"))
        return problems


_ROWS_AND_FILES = frozenset({"file", "partners", "consortium", "budget_lines"})
_LISTS_WITH_IDS = ("tracks", "fields_of_use", "eligibility_questions")
_SINGLE_KINDS = ("partners", "consortium", "budget_lines")  # at most one field of each


def _cycles(needs: Mapping[str, list[tuple[Loc, str]]]) -> list[tuple[Loc, list[str]]]:
    """Find the cycles among `show_when`s in one depth-first walk, each at the reference that
    closes it; iterative, so a long chain of fields cannot exhaust Python's stack.
    """
    state: dict[str, bool] = {}  # True while on the current path, False once done
    found: list[tuple[Loc, list[str]]] = []
    for start in needs:
        if start in state:
            continue
        path, pending = [start], [iter(needs[start])]
        state[start] = True
        while pending:
            for ref_loc, name in pending[-1]:
                if state.get(name):
                    found.append((ref_loc, path[path.index(name) :]))
                elif name not in state:
                    state[name] = True
                    path.append(name)
                    pending.append(iter(needs.get(name, [])))
                    break
            else:
                state[path.pop()] = False
                pending.pop()
    return found


def _cycle_message(cycle: list[str]) -> str:
    if len(cycle) == 1:
        return f"field {cycle[0]!r} cannot be shown depending on its own answer"
    chain = " → ".join([*cycle, cycle[0]])
    return f"show_when forms a cycle: {chain} (each field waits on the next to be shown)"
