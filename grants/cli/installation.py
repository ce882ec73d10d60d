"""``version``: which release and which schema this install carries (e.g. after an upgrade)."""

from __future__ import annotations

import click

from grants import version
from grants.cli import grants_cli


@grants_cli.command("version")
def version_command() -> None:
    """Print this install's version and the migration head `migrate` brings a database to."""
    about = version.describe()
    click.echo(f"grants {about['version']}, migration head {about['migration_head']}")
