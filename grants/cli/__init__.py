"""``flask grants ...``: the commands operators, CI and ``make run`` use.

A command that changes data works like a request: one session whose transactions take the
write lock from the start (``grants.db.writing``), the time from ``grants.clock``, one commit at
the end. ``migrate`` runs Alembic on the app's own engine instead; ``check`` reads files only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from grants import db

grants_cli = AppGroup("grants", help="Set up and maintain a Grants installation.")


def init_app(app: Flask) -> None:
    app.cli.add_command(grants_cli)


@contextmanager
def command_session() -> Iterator[Session]:
    """Yield the command's one session; its transactions take the write lock from the start."""
    with db.writing(), current_app.extensions["grants.sessionmaker"]() as session:
        yield session


# Each module adds its commands to grants_cli when imported.
from grants.cli import definitions, documents, maintenance, users  # noqa: E402, F401
