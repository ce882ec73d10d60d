"""Render a document template through the sandboxed renderer, with the app's static files."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template

from grants.rendering import BASE_CSS, EmbeddedFile, render_pdf

PDF_CSS = """
.pdf-program, .pdf-reference, .pdf-hash { visibility: hidden; position: absolute; margin: 0; }
.cover { break-after: page; }
.cover .kicker { font-size: 12pt; color: #555; margin-top: 30mm; }
.cover h1 { font-size: 22pt; margin-bottom: 10mm; }
.cover-facts dt { font-weight: bold; margin-top: 2mm; }
.cover-facts dd { margin: 0 0 1mm 0; }
h1.section { break-before: page; }
.hash { font-family: "Noto Sans Mono CJK JP", monospace; font-size: 7.5pt;
        overflow-wrap: anywhere; }
.note { color: #444; font-size: 9pt; }
.answer-text { white-space: pre-wrap; }
dt { font-weight: bold; }
dd { margin: 0 0 2mm 4mm; }
.answers h2 { border-bottom: 0.5pt solid #999; }
"""


def render(template: str, *, pdf_variant: str | None = None,
           attachments: tuple[EmbeddedFile, ...] = (), **context: object) -> bytes:
    """Render templates/pdf/<template> to PDF; only the app's static folder can be read."""
    html = render_template(template, **context)
    static = Path(current_app.static_folder or "static")
    result = render_pdf(html, static_dir=static, pdf_variant=pdf_variant,
                        attachments=attachments, stylesheets=(BASE_CSS, PDF_CSS))
    return result.pdf
