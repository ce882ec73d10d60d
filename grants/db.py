"""Declarative base, engine and request-scoped sessions.

SQLite is the embedded default and must survive concurrent saves on deadline day without
"database is locked": WAL lets readers run beside one writer, a busy timeout makes writers queue,
and a write transaction takes the write lock when it begins (BEGIN IMMEDIATE), because a
deferred transaction that upgrades from read to write later cannot wait and fails at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import sqlalchemy as sa
from flask import Flask, g
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

from grants import filemodes

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Whether the transaction about to begin will write; set per request from the HTTP method.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


class UTCDateTime(sa.types.TypeDecorator):
    """Store aware datetimes as UTC and always give them back aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware datetimes only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


intpk = Annotated[int, mapped_column(primary_key=True)]
created_at = Annotated[dt.datetime, mapped_column(UTCDateTime(), default=utcnow)]


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        enum.Enum: sa.Enum(
            enum.Enum,
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=lambda members: [m.value for m in members],
        ),
        dict[str, Any]: sa.JSON(),
        list[Any]: sa.JSON(),
    }


def create_engine(url: str, *, busy_timeout_ms: int = 15000) -> sa.Engine:
    """Create the engine; on SQLite, set up WAL, the busy timeout and lock-at-begin."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    _private_database_file(url)
    engine = sa.create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})
    _configure_sqlite(engine, busy_timeout_ms)
    return engine


def _private_database_file(url: str) -> None:
    """Create the SQLite file 0600 before the first connection, and tighten an existing one.

    SQLite gives the -wal and -shm files it creates the database file's mode; those left by an
    earlier run are tightened too.
    """
    database = sa.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    with contextlib.suppress(FileNotFoundError):  # no folder: SQLite says so when it connects
        filemodes.private_file(database)
    for suffix in ("-wal", "-shm", "-journal"):
        filemodes.tighten(database + suffix)


def _configure_sqlite(engine: sa.Engine, busy_timeout_ms: int) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is lazy and deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to ``app``; sessions close at teardown."""
    engine = create_engine(
        app.config["DATABASE_URL"], busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"]
    )
    app.extensions["grants.engine"] = engine
    app.extensions["grants.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """Return this request's session, creating it on first use."""
    if "db_session" not in g:
        from flask import current_app

        g.db_session = current_app.extensions["grants.sessionmaker"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def begin_write(session: Session) -> None:
    """End the current read transaction so that the next one begins as a write.

    SQLite cannot turn a read transaction into a write once another connection has committed
    since it began: it fails at once ("database is locked") instead of waiting. A request that
    reads first and writes afterwards (a page view that records something, a sign-in that checks
    the password before recording the attempt) calls this between the two.
    """
    write_intent.set(True)
    if session.in_transaction():
        session.commit()  # nothing written yet: this only ends the read


@contextmanager
def writing() -> Iterator[None]:
    """Mark transactions begun inside as writes (CLI commands, jobs, GET views that record)."""
    token = write_intent.set(True)
    try:
        yield
    finally:
        write_intent.reset(token)
