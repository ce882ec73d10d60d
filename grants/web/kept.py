"""Keep answers posted after the session or CSRF token expired, and give them back after sign-in.

Someone who typed for an hour and then pressed save with an expired session must not lose it.
The answers are stored server-side under a random token kept in the (new) session, and only
shown again, never saved, to a user allowed to edit that application, who then saves them.

Whoever posts here is anonymous at that point, so what is kept is bounded: one post's answers
up to `MAX_KEPT_BYTES` (a real step is far smaller), at most `MAX_KEPT_FORMS` rows (the oldest
go first), each for `KEEP_FOR`.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import secrets

import sqlalchemy as sa
from flask import flash, request, session
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from grants import clock
from grants.db import begin_write, get_session
from grants.models import Application, KeptForm

KEEPABLE_ENDPOINT = "apply.save_step"
KEEP_FOR = dt.timedelta(days=7)
MAX_KEPT_BYTES = 256 * 1024  # one post's answers, as JSON
MAX_KEPT_FORMS = 1_000


class Kept(enum.Enum):
    """What became of the answers of a step save that arrived with an expired session."""

    KEPT = "kept"
    TOO_LARGE = "too_large"


def keep_posted_answers() -> Kept | None:
    """Store the posted step answers if this request is a step save; None when it is not one.

    Answers too large to keep are not stored, and the next page says so (a flashed message):
    every caller sends the visitor on to sign in or back to the step.
    """
    if request.method != "POST" or request.endpoint != KEEPABLE_ENDPOINT:
        return None
    args = request.view_args or {}
    db = get_session()
    if db.get(Application, args.get("application_id")) is None:
        return None
    data = {k: v for k, v in request.form.lists() if k not in ("csrf_token", "action")}
    if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_KEPT_BYTES:
        flash(
            _("The answers you sent could not be kept: they were more than %(kb)d KB at once. "
              "Please enter them again.", kb=MAX_KEPT_BYTES // 1024),
            "error",
        )
        return Kept.TOO_LARGE
    token = secrets.token_urlsafe(32)
    _make_room(db)
    db.add(
        KeptForm(
            token=token,
            application_id=args["application_id"],
            step_id=args["step_id"],
            data=data,
            created_at=clock.now(),
        )
    )
    db.commit()
    session["kept_form"] = token
    return Kept.KEPT


def _make_room(db: Session) -> None:
    """Drop the expired rows, and the oldest beyond the cap, so one more fits."""
    db.execute(sa.delete(KeptForm).where(KeptForm.created_at < clock.now() - KEEP_FOR))
    newest = (
        sa.select(KeptForm.token)
        .order_by(KeptForm.created_at.desc(), KeptForm.token)
        .limit(MAX_KEPT_FORMS - 1)
    )
    db.execute(sa.delete(KeptForm).where(KeptForm.token.not_in(newest.scalar_subquery())))


def restore(application: Application, step_id: str) -> MultiDict | None:
    """Return the kept answers for this step of this application, once, or None."""
    token = session.get("kept_form")
    if not token:
        return None
    db = get_session()
    kept = db.get(KeptForm, token)
    if kept is None or kept.application_id != application.id or kept.step_id != step_id:
        return None
    session.pop("kept_form")
    data = MultiDict([(k, v) for k, values in kept.data.items() for v in values])
    begin_write(db)  # a page view that writes: see begin_write
    db.delete(kept)
    db.commit()
    return data
