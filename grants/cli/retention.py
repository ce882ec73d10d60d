"""``retention report`` and ``purge``: 書類保存, and the removal of personal data after it.

Like the ``users`` commands, the purge is recorded with no actor (the command line): whoever
has the shell acts as the installation's admin, and an address typed on the command line would
put a name on the event that nothing checked. Every attempt is an audit event (a refusal too),
except for a reference that names no application.
"""

from __future__ import annotations

import click
from flask import current_app

from grants import clock
from grants.cli import command_session, grants_cli, reading_session
from grants.cli.users import print_table
from grants.domain.definitions import JST
from grants.domain.retention import Hold, Retention, StillRetained
from grants.services import retention
from grants.storage import stores_of

_HELD = {
    Hold.UNDECIDED: "not decided yet",
    Hold.AWAITING_ANSWER: "the grant decision is not answered yet",
    Hold.PROJECT_RUNNING: "the project runs, its final amount is not fixed yet",
    Hold.REDRESS_OPEN: "an evaluation review is open",
    Hold.NO_FINAL_AMOUNT: "completed, but no final amount is recorded",
    Hold.NO_DECISION: "no decision is recorded",
    Hold.PURGED: "purged already",
}


@grants_cli.group("retention")
def retention_group() -> None:
    """How long each application's records are kept (書類保存)."""


@retention_group.command("report")
@click.option("--purgeable", is_flag=True, help="Only the applications that may be purged today.")
def report_command(purgeable: bool) -> None:
    """List the applications by reference: state, the last day kept and the first day a purge
    is allowed (Japan dates), or why they are held; exits 0.

    A funded project is kept to the end of the fifth fiscal year after the one in which its
    final amount was fixed, or while an asset's disposal restriction runs; a rejected or
    declined one, to the end of the fifth fiscal year after its decision.
    """
    today = clock.now().astimezone(JST).date()
    with reading_session() as session:
        rows = retention.retention_report(session, today, purgeable_only=purgeable)
    if rows:
        print_table(("Reference", "State", "Kept until", "Purgeable from"), [
            (row.reference, str(row.state), _day(row.retention.kept_until),
             _purgeable_from(row.retention)) for row in rows])
    may = sum(row.purgeable for row in rows)
    click.echo(f"{len(rows)} application(s), {may} may be purged today ({today.isoformat()})")


def _day(day: object) -> str:
    return "-" if day is None else str(day)


def _purgeable_from(kept: Retention) -> str:
    return _HELD[kept.hold] if kept.hold is not None else _day(kept.purgeable_from)


@grants_cli.command("purge")
@click.argument("reference")
def purge_command(reference: str) -> None:
    """Remove the personal data and files of application REFERENCE once its retention is over.

    The free text people typed is emptied (answers, snapshots, reviews' comments, reasons,
    reports), its attachments, kept forms and e-mails are deleted, and its files leave storage
    unless another application uses the same bytes. The application stays, PURGED, with its
    reference, amounts, dates, scores and hashes, and a tombstone event in the audit chain.
    Inside retention it changes nothing and exits 1, saying until when it is kept.
    """
    with command_session() as session:
        try:
            purged = retention.purge(session, reference, actor=None, now=clock.now())
        except retention.UnknownApplication as unknown:
            raise click.ClickException(str(unknown)) from None
        except StillRetained as refused:
            session.commit()  # the refusal's audit event
            raise click.ClickException(_refusal(reference.strip(), refused.retention)) from None
        session.commit()
        storage = stores_of(current_app).files
        removed = retention.remove_files(session, storage, purged.unreferenced)
    click.echo(f"purged {purged.reference} ({purged.state}, kept until {purged.kept_until})")
    click.echo("deleted: " + ", ".join(f"{table} {count}"
                                       for table, count in purged.deleted.items()))
    click.echo("free text emptied in: " + ", ".join(f"{table} {count}"
                                                    for table, count in purged.blanked.items()))
    click.echo(f"files removed from storage: {len(removed)}")
    for sha256 in removed:
        click.echo(f"  {sha256}")
    shared = len({file["sha256"] for file in purged.files}) - len(removed)
    if shared:
        click.echo(f"files kept, another application uses the same bytes: {shared}")


def _refusal(reference: str, kept: Retention) -> str:
    if kept.hold is not None:
        return f"{reference} cannot be purged: {_HELD[kept.hold]}"
    return (f"{reference} is kept until {kept.kept_until}: it may be purged from "
            f"{kept.purgeable_from}")
