"""``check``, ``migrate``, ``load``: the definition files and the database schema."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import click
import sqlalchemy as sa
from alembic import command
from flask import Flask, current_app
from sqlalchemy.orm import Session

from grants import clock, db
from grants.cli import alembic_config, command_session, grants_cli
from grants.domain.definitions import definition_sha256
from grants.services.catalog import read_catalog, sync_catalog
from grants.services.definitions import definition_files

# --- check -----------------------------------------------------------------------------------


@grants_cli.command("check")
def check_command() -> None:
    """Validate every program and rubric file; print each error (and each warning, which does not
    fail the check) as file:line: field: message."""
    programs_dir = Path(current_app.config["PROGRAMS_DIR"])
    rubrics_dir = Path(current_app.config["RUBRICS_DIR"])
    if not definition_files(programs_dir):
        raise click.ClickException(f"no program files (*.yaml, *.yml) in {programs_dir}")
    catalog = read_catalog(programs_dir, rubrics_dir)
    errors, warnings = ([dataclasses.replace(e, file=_shown(Path(e.file))) for e in found]
                        for found in (catalog.errors, catalog.warnings))
    lines: list[tuple[str, int, str]] = []
    for path, text, program in catalog.programs:
        summary = (
            f"{program.id}, {_count(program.steps, 'step')}, {_count(program.rules, 'rule')}, "
            f"rubric {program.rubric or '-'}, sha256 {definition_sha256(text)[:8]}…"
        )
        lines.append((_shown(path), 0, f"{_shown(path)}: ok ({summary})"))
    for path, text, rubric in catalog.rubrics:
        summary = (
            f"{rubric.id}, {_count(rubric.sections, 'section')}, "
            f"{_count(rubric.criteria(), 'criterion', 'criteria')}, "
            f"sha256 {definition_sha256(text)[:8]}…"
        )
        lines.append((_shown(path), 0, f"{_shown(path)}: ok ({summary})"))
    lines += [(error.file, error.line, str(error)) for error in [*errors, *warnings]]
    for _file, _line, text in sorted(lines):
        click.echo(text)
    if errors:
        failed = len({error.file for error in errors})
        click.echo(f"{len(errors)} error(s) in {failed} file(s)", err=True)
        raise SystemExit(1)


def _count(items: Sequence[object], noun: str, plural: str | None = None) -> str:
    return f"{len(items)} {noun if len(items) == 1 else plural or noun + 's'}"


def _shown(path: Path) -> str:
    """Name a file relative to the working directory when it is inside it, as errors do."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- migrate, load ---------------------------------------------------------------------------


def migrate(app: Flask, revision: str = "head") -> list[str]:
    """Upgrade the app's database on the app's own engine (same URL, same SQLite settings).

    Returns the revisions applied (none when another instance got there first: on PostgreSQL
    env.py waits for its advisory lock, then finds nothing to do).
    """
    config = alembic_config()
    with db.writing(), app.extensions["grants.engine"].connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()
    return [
        f"{step.up_revision_id} {step.up_revision.doc}"
        for step in config.attributes.get("applied", [])
    ]


def report_migration(applied: list[str]) -> None:
    for line in applied:
        click.echo(f"migrated   {line}")
    if not applied:
        click.echo("database schema is up to date")


NO_CREATE_HINT = ("the database user may not create tables: make it the database's owner, or "
                  "GRANT USAGE, CREATE ON SCHEMA public to it (docs/deployment.md)")


@grants_cli.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    try:
        applied = migrate(current_app)
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0]
        hint = f"; {NO_CREATE_HINT}" if "permission denied" in reason.lower() else ""
        raise click.ClickException(f"cannot migrate: {reason}{hint}") from None
    report_migration(applied)


def load_programs(session: Session) -> bool:
    """Store changed rubric and program files as new versions and report; True when all loaded."""
    programs, rubrics, errors = sync_catalog(
        session, Path(current_app.config["PROGRAMS_DIR"]), Path(current_app.config["RUBRICS_DIR"]),
        now=clock.now())
    for kind, report in (("rubric", rubrics), ("program", programs)):
        for definition_id in report.loaded:
            click.echo(f"loaded     {kind} {definition_id}")
        for definition_id in report.unchanged:
            click.echo(f"unchanged  {kind} {definition_id}")
    for error in errors:
        click.echo(f"error      {error}", err=True)
    return not errors


@grants_cli.command("load")
def load_command() -> None:
    """Store changed rubric and program files; broken files are skipped, the rest stored."""
    with command_session() as session:
        ok = load_programs(session)
        session.commit()
    if not ok:
        click.echo("some program files were not loaded: fix them and run again", err=True)
        raise SystemExit(1)
