"""What every document says about one application: the frozen submission and its context."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.domain.budget import BudgetSummary, summarize
from grants.domain.definitions import Program as ProgramDefinition
from grants.domain.findings import Finding
from grants.domain.rubrics import Rubric as RubricDefinition
from grants.domain.signals import Signal, compute_signals
from grants.models import Application, Decision, RubricVersion, Submission
from grants.services.apply import data_from_snapshot
from grants.services.programs import definition_of
from grants.services.reviewing import rubric_version_for
from grants.services.rubrics import rubric_of


@dataclass(frozen=True)
class Facts:
    application: Application
    submission: Submission
    snapshot: dict[str, Any]
    definition: ProgramDefinition
    findings: list[Finding]
    summary: BudgetSummary
    rubric_version: RubricVersion
    rubric: RubricDefinition
    signals: dict[str, Signal]
    decision: Decision | None


def gather(session: Session, application: Application) -> Facts:
    """The latest frozen submission and everything derived from it (never the live draft)."""
    if not application.submissions:
        raise LookupError(f"{application.reference} has never been submitted")
    submission = application.submissions[-1]
    snapshot = json.loads(submission.snapshot)
    definition = definition_of(application.program_version)
    data = data_from_snapshot(snapshot)
    lines = data.answers.get(definition.budget_field.id) if definition.budget_field else None
    version = rubric_version_for(session, application)
    rubric = rubric_of(version)
    return Facts(
        application=application,
        submission=submission,
        snapshot=snapshot,
        definition=definition,
        findings=[Finding.from_dict(f) for f in submission.findings],
        summary=summarize(definition, lines or [], data),
        rubric_version=version,
        rubric=rubric,
        signals=compute_signals(rubric.signal_kinds(), definition, data),
        decision=session.scalar(sa.select(Decision).filter_by(application_id=application.id)),
    )
