"""The rendering package serves the web app, the CLI and jobs: no Flask in it, and importing
it loads neither WeasyPrint nor pypdf (the child and append_pdfs load them when needed)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import grants.rendering

PACKAGE = Path(grants.rendering.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))
FORBIDDEN = {"flask", "werkzeug", "sqlalchemy"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_flask_or_database_imports(path):
    assert _imported_roots(path).isdisjoint(FORBIDDEN)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_modules_stay_small(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) < 200


def test_importing_the_package_loads_no_renderer():
    code = (
        "import sys, grants.rendering\n"
        "from grants.rendering import render_pdf, BASE_CSS\n"
        "loaded = {m.split('.')[0] for m in sys.modules} & {'weasyprint', 'pypdf', 'flask'}\n"
        "assert not loaded, loaded\n"
        "from grants.rendering import append_pdfs\n"
        "assert 'pypdf' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
