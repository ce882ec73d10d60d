"""Fixtures for the rendering tests: a static directory with traps around it, a silent local
HTTP server. No app and no database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rendering.helpers import SilentServer

STATIC_CSS = '.from-static::after { content: "STATIC-CSS-OK"; }\n'


@pytest.fixture(scope="session")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """static/ with stylesheets, a folder and symlinks in and out; a secret beside it."""
    root = tmp_path_factory.mktemp("site")
    (root / "secret.txt").write_text("TOP-SECRET", encoding="utf-8")
    static = root / "static"
    (static / "css").mkdir(parents=True)
    (static / "grants-pdf.css").write_text(STATIC_CSS, encoding="utf-8")
    (static / "css" / "nested.css").write_text(
        '.nested::after { content: "NESTED-CSS-OK"; }\n', encoding="utf-8"
    )
    (static / "leak.css").symlink_to(root / "secret.txt")
    (static / "alias.css").symlink_to(static / "grants-pdf.css")
    return static


@pytest.fixture
def http_server() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server
