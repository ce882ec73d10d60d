"""Attachment downloads, for those who may see the application."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_file
from werkzeug.wrappers import Response

from grants.storage import LocalStorage
from grants.web.access import Permission, load_application, require

bp = Blueprint("files", __name__)


@bp.get("/applications/<int:application_id>/attachments/<int:attachment_id>")
@require(Permission.APPLICATION_READ_OWN, Permission.APPLICATION_READ_ANY)
def download_attachment(application_id: int, attachment_id: int) -> Response:
    application = load_application(application_id)
    attachment = next((a for a in application.attachments if a.id == attachment_id), None)
    if attachment is None:
        abort(404)
    storage = LocalStorage(current_app.config["STORAGE_DIR"])
    response = send_file(
        storage.open(attachment.sha256),
        mimetype=attachment.mime_type,
        as_attachment=True,
        download_name=attachment.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
