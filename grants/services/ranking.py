"""A call's applications with their scores, ranked within the budget.

Everything is loaded in a fixed number of queries, whatever the number of applications: the
ranking page and the exports must not slow down on deadline-heavy calls.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, defer, joinedload

from grants.domain.calibration import Calibration, ScoredReview, calibrate
from grants.domain.ranking import RankEntry, Ranking, rank
from grants.domain.rubrics import Rubric as RubricDefinition
from grants.domain.thresholds import Unmet
from grants.domain.workflow import DECIDED_STATES, State
from grants.models import (
    Application,
    Assignment,
    Decision,
    Moderation,
    Program,
    ProgramVersion,
    Review,
    RubricVersion,
    Submission,
)
from grants.services import assign, counting, reviewing
from grants.services.decide import award_limit
from grants.services.programs import definition_of
from grants.services.rubrics import rubric_of

# A declined grant decision leaves the ranking: its money goes to the next application.
RANKED_STATES = (State.IN_REVIEW, *sorted(DECIDED_STATES - {State.DECLINED}))


@dataclass(frozen=True)
class Scored:
    application: Application
    snapshot: dict[str, Any]
    scores: counting.Scores
    decision: Decision | None
    findings: list[Any]  # the latest submission's, loaded with its snapshot: no query per row

    @property
    def score(self) -> Decimal | None:
        return self.scores.total

    @property
    def knockout(self) -> bool:
        return bool(self.scores.knockouts)

    @property
    def unmet(self) -> tuple[Unmet, ...]:
        return self.scores.unmet


def scored_applications(session: Session, program: Program) -> list[Scored]:
    """Every application of the call past screening, with reviews, moderation, approved
    consensus and decision."""
    in_call = (ProgramVersion.program_key == program.key) & Application.state.in_(RANKED_STATES)
    # Joined, not batched by IN lists: the number of queries stays fixed however large the call.
    # The draft answers (large, and never ranked) are left out: the frozen snapshot counts.
    applications = session.scalars(
        sa.select(Application).join(Application.program_version).where(in_call)
        .options(defer(Application.answers), joinedload(Application.organization),
                 contains_eager(Application.program_version))
        .order_by(Application.id)).all()
    ids = [a.id for a in applications]
    snapshots: dict[int, str] = {}
    findings: dict[int, list[Any]] = {}
    for application_id, snapshot, submitted_findings in session.execute(
            sa.select(Submission.application_id, Submission.snapshot, Submission.findings)
            .join(Submission.application).join(Application.program_version).where(in_call)
            .order_by(Submission.application_id, Submission.number)):
        snapshots[application_id] = snapshot  # the latest submission is the last one
        findings[application_id] = submitted_findings
    reviews = counting.load_reviews(session, Assignment.application_id.in_(ids), comments=False)
    parties = {a.id: assign.parties(a, snapshots[a.id]) for a in applications
               if a.state is State.IN_REVIEW and a.id in reviews}
    counted = counting.sort_reviews(session, applications, reviews, parties)
    moderations: dict[int, list[Moderation]] = defaultdict(list)
    for row in session.scalars(sa.select(Moderation).where(Moderation.application_id.in_(ids))):
        moderations[row.application_id].append(row)
    decisions = {d.application_id: d for d in session.scalars(
        sa.select(Decision).where(Decision.application_id.in_(ids)))}
    rubrics = _rubrics_by_application(session, applications, reviews)
    consensus = counting.approved_consensuses(session, counted)
    return [
        Scored(a, json.loads(snapshots[a.id]),
               counting.scores(rubrics[a.id], counted[a.id], moderations[a.id],
                               consensus.get(a.id)),
               decisions.get(a.id), findings[a.id])
        for a in applications
    ]


def _rubrics_by_application(session: Session, applications: list[Application],
                            reviews: dict[int, list[Review]]) -> dict[int, RubricDefinition]:
    """Each application's rubric, as `reviewing.rubric_version_for` pins it, in two queries."""
    current: dict[int, int] = {}  # program version -> current rubric version, resolved once
    chosen: dict[int, int] = {}
    for a in applications:
        if reviews.get(a.id):
            chosen[a.id] = min(reviews[a.id], key=lambda r: r.id).rubric_version_id
            continue
        if a.program_version_id not in current:
            version = reviewing.current_rubric_version(session, a.program_version)
            current[a.program_version_id] = version.id
        chosen[a.id] = current[a.program_version_id]
    versions = {v.id: rubric_of(v) for v in session.scalars(
        sa.select(RubricVersion).where(RubricVersion.id.in_(set(chosen.values()))))}
    return {application_id: versions[v] for application_id, v in chosen.items()}


def call_ranking(session: Session, program: Program) -> tuple[Ranking, dict[int, Scored]]:
    """Rank the call per track against its budget, reserved quotas and target shares."""
    definition = definition_of(program.current_version)
    scored = scored_applications(session, program)
    entries = [
        RankEntry(
            application_id=s.application.id, reference=s.application.reference,
            track=s.snapshot["answers"].get("track"), score=s.score, knockout=s.knockout,
            requested_yen=award_limit(s.application, s.snapshot).requested_yen,
            submitted_at=s.application.submitted_at,
            unmet=tuple(u.reason for u in s.unmet),
        )
        for s in scored
    ]
    shares = {mode: {q.track: Fraction(q.share) for q in definition.call.quotas if q.mode == mode}
              for mode in ("reserved", "target")}
    ranking = rank(entries, budget_yen=definition.call.budget_yen, quotas=shares["reserved"],
                   targets=shares["target"])
    return ranking, {s.application.id: s for s in scored}


def call_calibration(session: Session, program: Program) -> Calibration:
    """Each reviewer's counted totals on the call against the other reviewers'."""
    return calibrate([
        ScoredReview(s.application.id, review.assignment.reviewer_id,
                     review.assignment.reviewer.display_name, card.total)
        for s in scored_applications(session, program)
        for review, card in s.scores.reviews if card.total is not None
    ])
