"""``worker``: an RQ worker on exactly this installation's queue, saying which version it runs."""

from __future__ import annotations

import click
from flask import current_app

from grants import jobs
from grants.cli import grants_cli, reading_session
from grants.version import installed_version


@grants_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
def worker_command(burst: bool) -> None:
    """Build batches and slow documents from this installation's queue (GRANTS_RQ_QUEUE).

    Run it with the web app's settings, on every machine that builds documents, and restart it
    with the web app after an upgrade: a worker refuses jobs queued by another version.
    """
    config = current_app.config
    if not config["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not set: the web process builds batches itself "
                                   "(GRANTS_BATCH_RUNNER), so no worker is needed")
    with reading_session():
        pass  # a worker on a database not migrated yet would fail every job: say so now
    from redis.exceptions import RedisError

    try:
        rq_worker = jobs.worker(config)
    except RedisError as error:
        raise click.ClickException(f"cannot reach Redis: {error}") from None
    click.echo(f"Grants {installed_version()} worker {rq_worker.name} on queue "
               f"{config['RQ_QUEUE']}")
    rq_worker.work(burst=burst, logging_level="INFO")
