"""What an operator meets: configuration refusals in one line, the health check, outbox send."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from grants.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {"GRANTS_ENV": "production", "SECRET_KEY": "Yx7-Lq2_Zr9vT4mW8nB3cK6pH1sD5fG0",
              "GRANTS_SITE_URL": "https://grants.example.jp"}


@pytest.mark.parametrize("url", ["postgres://u:p@db/grants", "postgresql://u:p@db/grants"])
def test_settings_postgres_urls_get_the_driver(url):
    settings = load_settings(environ={**PRODUCTION, "DATABASE_URL": url})
    assert settings["DATABASE_URL"] == "postgresql+psycopg://u:p@db/grants"


def test_settings_production_refuses_sqlite_unless_allowed(tmp_path):
    environ = {**PRODUCTION, "DATABASE_URL": f"sqlite:///{tmp_path}/g.sqlite"}
    with pytest.raises(ConfigError, match="GRANTS_ALLOW_SQLITE"):
        load_settings(environ=environ)
    assert load_settings(environ={**environ, "GRANTS_ALLOW_SQLITE": "1"})["ALLOW_SQLITE"]


def test_settings_production_refuses_the_readme_placeholder():
    placeholder = '<a long random string, e.g. from: python3 -c "import secrets">'
    with pytest.raises(ConfigError, match="placeholder"):
        load_settings(environ={**PRODUCTION, "SECRET_KEY": placeholder,
                               "DATABASE_URL": "postgresql+psycopg://db/grants"})


def _flask(tmp_path, *args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GRANTS_")}
    environment.update({"GRANTS_INSTANCE_DIR": str(tmp_path), **env})
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "grants", *args],
                          cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
                          check=False)


def test_configuration_error_is_one_line_never_a_traceback(tmp_path):
    result = _flask(tmp_path, "migrate", GRANTS_ENV="production", SECRET_KEY="short",
                    DATABASE_URL="postgresql+psycopg://db/grants")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("configuration error: SECRET_KEY")


def test_outbox_send_without_smtp_says_so_and_succeeds(tmp_path):
    assert _flask(tmp_path, "migrate").returncode == 0
    result = _flask(tmp_path, "outbox", "send")
    assert result.returncode == 0, result.stderr
    assert "GRANTS_SMTP_URL is not set" in result.stdout


def test_healthz_answers_without_a_session(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.text == "ok\n"
    assert "Set-Cookie" not in response.headers


def test_healthz_says_when_the_database_is_down(client, monkeypatch):
    from grants.web import health

    def broken():
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("down"))

    monkeypatch.setattr(health, "get_session", broken)
    response = client.get("/healthz")
    assert response.status_code == 503


def test_healthz_tells_an_operator_which_version_answers(client, connection):
    migrated = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    response = client.get("/healthz", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json == {"status": "ok", "version": _setup_cfg_version(),
                             "migration_head": migrated}


def test_version_command_names_the_release_and_the_migration_head(tmp_path):
    import sqlite3

    assert _flask(tmp_path, "migrate").returncode == 0
    with sqlite3.connect(tmp_path / "grants.sqlite") as database:
        migrated = database.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    result = _flask(tmp_path, "version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"grants {_setup_cfg_version()}, migration head {migrated}\n"


def test_static_urls_carry_the_file_hash_so_proxies_may_cache_them(client):
    import hashlib
    import re

    page = client.get("/sign-in").text
    url = re.search(r'href="(/static/grants\.css\?v=([0-9a-f]+))"', page)
    assert url, "the stylesheet's URL has no version"
    css = (ROOT / "grants" / "static" / "grants.css").read_bytes()
    assert url[2] == hashlib.sha256(css).hexdigest()[:12]
    with client.get(url[1]) as stylesheet:
        assert stylesheet.status_code == 200 and stylesheet.data == css


def _setup_cfg_version() -> str:
    import configparser

    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    return parser["metadata"]["version"]
