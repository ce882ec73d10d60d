"""Read and load every program and rubric file together, checking the references between them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from grants.domain.errors import DefinitionError
from grants.domain.program_references import program_warnings
from grants.services.definitions import Parsed, SyncReport, read_files, store
from grants.services.programs import PROGRAMS
from grants.services.rubrics import RUBRICS

_RUBRIC_KEY = re.compile(r"^rubric\s*:", re.MULTILINE)


@dataclass
class Catalog:
    programs: list[Parsed] = field(default_factory=list)
    rubrics: list[Parsed] = field(default_factory=list)
    errors: list[DefinitionError] = field(default_factory=list)
    warnings: list[DefinitionError] = field(default_factory=list)  # valid, but likely not meant


def read_catalog(programs_dir: Path, rubrics_dir: Path) -> Catalog:
    """Parse both folders; a program naming a rubric that is not there is an error."""
    catalog = Catalog()
    catalog.rubrics, rubric_errors = read_files(rubrics_dir, RUBRICS)
    programs, program_errors = read_files(programs_dir, PROGRAMS)
    catalog.errors = rubric_errors + program_errors
    rubric_ids = {definition.id for _, _, definition in catalog.rubrics}
    for path, text, definition in programs:
        if definition.rubric and definition.rubric not in rubric_ids:
            catalog.errors.append(_missing_rubric(path, text, definition.rubric))
        else:
            catalog.programs.append((path, text, definition))
            catalog.warnings += program_warnings(text, str(path))
    return catalog


def _missing_rubric(path: Path, text: str, rubric_id: str) -> DefinitionError:
    match = _RUBRIC_KEY.search(text)
    line = text.count("\n", 0, match.start()) + 1 if match else 1
    return DefinitionError(str(path), line, "rubric",
                           f"no rubric '{rubric_id}' in the rubrics folder (or it has errors)")


def sync_catalog(
    session: Session, programs_dir: Path, rubrics_dir: Path, *, now: dt.datetime
) -> tuple[SyncReport, SyncReport, list[DefinitionError]]:
    """Store new versions of every valid rubric, then of every valid program."""
    catalog = read_catalog(programs_dir, rubrics_dir)
    rubrics = store(session, catalog.rubrics, RUBRICS, now=now)
    programs = store(session, catalog.programs, PROGRAMS, now=now)
    return programs, rubrics, catalog.errors
