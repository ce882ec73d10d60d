"""The migrations: one head, up and down cleanly, and a schema that matches the models.

Run on SQLite always, and on PostgreSQL when TEST_DATABASE_URL names one. PostgreSQL runs in a
fresh schema per test, dropped afterwards, so the shared test database is left as it was.
Migrations run the way ``flask grants migrate`` runs them: on an open connection outside a
transaction, so env.py's own transaction handling (SQLite foreign keys, PostgreSQL lock) is used.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import grants.models  # noqa: F401  (registers every table)
from grants.config import PACKAGE_ROOT
from grants.db import Base, create_engine

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ["sqlite", "postgresql"]


def alembic_config(output: io.StringIO | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"), output_buffer=output)
    config.set_main_option("script_location", str(PACKAGE_ROOT / "migrations"))
    return config


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@contextmanager
def empty_database(backend: str, tmp_path: Path) -> Iterator[sa.Engine]:
    """Yield an engine on an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.sqlite'}")
        yield engine
        engine.dispose()
        return
    url = postgres_url()
    if url is None:
        pytest.skip("TEST_DATABASE_URL does not name a PostgreSQL database")
    schema = f"migration_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    # Every connection works in the new schema only (tables, alembic_version, reflection).
    engine = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(engine: sa.Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic command as `flask grants migrate` does: own connection, commit at end."""
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        step(config, revision)
        connection.commit()


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def schema_differences(engine: sa.Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, Base.metadata)


def named_constraints(engine: sa.Engine) -> dict[str, dict[str, object]]:
    """Reflect every constraint and index by name (CHECKs with their SQL), table by table."""
    inspector = sa.inspect(engine)
    found: dict[str, dict[str, object]] = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        found[table] = {
            "pk": inspector.get_pk_constraint(table)["name"],
            "fk": sorted(fk["name"] for fk in inspector.get_foreign_keys(table)),
            "uq": sorted(uq["name"] for uq in inspector.get_unique_constraints(table)),
            "ck": sorted(
                (ck["name"], ck["sqltext"]) for ck in inspector.get_check_constraints(table)
            ),
            "ix": sorted(
                (ix["name"], tuple(ix["column_names"]))
                for ix in inspector.get_indexes(table)
                if not ix.get("duplicates_constraint")
            ),
        }
    return found


def test_migrations_history_has_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several heads, merge them: {heads}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_up_down_up_leaves_schema_matching_models(backend: str, tmp_path: Path) -> None:
    with empty_database(backend, tmp_path) as engine:
        run(engine, command.upgrade, "head")
        assert table_names(engine) >= set(Base.metadata.tables)

        run(engine, command.downgrade, "base")
        assert table_names(engine) == {"alembic_version"}

        run(engine, command.upgrade, "head")
        assert schema_differences(engine) == []
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_constraint_names_and_checks_equal_models(backend: str, tmp_path: Path) -> None:
    # compare_metadata ignores CHECK constraints and most names: compare the reflected schema
    # with one built straight from the models on the same backend instead.
    with empty_database(backend, tmp_path) as migrated, empty_database(backend, tmp_path) as built:
        run(migrated, command.upgrade, "head")
        Base.metadata.create_all(built)

        assert named_constraints(migrated) == named_constraints(built)


def test_migrations_offline_mode_renders_postgresql_sql() -> None:
    output = io.StringIO()
    config = alembic_config(output)
    config.set_main_option("sqlalchemy.url", "postgresql+psycopg://user@localhost/grants")

    command.upgrade(config, "head", sql=True)

    sql = output.getvalue()
    assert "CREATE TABLE applications" in sql
    assert "CONSTRAINT ck_applications_state CHECK" in sql
