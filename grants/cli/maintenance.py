"""``outbox send`` and ``audit verify``: routine operations on a running installation."""

from __future__ import annotations

import click
from flask import current_app

from grants import clock, emails
from grants.cli import command_session, grants_cli
from grants.services import audit

# --- outbox ----------------------------------------------------------------------------------


@grants_cli.group("outbox")
def outbox_group() -> None:
    """E-mail waiting in the outbox."""


@outbox_group.command("send")
def outbox_send_command() -> None:
    """Send unsent messages through GRANTS_SMTP_URL (run it from cron or a timer)."""
    smtp_url = current_app.config["SMTP_URL"]
    if not smtp_url:
        raise click.ClickException(
            "GRANTS_SMTP_URL is not set: messages stay in the outbox, readable at /manage/outbox"
        )
    with command_session() as session:
        sent = emails.send_pending(session, smtp_url, current_app.config["MAIL_FROM"],
                                   now=clock.now())
    click.echo(f"sent {sent} message(s)")



# --- audit -----------------------------------------------------------------------------------


@grants_cli.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
def audit_verify_command() -> None:
    """Recompute the audit chain; report the first broken link and exit 1 if there is one."""
    with current_app.extensions["grants.sessionmaker"]() as session:
        report = audit.verify(session)
    if report.broken is not None:
        event = report.broken
        click.echo(
            f"BROKEN at event {event.id} ({event.tag}, {event.subject_type} {event.subject_id}, "
            f"{event.at.isoformat()}): {report.count} event(s) before it hold", err=True)
        raise SystemExit(1)
    click.echo(f"audit chain intact: {report.count} event(s), head {report.head_hash or '-'}")
