"""Which app gunicorn serves: ``wsgi:app`` while the call is open, else one with a pinned clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from benchlib.common import FIXED_NOW


def pinned_moment(definition: Any) -> str | None:
    """The moment to pin the app's clock to (ISO), or None while the call is really open."""
    from grants.services.apply import is_open

    return None if is_open(definition, dt.datetime.now(dt.UTC)) else FIXED_NOW.isoformat()


def app_spec(definition: Any) -> tuple[str, str]:
    """The gunicorn app spec, and the report's note on the server clock."""
    moment = pinned_moment(definition)
    if moment is None:
        return "wsgi:app", "server clock: real (call open)"
    spec = f"benchlib.clock:pinned_app({moment!r})"
    return spec, f"server clock pinned to {moment} (call closed now)"


def pinned_app(moment: str | None) -> Any:
    """The app with grants.clock pinned to ``moment``, used only when the real time is outside
    the call (None: the app as ``wsgi:app`` builds it)."""
    from grants import clock, create_app

    if moment is not None:
        pinned = dt.datetime.fromisoformat(moment)
        clock.now = lambda: pinned
    return create_app()
