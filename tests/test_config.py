"""Settings: embedded defaults, environment, production refusals (after flaskr's test_factory)."""

from __future__ import annotations

import pytest

from grants import create_app
from grants.config import DEFAULTS, ConfigError, load_settings


def test_factory_testing_flag_is_passed(app_config):
    assert create_app(app_config).testing
    assert not create_app({**app_config, "TESTING": False}).testing


def test_settings_embedded_default_uses_sqlite_and_instance_files(tmp_path):
    settings = load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={})
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'grants.sqlite'}"
    assert settings["STORAGE_DIR"] == str(tmp_path / "files")
    assert settings["DEFAULT_LOCALE"] == "ja"


def test_settings_secret_key_generated_once_and_kept(tmp_path):
    first = load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={})["SECRET_KEY"]
    second = load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={})["SECRET_KEY"]
    assert first == second and len(first) >= 48
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_settings_production_without_secret_key_refused(tmp_path):
    environ = {"GRANTS_ENV": "production", "DATABASE_URL": "postgresql+psycopg://db/grants"}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"INSTANCE_DIR": str(tmp_path)}, environ=environ)
    assert not (tmp_path / "secret_key").exists()


def test_settings_production_without_database_refused(tmp_path):
    environ = {"GRANTS_ENV": "production", "SECRET_KEY": "s" * 40}
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings({"INSTANCE_DIR": str(tmp_path)}, environ=environ)


def test_settings_environment_read_with_and_without_prefix(tmp_path):
    environ = {"GRANTS_MAX_UPLOAD_MB": "5", "REDIS_URL": "redis://127.0.0.1:6379/0"}
    settings = load_settings({"INSTANCE_DIR": str(tmp_path)}, environ=environ)
    assert settings["MAX_UPLOAD_MB"] == 5
    assert settings["REDIS_URL"] == "redis://127.0.0.1:6379/0"


def test_settings_bad_number_named(tmp_path):
    with pytest.raises(ConfigError, match="GRANTS_MAX_UPLOAD_MB"):
        load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={"GRANTS_MAX_UPLOAD_MB": "lots"})


def test_settings_installed_package_keeps_development_data_in_the_current_directory(
        tmp_path, monkeypatch):
    monkeypatch.setitem(DEFAULTS, "INSTANCE_DIR", None)  # as in a wheel: no checkout around
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings["INSTANCE_DIR"] == str(tmp_path / "instance")
    assert settings["STORAGE_DIR"] == str(tmp_path / "instance" / "files")


def test_settings_installed_package_in_production_needs_an_instance_dir(tmp_path, monkeypatch):
    monkeypatch.setitem(DEFAULTS, "INSTANCE_DIR", None)
    monkeypatch.chdir(tmp_path)
    environ = {"GRANTS_ENV": "production", "SECRET_KEY": "s" * 40,
               "DATABASE_URL": "postgresql+psycopg://db/grants",
               "GRANTS_SITE_URL": "https://grants.example.jp"}
    with pytest.raises(ConfigError, match="GRANTS_INSTANCE_DIR must be set in production"):
        load_settings(environ=environ)
    assert list(tmp_path.iterdir()) == []
    settings = load_settings(environ={**environ, "GRANTS_INSTANCE_DIR": "/var/lib/grants"})
    assert settings["BATCH_DIR"] == "/var/lib/grants/batches"
