"""The evaluation summary (評価結果通知): what every applicant is told of the evaluation.

Sent with the decision, awarded or not, and printed in the audit record as sent. It is built
from the decided state only, so it reads the same whenever it is rendered: the reviews that
counted at the decision (the decision froze them), the moderation or the approved consensus,
the decision, and the rank band recorded with the decision (the rest of the call may still be
scored after it; the band is the one the decision saw).

It names no reviewer and carries no internal note: per criterion the score and the approved
consensus's comment, the minimums met or missed, the knockouts hit, the total, the rank band,
the outcome and amount, and the comments the counted reviewers wrote for the applicant. A
withdrawn review's comment, the officer's moderation rationale, reopening notes and conflict
declarations stay out.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from grants.domain.evaluation_summary import (
    CriterionLine,
    OverallLine,
    criterion_lines,
    overall_line,
)
from grants.domain.findings import LocalizedText
from grants.domain.rank_bands import RankBand, band_in, label
from grants.models import Application, Decision, Program
from grants.services import counting, decide

BAND_KEY = "rank_band"  # in Decision.computation


@dataclass(frozen=True)
class EvaluationSummary:
    application: Application
    decision: Decision
    scale_max: int  # the rubric's highest score on a criterion
    criteria: tuple[CriterionLine, ...]
    overall: OverallLine
    unmet: tuple[LocalizedText, ...]  # the minimums missed, worded
    knockouts: tuple[LocalizedText, ...]  # the knockout criteria hit
    total: Decimal | None  # 0–100; None: never scored
    band: LocalizedText | None  # None: a decision made before bands were recorded
    consensus_comment: str | None  # the approved consensus's overall comment
    comments: tuple[str, ...]  # the counted reviewers' comments for the applicant

    @property
    def has_minimums(self) -> bool:
        """Whether the rubric sets any minimum score (else the summary leaves them out)."""
        return self.overall.minimum is not None or any(
            line.minimum is not None for line in self.criteria)


def summary_of(session: Session, application: Application) -> EvaluationSummary | None:
    """The application's evaluation summary; None until it is decided."""
    outcome = decide.published_outcome(session, application)
    if outcome is None:
        return None
    scores = counting.application_scores(session, application)
    consensus = scores.consensus  # approved and resting on the counted reviews, else None
    return EvaluationSummary(
        application, outcome.decision, scores.rubric.scale.max,
        criterion_lines(scores.rubric, scores.criterion_scores, scores.unmet, scores.knockouts,
                        consensus.comments if consensus is not None else {}),
        overall_line(scores.rubric, scores.criterion_scores, scores.unmet),
        tuple(u.reason for u in scores.unmet), scores.knockout_titles, scores.total,
        label(outcome.decision.computation.get(BAND_KEY, "")),
        consensus.overall_comment or None if consensus is not None else None,
        tuple(outcome.comments))


def band_now(session: Session, application: Application) -> RankBand:
    """The application's rank band in its call's ranking as it stands: what a decision made
    now records."""
    # Imported here: the ranking takes award limits from `decide`, which records this band.
    from grants.services.ranking import call_ranking

    program = session.get(Program, application.program_version.program_key)
    ranking, _scored = call_ranking(session, program)
    group = next(g for g in ranking.groups
                 if any(row.entry.application_id == application.id for row in g.rows))
    return band_in(group, application.id)
