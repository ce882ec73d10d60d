"""This install's version: what the web app reports and what workers compare with a job's.

Web, CLI and workers must run the same code; each asks here rather than reading setup.cfg, so
an installed wheel answers with what was installed, not with a checkout that may have moved on.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata

DISTRIBUTION = "grants"
UNKNOWN = "0+unknown"  # neither installed nor editable-installed: a bare checkout on sys.path


def installed_version() -> str:
    """The installed distribution's version, e.g. "0.1.0" (an editable install has one too)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN


@cache
def migration_head() -> str:
    """The newest migration this install carries: the schema `migrate` brings a database to."""
    from alembic.script import ScriptDirectory

    from grants.config import PACKAGE_ROOT

    return "+".join(sorted(ScriptDirectory(str(PACKAGE_ROOT / "migrations")).get_heads()))


def describe() -> dict[str, str]:
    """Both, as /healthz and `flask grants version` report them."""
    return {"version": installed_version(), "migration_head": migration_head()}
