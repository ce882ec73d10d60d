"""The outbox: messages stored with the change, then sent over SMTP exactly once each."""

from __future__ import annotations

import smtplib

import pytest
import sqlalchemy as sa

from grants import emails
from grants.models import OutboxMessage
from tests.conftest import NOW


class FakeSMTP:
    """Stands in for smtplib.SMTP: records the conversation, can fail on the n-th message."""

    instances: list[FakeSMTP] = []
    fail_on: int | None = None

    def __init__(self, host, port, timeout):
        self.host, self.port, self.sent, self.calls = host, port, [], []
        FakeSMTP.instances.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        self.calls.append("starttls")

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, message):
        if FakeSMTP.fail_on is not None and len(self.sent) == FakeSMTP.fail_on:
            raise smtplib.SMTPServerDisconnected("gone")
        self.sent.append(message)


@pytest.fixture
def fake_smtp(monkeypatch):
    FakeSMTP.instances, FakeSMTP.fail_on = [], None
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    return FakeSMTP


def _queue(session, n):
    for i in range(n):
        session.add(OutboxMessage(to_address=f"a{i}@example.jp", subject=f"件名{i}",
                                  body=f"本文{i}", created_at=NOW))
    session.commit()


def test_sends_each_pending_message_once(session, fake_smtp):
    _queue(session, 2)
    url = "smtp://mailer%40example.jp:p%40ss@mail.example.jp:2525"
    assert emails.send_pending(session, url, "grants@example.jp", now=NOW) == 2
    server = fake_smtp.instances[0]
    assert (server.host, server.port) == ("mail.example.jp", 2525)
    assert server.calls == ["starttls", ("login", "mailer@example.jp", "p@ss")]
    assert [m["To"] for m in server.sent] == ["a0@example.jp", "a1@example.jp"]
    assert server.sent[0]["Subject"] == "件名0" and "本文0" in server.sent[0].get_content()
    assert emails.send_pending(session, url, "grants@example.jp", now=NOW) == 0
    assert len(fake_smtp.instances) == 1  # nothing pending: no connection at all


def test_a_failure_leaves_the_rest_for_the_next_run(session, fake_smtp):
    _queue(session, 3)
    fake_smtp.fail_on = 1
    with pytest.raises(smtplib.SMTPServerDisconnected):
        emails.send_pending(session, "smtp://mail.example.jp", "g@example.jp", now=NOW)
    sent = session.scalars(sa.select(OutboxMessage.to_address).where(
        OutboxMessage.sent_at.is_not(None))).all()
    assert sent == ["a0@example.jp"]
    fake_smtp.fail_on = None
    assert emails.send_pending(session, "smtp://mail.example.jp", "g@example.jp", now=NOW) == 2


def test_a_malformed_url_is_refused(session, fake_smtp):
    _queue(session, 1)
    with pytest.raises(ValueError, match="SMTP_URL"):
        emails.send_pending(session, "http://mail.example.jp", "g@example.jp", now=NOW)
