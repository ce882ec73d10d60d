"""Attachment downloads, for those who may see the application."""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, send_file
from werkzeug.wrappers import Response

from grants.storage import stores_of
from grants.web.access import Permission, load_application, load_assignment, require

bp = Blueprint("files", __name__)


@bp.get("/applications/<int:application_id>/attachments/<int:attachment_id>")
@require(Permission.APPLICATION_READ_OWN, Permission.APPLICATION_READ_ANY)
def download_attachment(application_id: int, attachment_id: int) -> Response:
    application = load_application(application_id)
    attachment = next((a for a in application.application_files if a.id == attachment_id), None)
    if attachment is None:
        abort(404)
    return send_stored(attachment.sha256, attachment.mime_type, attachment.filename)


@bp.get("/review/assignments/<int:assignment_id>/files/<sha256>")
@require(Permission.REVIEW_WRITE)
def download_for_review(assignment_id: int, sha256: str) -> Response:
    """A file of the frozen submission, for the reviewer it is assigned to (and no one else)."""
    assignment = load_assignment(assignment_id)
    snapshot = json.loads(assignment.application.submissions[-1].snapshot)
    recorded = next((a for a in snapshot["attachments"] if a["sha256"] == sha256), None)
    if recorded is None:
        abort(404)
    return send_stored(recorded["sha256"], recorded["mime_type"], recorded["filename"])


def send_stored(sha256: str, mime_type: str, filename: str) -> Response:
    """Send a stored file as a download that the browser never renders in the app's origin.

    The bytes stream through the app from the local folder or the bucket (never a presigned
    URL): every byte goes out after the caller's access check, with these headers, and the
    bucket need not be reachable from the browser.
    """
    stream = stores_of(current_app).files.open(sha256)
    response = send_file(stream, mimetype=mime_type, as_attachment=True, download_name=filename)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.after_app_request
def downloads_are_not_kept(response: Response) -> Response:
    """Every download, wherever it is made (attachments, records, packets, exports), is saved
    as a file, never sniffed into something the browser would run, and never cached: it holds
    personal data, and a shared computer's cache must not keep it.
    """
    if response.headers.get("Content-Disposition", "").startswith("attachment"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response
