"""render_pdf: every PDF the app makes (review packets, PDF/A-3 audit records) comes from here.

The web app, the CLI and background jobs call it alike; it imports neither Flask nor
WeasyPrint. The work happens in a sandboxed child running weasy.py: a warm one of this
process's pool (pool.py), or a fresh one (sandbox.run_limited) when the pool's size is 0 or
the render asks for more memory than a pool child's ceiling.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grants.rendering.fonts import require_japanese_font
from grants.rendering.limits import render_seconds
from grants.rendering.pool import shared_pool
from grants.rendering.sandbox import run_limited
from grants.rendering.spec import DocumentInfo, EmbeddedFile, RenderJob, RenderResult

RENDERER = "grants.rendering.weasy:render_job"


def render_pdf(
    html: str,
    *,
    static_dir: Path,
    pdf_variant: str | None = None,
    attachments: Sequence[EmbeddedFile] = (),
    metadata: DocumentInfo | None = None,
    stylesheets: Sequence[str] = (),
    timeout_s: float | None = None,
    memory_mb: int = 1024,
) -> RenderResult:
    """Render ``html`` to PDF bytes in a child limited to ``timeout_s`` and ``memory_mb``.

    Relative URLs resolve in ``static_dir``, the only place anything is read from; refused
    URLs come back in the result. ``stylesheets`` are CSS texts (e.g. BASE_CSS), never file
    names. ``pdf_variant`` is WeasyPrint's name ("pdf/a-3u", "pdf/a-3b", ...); ``attachments``
    become embedded files (PDF/A-3 associated files when the variant is PDF/A-3).
    ``timeout_s`` defaults to the limit of where the render runs (limits.render_seconds).

    Raises MissingJapaneseFont, RenderTimeout, RenderFailed; ValueError for bad arguments.
    """
    require_japanese_font()
    static_dir = Path(static_dir).resolve()
    if not static_dir.is_dir():
        raise ValueError(f"static_dir is not a directory: {static_dir}")
    job = RenderJob(
        html=html,
        static_dir=static_dir,
        stylesheets=tuple(stylesheets),
        pdf_variant=pdf_variant,
        attachments=tuple(attachments),
        metadata=metadata,
    )
    timeout_s = render_seconds() if timeout_s is None else timeout_s
    pool = shared_pool()
    if pool is None or memory_mb > pool.memory_mb:
        result: RenderResult = run_limited(RENDERER, job, timeout_s=timeout_s,
                                           memory_mb=memory_mb)
    else:
        result = pool.run(RENDERER, job, timeout_s=timeout_s, memory_mb=memory_mb)
    return result
