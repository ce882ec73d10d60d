"""Account e-mail with links back to the site, built on GRANTS_SITE_URL (not the Host header)."""

from __future__ import annotations

from typing import Any

from grants import clock, emails
from grants.db import get_session
from grants.models import User


def send(template: str, recipient: User, endpoint: str | None = None, **context: Any) -> None:
    """Queue ``template`` for ``recipient``; ``endpoint`` with ``token``/args makes ``link``."""
    if endpoint is not None:
        args = {k: context.pop(k) for k in list(context) if k in ("token", "_anchor")}
        context["link"] = emails.absolute_url(endpoint, **args)
    emails.queue(get_session(), template, recipient, now=clock.now(), **context)
