"""Hard limits on what one request may carry: body size per route, and clamped query numbers.

MAX_CONTENT_LENGTH (config) is sized for a step with several attachments. Only such a step
needs it: every other form (sign-in, screening, a step without a file field) is refused with a
413 far sooner, before anything reads the body.
"""

from __future__ import annotations

import re

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from grants.db import get_session
from grants.models import Application
from grants.services.programs import definition_of

FORM_BYTES = 1024 * 1024  # sign-in and every other form without a file field
STEP_BYTES = 2 * 1024 * 1024  # a step without a file field: long texts, many rows
STEP_FORM_PARTS = 5_000  # fields of one step post: 4 per row, rows capped by the schema at 500
STEP_ENDPOINT = "apply.save_step"
EVIDENCE_ENDPOINT = "report.save"  # the completion report's form carries its evidence files
_INTEGER = re.compile(r"-?[0-9]+")


def install(app: Flask) -> None:
    """Limit each request's body before any other hook runs (CSRFProtect's reads the form)."""
    hooks = app.before_request_funcs.setdefault(None, [])
    if limit_body not in hooks:
        hooks.insert(0, limit_body)


def limit_body() -> None:
    """Set this request's body limit from its route; refuse a declared larger body at once."""
    limit = body_limit()
    request.max_content_length = limit
    if request.endpoint == STEP_ENDPOINT:
        request.max_form_parts = STEP_FORM_PARTS
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def body_limit() -> int:
    """The most bytes this request's body may have: the upload limit only for a step with files
    and for the completion report with its evidence."""
    if request.endpoint == EVIDENCE_ENDPOINT:
        return _upload_limit()
    if request.endpoint != STEP_ENDPOINT:
        return FORM_BYTES
    return _upload_limit() if _step_takes_files() else STEP_BYTES


def takes_uploads() -> bool:
    """Whether this request was allowed the upload limit (to word the 413 page)."""
    return (request.max_content_length or 0) >= _upload_limit()


def _upload_limit() -> int:
    return int(current_app.config["MAX_CONTENT_LENGTH"])


def _step_takes_files() -> bool:
    args = request.view_args or {}
    application = get_session().get(Application, args.get("application_id"))
    if application is None:
        return False
    definition = definition_of(application.program_version)
    step = next((s for s in definition.steps if s.id == args.get("step_id")), None)
    return step is not None and any(field.kind == "file" for field in step.fields)


def int_arg(name: str, default: int, *, low: int, high: int) -> int:
    """A whole-number query parameter, clamped to [low, high]; the default when it is not one.

    The app's own links always carry a valid number: anything else was typed or edited by hand,
    and a page is more use than an error. A number too long to read is clamped like any other.
    """
    text = request.args.get(name, "").strip()
    if not _INTEGER.fullmatch(text):
        return default
    if len(text) > 18:
        return low if text.startswith("-") else high
    return min(max(int(text), low), high)
