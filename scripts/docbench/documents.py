"""How long one document takes: ours (``review_packet_pdf``, ``audit_record_pdf``) against
the same HTML through the sandboxed renderer alone and through WeasyPrint alone, in-process.

"Ours" is everything an officer's or auditor's click costs: gathering the data, the template,
a sandboxed child that lays out and writes the PDF, and for the packet the applicant's PDFs
appended. Each is timed with a warm renderer of the process's pool (the default) and with a
fresh child per document (GRANTS_RENDERER_POOL=0: a new interpreter importing WeasyPrint and
loading the fonts every time). The HTML each one renders (and, for the record, its PDF/A-3u
variant and embedded files) is captured from a real call, and re-rendered with Flask's
``render_template`` from the same context to check it is the same text. WeasyPrint alone gets
that HTML, BASE_CSS + PDF_CSS and the same attachments, with our URL fetcher and without our
finisher.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, render_template

from docbench.instance import Instance
from docbench.seed import Seeded
from grants.documents import rendering
from grants.documents.packet import review_packet_pdf
from grants.documents.record import audit_record_pdf
from grants.models import Application, User
from grants.rendering import BASE_CSS, limits, render_pdf
from tests.conftest import NOW


@dataclass(frozen=True)
class Timing:
    document: str
    method: str
    seconds: list[float]
    size: int  # bytes of the last PDF

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p90(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[max(0, -(-len(ordered) * 9 // 10) - 1)]  # nearest rank


@contextlib.contextmanager
def capturing() -> Iterator[dict[str, Any]]:
    """Record the template, its context, the HTML and render_pdf's arguments of one call."""
    seen: dict[str, Any] = {}
    real_template, real_pdf = rendering.render_template, rendering.render_pdf

    def template(name: str, **context: Any) -> str:
        seen.update(template=name, context=context)
        return real_template(name, **context)

    def pdf(html: str, **kwargs: Any) -> Any:
        seen.update(html=html, kwargs=kwargs)
        return real_pdf(html, **kwargs)

    rendering.render_template, rendering.render_pdf = template, pdf  # type: ignore[assignment]
    try:
        yield seen
    finally:
        rendering.render_template, rendering.render_pdf = real_template, real_pdf


def weasyprint_alone(html: str, static: Path, variant: str | None, attachments: Any) -> bytes:
    """The same document straight through WeasyPrint, in this process, with the same
    restricted URL fetcher the sandboxed child uses."""
    import weasyprint
    from weasyprint.urls import path2url

    from grants.documents.rendering import PDF_CSS
    from grants.rendering.embedded import to_attachments
    from grants.rendering.fetcher import StaticOnlyFetcher

    fetcher = StaticOnlyFetcher(static)
    base_url = path2url(str(static))
    css = weasyprint.CSS(string=BASE_CSS + PDF_CSS, base_url=base_url, url_fetcher=fetcher)
    pdf: bytes = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf(
        stylesheets=[css], pdf_variant=variant,
        attachments=to_attachments(attachments, NOW) or None)
    return pdf


def timed(document: str, method: str, make: Callable[[], bytes], runs: int) -> Timing:
    """``runs`` timings of ``make`` after one warm-up run (imports, fonts, caches)."""
    pdf = make()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        pdf = make()
        seconds.append(time.perf_counter() - started)
    assert pdf.startswith(b"%PDF"), f"{document} / {method}: not a PDF"
    return Timing(document, method, seconds, len(pdf))


def time_documents(instance: Instance, seeded: Seeded, runs: int) -> list[Timing]:
    """Each document each way: ours and the renderer alone, warm and fresh; WeasyPrint alone."""
    timings: list[Timing] = []
    with instance.app.test_request_context(), instance.session() as session:
        application = session.get(Application, seeded.template_id)
        officer = session.get(User, seeded.officer_id)
        assert application is not None and officer is not None
        documents: dict[str, Callable[[], bytes]] = {
            "review packet": lambda: review_packet_pdf(session, application, officer,
                                                       officer_view=True, now=NOW).pdf,
            "audit record (PDF/A-3u)": lambda: audit_record_pdf(session, application, now=NOW),
        }
        static = Path(current_app.static_folder or "static").resolve()
        for document, make in documents.items():
            timings += each_way(document, make, static, runs)
    return timings


def each_way(document: str, make: Callable[[], bytes], static: Path, runs: int,
             ) -> list[Timing]:
    """Time ``make`` (ours) and the HTML it rendered through a warm renderer, through a fresh
    child each time (GRANTS_RENDERER_POOL=0, the fallback and the old way), and through
    WeasyPrint alone; then ours with fresh children, so the two stacks compare whole."""
    with capturing() as seen:
        make()
    html = render_template(seen["template"], **seen["context"])
    assert html == seen["html"], f"{document}: render_template gave other HTML"
    kwargs = seen["kwargs"]
    variant, attachments = kwargs.get("pdf_variant"), kwargs.get("attachments", ())
    timings = [
        timed(document, "ours (data + template + warm renderer)", make, runs),
        timed(document, "warm renderer alone (render_pdf, pool)",
              lambda: render_pdf(html, **kwargs).pdf, runs),
    ]
    with fresh_children():
        timings += [
            timed(document, "ours (data + template + fresh child)", make, runs),
            timed(document, "fresh child alone (render_pdf, pool 0)",
                  lambda: render_pdf(html, **kwargs).pdf, runs),
        ]
    timings.append(timed(document, "WeasyPrint alone, in-process",
                         lambda: weasyprint_alone(html, static, variant, attachments), runs))
    return timings


@contextlib.contextmanager
def fresh_children() -> Iterator[None]:
    """Render with a fresh sandboxed child per document, as GRANTS_RENDERER_POOL=0 does."""
    saved = limits.pool_settings()
    limits.configure_pool(0, saved[1])
    try:
        yield
    finally:
        limits.configure_pool(*saved)
