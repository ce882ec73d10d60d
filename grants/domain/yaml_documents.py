"""Parse YAML definitions (programs, rubrics) into pydantic models, every problem reported at
once with file, line and dotted field path.

`parse_document` composes the YAML node tree (for line numbers and duplicate keys), validates
the data against the model, explains each schema error in words an author can act on, and adds
the cross-reference problems the caller's `references` finds on the raw data.

A definition file is untrusted input: the reading and composing here refuse, fast and with
file:line, what could hang or crash the loader (a huge file, YAML aliases, deep nesting, a
number too long for Python to convert, a directory or broken link, bytes that are not UTF-8).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from grants.domain.errors import DefinitionError, DefinitionErrors, Loc, explain

MAX_BYTES = 256 * 1024  # 10 × the largest shipped file; PyYAML reads ~100 KB a second
MAX_DEPTH = 40  # nested mappings and lists; the shipped files reach 9
MAX_NUMBER_CHARS = 30  # an integer's text; Python refuses to convert more than 4300 digits
_TOO_LARGE = "the file is larger than 256 KiB: a definition is a short text"


def read_utf8(path: Path) -> str:
    """Read a definition file's text; anything that is not a readable UTF-8 file of at most
    MAX_BYTES (a directory, a broken link, a pipe that would block) is a DefinitionError.
    """
    if not path.is_file():
        what = "a directory" if path.is_dir() else "not a regular file (a broken link, a pipe?)"
        raise _refused(path, 1, f"{what}: a definition must be a YAML file")
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _refused(path, 1, f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise _refused(path, 1, _TOO_LARGE)
    try:
        return raw.decode("utf-8")  # not read_text(): keep the bytes definition_sha256 hashes
    except UnicodeDecodeError as exc:
        raise _refused(path, raw[: exc.start].count(b"\n") + 1, "the file is not valid UTF-8"
                       ) from None


def _refused(filename: object, line: int, message: str, field: str = "") -> DefinitionErrors:
    return DefinitionErrors([DefinitionError(str(filename), line, field, message)])


Model = TypeVar("Model", bound=BaseModel)


def parse_document(
    text: str,
    filename: str,
    model: type[Model],
    *,
    expected_id: str | None,
    known_keys: Collection[str],
    kinds_by_list: Mapping[str, Sequence[str]],
    references: Callable[[object, yaml.Node], list[tuple[Loc, str]]],
) -> Model:
    """Validate any YAML definition (program, rubric) against `model`, collecting every problem:
    duplicate keys, schema errors, then the `references` checks on the raw data.
    """
    if len(text) > MAX_BYTES:  # text given directly (not read from a file) is bounded too
        raise _refused(filename, 1, _TOO_LARGE)
    try:
        root, data, problems = _compose(text)
    except _Refused as exc:
        raise _refused(filename, exc.line, exc.message, _dotted(exc.loc)) from None
    except yaml.YAMLError as exc:
        line, problem = _yaml_problem(exc, text)
        raise _refused(filename, line, f"YAML syntax error: {problem}") from None
    if root is None:
        raise _refused(filename, 1, "the file is empty")
    document = None
    try:
        document = model.model_validate(data)
    except ValidationError as exc:
        problems += [
            _Problem(*explain(e, known_keys=known_keys, kinds_by_list=kinds_by_list))
            for e in _without_echoes(exc.errors(include_url=False))
        ]
    problems += [_Problem(loc, msg) for loc, msg in references(data, root)]
    if expected_id is not None and isinstance(data, dict) and data.get("id") != expected_id:
        problems.append(_Problem(("id",), f"must equal the file name: expected {expected_id!r}"))
    if problems or document is None:
        raise DefinitionErrors([p.error(filename, root) for p in problems])
    return document


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


class _Refused(yaml.YAMLError):
    """Something the loader will not compose, located by the path of keys to it."""

    def __init__(self, loc: Loc, mark: yaml.Mark, message: str) -> None:
        super().__init__(message)
        self.loc, self.line, self.message = loc, mark.line + 1, message


class _Loader(yaml.SafeLoader):
    """Safe loader that keeps timestamps as text (the schema parses dates itself) and refuses
    aliases, deep nesting and over-long integers while composing, before anything expands them.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._loc: list[str | int] = []  # the keys and indexes down to the node being composed
        self._depth = 0  # counts complex keys too, which have no place in `_loc`

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        step = index.value if isinstance(index, yaml.ScalarNode) else index
        located = parent is not None and isinstance(step, str | int)
        if located:
            self._loc.append(step)
        self._depth += 1
        try:
            return self._compose_checked(parent, index)
        finally:
            self._depth -= 1
            if located:
                self._loc.pop()

    def _compose_checked(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):  # "billion laughs": a few lines, 10⁹ items
            raise _Refused(tuple(self._loc), event.start_mark,
                           f"YAML aliases (*{event.anchor}) are not allowed: write the value out")
        if self._depth > MAX_DEPTH:
            raise _Refused(tuple(self._loc), event.start_mark,
                           f"nested more than {MAX_DEPTH} levels deep")
        node = super().compose_node(parent, index)
        if node.tag == "tag:yaml.org,2002:int" and len(node.value) > MAX_NUMBER_CHARS:
            raise _Refused(tuple(self._loc), node.start_mark,
                           f"a number longer than {MAX_NUMBER_CHARS} characters")
        return node


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


class _Problem:
    """A problem found while loading: a location in the data, or an explicit line."""

    def __init__(self, loc: Loc, message: str, line: int | None = None) -> None:
        self.loc, self.message, self.line = loc, message, line

    def error(self, filename: str, root: yaml.Node) -> DefinitionError:
        line, path = locate(root, self.loc)
        return DefinitionError(filename, self.line or line, path, self.message)


def compose(text: str) -> tuple[yaml.Node, object]:
    """Compose a definition that already loaded, for checks made after loading (warnings)."""
    root, data, _ = _compose(text)
    if root is None:
        raise ValueError("compose() is for a definition that loaded")
    return root, data


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
    while stack:  # no aliases, so a tree: each node is visited once
        node, loc = stack.pop()
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


def locate(root: yaml.Node, loc: Loc) -> tuple[int, str]:
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


def items(container: object, key: str, loc: Loc = ()) -> list[tuple[Loc, Mapping[str, Any]]]:
    value = container.get(key) if isinstance(container, Mapping) else None
    if not isinstance(value, list):
        return []
    return [((*loc, key, i), item) for i, item in enumerate(value) if isinstance(item, Mapping)]


def schema_keys(module: object) -> frozenset[str]:
    """Collect every key of a schema module's models, to tell a typo from a misplaced key."""
    keys = {"ja", "en"}
    for model in [m for m in list(vars(module).values()) if isinstance(m, type)]:
        if not issubclass(model, BaseModel):
            continue
        keys |= {info.alias or name for name, info in model.model_fields.items()}
    return frozenset(keys)
