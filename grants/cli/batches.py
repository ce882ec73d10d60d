"""``batches prune``: keep the batch folder small for years, and settle lost jobs."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app

from grants import clock
from grants.cli import command_session, grants_cli
from grants.services import batches
from grants.storage import stores_of


@grants_cli.group("batches")
def batches_group() -> None:
    """Batch downloads and single documents built in the background."""


@batches_group.command("prune")
def prune_command() -> None:
    """Delete old ZIPs and PDFs, remove leftovers and fail lost jobs (safe to run from cron).

    A ZIP or PDF older than GRANTS_BATCH_RETENTION_DAYS is deleted and its batch kept, marked
    expired (its page offers to build it again); a job unfinished GRANTS_BATCH_DEADLINE_HOURS
    after its request is marked failed. Running it again does nothing more; it exits 0.
    """
    config = current_app.config
    retention = dt.timedelta(days=config["BATCH_RETENTION_DAYS"])
    deadline = dt.timedelta(hours=config["BATCH_DEADLINE_HOURS"])
    folder = stores_of(current_app).batches
    with command_session() as session:
        pruned = batches.prune(session, folder, now=clock.now(),
                               retention=retention, deadline=deadline)
    click.echo(f"expired {pruned.expired} ZIP(s) and PDF(s) older than "
               f"{config['BATCH_RETENTION_DAYS']} days (their batches are kept)")
    click.echo(f"removed {pruned.removed} leftover file(s) and staging folder(s) "
               f"from {folder}")
    lost = f": {', '.join(map(str, pruned.lost))}" if pruned.lost else ""
    click.echo(f"marked {len(pruned.lost)} lost job(s) failed, unfinished "
               f"{config['BATCH_DEADLINE_HOURS']} hours after their request{lost}")
