"""Documents that may be too slow for their request: review packets and audit records.

A document is rendered within the request when it can be, under a limit well below the WSGI
worker's timeout (grants.rendering.within_request). When that is not enough, the view queues
the same document for the same user as a background job (grants.services.document_jobs) and
redirects to the job's page, which reloads itself until the PDF is ready and then offers it.
Each blueprint keeps the job's routes beside the document's own, behind the same guard, so
the job's page and PDF are exactly as hard to reach as the document itself.

A job's page, and a batch's (grants.web.audit), say why a job failed in a plain sentence
(``failure_sentence``), never with the error the operator finds in the log; and a job left
unfinished past GRANTS_BATCH_DEADLINE_HOURS is failed when its page is shown (``settle``), so
nobody waits on a lost job until ``batches prune`` runs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TypeVar

from flask import abort, current_app, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from grants import clock, jobs
from grants.db import begin_write, get_session
from grants.models import Application, BatchJob, BatchState
from grants.models.batches import DocumentKind
from grants.rendering import RenderTimeout, within_request
from grants.services import batches, document_jobs
from grants.services.batches import Failure
from grants.storage import stores_of

T = TypeVar("T")
REFRESH_SECONDS = "3"  # the job's page reloads itself this often while the job runs


def send_or_queue(render: Callable[[], T], send: Callable[[T], Response], kind: DocumentKind,
                  application: Application, page: str, **url_args: object) -> Response:
    """``send(render())`` when the render fits in the request; else queue ``kind`` of
    ``application`` for the current user and redirect to ``page`` (the job's page endpoint,
    taking ``job_id`` and ``url_args``)."""
    try:
        with within_request():
            document = render()
    except RenderTimeout as timeout:
        current_app.logger.info("%s of %s goes to the background: %s", kind.value,
                                application.reference, timeout)
        session = get_session()
        begin_write(session)
        job = document_jobs.request_document(session, kind, application, actor=current_user,
                                             now=clock.now())
        session.commit()
        jobs.start_document(job.id)  # inline: done when this returns; else under way
        return redirect(url_for(page, job_id=job.id, **url_args), code=303)
    return send(document)


def own_job(job_id: int, kind: DocumentKind, application: Application) -> BatchJob:
    """The current user's job for this document, else 404 (another's does not exist)."""
    job = document_jobs.load_document(get_session(), job_id, current_user, kind, application)
    if job is None:
        abort(404)
    return job


def job_page(job: BatchJob, application: Application, *, back: str, download: str) -> Response:
    """The job's state, reloading itself (no JavaScript) until the PDF can be downloaded."""
    job = settle(job)
    running = job.state in (BatchState.QUEUED, BatchState.RUNNING)
    response = make_response(render_template(
        "documents/job.html", job=job, application=application, running=running, back=back,
        download=download, failure=failure_sentence(job),
        retention_days=current_app.config["BATCH_RETENTION_DAYS"]))
    if running:
        response.headers["Refresh"] = REFRESH_SECONDS
    return response


def kept_pdf(job: BatchJob) -> bytes:
    """A done job's PDF; 404 while it is not ready (or when it failed, or is gone)."""
    name = batches.result_name(job)
    if name is None:
        abort(404)
    try:
        return stores_of(current_app).batches.read(name)
    except FileNotFoundError:
        abort(404)


def settle(job: BatchJob) -> BatchJob:
    """The job, failed first if it is still unfinished past the deadline (it was lost)."""
    if job.state not in (BatchState.QUEUED, BatchState.RUNNING):
        return job
    session = get_session()
    if batches.fail_lost(session, now=clock.now(), deadline=_deadline(), job_id=job.id):
        return batches.fresh(session, job.id) or job
    return job


def failure_sentence(job: BatchJob) -> str | None:
    """Why a failed job failed, for the person who asked; None unless it failed."""
    if job.state is not BatchState.FAILED:
        return None
    kind, detail = batches.failure_of(job.error)
    if kind is Failure.VERSION and (versions := re.fullmatch(r"(\S+) vs (\S+)", detail)):
        return _("The worker runs a different version of Grants (%(worker)s vs %(web)s); restart "
                 "the workers after an upgrade.", worker=versions[1], web=versions[2])
    if kind is Failure.LOST:
        return _("It was not finished %(hours)d hours after it was asked for: the server lost "
                 "the work (it may have been restarted).",
                 hours=current_app.config["BATCH_DEADLINE_HOURS"])
    sentences = {
        Failure.RENDER: _("A PDF could not be made. The server's log says why."),
        Failure.TIMEOUT: _("A PDF took too long to make and was stopped."),
        Failure.FONT: _("The server lacks the Japanese font the PDFs need."),
        Failure.MISSING: _("An application it holds could not be found or was not made into "
                           "a PDF."),
        Failure.WRITE: _("The file could not be saved on the server (its disk may be full)."),
        Failure.WORKER: _("The program making the PDFs stopped before it finished (it may "
                          "have been restarted or run out of time)."),
    }
    if kind in sentences:
        return sentences[kind]
    return _("An error on the server stopped it. The server's log says why.")


def _deadline() -> dt.timedelta:
    return dt.timedelta(hours=current_app.config["BATCH_DEADLINE_HOURS"])
