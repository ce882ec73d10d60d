"""``outbox send``, ``audit verify`` and ``audit anchor``: routine operations on a running
installation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import current_app

from grants import clock, emails, smtp
from grants.cli import command_session, grants_cli, reading_session
from grants.domain.anchors import Anchor, AnchorFileError
from grants.i18n import to_jst
from grants.services import anchors, audit

# --- outbox ----------------------------------------------------------------------------------


@grants_cli.group("outbox")
def outbox_group() -> None:
    """E-mail waiting in the outbox."""


@outbox_group.command("send")
def outbox_send_command() -> None:
    """Send the e-mail that is due through GRANTS_SMTP_URL (run it from cron or a timer).

    Prints how many were sent, are waiting to be tried again, and were given up; exits 1 only
    when a setting must change (certificate, STARTTLS, credentials), 0 otherwise.
    """
    config = current_app.config
    with command_session() as session:
        if not config["SMTP_URL"]:  # not an error: the embedded default keeps mail in the outbox
            click.echo("GRANTS_SMTP_URL is not set: nothing sent; messages stay in the outbox, "
                       "readable at /manage/outbox")
            return
        try:
            delivery = emails.send_pending(session, smtp.parse_smtp_url(config["SMTP_URL"]),
                                           config["MAIL_FROM"], now=clock.now(),
                                           ca_file=config["SMTP_CA_FILE"])
        except smtp.SmtpSetupError as error:
            raise click.ClickException(f"{error}; every message stays in the outbox") from error
    click.echo(f"sent {delivery.sent}, retrying {delivery.retrying}, failed {delivery.failed}")


# --- audit -----------------------------------------------------------------------------------


@grants_cli.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@click.option("--anchor", "anchor_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also check that the chain still reaches every head anchored in this file.")
def audit_verify_command(anchor_file: Path | None) -> None:
    """Recompute the audit chain; report the first broken link and exit 1 if there is one.

    With --anchor, also exit 1 when the chain no longer reaches an anchored head (its newest
    events deleted, or rewritten), naming each such anchor.
    """
    taken = _read_anchor_file(anchor_file) if anchor_file else None  # fail fast on a bad file
    with reading_session() as session:
        report = audit.verify(session)
        unreached = anchors.check(session, taken) if taken else []
    if report.broken is not None:
        event = report.broken
        click.echo(
            f"BROKEN at event {event.id} ({event.tag}, {event.subject_type} {event.subject_id}, "
            f"{event.at.isoformat()}): {report.count} event(s) before it hold", err=True)
    else:
        click.echo(f"audit chain intact: {report.count} event(s), head {report.head_hash or '-'}")
    for miss in unreached:
        click.echo(f"ANCHOR NOT REACHED: {_describe(anchor_file, miss.anchor)}: {miss.reason}",
                   err=True)
    if taken and not unreached:
        click.echo(f"{len(taken)} anchor(s) reached; the last: {_describe(anchor_file, taken[-1])}")
    if report.broken is not None or unreached:
        raise SystemExit(1)


@audit_group.command("anchor")
@click.option("--file", "anchor_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Append to this file instead of GRANTS_AUDIT_ANCHOR_FILE.")
def audit_anchor_command(anchor_file: Path | None) -> None:
    """Append the chain's head to the anchor file (keep a copy of it away from the database)."""
    target = anchor_file or Path(current_app.config["AUDIT_ANCHOR_FILE"])
    try:
        with reading_session() as session:
            taken = anchors.anchor(session, target, now=clock.now())
    except OSError as exc:
        raise click.ClickException(f"cannot append to {target}: {exc.strerror or exc}") from exc
    if taken is None:
        click.echo(f"the audit chain is empty: nothing to anchor, {target} left as it was")
        return
    at = taken.at.astimezone(dt.UTC)
    click.echo(f"anchored audit chain head {taken.head}\n"
               f"  {taken.count} event(s), the last one event {taken.last_id}\n"
               f"  at {at.isoformat(timespec='seconds')} "
               f"({to_jst(at).strftime('%Y-%m-%d %H:%M:%S')} JST)\n"
               f"  appended to {target}")


def _read_anchor_file(path: Path) -> list[Anchor]:
    """The file's anchors; a missing, unreadable, malformed or empty file stops the command."""
    try:
        taken = anchors.read_anchors(path)
    except OSError as exc:
        raise click.ClickException(f"cannot read anchor file {path}: {exc.strerror or exc}"
                                   ) from exc
    except AnchorFileError as exc:
        raise click.ClickException(f"anchor file {path}, {exc}") from exc
    if not taken:
        raise click.ClickException(f"anchor file {path} holds no anchor")
    return taken


def _describe(path: Path | None, anchor: Anchor) -> str:
    at = anchor.at.astimezone(dt.UTC).isoformat(timespec="seconds")
    return (f"line {anchor.line} of {path} (anchored {at}: {anchor.count} event(s), "
            f"head {anchor.head})")
