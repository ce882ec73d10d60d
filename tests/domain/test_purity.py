"""The domain package stays pure: no Flask, no SQLAlchemy, so its tests need no app and no DB."""

from __future__ import annotations

import ast
import importlib
import itertools
from pathlib import Path

import pytest

import grants.domain

DOMAIN = Path(grants.domain.__file__).parent
MODULES = sorted(DOMAIN.rglob("*.py"))
FORBIDDEN = {"flask", "sqlalchemy"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_domain_module_imports_no_flask_or_sqlalchemy(path):
    assert _imported_roots(path).isdisjoint(FORBIDDEN)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_domain_module_imports_cleanly(path):
    relative = path.relative_to(DOMAIN.parent.parent).with_suffix("")
    name = ".".join(relative.parts).removesuffix(".__init__")

    assert importlib.import_module(name).__name__ == name


def test_domain_modules_found():
    assert {"definitions.py", "eligibility.py", "budget.py"} <= {p.name for p in MODULES}


def _domain_imports(path: Path) -> set[str]:
    """The domain modules a module imports anywhere: top level, functions, TYPE_CHECKING."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == "grants.domain":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grants.domain."):
            found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
            found |= {n.split(".")[2] for n in names if n.startswith("grants.domain.")}
    return found


GRAPH = {path.stem: _domain_imports(path) for path in MODULES if path.stem != "__init__"}


def _reaches(start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        for name in GRAPH.get(todo.pop(), set()) - seen:
            if name == goal:
                return True
            seen.add(name)
            todo.append(name)
    return False


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_domain_module_imports_itself_through_others(module):
    """No import circle, not even one hidden in a function or under TYPE_CHECKING."""
    assert not _reaches(module, module)


def test_definition_modules_are_layered_types_first():
    layers = ["errors", "application_data", "conditions", "yaml_documents",
              "program_references", "definitions", "rubrics"]

    for lower, upper in itertools.combinations(layers, 2):
        assert not _reaches(lower, upper), f"{lower} must not depend on {upper}"
    assert _reaches("definitions", "program_references")
    assert _reaches("program_references", "conditions")
