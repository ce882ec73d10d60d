"""Store definition files (programs, rubrics) as hashed, immutable versions.

Programs and rubrics are loaded the same way: every valid file whose text changed becomes a new
version and the current one; earlier versions stay, because applications and reviews point at
the exact version they were made under. A broken file is skipped whole and reported, so a
running app never half-loads one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.domain.definitions import definition_sha256
from grants.domain.errors import DefinitionError, DefinitionErrors
from grants.domain.yaml_documents import read_utf8
from grants.services.audit import AuditTag, record


@dataclass(frozen=True)
class DefinitionKind:
    """How one kind of definition file is loaded and stored."""

    load_file: Callable[[Path], Any]  # validates, checks the id against the file name
    version_model: type  # e.g. ProgramVersion: key column, sha256, source_text, ...
    head_model: type  # e.g. Program: key and current_version_id
    key_column: str  # the version model's column holding the definition id
    tag: AuditTag


@dataclass
class SyncReport:
    loaded: list[str] = field(default_factory=list)  # ids stored as a new current version
    unchanged: list[str] = field(default_factory=list)
    errors: list[DefinitionError] = field(default_factory=list)


Parsed = tuple[Path, str, Any]


def definition_files(directory: Path) -> list[Path]:
    """Every ``*.yaml`` and ``*.yml`` entry of a folder, by name (directories and broken links
    included, so that loading reports them rather than skipping them silently).
    """
    return sorted({*directory.glob("*.yaml"), *directory.glob("*.yml")})


def read_files(directory: Path, kind: DefinitionKind) -> tuple[list[Parsed], list[DefinitionError]]:
    """Parse every definition file; a file with any error is left out whole and reported."""
    parsed: list[Parsed] = []
    errors: list[DefinitionError] = []
    first: dict[str, Path] = {}
    for path in definition_files(directory):
        if path.stem in first:  # x.yaml and x.yml would both be definition x
            message = f"{first[path.stem].name} already defines {path.stem!r}: keep one file"
            errors.append(DefinitionError(str(path), 1, "", message))
            continue
        first[path.stem] = path
        try:
            definition = kind.load_file(path)
            # The exact text, undecoded newlines included, is what is stored and hashed.
            parsed.append((path, read_utf8(path), definition))
        except DefinitionErrors as exc:
            errors.extend(exc.errors)
    return parsed, errors


def store(session: Session, parsed: list[Parsed], kind: DefinitionKind, *, now: dt.datetime
          ) -> SyncReport:
    """Make each parsed file the current version of its definition, adding versions as needed."""
    report = SyncReport()
    key = getattr(kind.version_model, kind.key_column)
    for path, text, definition in parsed:
        digest = definition_sha256(text)
        version = session.scalar(
            sa.select(kind.version_model).where(key == definition.id,
                                                kind.version_model.sha256 == digest)
        )
        head = session.get(kind.head_model, definition.id)
        if version is not None and head is not None and head.current_version_id == version.id:
            report.unchanged.append(definition.id)
            continue
        if version is None:
            version = kind.version_model(sha256=digest, source_text=text, source_name=path.name,
                                         loaded_at=now, **{kind.key_column: definition.id})
            session.add(version)
            session.flush()
        if head is None:
            session.add(kind.head_model(key=definition.id, current_version_id=version.id))
        else:
            head.current_version_id = version.id
        session.flush()
        record(session, kind.tag, subject_type=kind.version_model.__tablename__,
               subject_id=version.id, actor=None, now=now,
               data={"id": definition.id, "sha256": digest, "file": path.name})
        report.loaded.append(definition.id)
    return report
