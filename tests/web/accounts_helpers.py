"""Helpers for account tests: sign up as a person would, and follow the links we e-mail."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.models import OutboxMessage

PASSWORD = "a long enough password"


def sign_up(client: Any, *, email: str, kind: str = "local_government", lg: str = "",
            number: str = "", name: str = "", person: str = "山田 花子") -> Any:
    return client.post("/sign-up", data={
        "display_name": person, "email": email, "telephone": "011-211-2111",
        "password": PASSWORD, "password_again": PASSWORD, "organization_kind": kind,
        "lg_query": lg, "corporate_number": number, "organization_name": name,
    })


def mails_to(session: Session, address: str) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(sa.select(OutboxMessage).filter_by(to_address=address)
                                .order_by(OutboxMessage.id)))


def link_in(message: OutboxMessage, prefix: str) -> str:
    """The site-relative path of the link starting with ``prefix`` in an e-mail body."""
    match = re.search(rf"https?://[^/\s]+({re.escape(prefix)}[^\s]*)", message.body)
    assert match, f"no {prefix} link in: {message.body}"
    return match.group(1)


def sign_in(client: Any, email: str, password: str = PASSWORD) -> Any:
    return client.post("/sign-in", data={"email": email, "password": password})
