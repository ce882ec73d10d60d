"""The evaluation summary PDF (評価結果通知), once the application is decided.

The applicant organization's active members download their own; the program office (and the
site admins, who read every application) download any; auditors download a funded
application's, as part of its record. Anyone else, and every application not yet decided, gets
404: the route never says whether an application exists.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort

from grants.db import get_session
from grants.documents.summary import evaluation_summary_pdf
from grants.web.access import Permission, load_readable, require

bp = Blueprint("summary", __name__)


@bp.get("/applications/<int:application_id>/evaluation-summary.pdf")
@require(Permission.APPLICATION_READ_OWN, Permission.APPLICATION_READ_ANY, Permission.AUDIT_READ)
def download(application_id: int) -> Response:
    application = load_readable(application_id)
    try:
        pdf = evaluation_summary_pdf(get_session(), application)
    except LookupError:  # not decided: there is no summary yet
        abort(404)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition":
            f'attachment; filename="{application.reference}-evaluation-summary.pdf"',
        "Cache-Control": "no-store"})
