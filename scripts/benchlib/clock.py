"""Which app gunicorn serves: ``wsgi:app`` while the call is open, else one with a pinned clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from benchlib.common import FIXED_NOW


def app_spec(definition: Any) -> tuple[str, str]:
    """The gunicorn app spec, and the report's note on the server clock."""
    from grants.services.apply import is_open

    real_now = dt.datetime.now(dt.UTC)
    if is_open(definition, real_now):
        return "wsgi:app", "server clock: real (call open)"
    spec = f"benchlib.clock:pinned_app({FIXED_NOW.isoformat()!r})"
    return spec, f"server clock pinned to {FIXED_NOW.isoformat()} (call closed now)"


def pinned_app(moment: str) -> Any:
    """``wsgi:app`` with grants.clock pinned, used only when the real time is outside the call."""
    from grants import clock, create_app

    pinned = dt.datetime.fromisoformat(moment)
    clock.now = lambda: pinned
    return create_app()
