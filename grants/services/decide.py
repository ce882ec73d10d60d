"""Decisions: award with an amount that never exceeds the request or the caps, or reject."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import emails
from grants.domain import workflow
from grants.domain.budget import BudgetSummary, award_amount, summarize
from grants.domain.counting import require_in_review
from grants.domain.errors import DomainError
from grants.domain.findings import LocalizedText
from grants.domain.grant_decision import Period
from grants.domain.rubrics import RankingScore
from grants.domain.workflow import Action
from grants.models import Application, Assignment, Decision, Outcome, User
from grants.services import assign, counting, evaluation_summary, grant_decisions
from grants.services.apply import data_from_snapshot
from grants.services.audit import AuditTag, record
from grants.services.programs import definition_of


class KnockoutRefused(DomainError):
    """A knockout criterion is hit (moderated where moderated): the application is unfundable."""

    def __init__(self, criteria: tuple[LocalizedText, ...]) -> None:
        super().__init__("knockout_refused")
        self.criteria = criteria


class ThresholdRefused(DomainError):
    """A minimum score of the rubric is not reached: the application is unfundable."""

    def __init__(self, reasons: tuple[LocalizedText, ...]) -> None:
        super().__init__("threshold_refused")
        self.reasons = reasons


class ConsensusMissing(DomainError):
    """The rubric ranks by consensus and no approved consensus report scores the application."""


class AmountRefused(DomainError):
    """The amount is above what may be awarded (or not positive)."""

    def __init__(self, limit: AwardLimit) -> None:
        super().__init__("amount_refused")
        self.limit = limit


@dataclass(frozen=True)
class AwardLimit:
    """The most that may be awarded, and how it was found (kept with the decision)."""

    requested_yen: int
    cap_yen: int | None
    rounding_yen: int
    maximum_yen: int

    def as_dict(self) -> dict[str, int | None]:
        return {"requested_yen": self.requested_yen, "cap_yen": self.cap_yen,
                "rounding_yen": self.rounding_yen, "maximum_yen": self.maximum_yen}


def submitted_budget(application: Application, snapshot: dict[str, Any]) -> BudgetSummary:
    """The frozen submission's budget: the request per category and the cap that applied."""
    definition = definition_of(application.program_version)
    data = data_from_snapshot(snapshot)
    lines = data.answers.get(definition.budget_field.id) if definition.budget_field else None
    return summarize(definition, lines or [], data)


def award_limit(application: Application, snapshot: dict[str, Any] | None = None) -> AwardLimit:
    """From the frozen submission (pass it when already parsed): the request, the cap that
    applied, the program's rounding."""
    if snapshot is None:
        snapshot = json.loads(application.submissions[-1].snapshot)
    summary = submitted_budget(application, snapshot)
    rounding = definition_of(application.program_version).budget.award_rounding_yen
    return AwardLimit(summary.total_yen, summary.cap_yen, rounding,
                      award_amount(summary.total_yen, summary.cap_yen, rounding))


def decide(
    session: Session, application: Application, *, outcome: Outcome, amount_yen: int | None,
    rationale: str, actor: User, now: dt.datetime, extra_conditions: str | None = None,
    period: Period | None = None,
) -> Decision:
    """Award (the amount rounded down to the program's step) or reject, with a rationale; an
    award issues the grant decision (交付決定, with the officer's `extra_conditions` after the
    standard ones, for `period` or else the period the application asked for) that waits for
    the grantee's answer.

    An award is refused while the score that ranks (`counting.Scores.total`) hits a knockout or
    misses one of the rubric's minimum scores, or is missing where the rubric ranks by an
    approved consensus; a rejection is always possible. The decision freezes the scores: an
    assignment whose reviewer is found conflicted by now is ended first, so the reviews that
    count from here on are exactly those the decision was made on.
    """
    rationale = rationale.strip()
    if not rationale:
        raise DomainError("rationale_required")
    require_in_review(application.state)
    assignments = session.scalars(sa.select(Assignment).filter_by(
        application_id=application.id)).all()
    assign.end_conflicted(session, assignments, {application.id: assign.parties(application)},
                          actor=actor, now=now)
    scores = counting.application_scores(session, application)
    if outcome is Outcome.AWARD and scores.total is None \
            and scores.mode is RankingScore.CONSENSUS:
        raise ConsensusMissing("consensus_missing")
    if outcome is Outcome.AWARD and scores.knockout_titles:
        raise KnockoutRefused(scores.knockout_titles)
    if outcome is Outcome.AWARD and scores.unmet:
        raise ThresholdRefused(tuple(unmet.reason for unmet in scores.unmet))
    snapshot = json.loads(application.submissions[-1].snapshot)
    limit = award_limit(application, snapshot)
    computation = limit.as_dict()
    # The band the applicant's evaluation summary states: the rest of the call moves on.
    computation[evaluation_summary.BAND_KEY] = str(evaluation_summary.band_now(
        session, application))
    if outcome is Outcome.AWARD:
        amount_yen = limit.maximum_yen if amount_yen is None else amount_yen
        amount_yen -= amount_yen % limit.rounding_yen
        if not 0 < amount_yen <= limit.maximum_yen:
            raise AmountRefused(limit)
        computation["awarded_yen"] = amount_yen
    else:
        amount_yen = None
    action = Action.AWARD if outcome is Outcome.AWARD else Action.REJECT
    application.state = workflow.fire(application.state, action, actor.role)
    decision = Decision(application_id=application.id, outcome=outcome, amount_yen=amount_yen,
                        computation=computation, rationale=rationale, decided_by_id=actor.id,
                        decided_at=now)
    session.add(decision)
    session.flush()
    record(session, AuditTag.APPLICATION_DECIDE, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"outcome": str(outcome), "amount_yen": amount_yen, "computation": computation,
                 "rationale": rationale, "score": None if scores.total is None
                 else str(scores.total),
                 "counted_reviews": [review.id for review, _ in scores.reviews]})
    if outcome is Outcome.AWARD:
        grant_decisions.issue(
            session, application, decision, answers=snapshot["answers"],
            requested=submitted_budget(application, snapshot).by_category,
            extra_conditions=extra_conditions, period=period, actor=actor, now=now)
    emails.queue_for_applicant(session, "decision", application, now=now, decision=decision)
    return decision


@dataclass(frozen=True)
class PublishedOutcome:
    """What the applicant sees once decided: the decision and the comments marked shareable."""

    decision: Decision
    comments: list[str]


def published_outcome(session: Session, application: Application) -> PublishedOutcome | None:
    decision = session.scalar(sa.select(Decision).filter_by(application_id=application.id))
    if decision is None:
        return None
    reviews = counting.counted_reviews(session, application).reviews
    return PublishedOutcome(decision, [r.comment_for_applicant for r in reviews
                                       if r.comment_for_applicant])
