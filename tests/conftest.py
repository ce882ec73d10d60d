"""Shared fixtures: a migrated database, each test in a rolled-back transaction, the app on it.

The schema is built by the migrations (never create_all), once per run; each test joins an outer
transaction that is rolled back, so code under test may commit freely (after Warehouse's
tests/conftest.py and SQLAlchemy's "join a session into an external transaction" recipe).
Set TEST_DATABASE_URL to run the same suite on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.orm import Session, sessionmaker

from grants import clock, create_app
from grants.config import PACKAGE_ROOT
from grants.db import create_engine
from grants.domain.identifiers import corporate_number
from grants.domain.workflow import Role
from grants.models import Organization, OrganizationKind, User
from grants.services import accounts
from grants.services.catalog import sync_catalog

ROOT = Path(__file__).resolve().parent.parent
# Inside every encoded program's demo call window (Japan time 2026-11-20 10:00).
NOW = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"


# Every database test runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL names one.
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def database_url(backend: str, tmp_dir: Path) -> str:
    if backend == "postgresql":
        return os.environ["TEST_DATABASE_URL"]
    return f"sqlite:///{tmp_dir / 'test.sqlite'}"


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PACKAGE_ROOT / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def reset_postgres(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    url = database_url(request.param, tmp_path_factory.mktemp("db"))
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        reset_postgres(engine)
    upgrade(engine)
    with Session(engine) as session:
        sync_catalog(session, PACKAGE_ROOT / "programs", PACKAGE_ROOT / "rubrics", now=NOW)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


@pytest.fixture
def session(connection: sa.Connection) -> Iterator[Session]:
    with Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as session:
        yield session


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash the tests' thousands of passwords with a cheap scrypt (the production cost is
    about 0.2 s of CPU each); tests/services/test_password_hash.py checks the real one."""
    monkeypatch.setattr(accounts, "PASSWORD_METHOD", "scrypt:1024:8:1")


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return NOW


@pytest.fixture
def app_config(tmp_path: Path, engine: sa.Engine) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "STORAGE_DIR": str(tmp_path / "files"),
        "PROGRAMS_DIR": str(PACKAGE_ROOT / "programs"),
        "WTF_CSRF_ENABLED": False,
        "BATCH_RUNNER": "request",  # the test's data lives in its rolled-back transaction
    }


@pytest.fixture
def app(app_config: dict[str, Any], connection: sa.Connection):
    app = create_app(app_config)
    app.extensions["grants.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(session: Session):
    """Create a user (and an organization for applicants) directly."""
    counter = iter(range(1, 10_000))

    def _make(
        role: Role = Role.APPLICANT,
        *,
        organization: Organization | None = None,
        kind: OrganizationKind = OrganizationKind.LOCAL_GOVERNMENT,
        lg_code: str | None = "011002",
        email: str | None = None,
    ) -> User:
        n = next(counter)
        if role is Role.APPLICANT and organization is None:
            organization = (
                session.scalar(sa.select(Organization).filter_by(lg_code=lg_code))
                if kind is OrganizationKind.LOCAL_GOVERNMENT
                else None
            )
            if organization is None:
                organization = accounts.find_or_create_organization(
                    session,
                    accounts.NewOrganization(
                        name=f"テスト団体{n}",
                        kind=kind,
                        lg_code=lg_code if kind == "local_government" else None,
                        corporate_number=corporate_number(f"{n:012d}")
                        if kind != "local_government" else None,
                    ),
                    verified_at=NOW,
                )
        user = accounts.create_user(
            session,
            email=email or f"user{n}-{role}@example.jp",
            password=PASSWORD,
            display_name=f"利用者{n}",
            role=role,
            organization=organization,
            now=NOW,
        )
        session.commit()
        return user

    return _make


class AuthActions:
    """Sign in and out through the real forms (after flaskr's tests)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def sign_in(self, user: User, password: str = PASSWORD) -> Any:
        return self.client.post("/sign-in", data={"email": user.email, "password": password})

    def sign_out(self) -> Any:
        return self.client.post("/sign-out")


@pytest.fixture
def auth(client: Any) -> AuthActions:
    return AuthActions(client)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)
