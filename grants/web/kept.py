"""Keep answers posted after the session or CSRF token expired, and give them back after sign-in.

Someone who typed for an hour and then pressed save with an expired session must not lose it.
The answers are stored server-side under a random token kept in the (new) session, and only
shown again, never saved, to a user allowed to edit that application, who then saves them.
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from flask import request, session
from werkzeug.datastructures import MultiDict

from grants import clock
from grants.db import begin_write, get_session
from grants.models import Application, KeptForm

KEEPABLE_ENDPOINT = "apply.save_step"
KEEP_FOR = dt.timedelta(days=7)


def keep_posted_answers() -> bool:
    """Store the posted step answers if this request is a step save; return whether it was."""
    if request.method != "POST" or request.endpoint != KEEPABLE_ENDPOINT:
        return False
    args = request.view_args or {}
    db = get_session()
    if db.get(Application, args.get("application_id")) is None:
        return False
    data = {k: v for k, v in request.form.lists() if k not in ("csrf_token", "action")}
    token = secrets.token_urlsafe(32)
    db.execute(sa.delete(KeptForm).where(KeptForm.created_at < clock.now() - KEEP_FOR))
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
    return True


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
