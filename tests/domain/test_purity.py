"""The domain package stays pure: no Flask, no SQLAlchemy, so its tests need no app and no DB."""

from __future__ import annotations

import ast
import importlib
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
