"""Run migrations against the app's database (after Warehouse's migrations/env.py).

The URL comes from ``grants.config`` so the app and its migrations never point at different
databases; tests and ``flask grants migrate`` pass an open connection instead. On PostgreSQL an
advisory lock lets several instances start at once (only one migrates, the others wait and
then find nothing to do), and a lock timeout keeps a migration stuck behind a long transaction
from queueing every request behind it.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any, Literal

import sqlalchemy as sa
from alembic import context

import grants.models  # noqa: F401  (registers every table on the metadata)
from grants.config import load_settings
from grants.db import Base, create_engine

config = context.config
target_metadata = Base.metadata

# Any 64-bit number unique to this purpose; the audit chain uses its own key.
MIGRATION_LOCK_KEY = 0x6772616E74735F6D  # "grants_m"
LOCK_TIMEOUT = "10s"


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our column types as the plain SQLAlchemy type they store.

    A revision must not import the app: it has to run the same way years later, whatever
    ``grants.db`` has become by then.
    """
    if type_ == "type" and isinstance(obj, sa.types.TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def record_step(*, step: Any, **_kwargs: Any) -> None:
    """Note each revision applied, so `flask grants migrate` can say what it really did."""
    config.attributes.setdefault("applied", []).append(step)


OPTIONS = {
    "target_metadata": target_metadata,
    "render_item": render_item,
    "on_version_apply": record_step,
    "render_as_batch": True,  # SQLite cannot ALTER most things: batch copies the table
    "compare_type": True,
    "compare_server_default": True,
}


def run_migrations_offline() -> None:
    """Write the SQL to stdout (``alembic upgrade head --sql``) for a DBA to review and run."""
    context.configure(
        url=_database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"}, **OPTIONS
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate on the given connection, or open one from the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(_database_url())
    try:
        with engine.connect() as connection:
            _migrate(connection)
    finally:
        engine.dispose()


def _migrate(connection: sa.Connection) -> None:
    if connection.dialect.name == "sqlite" and not connection.in_transaction():
        _migrate_sqlite(connection)
        return
    context.configure(connection=connection, **OPTIONS)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Both are transaction-scoped: they end with the migration, even on failure. The
            # advisory lock comes first because lock_timeout would also cut short the wait for
            # it, and another instance's migration may well take longer than that.
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
            connection.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        context.run_migrations()


def _migrate_sqlite(connection: sa.Connection) -> None:
    """Migrate in one transaction with foreign keys off, and check them before committing.

    A batch migration copies a table and drops the original; with enforcement on, dropping a
    table that other rows point at fails (SQLite's documented procedure turns it off). The
    pragma only works outside a transaction, so it goes straight to the driver before one
    begins. grants.db's engine emits BEGIN itself, so DDL is transactional here too.
    """
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(connection=connection, transactional_ddl=True, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration breaks foreign keys: {broken[:10]}")
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    return url or load_settings()["DATABASE_URL"]


if config.config_file_name is not None and "connection" not in config.attributes:
    # Only for the alembic command line: the app and the tests pass a connection and keep
    # their own logging setup.
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
