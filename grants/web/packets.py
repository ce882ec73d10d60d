"""PDF review packets, downloaded by officers (every review) and reviewers (their own only).

A packet too slow to render within the request is built in the background instead
(grants.web.documents): its page and PDF sit beside the packet's URL, behind the same guard.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, url_for
from flask_login import current_user

from grants import clock
from grants.db import begin_write, get_session
from grants.documents.packet import Packet, review_packet_pdf
from grants.models import Application, BatchJob
from grants.models.batches import DocumentKind
from grants.services import document_jobs
from grants.services.audit import AuditTag, record
from grants.web import documents
from grants.web.access import Permission, load_application, load_assignment, require

bp = Blueprint("packets", __name__)

OFFICER = DocumentKind.OFFICER_PACKET
REVIEWER = DocumentKind.REVIEWER_PACKET


@bp.get("/manage/applications/<int:application_id>/packet.pdf")
@require(Permission.CALL_READ)
def officer_packet(application_id: int) -> Response:
    return _send_or_queue(load_application(application_id), OFFICER, ".officer_packet_job",
                          application_id=application_id)


@bp.get("/manage/applications/<int:application_id>/packet/<int:job_id>")
@require(Permission.CALL_READ)
def officer_packet_job(application_id: int, job_id: int) -> Response:
    application = load_application(application_id)
    return documents.job_page(
        documents.own_job(job_id, OFFICER, application), application,
        back=url_for("manage_application.show", application_id=application_id),
        download=url_for(".officer_packet_file", application_id=application_id, job_id=job_id))


@bp.get("/manage/applications/<int:application_id>/packet/<int:job_id>.pdf")
@require(Permission.CALL_READ)
def officer_packet_file(application_id: int, job_id: int) -> Response:
    application = load_application(application_id)
    return _send_kept(application, documents.own_job(job_id, OFFICER, application))


@bp.get("/review/assignments/<int:assignment_id>/packet.pdf")
@require(Permission.REVIEW_WRITE)
def reviewer_packet(assignment_id: int) -> Response:
    return _send_or_queue(load_assignment(assignment_id).application, REVIEWER,
                          ".reviewer_packet_job", assignment_id=assignment_id)


@bp.get("/review/assignments/<int:assignment_id>/packet/<int:job_id>")
@require(Permission.REVIEW_WRITE)
def reviewer_packet_job(assignment_id: int, job_id: int) -> Response:
    application = load_assignment(assignment_id).application
    return documents.job_page(
        documents.own_job(job_id, REVIEWER, application), application,
        back=url_for("review.show_assignment", assignment_id=assignment_id),
        download=url_for(".reviewer_packet_file", assignment_id=assignment_id, job_id=job_id))


@bp.get("/review/assignments/<int:assignment_id>/packet/<int:job_id>.pdf")
@require(Permission.REVIEW_WRITE)
def reviewer_packet_file(assignment_id: int, job_id: int) -> Response:
    application = load_assignment(assignment_id).application
    return _send_kept(application, documents.own_job(job_id, REVIEWER, application))


def _send_or_queue(application: Application, kind: DocumentKind, page: str,
                   **url_args: Any) -> Response:
    def render() -> Packet:
        return review_packet_pdf(get_session(), application, current_user,
                                 officer_view=kind is OFFICER, now=clock.now())

    return documents.send_or_queue(
        render, lambda packet: _send(application, packet.pdf, packet.audit_data()),
        kind, application, page, **url_args)


def _send_kept(application: Application, job: BatchJob) -> Response:
    return _send(application, documents.kept_pdf(job), document_jobs.audit_data(job))


def _send(application: Application, pdf: bytes, audit: dict[str, Any]) -> Response:
    """Record the download in the audit chain, then send the PDF."""
    session = get_session()
    begin_write(session)  # the download is an audit event
    record(session, AuditTag.PACKET_DOWNLOAD, subject_type="application",
           subject_id=application.id, actor=current_user, now=clock.now(),
           data={**audit, "bytes": len(pdf)})
    session.commit()
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{application.reference}-packet.pdf"',
        "Cache-Control": "no-store"})
