"""The outbox against a real SMTP server on 127.0.0.1: each message sent once, refusals and
outages retried with a growing wait without blocking the others, TLS verified, and every
message linking to its page on GRANTS_SITE_URL."""

from __future__ import annotations

import datetime as dt
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from grants import create_app, emails
from grants.config import PACKAGE_ROOT, ConfigError, load_settings
from grants.emails import Delivery
from grants.models import OutboxMessage
from grants.smtp import Security, SmtpSetupError, SmtpUrlError, parse_smtp_url
from tests.conftest import NOW, ROOT
from tests.smtp_server import PASSWORD, USER, SmtpServer, make_certificates

SENDER = "grants@example.jp"
CREDENTIALS = "mailer%40example.jp:p%40ss%20word"  # USER and PASSWORD, URL-encoded


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def server():
    with SmtpServer() as running:
        yield running


def _queue(session, *addresses):
    messages = [OutboxMessage(to_address=address, subject=f"件名 {address}",
                              body=f"本文 {address}", created_at=NOW) for address in addresses]
    session.add_all(messages)
    session.commit()
    return messages


def _send(session, url, *, now=NOW, ca_file=None):
    return emails.send_pending(session, parse_smtp_url(url), SENDER, now=now, ca_file=ca_file)


def _state(session, message):
    session.refresh(message)
    return message.attempts, message.next_attempt_at, message.failed_at, message.sent_at


# --- the URL -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "security", "port"), [
    ("smtp://127.0.0.1", Security.PLAIN, 25),
    ("smtp://relay.example.jp:2525", Security.PLAIN, 2525),
    (f"smtp+starttls://{CREDENTIALS}@mail.example.jp", Security.STARTTLS, 587),
    (f"smtps://{CREDENTIALS}@mail.example.jp", Security.TLS, 465),
    (f"smtps://{CREDENTIALS}@mail.example.jp:10465/", Security.TLS, 10465),
])
def test_each_scheme_means_one_thing(url, security, port):
    server = parse_smtp_url(url)
    assert (server.security, server.port) == (security, port)
    if security is not Security.PLAIN:
        assert (server.username, server.password) == (USER, PASSWORD)
    assert PASSWORD not in repr(server) and PASSWORD not in str(server)


@pytest.mark.parametrize(("url", "says"), [
    ("smtp://mailer:hunter2@mail.example.jp:587", "clear text"),
    ("http://mail.example.jp", "must start with"),
    ("smtp+ssl://mail.example.jp", "must start with"),
    ("smtps://mailer:hunter2@:465", "no host"),
    ("smtps://mailer:hunter2@mail.example.jp:ninety", "port"),
    ("smtps://mailer:hunter2@mail.example.jp:465/inbox?x=1", "only scheme"),
    ("", "must start with"),
])
def test_a_bad_url_is_refused_without_repeating_its_password(url, says):
    with pytest.raises(SmtpUrlError, match=says) as refused:
        parse_smtp_url(url)
    assert "hunter2" not in str(refused.value)


def test_settings_check_the_smtp_url_and_the_ca_file(tmp_path, certificates):
    def settings(**environ):
        return load_settings({"INSTANCE_DIR": str(tmp_path)},
                             environ={f"GRANTS_{k}": v for k, v in environ.items()})

    with pytest.raises(ConfigError, match=r"^GRANTS_SMTP_URL smtp:// is plain") as refused:
        settings(SMTP_URL="smtp://mailer:hunter2@mail.example.jp")
    assert "hunter2" not in str(refused.value)
    with pytest.raises(ConfigError, match=r"GRANTS_SMTP_CA_FILE cannot be used: .*No such file"):
        settings(SMTP_URL="smtps://mail.example.jp", SMTP_CA_FILE=str(tmp_path / "nope.pem"))
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="GRANTS_SMTP_CA_FILE cannot be used"):
        settings(SMTP_URL="smtps://mail.example.jp", SMTP_CA_FILE=str(tmp_path / "junk.pem"))
    with pytest.raises(ConfigError, match="uses no TLS"):
        settings(SMTP_URL="smtp://127.0.0.1", SMTP_CA_FILE=str(certificates.ca))
    assert settings(SMTP_URL="smtps://mail.example.jp",
                    SMTP_CA_FILE=str(certificates.ca))["SMTP_CA_FILE"] == str(certificates.ca)


def test_settings_site_url_required_in_production_and_defaulted_in_development(tmp_path):
    production = {"GRANTS_ENV": "production", "SECRET_KEY": "Yx7-Lq2_Zr9vT4mW8nB3cK6pH1sD5fG0",
                  "DATABASE_URL": "postgresql+psycopg://db/grants",
                  "GRANTS_INSTANCE_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match=r"^GRANTS_SITE_URL must be set"):
        load_settings(environ=production)
    with pytest.raises(ConfigError, match="https://"):
        load_settings(environ={**production, "GRANTS_SITE_URL": "http://grants.example.jp"})
    with pytest.raises(ConfigError, match="http\\(s\\)://"):
        load_settings(environ={**production, "GRANTS_SITE_URL": "https://"})
    site = load_settings(environ={**production, "GRANTS_SITE_URL": " https://grants.example.jp/ "})
    assert site["SITE_URL"] == "https://grants.example.jp"
    development = load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={})
    assert development["SITE_URL"] == "http://127.0.0.1:5000"
    with pytest.raises(ConfigError, match="GRANTS_SITE_URL"):
        load_settings({"INSTANCE_DIR": str(tmp_path)},
                      environ={"GRANTS_SITE_URL": "grants.example.jp"})


# --- delivery ----------------------------------------------------------------------------------


def test_each_due_message_is_sent_once(session, server):
    _queue(session, "a0@example.jp", "a1@example.jp")
    assert _send(session, f"smtp://127.0.0.1:{server.port}") == Delivery(sent=2)
    received = server.journal.messages
    assert [r.recipients for r in received] == [["a0@example.jp"], ["a1@example.jp"]]
    first = received[0].message
    assert (first["From"], first["Subject"]) == (SENDER, "件名 a0@example.jp")
    assert "本文 a0@example.jp" in first.get_content()
    assert first["Message-ID"].endswith("@example.jp>") and first["Date"]
    assert not received[0].tls  # smtp:// is plain, as asked: no STARTTLS forced
    assert _send(session, f"smtp://127.0.0.1:{server.port}") == Delivery()
    assert server.journal.connections == 1  # nothing due: no connection at all


def test_a_refused_recipient_never_blocks_the_others_and_fails_after_three_tries(session, server):
    refused, fine = _queue(session, "reject@example.jp", "fine@example.jp")
    url = f"smtp://127.0.0.1:{server.port}"
    assert _send(session, url) == Delivery(sent=1, retrying=1)
    assert [r.recipients for r in server.journal.messages] == [["fine@example.jp"]]
    assert _state(session, refused) == (1, NOW + dt.timedelta(minutes=5), None, None)
    assert refused.last_error == "550 5.1.1 <reject@example.jp>: no such user"
    assert _send(session, url) == Delivery()  # waiting: not tried again at once
    assert _send(session, url, now=NOW + dt.timedelta(minutes=5)) == Delivery(retrying=1)
    assert _send(session, url, now=NOW + dt.timedelta(minutes=15)) == Delivery(failed=1)
    later = NOW + dt.timedelta(minutes=15)
    assert _state(session, refused) == (3, None, later, None)
    assert _send(session, url, now=NOW + dt.timedelta(days=30)) == Delivery()  # given up
    assert _state(session, fine)[3] == NOW


def test_a_deferred_message_waits_twice_as_long_each_time_then_fails(session, server):
    (message,) = _queue(session, "defer@example.jp")
    url, now, waits = f"smtp://127.0.0.1:{server.port}", NOW, []
    for _attempt in range(emails.MAX_ATTEMPTS - 1):
        assert _send(session, url, now=now) == Delivery(retrying=1)
        waits.append(message.next_attempt_at - now)
        assert _send(session, url, now=message.next_attempt_at - dt.timedelta(seconds=1)) == (
            Delivery())
        now = message.next_attempt_at
    assert [w // dt.timedelta(minutes=1) for w in waits] == [5, 10, 20, 40, 80, 160, 320, 360,
                                                            360]
    assert message.last_error == "451 4.3.0 mailbox busy, try later"
    assert _send(session, url, now=now) == Delivery(failed=1)
    assert _state(session, message)[0] == emails.MAX_ATTEMPTS


def test_a_message_another_run_is_sending_is_left_alone_until_its_lease_ends(session, server):
    (message,) = _queue(session, "a@example.jp")
    emails._claim(session, message.id, NOW)  # another run took it, then died before recording
    url = f"smtp://127.0.0.1:{server.port}"
    assert _send(session, url, now=NOW + emails.LEASE - dt.timedelta(seconds=1)) == Delivery()
    assert _send(session, url, now=NOW + emails.LEASE) == Delivery(sent=1)
    assert _state(session, message) == (2, None, None, NOW + emails.LEASE)
    assert len(server.journal.messages) == 1


def test_an_unreachable_server_costs_a_wait_not_an_error(session):
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    first, second = _queue(session, "a@example.jp", "b@example.jp")
    assert _send(session, f"smtp://127.0.0.1:{port}") == Delivery(retrying=2)
    for message in (first, second):
        assert _state(session, message) == (1, NOW + dt.timedelta(minutes=5), None, None)
        assert "cannot be reached" in message.last_error


def test_a_dropped_connection_is_opened_again_for_the_next_message(session, server):
    dropped, fine = _queue(session, "drop@example.jp", "fine@example.jp")
    assert _send(session, f"smtp://127.0.0.1:{server.port}") == Delivery(sent=1, retrying=1)
    assert server.journal.connections == 2
    assert "connection lost" in dropped.last_error and fine.sent_at == NOW


# --- TLS ---------------------------------------------------------------------------------------


def test_starttls_refuses_a_certificate_it_cannot_verify_and_touches_nothing(session,
                                                                             certificates):
    (message,) = _queue(session, "a@example.jp")
    with SmtpServer(tls_context=certificates.server) as server:
        url = f"smtp+starttls://{CREDENTIALS}@127.0.0.1:{server.port}"
        with pytest.raises(SmtpSetupError, match=r"could not be verified.*GRANTS_SMTP_CA_FILE"):
            _send(session, url)
    assert server.journal.messages == [] and server.journal.auth_in_clear == 0
    assert _state(session, message) == (0, None, None, None)


def test_starttls_with_the_private_ca_delivers_and_signs_in_over_tls_only(session, certificates):
    _queue(session, "a@example.jp")
    with SmtpServer(tls_context=certificates.server) as server:
        url = f"smtp+starttls://{CREDENTIALS}@127.0.0.1:{server.port}"
        assert _send(session, url, ca_file=str(certificates.ca)) == Delivery(sent=1)
    (received,) = server.journal.messages
    assert received.tls and received.user == USER
    assert server.journal.auth_in_clear == 0


def test_the_host_name_is_checked_against_the_certificate(session, certificates):
    _queue(session, "a@example.jp")
    with (SmtpServer(tls_context=certificates.other_name) as server,  # for mail.example.jp
          pytest.raises(SmtpSetupError, match=r"(?i)hostname mismatch|IP address mismatch")):
        _send(session, f"smtp+starttls://127.0.0.1:{server.port}", ca_file=str(certificates.ca))
    assert server.journal.messages == []


def test_smtps_is_tls_from_the_first_byte(session, certificates):
    _queue(session, "a@example.jp")
    with SmtpServer(tls_context=certificates.server, implicit_tls=True) as server:
        url = f"smtps://{CREDENTIALS}@127.0.0.1:{server.port}"
        assert _send(session, url, ca_file=str(certificates.ca)) == Delivery(sent=1)
    assert server.journal.messages[0].tls and server.journal.messages[0].user == USER


def test_starttls_required_but_not_offered_sends_nothing(session, server):
    (message,) = _queue(session, "a@example.jp")
    with pytest.raises(SmtpSetupError, match="does not offer STARTTLS"):
        _send(session, f"smtp+starttls://127.0.0.1:{server.port}")
    assert server.journal.messages == [] and _state(session, message)[0] == 0


def test_plain_smtp_stays_plain_even_where_starttls_is_offered(session, certificates):
    _queue(session, "a@example.jp")
    with SmtpServer(tls_context=certificates.server) as server:
        assert _send(session, f"smtp://127.0.0.1:{server.port}") == Delivery(sent=1)
    assert not server.journal.messages[0].tls


# --- what the messages say ---------------------------------------------------------------------

SITE = "https://grants.example.jp/koubo"
APPLICATION = SimpleNamespace(id=7, reference="G26-0001-0007")
# Each template: its context beyond the recipient, and the page it must link to.
TEMPLATES = {
    "application-returned": ({"application": APPLICATION, "reason": "見積書"}, "/applications/7"),
    "decision": ({"application": APPLICATION,
                  "decision": SimpleNamespace(outcome="award", amount_yen=3_000_000)},
                 "/applications/7"),
    "grant-answered": ({"application": APPLICATION, "grant": SimpleNamespace(
        answer="declined", amount_yen=3_000_000, decline_reason="体制が組めない。")},
        "/applications/7/grant-decision"),
    "grant-change-requested": ({"application": APPLICATION, "request": SimpleNamespace(
        number=1, reason="機器の納期が遅れる。")}, "/applications/7/plan#pending-change"),
    "grant-change-decided": ({"application": APPLICATION, "request": SimpleNamespace(
        number=1, state="refused", decision_reason="代替機器がある。")}, "/applications/7/plan"),
    "membership-approved": ({}, "/applications"),
    "redress-received": ({"application": APPLICATION}, "/applications/7/evaluation-review"),
    "redress-finding": ({"application": APPLICATION,
                         "request": SimpleNamespace(state="upheld", finding="認める。")},
                        "/applications/7/evaluation-review"),
    "report-submitted": ({"application": SimpleNamespace(
        id=7, reference="G26-0001-0007", organization=SimpleNamespace(name="札幌市")),
        "report": SimpleNamespace(number=1)}, "/manage/applications/7/completion-report"),
    "report-returned": ({"application": APPLICATION, "report": SimpleNamespace(
        number=1, return_reason="領収書が不足している。")}, "/applications/7/completion-report"),
    "report-accepted": ({"application": APPLICATION, "report": SimpleNamespace(number=1)},
                        "/applications/7/completion-report"),
    "final-amount-fixed": ({"application": APPLICATION, "report": SimpleNamespace(number=1),
                            "final": SimpleNamespace(amount_yen=3_900_000, to_return_yen=100_000)},
                           "/applications/7/final-amount-letter.pdf"),
    "disposal-requested": ({"application": SimpleNamespace(
        id=7, reference="G26-0001-0007", organization=SimpleNamespace(name="札幌市")),
        "asset": SimpleNamespace(id=3, name="配信サーバ"), "disposal": SimpleNamespace(
            planned_on=dt.date(2027, 7, 15), repayment_yen=346_666, reason="老朽化")},
        "/manage/applications/7/assets/3"),
    "disposal-decided": ({"application": APPLICATION, "asset": SimpleNamespace(
        id=3, name="配信サーバ"), "disposal": SimpleNamespace(
            state="approved", planned_on=dt.date(2027, 7, 15), repayment_yen=346_666,
            decision_reason=None)}, "/applications/7/assets/3"),
    "followup-reminder": ({"application": APPLICATION, "kind": "overdue",
                           "followup": SimpleNamespace(fiscal_year=2027, year_number=1,
                                                       due_on=dt.date(2028, 6, 30))},
                          "/applications/7/followups"),
    "membership-refused": ({}, "/account"),
    "membership-removed": ({}, "/account"),
    "invitation": ({"link": ("account.accept_invitation", {"token": "t0k"})}, "/invitation/t0k"),
    "join-request": ({"link": ("organization.show", {})}, "/organization"),
    "password-reset": ({"link": ("account.reset_password", {"token": "t0k"})},
                       "/password/reset/t0k"),
    "sign-up-existing": ({"link": ("account.forgot_password", {})}, "/password/forgot"),
    "verify-email": ({"link": ("auth.verify_email", {"token": "t0k"})}, "/verify/t0k"),
}


def test_every_template_is_covered_below():
    folders = {p.name for p in (PACKAGE_ROOT / "templates" / "email").iterdir() if p.is_dir()}
    assert folders == set(TEMPLATES)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_every_email_links_to_its_page_and_names_the_site(app_config, make_user, locale):
    """Rendered as a worker or a command does: an app context and no request."""
    app = create_app({**app_config, "SITE_URL": SITE + "/"})
    recipient, other = make_user(), make_user()
    recipient.locale, recipient.membership_note = locale, "異動のため"
    for template, (context, page) in TEMPLATES.items():
        with app.app_context():
            context = {**context, "inviter": other, "requester": other}
            if "link" in context:
                endpoint, values = context["link"]
                context["link"] = emails.absolute_url(endpoint, **values)
            subject, body = emails.render(template, recipient, **context)
        assert subject and "\n" not in subject, template
        assert f"{SITE}{page}\n" in body, template
        assert body.endswith(f"{SITE}\n"), template  # the footer names the site
        assert "127.0.0.1" not in body and "localhost" not in body, template


def test_a_reset_link_ignores_a_forged_host_header(client, make_user, session):
    user = make_user()
    response = client.post("/password/forgot", data={"email": user.email},
                           base_url="http://evil.example")
    assert response.status_code in (200, 303)
    (message,) = session.scalars(sa.select(OutboxMessage).filter_by(to_address=user.email)).all()
    assert "http://127.0.0.1:5000/password/reset/" in message.body
    assert "evil.example" not in message.body


# --- the command -------------------------------------------------------------------------------


def _flask(instance: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("GRANTS_") and k != "DATABASE_URL"}
    environment.update({"GRANTS_INSTANCE_DIR": str(instance)},
                       **{f"GRANTS_{k}": v for k, v in settings.items()})
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "grants", *args],
                          cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.fixture
def instance(tmp_path):
    """A fresh database with three messages waiting: one accepted, one refused, one deferred."""
    assert _flask(tmp_path, "migrate").returncode == 0
    with sqlite3.connect(tmp_path / "grants.sqlite") as connection:
        connection.executemany(
            "INSERT INTO outbox_messages (to_address, subject, body, created_at) "
            "VALUES (?, '件名', '本文', '2026-11-20 01:00:00.000000')",
            [("ok@example.jp",), ("reject@example.jp",), ("defer@example.jp",)])
    return tmp_path


def test_outbox_send_prints_counts_and_succeeds(instance, server):
    result = _flask(instance, "outbox", "send", SMTP_URL=f"smtp://127.0.0.1:{server.port}")
    assert (result.returncode, result.stdout) == (0, "sent 1, retrying 2, failed 0\n"), (
        result.stderr)
    assert [r.recipients for r in server.journal.messages] == [["ok@example.jp"]]
    again = _flask(instance, "outbox", "send", SMTP_URL=f"smtp://127.0.0.1:{server.port}")
    assert (again.returncode, again.stdout) == (0, "sent 0, retrying 0, failed 0\n")


def test_outbox_send_refuses_an_unverified_certificate_in_one_line(instance, certificates):
    with SmtpServer(tls_context=certificates.server) as server:
        url = f"smtp+starttls://127.0.0.1:{server.port}"
        refused = _flask(instance, "outbox", "send", SMTP_URL=url)
        sent = _flask(instance, "outbox", "send", SMTP_URL=url, SMTP_CA_FILE=str(certificates.ca))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("Error: the certificate of 127.0.0.1:")
    assert len(refused.stderr.strip().splitlines()) == 1
    assert (sent.returncode, sent.stdout) == (0, "sent 1, retrying 2, failed 0\n"), sent.stderr


def test_outbox_send_with_a_password_on_plain_smtp_is_a_configuration_error(tmp_path):
    result = _flask(tmp_path, "outbox", "send", SMTP_URL="smtp://mailer:hunter2@127.0.0.1:25")
    assert result.returncode == 1 and "hunter2" not in result.stderr
    assert result.stderr.startswith("configuration error: GRANTS_SMTP_URL smtp:// is plain")
