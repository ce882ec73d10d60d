"""The one place that calls WeasyPrint; it runs inside the sandboxed child (see sandbox.py)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.pdf.metadata import DocumentMetadata
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import path2url

from grants.rendering.embedded import EmbeddedFileFinisher, to_attachments
from grants.rendering.fetcher import StaticOnlyFetcher
from grants.rendering.spec import DocumentInfo, RenderJob, RenderResult
from grants.rendering.stylesheet import BASE_CSS

WARM_UP_HTML = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>準備</title>
</head><body><h1>審査記録</h1><p>申請者の事業計画を確認した。</p><p class="yen">1,200,000</p>
<table><tr><th>区分</th><td>人件費</td></tr></table></body></html>"""


def render_job(job: RenderJob) -> RenderResult:
    """Lay out the HTML and write the PDF, every resource fetched by one StaticOnlyFetcher."""
    fetcher = StaticOnlyFetcher(job.static_dir)
    base_url = path2url(str(job.static_dir))  # a directory: ends in "/", relative links join it
    font_config = FontConfiguration()
    html = HTML(string=job.html, base_url=base_url, url_fetcher=fetcher)
    stylesheets = [
        CSS(string=css, base_url=base_url, url_fetcher=fetcher, font_config=font_config)
        for css in job.stylesheets
    ]
    document = html.render(
        font_config=font_config, stylesheets=stylesheets, pdf_variant=job.pdf_variant
    )
    if job.metadata is not None:
        _apply(job.metadata, document.metadata)
    created = (job.metadata and job.metadata.created) or dt.datetime.now(dt.UTC)
    pdf = document.write_pdf(
        pdf_variant=job.pdf_variant,
        attachments=to_attachments(job.attachments, created),
        finisher=EmbeddedFileFinisher(job.attachments),
    )
    return RenderResult(
        pdf=pdf, refused_urls=tuple(fetcher.refused), page_count=len(document.pages)
    )


def warm_up(_job: object = None) -> None:
    """Load WeasyPrint's modules, the Japanese fonts and the PDF/A writer before the first real
    document, by rendering a small one (a pool's children do this when they start). It reads
    nothing: its static directory is an empty one of its own."""
    with tempfile.TemporaryDirectory(prefix="grants-warm-up-") as empty:
        render_job(RenderJob(html=WARM_UP_HTML, static_dir=Path(empty),
                             stylesheets=(BASE_CSS,), pdf_variant="pdf/a-3u"))


def _apply(info: DocumentInfo, metadata: DocumentMetadata) -> None:
    """Given fields win over what WeasyPrint read from <title>, <meta> and <html lang>."""
    if info.title is not None:
        metadata.title = info.title
    if info.author is not None:
        metadata.authors = [info.author]
    if info.subject is not None:
        metadata.description = info.subject
    if info.keywords:
        metadata.keywords = list(info.keywords)
    if info.lang is not None:
        metadata.lang = info.lang
    if info.created is not None:
        metadata.created = metadata.modified = info.created.isoformat(timespec="seconds")
