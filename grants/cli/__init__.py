"""``flask grants ...``: the commands operators, CI and ``make run`` use.

A command that changes data works like a request: one session whose transactions take the
write lock from the start (``grants.db.writing``), the time from ``grants.clock``, one commit at
the end. ``migrate`` runs Alembic on the app's own engine instead; ``check`` reads files only.
Every command that reads or writes data first checks that the schema is there and current,
and otherwise says in one line how to make it so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from grants import db
from grants.config import PACKAGE_ROOT

grants_cli = AppGroup("grants", help="Set up and maintain a Grants installation.")

NOT_INITIALIZED = ("the database is not initialized: run `flask --app wsgi grants init` "
                   "(development) or `grants migrate` (production)")


def init_app(app: Flask) -> None:
    app.cli.add_command(grants_cli)


def alembic_config() -> Config:
    """Return the Alembic configuration of the installed package (grants/migrations).

    No alembic.ini is needed: a wheel installed outside a checkout migrates the same way.
    """
    config = Config()
    config.set_main_option("script_location", str(PACKAGE_ROOT / "migrations"))
    return config


def require_initialized(session: Session) -> None:
    """Stop the command with one line when the schema is missing or behind the migrations."""
    try:
        current = set(MigrationContext.configure(session.connection()).get_current_heads())
    except sa.exc.OperationalError as exc:
        raise click.ClickException(f"cannot reach the database: {exc.orig}") from None
    if current != set(ScriptDirectory.from_config(alembic_config()).get_heads()):
        raise click.ClickException(NOT_INITIALIZED)


@contextmanager
def command_session() -> Iterator[Session]:
    """Yield the command's one session; its transactions take the write lock from the start."""
    with db.writing(), current_app.extensions["grants.sessionmaker"]() as session:
        require_initialized(session)
        yield session


@contextmanager
def reading_session() -> Iterator[Session]:
    """Yield a session for a command that only reads (and appends to files outside the DB)."""
    with current_app.extensions["grants.sessionmaker"]() as session:
        require_initialized(session)
        yield session


# Each module adds its commands to grants_cli when imported.
from grants.cli import (  # noqa: E402, F401
    batches,
    definitions,
    demo,
    doctor,
    documents,
    followups,
    installation,
    maintenance,
    retention,
    users,
    worker,
)
