"""The outbox: messages are stored with the change that caused them, in the same transaction.

In the embedded default they stay in the outbox, readable by staff on a page; with a mail server
configured, ``flask grants outbox send`` delivers what has not been sent. Storing first means a
message is never lost, nor sent for a change that was rolled back.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session

from grants.models import Application, OutboxMessage, User


def queue(
    session: Session,
    template: str,
    recipient: User,
    *,
    now: dt.datetime,
    application: Application | None = None,
    **context: Any,
) -> OutboxMessage:
    """Render ``templates/email/<template>/{subject,body}.txt`` in the recipient's language."""
    with force_locale(recipient.locale or "ja"):
        context = {"recipient": recipient, "application": application, **context}
        subject = render_template(f"email/{template}/subject.txt", **context).strip()
        body = render_template(f"email/{template}/body.txt", **context)
    message = OutboxMessage(
        to_address=recipient.email,
        subject=subject,
        body=body,
        application_id=application.id if application else None,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def queue_for_applicant(
    session: Session, template: str, application: Application, *, now: dt.datetime, **context: Any
) -> list[OutboxMessage]:
    """Tell the people who made and submitted the application."""
    people = {application.created_by_id: application.created_by}
    for submission in application.submissions:
        people.setdefault(submission.submitted_by_id, submission.submitted_by)
    return [
        queue(session, template, person, now=now, application=application, **context)
        for person in people.values()
        if person.active
    ]


def send_pending(session: Session, smtp_url: str, sender: str, *, now: dt.datetime,
                 limit: int = 200) -> int:
    """Send unsent messages through the SMTP server, marking each as sent as it goes.

    Each message is committed as sent right after the server accepts it, so a failure part-way
    leaves the rest for the next run and never sends one twice.
    """
    pending = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                              .order_by(OutboxMessage.id).limit(limit)).all()
    if not pending:
        return 0
    url = urlsplit(smtp_url)
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise ValueError("SMTP_URL must look like smtp://user:password@host:587 or smtps://...")
    secure = url.scheme == "smtps"
    client_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
    with client_class(url.hostname, url.port or (465 if secure else 587), timeout=30) as client:
        if not secure:
            client.starttls()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        for message in pending:
            email = EmailMessage()
            email["From"], email["To"] = sender, message.to_address
            email["Subject"] = message.subject
            email.set_content(message.body)
            client.send_message(email)
            message.sent_at = now
            session.commit()
    return len(pending)
