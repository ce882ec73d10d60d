"""The outbox: messages are stored with the change that caused them, in the same transaction.

In the embedded default they stay in the outbox, readable by staff on a page; with a mail server
configured, ``flask grants outbox send`` delivers what is due. Storing first means a message is
never lost, nor sent for a change that was rolled back.

Delivery takes one message at a time: it is *claimed* (an attempt counted, and a lease that
keeps other runs off it) in a short transaction, sent with no transaction open, then recorded.
A refusal or an unreachable server costs that message a wait that doubles each time, never the
others their turn; a message the server keeps refusing for good (5xx) is marked failed.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session

from grants.models import Application, OutboxMessage, User
from grants.smtp import SmtpServer, SmtpSetupError, connect

LOGGER = logging.getLogger(__name__)
MAX_ATTEMPTS = 10  # temporary failures (4xx, no connection): about a day of waits, then failed
MAX_REFUSED_ATTEMPTS = 3  # a permanent refusal (5xx) is tried twice more, in case it was a slip
FIRST_WAIT = dt.timedelta(minutes=5)
LONGEST_WAIT = dt.timedelta(hours=6)
LEASE = dt.timedelta(minutes=10)  # a claimed message nobody recorded (a crash) is due again then
# Leases count from the run's start, so a run claims nothing after half a lease: another run
# can never take a message this one is still sending. What is left waits for the next run.
CLAIMING_SECONDS = LEASE.total_seconds() / 2
ERROR_LENGTH = 500
SERVICE_CLOSING = 421  # the server ends the session after this answer


# --- writing -----------------------------------------------------------------------------------


def absolute_url(endpoint: str, **values: Any) -> str:
    """A link to one of the site's pages, built on GRANTS_SITE_URL.

    Never on the request's Host header (a forged one would put another site in a password reset
    link), and it works where there is no request at all: commands and workers.
    """
    anchor = values.pop("_anchor", None)
    site = urlsplit(current_app.config["SITE_URL"])
    adapter = current_app.url_map.bind(site.netloc, script_name=site.path or "/",
                                       url_scheme=site.scheme)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{quote(anchor, safe='')}" if anchor else url


def render(template: str, recipient: User, *, application: Application | None = None,
           **context: Any) -> tuple[str, str]:
    """Subject and body of ``templates/email/<template>/`` in the recipient's language.

    Templates get ``url(endpoint, **values)`` for links to the page a message is about; every
    body ends with the site's address (``email/footer.txt``).
    """
    context = {"recipient": recipient, "application": application, "url": absolute_url,
               "site_url": current_app.config["SITE_URL"], **context}
    with force_locale(recipient.locale or "ja"):
        subject = render_template(f"email/{template}/subject.txt", **context).strip()
        body = render_template(f"email/{template}/body.txt", **context).rstrip()
        footer = render_template("email/footer.txt", **context).strip()
    return " ".join(subject.split()), f"{body}\n\n-- \n{footer}\n"


def queue(
    session: Session,
    template: str,
    recipient: User,
    *,
    now: dt.datetime,
    application: Application | None = None,
    **context: Any,
) -> OutboxMessage:
    """Store the rendered message; it is sent (or read on the outbox page) later."""
    subject, body = render(template, recipient, application=application, **context)
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


# --- sending -----------------------------------------------------------------------------------


@dataclass
class Delivery:
    """What one run did."""

    sent: int = 0
    retrying: int = 0  # refused for now, or no server: tried again after a wait
    failed: int = 0  # given up this run (see OutboxMessage.last_error)


@dataclass(frozen=True)
class Failure:
    permanent: bool  # the server said 5xx: the same message will not get through later
    reason: str


def wait_after(attempts: int) -> dt.timedelta:
    """5 minutes after the first failure, doubling each time, at most 6 hours."""
    return min(FIRST_WAIT * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def due(now: dt.datetime) -> sa.ColumnElement[bool]:
    """Messages to try now: not sent, not given up, and not waiting."""
    return sa.and_(
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.failed_at.is_(None),
        sa.or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
    )


def send_pending(session: Session, server: SmtpServer, sender: str, *, now: dt.datetime,
                 ca_file: str | None = None, limit: int = 200) -> Delivery:
    """Try every due message once (at most ``limit``), oldest first; return the counts.

    Raises :class:`grants.smtp.SmtpSetupError` before touching any message when the server
    refuses the setup (certificate, STARTTLS, credentials): a setting must change first.
    """
    ids = session.scalars(sa.select(OutboxMessage.id).where(due(now))
                          .order_by(OutboxMessage.id).limit(limit)).all()
    session.commit()  # hold no transaction (on SQLite: no write lock) while talking to servers
    delivery = Delivery()
    if not ids:
        return delivery
    started = time.monotonic()
    with _Mailer(server, ca_file) as mailer:
        for message_id in ids:
            if time.monotonic() - started > CLAIMING_SECONDS:
                break
            message = _claim(session, message_id, now)
            if message is not None:
                _record(session, message, mailer.deliver(compose(message, sender)), now, delivery)
    return delivery


def compose(message: OutboxMessage, sender: str) -> EmailMessage:
    """The message as sent; its Message-ID stays the same on every attempt, so a receiver can
    recognize a copy sent again after a crash."""
    email = EmailMessage()
    email["From"], email["To"] = sender, message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    domain = sender.rpartition("@")[2] or "localhost"
    email["Message-ID"] = f"<outbox-{message.id}.{int(message.created_at.timestamp())}@{domain}>"
    email.set_content(message.body)
    return email


def _claim(session: Session, message_id: int, now: dt.datetime) -> OutboxMessage | None:
    """Count an attempt and lease the message, unless another run took it meanwhile."""
    claimed = session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_id, due(now))
        .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    message = session.get(OutboxMessage, message_id, populate_existing=True) if claimed else None
    session.commit()
    return message


def _record(session: Session, message: OutboxMessage, failure: Failure | None,
            now: dt.datetime, delivery: Delivery) -> None:
    if failure is None:
        message.sent_at, message.next_attempt_at = now, None
        delivery.sent += 1
    else:
        message.last_error = failure.reason[:ERROR_LENGTH]
        limit = MAX_REFUSED_ATTEMPTS if failure.permanent else MAX_ATTEMPTS
        if message.attempts >= limit:
            message.failed_at, message.next_attempt_at = now, None
            delivery.failed += 1
            LOGGER.warning("outbox message %d failed after %d attempts: %s", message.id,
                           message.attempts, message.last_error)
        else:
            message.next_attempt_at = now + wait_after(message.attempts)
            delivery.retrying += 1
    session.commit()


class _Mailer:
    """One SMTP session for the run, opened again once if the server drops it; while the
    server cannot be reached, every message fails at once (no 30-second wait for each)."""

    def __init__(self, server: SmtpServer, ca_file: str | None) -> None:
        self.server, self.ca_file = server, ca_file
        self.client: smtplib.SMTP | None = None
        self.unreachable: Failure | None = None

    def __enter__(self) -> _Mailer:
        self._open()  # a setup error stops the run here, before any message is claimed
        return self

    def __exit__(self, *_exc: object) -> None:
        self._drop()

    def deliver(self, email: EmailMessage) -> Failure | None:
        if self.client is None and self.unreachable is None:
            self._open(setup_is_temporary=True)
        if self.client is None:
            return self.unreachable
        try:
            self.client.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:  # its only recipient
            return _answer(*next(iter(error.recipients.values())))
        except smtplib.SMTPResponseException as error:  # sender or content refused
            if error.smtp_code == SERVICE_CLOSING:
                self._drop()
            return _answer(error.smtp_code, error.smtp_error)
        except smtplib.SMTPNotSupportedError as error:  # e.g. an address that needs SMTPUTF8
            return Failure(True, str(error))
        except OSError as error:  # SMTPServerDisconnected, a reset, a timeout
            self._drop()  # opened again for the next message
            return Failure(False, f"connection lost: {error}")
        return None

    def _open(self, *, setup_is_temporary: bool = False) -> None:
        try:
            self.client = connect(self.server, ca_file=self.ca_file)
        except SmtpSetupError as error:
            if not setup_is_temporary:
                raise
            self.unreachable = Failure(False, str(error))
        except (smtplib.SMTPException, OSError) as error:
            self.unreachable = Failure(False, f"{self.server} cannot be reached: {error}")

    def _drop(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


def _answer(code: int, text: bytes | str) -> Failure:
    """The server's answer to one message: 5xx is permanent, anything else worth retrying."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return Failure(500 <= code < 600, f"{code} {' '.join(text.split())}")
