"""Attachments posted with a form step: validate from content, store by hash, record."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_babel import get_locale
from sqlalchemy.orm import Session

from grants import clock
from grants.models import Application, User
from grants.services import apply
from grants.storage import Storage
from grants.uploads import (
    UploadRefused,
    describe_types,
    extensions_of,
    safe_filename,
    validate_upload,
)


def handle(
    db: Session,
    application: Application,
    step: Any,
    action: str,
    *,
    actor: User,
    storage: Storage,
) -> dict[str, list[str]]:
    """Remove or add this step's attachments; return refusal reasons by field."""
    if action.startswith("remove:"):
        attachment_id = action.removeprefix("remove:")
        if attachment_id.isdigit():
            apply.remove_attachment(
                db, application, int(attachment_id), actor=actor, now=clock.now()
            )
    errors: dict[str, list[str]] = {}
    max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    for field in (f for f in step.fields if f.kind == "file"):
        for upload in request.files.getlist(f"upload_{field.id}"):
            if not upload or not upload.filename:
                continue
            data = upload.read(max_bytes + 1)
            upload.close()  # large uploads are spooled to a temporary file
            try:
                detected = validate_upload(
                    data,
                    upload.filename,
                    accept=field.file_types,
                    max_bytes=max_bytes,
                )
            except UploadRefused as refused:
                reason = refused.reason(_locale())
                errors.setdefault(field.id, []).append(
                    f"{safe_filename(upload.filename)}: {reason}"
                )
                continue
            apply.add_attachment(
                db,
                application,
                field_id=field.id,
                stored_sha256=storage.put(data),
                filename=safe_filename(upload.filename),
                mime_type=detected.mime_type,
                size_bytes=len(data),
                actor=actor,
                now=clock.now(),
            )
    return errors


def file_hints(step: Any) -> dict[str, tuple[str, str]]:
    """For each file field of the step: the accepted types in words, and the input's `accept`."""
    language = 1 if _locale().startswith("en") else 0  # describe_types gives (ja, en)
    return {
        field.id: (
            describe_types(field.file_types)[language],
            ",".join(extensions_of(field.file_types)),
        )
        for field in step.fields
        if field.kind == "file"
    }


def _locale() -> str:
    return str(get_locale() or "ja")
