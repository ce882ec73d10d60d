"""A throw-away instance: a migrated, catalogued database, its directories and the app on it.

SQLite lives in a temporary directory; PostgreSQL in a database created for the run and dropped
afterwards. The app is configured as the RQ workers will be: ``worker_env`` is the same
settings as GRANTS_* variables.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from flask import Flask
from sqlalchemy.orm import Session

from grants import create_app
from grants.config import PACKAGE_ROOT
from grants.db import create_engine
from grants.services.catalog import sync_catalog
from tests.conftest import NOW  # inside every program's demo call window

ROOT = Path(__file__).resolve().parents[2]
PG_DATABASE = "bench_docs"


@dataclass
class Instance:
    backend: str
    url: str
    folder: Path
    app: Flask
    plain: sa.Engine  # no lock-at-begin: the seeding session never holds up the app's requests

    def settings(self) -> dict[str, str]:
        """The app's settings that a worker must share (as config keys)."""
        keys = ("DATABASE_URL", "INSTANCE_DIR", "STORAGE_DIR", "BATCH_DIR", "SECRET_KEY")
        return {key: str(self.app.config[key]) for key in keys}

    def session(self) -> Session:
        return Session(self.plain, expire_on_commit=False)


def upgrade(url: str) -> None:
    """Migrate to head with Alembic, as tests/conftest.py and ``grants migrate`` do."""
    engine = create_engine(url)
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PACKAGE_ROOT / "migrations"))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def postgres_answers(url: str) -> bool:
    """Whether a PostgreSQL server answers at ``url`` (the default run uses it when it does)."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except Exception:  # absent or refusing: the run goes on without it
        return False
    finally:
        engine.dispose()


@contextlib.contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """Create PG_DATABASE on the server of ``server_url`` (dropped first if a run left it)."""
    admin = sa.create_engine(sa.make_url(server_url).set(database="postgres"),
                             isolation_level="AUTOCOMMIT")
    drop = sa.text(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
    with admin.connect() as connection:
        connection.execute(drop)
        connection.execute(sa.text(f"CREATE DATABASE {PG_DATABASE}"))
    try:
        url = sa.make_url(server_url).set(database=PG_DATABASE)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(drop)
        admin.dispose()


@contextlib.contextmanager
def instance(backend: str, postgres_url: str) -> Iterator[Instance]:
    """A fresh instance on ``backend`` ("sqlite" or "postgresql"), removed afterwards."""
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="docbench-")))
        url = (f"sqlite:///{folder / 'grants.sqlite'}" if backend == "sqlite"
               else stack.enter_context(postgres_database(postgres_url)))
        upgrade(url)
        plain = sa.create_engine(url)
        stack.callback(plain.dispose)
        with Session(plain) as session:
            sync_catalog(session, PACKAGE_ROOT / "programs", PACKAGE_ROOT / "rubrics", now=NOW)
            session.commit()
        config: dict[str, Any] = {
            "TESTING": True, "WTF_CSRF_ENABLED": False, "DATABASE_URL": url,
            "INSTANCE_DIR": str(folder / "instance"), "STORAGE_DIR": str(folder / "files"),
            "BATCH_DIR": str(folder / "batches"), "SECRET_KEY": secrets.token_urlsafe(32),
            "BATCH_RUNNER": "request",
        }
        app = create_app(config)
        stack.callback(app.extensions["grants.engine"].dispose)
        yield Instance(backend, url, folder, app, plain)
