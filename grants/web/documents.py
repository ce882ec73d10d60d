"""Documents that may be too slow for their request: review packets and audit records.

A document is rendered within the request when it can be, under a limit well below the WSGI
worker's timeout (grants.rendering.within_request). When that is not enough, the view queues
the same document for the same user as a background job (grants.services.document_jobs) and
redirects to the job's page, which reloads itself until the PDF is ready and then offers it.
Each blueprint keeps the job's routes beside the document's own, behind the same guard, so
the job's page and PDF are exactly as hard to reach as the document itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, current_app, make_response, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from grants import clock, jobs
from grants.db import begin_write, get_session
from grants.models import Application, BatchJob, BatchState
from grants.models.batches import DocumentKind
from grants.rendering import RenderTimeout, within_request
from grants.services import batches, document_jobs

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
    running = job.state in (BatchState.QUEUED, BatchState.RUNNING)
    response = make_response(render_template(
        "documents/job.html", job=job, application=application, running=running, back=back,
        download=download))
    if running:
        response.headers["Refresh"] = REFRESH_SECONDS
    return response


def kept_pdf(job: BatchJob) -> bytes:
    """A done job's PDF; 404 while it is not ready (or when it failed)."""
    path = batches.result_file(job, current_app.config["BATCH_DIR"])
    if path is None:
        abort(404)
    return path.read_bytes()
