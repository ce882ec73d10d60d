"""The evaluation summary PDF (評価結果通知), once the application is decided.

The applicant organization's active members download their own; the program office (and the
site admins, who read every application) download any; auditors download a funded
application's, as part of its record. Anyone else, and every application not yet decided, gets
404: the route never says whether an application exists.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort
from flask_login import current_user

from grants.db import get_session
from grants.documents.summary import evaluation_summary_pdf
from grants.models import Application
from grants.services import auditing
from grants.web.access import Permission, can_see, has_permission, require

bp = Blueprint("summary", __name__)


@bp.get("/applications/<int:application_id>/evaluation-summary.pdf")
@require(Permission.APPLICATION_READ_OWN, Permission.APPLICATION_READ_ANY, Permission.AUDIT_READ)
def download(application_id: int) -> Response:
    application = _readable(application_id)
    try:
        pdf = evaluation_summary_pdf(get_session(), application)
    except LookupError:  # not decided: there is no summary yet
        abort(404)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition":
            f'attachment; filename="{application.reference}-evaluation-summary.pdf"',
        "Cache-Control": "no-store"})


def _readable(application_id: int) -> Application:
    session = get_session()
    application = session.get(Application, application_id)
    if application is not None and can_see(current_user, application):
        return application
    if has_permission(current_user, Permission.AUDIT_READ):
        funded = auditing.load_funded(session, application_id)
        if funded is not None:
            return funded.application
    abort(404)
