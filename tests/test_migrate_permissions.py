"""`grants migrate` as a database user that may not create tables (PostgreSQL 15's default for
a user that does not own the database): one line that says what to grant, never a traceback."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.conftest import ROOT

pytestmark = pytest.mark.postgres


@pytest.fixture
def user_without_create():
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set (e.g. postgresql+psycopg://postgres@127.0.0.1/test)")
    admin_url = make_url(os.environ["TEST_DATABASE_URL"])
    suffix = secrets.token_hex(4)
    role, database = f"grants_nocreate_{suffix}", f"grants_nocreate_{suffix}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        connection.execute(sa.text(f"CREATE DATABASE {database}"))  # owned by the admin
    inside = sa.create_engine(admin_url.set(database=database), isolation_level="AUTOCOMMIT")
    with inside.connect() as connection:
        connection.execute(sa.text(f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role}"))
    inside.dispose()
    try:
        yield admin_url.set(username=role, password=None, database=database)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            connection.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def test_migrate_without_create_says_what_to_grant(user_without_create, tmp_path):
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("GRANTS_") and key != "DATABASE_URL"}
    environment |= {"GRANTS_INSTANCE_DIR": str(tmp_path),
                    "DATABASE_URL": user_without_create.render_as_string(hide_password=False)}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "grants", "migrate"], cwd=ROOT,
        env=environment, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "permission denied for schema public" in lines[0]
    assert "GRANT USAGE, CREATE ON SCHEMA public" in lines[0]
    assert "Traceback" not in result.stderr and "Background on this error" not in result.stderr
