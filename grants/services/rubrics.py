"""Rubrics: how their files are stored, and their stored versions parsed back."""

from __future__ import annotations

from functools import lru_cache

from grants.domain.rubrics import Rubric as RubricDefinition
from grants.domain.rubrics import load_rubric_file, parse_rubric
from grants.models import Rubric, RubricVersion
from grants.services.audit import AuditTag
from grants.services.definitions import DefinitionKind

RUBRICS = DefinitionKind(
    load_file=load_rubric_file,
    version_model=RubricVersion,
    head_model=Rubric,
    key_column="rubric_key",
    tag=AuditTag.RUBRIC_LOAD,
)


def rubric_of(version: RubricVersion) -> RubricDefinition:
    """Return the parsed rubric of a stored version (parsed once per text)."""
    return _parse_cached(version.source_text, version.source_name)


@lru_cache(maxsize=32)
def _parse_cached(text: str, name: str) -> RubricDefinition:
    return parse_rubric(text, name)
