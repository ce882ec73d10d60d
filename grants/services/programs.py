"""Programs: how their files are stored, and their stored versions parsed back."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.domain.definitions import Program as ProgramDefinition
from grants.domain.definitions import load_program_file, parse_program
from grants.models import Program, ProgramVersion
from grants.services.audit import AuditTag
from grants.services.definitions import DefinitionKind

PROGRAMS = DefinitionKind(
    load_file=load_program_file,
    version_model=ProgramVersion,
    head_model=Program,
    key_column="program_key",
    tag=AuditTag.PROGRAM_LOAD,
)


def definition_of(version: ProgramVersion) -> ProgramDefinition:
    """Return the parsed definition of a stored version (parsed once per text)."""
    return _parse_cached(version.source_text, version.source_name)


@lru_cache(maxsize=64)
def _parse_cached(text: str, name: str) -> ProgramDefinition:
    # Loading from the stored text ignores the file-name/id check: the version is already valid.
    return parse_program(text, name)


def current_programs(session: Session) -> list[tuple[Program, ProgramDefinition]]:
    """Every program with its current definition, in call-closing order."""
    programs = session.scalars(
        sa.select(Program).options(sa.orm.joinedload(Program.current_version))
    ).all()
    pairs = [(p, definition_of(p.current_version)) for p in programs]
    return sorted(pairs, key=lambda pair: (pair[1].call.closes, pair[1].id))
