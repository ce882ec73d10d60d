"""PDF review packets, downloaded by officers (every review) and reviewers (their own only)."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_login import current_user

from grants import clock
from grants.db import begin_write, get_session
from grants.documents.packet import review_packet_pdf
from grants.models import Application
from grants.services.audit import AuditTag, record
from grants.web.access import Permission, load_application, load_assignment, require

bp = Blueprint("packets", __name__)


@bp.get("/manage/applications/<int:application_id>/packet.pdf")
@require(Permission.CALL_READ)
def officer_packet(application_id: int) -> Response:
    return _send(load_application(application_id), officer_view=True)


@bp.get("/review/assignments/<int:assignment_id>/packet.pdf")
@require(Permission.REVIEW_WRITE)
def reviewer_packet(assignment_id: int) -> Response:
    return _send(load_assignment(assignment_id).application, officer_view=False)


def _send(application: Application, *, officer_view: bool) -> Response:
    session = get_session()
    packet = review_packet_pdf(session, application, current_user, officer_view=officer_view,
                               now=clock.now())
    begin_write(session)  # the download is an audit event
    record(session, AuditTag.PACKET_DOWNLOAD, subject_type="application",
           subject_id=application.id, actor=current_user, now=clock.now(),
           data={"appended": list(packet.appended), "skipped": list(packet.skipped),
                 "bytes": len(packet.pdf)})
    session.commit()
    return Response(packet.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{application.reference}-packet.pdf"',
        "Cache-Control": "no-store"})
