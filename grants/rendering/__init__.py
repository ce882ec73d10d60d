"""Every PDF the app makes: HTML rendered by WeasyPrint in a sandboxed child process.

Used by the web app, the CLI and background jobs alike, so nothing here imports Flask, and
importing the package loads neither WeasyPrint nor pypdf (the child and ``append`` do).

- ``render_pdf`` (render.py): HTML to PDF, PDF/A-3 with embedded files, limits on time and memory;
- ``within_request`` (limits.py): the short time limit of renders inside a web request;
- ``append_pdfs``, ``appendable`` (append.py): applicants' PDFs after a generated packet;
- ``BASE_CSS`` (stylesheet.py): A4 pages with running heads, page numbers and the record hash;
- ``StaticOnlyFetcher`` (fetcher.py): the URL policy, applied inside the child.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grants.rendering.errors import MissingJapaneseFont, RenderError, RenderFailed, RenderTimeout
from grants.rendering.fonts import require_japanese_font
from grants.rendering.limits import within_request
from grants.rendering.render import render_pdf
from grants.rendering.spec import DocumentInfo, EmbeddedFile, RenderResult
from grants.rendering.stylesheet import BASE_CSS

if TYPE_CHECKING:
    from grants.rendering.append import AppendResult, SkippedPdf, append_pdfs, appendable

__all__ = [
    "BASE_CSS",
    "AppendResult",
    "DocumentInfo",
    "EmbeddedFile",
    "MissingJapaneseFont",
    "RenderError",
    "RenderFailed",
    "RenderResult",
    "RenderTimeout",
    "SkippedPdf",
    "append_pdfs",
    "appendable",
    "render_pdf",
    "require_japanese_font",
    "within_request",
]


def __getattr__(name: str) -> Any:
    """Load append.py (and pypdf) on first use: the render child never needs it."""
    if name in ("AppendResult", "SkippedPdf", "append_pdfs", "appendable"):
        from grants.rendering import append

        return getattr(append, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
