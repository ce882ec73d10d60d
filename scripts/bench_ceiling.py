"""The ceiling for scripts/bench.py: one database write per request and nothing else.

No sessions, CSRF, templates or ORM: a POST inserts one row into a scratch table through
``grants.db.create_engine``, so SQLite gets the same pragmas (WAL, busy timeout) and the same
``BEGIN IMMEDIATE`` as the real app's writes. Served by gunicorn exactly like the app::

    gunicorn --pythonpath scripts 'bench_ceiling:create_app("sqlite:////tmp/x/ceiling.sqlite")'

The table is created beforehand by ``create_table`` (scripts/benchlib/ceiling.py does it), never
by a worker, so several workers starting at once do not race on DDL.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, request

from grants.db import create_engine

metadata = sa.MetaData()
rows = sa.Table(
    "bench_ceiling",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("payload", sa.String(64), nullable=False),
)


def create_table(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()


def count_rows(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(sa.select(sa.func.count()).select_from(rows)) or 0)
    finally:
        engine.dispose()


def create_app(database_url: str) -> Flask:
    engine = create_engine(database_url)
    app = Flask(__name__)

    @app.get("/health")
    def health() -> str:
        return "ok\n"

    @app.post("/write")
    def write() -> str:
        payload = request.form.get("p", "")[:64]
        with engine.begin() as connection:
            connection.execute(rows.insert().values(pid=os.getpid(), payload=payload))
        return "ok\n"

    return app
