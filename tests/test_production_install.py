"""A production install as an operator makes it, outside the checkout (scripts/production_check.py).

The wheel is built from a clean copy of the checkout and installed once, with its extras from the
package index, into a virtualenv under pytest's temporary folder; both checks then run its
commands from directories that are not a checkout, so nothing of this repository is importable:

- the wheel: migrate, load the shipped programs, a Japanese page from gunicorn, a batch built by
  a real RQ worker, a record in Japanese;
- the drill: docs/deployment.md's commands in production mode (role and database, the settings
  file and systemd units from deploy/, gunicorn on loopback, doctor, backup, restore, audit
  verify on the copy).

They need PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL: CI sets both) and take a few
minutes, most of it the install and PDF rendering.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "production_check.py"

pytestmark = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL")),
    reason="needs PostgreSQL and Redis: set TEST_DATABASE_URL and TEST_REDIS_URL (as CI does)")


def _script(*args: str, timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout, check=False, cwd=Path("/"))


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> str:
    result = _script("install", str(tmp_path_factory.mktemp("install")), timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_wheel_alone_runs_web_cli_and_workers(venv):
    result = _script("wheel", "--venv", venv, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the calls page in Japanese" in result.stdout
    assert "each matches manifest.csv" in result.stdout
    assert "is a 監査用記録" in result.stdout


def test_the_deployment_guide_works_as_written(venv):
    result = _script("drill", "--venv", venv, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restore: audit verify passes on the copy" in result.stdout
    assert "restore: the auditor downloads the same batch from the copy" in result.stdout
    assert "\nFAIL " not in result.stdout  # doctor, with a worker running
