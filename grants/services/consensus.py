"""The consensus report of one application: name the rapporteur, draft, circulate, agree or
dissent, approve or send back.

Each step changes what may rank the application, so each is refused once the application is
decided (`ScoresFrozen`) or while it is not in review, like every other score change. Each
step but the rapporteur's draft saves is an audit event on the application.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from grants.domain.consensus import (
    Act,
    Consensus,
    DraftIncomplete,
    Step,
    awaiting,
    completeness_problems,
    is_current,
    next_step,
    score_problems,
)
from grants.domain.counting import require_in_review
from grants.domain.errors import DomainError
from grants.domain.rubrics import format_mark, mark
from grants.domain.text import visible_or_none
from grants.models import (
    Application,
    ConsensusReport,
    ConsensusResponse,
    ConsensusState,
    Review,
    User,
)
from grants.services import counting
from grants.services.audit import AuditTag, record


class NotCountedReviewer(DomainError):
    """Only a reviewer whose review counts takes part in the consensus."""


class NotRapporteur(DomainError):
    """Only the named rapporteur edits and circulates the draft."""


class ConsensusStale(DomainError):
    """The counted reviews changed since the draft was circulated: it must be circulated again."""


class AwaitingResponses(DomainError):
    """Some counted reviewers have not yet agreed or dissented."""

    def __init__(self, reviewers: list[User]) -> None:
        super().__init__("consensus_awaiting")
        self.reviewers = reviewers


class ReasonRequired(DomainError):
    """A dissent, or a report sent back, needs a reason a reader can see."""


def approved_consensus(session: Session, application: Application) -> Consensus | None:
    """The application's approved consensus (scores and comment per criterion, overall
    comment), or None: none approved, or the counted reviews changed since."""
    counted = counting.counted_reviews(session, application)
    return counting.approved_consensuses(session, {application.id: counted}).get(application.id)


def current_report(session: Session, application: Application) -> ConsensusReport | None:
    """The application's report of the present evaluation (an upheld evaluation review
    supersedes the earlier one)."""
    return session.scalar(
        sa.select(ConsensusReport)
        .filter_by(application_id=application.id, superseded_at=None)
        .options(selectinload(ConsensusReport.responses).selectinload(ConsensusResponse.reviewer),
                 selectinload(ConsensusReport.rapporteur)))


def with_reports(session: Session, application_ids: list[int]) -> set[int]:
    """Which of the applications have a report of their present evaluation (one query)."""
    if not application_ids:
        return set()
    return set(session.scalars(sa.select(ConsensusReport.application_id).where(
        ConsensusReport.application_id.in_(application_ids),
        ConsensusReport.superseded_at.is_(None))))


def reports(session: Session, application: Application) -> list[ConsensusReport]:
    """Every report of the application, superseded ones first (for the audit record)."""
    return list(session.scalars(
        sa.select(ConsensusReport).filter_by(application_id=application.id)
        .options(selectinload(ConsensusReport.responses).selectinload(ConsensusResponse.reviewer))
        .order_by(ConsensusReport.id)))


@dataclass(frozen=True)
class Standing:
    """The report with what its page shows: the counted reviews it is drafted from, who has not
    yet answered, and whether it still rests on the counted reviews."""

    report: ConsensusReport
    reviews: list[Review]
    awaiting: list[User]
    current: bool


def standing(session: Session, report: ConsensusReport) -> Standing:
    reviews = counting.counted_reviews(session, report.application).reviews
    by_id = {r.assignment.reviewer_id: r.assignment.reviewer for r in reviews}
    waiting = awaiting(list(by_id), report.rapporteur_id,
                       {response.reviewer_id for response in report.responses})
    current = report.state is ConsensusState.DRAFTING or \
        is_current(report.basis, counting.review_basis(reviews))
    return Standing(report, reviews, [by_id[r] for r in waiting], current)


def counted_reviewers(session: Session, application: Application) -> list[User]:
    """The reviewers whose reviews count, in assignment order."""
    return [r.assignment.reviewer for r in counting.counted_reviews(session, application).reviews]


def _step(report: ConsensusReport, act: Act) -> ConsensusState:
    require_in_review(report.application.state)
    return ConsensusState(next_step(Step(report.state), act))


def _marks(scores: Mapping[str, object]) -> dict[str, str | None]:
    """Scores as the audit chain keeps them: exact text (2.5), never a float."""
    return {c: None if v is None else format_mark(mark(v)) for c, v in scores.items()}


def _audit(session: Session, tag: AuditTag, report: ConsensusReport, *, actor: User,
           now: dt.datetime, **data: object) -> None:
    record(session, tag, subject_type="application", subject_id=report.application_id,
           actor=actor, now=now, data={"report_id": report.id, **data})


def name_rapporteur(session: Session, application: Application, reviewer: User, *, actor: User,
                    now: dt.datetime) -> ConsensusReport:
    """Name (or replace) the rapporteur; a replaced rapporteur's draft stays for the new one,
    and a circulated draft goes back to drafting with its answers cleared.

    Raises:
        NotCountedReviewer: the reviewer's review does not count on this application.
        ConsensusRefused: the report is approved already.
    """
    require_in_review(application.state)
    if reviewer.id not in {u.id for u in counted_reviewers(session, application)}:
        raise NotCountedReviewer("not_counted_reviewer")
    report = current_report(session, application)
    if report is None:
        report = ConsensusReport(application=application, rapporteur_id=reviewer.id, scores={},
                                 comments={}, basis={}, named_by_id=actor.id, named_at=now,
                                 updated_at=now)
        session.add(report)
    else:
        report.state = _step(report, Act.RENAME)
        report.rapporteur_id, report.named_by_id, report.named_at = reviewer.id, actor.id, now
        report.circulated_at, report.updated_at = None, now
        report.responses.clear()
    session.flush()
    _audit(session, AuditTag.CONSENSUS_RAPPORTEUR, report, actor=actor, now=now,
           rapporteur_id=reviewer.id, rapporteur=reviewer.display_name)
    return report


def _require_rapporteur(report: ConsensusReport, actor: User) -> None:
    if actor.id != report.rapporteur_id:
        raise NotRapporteur("not_rapporteur")


def save_draft(session: Session, report: ConsensusReport, *, scores: Mapping[str, object],
               comments: Mapping[str, str | None], overall_comment: str | None, actor: User,
               now: dt.datetime) -> None:
    """Keep the rapporteur's draft as typed (blanks allowed); a score off the scale is refused.

    Raises:
        NotRapporteur: `actor` is not the report's rapporteur.
        DraftIncomplete: a score is not a mark of the rubric's scale.
    """
    report.state = _step(report, Act.SAVE)
    _require_rapporteur(report, actor)
    rubric = counting.application_scores(session, report.application).rubric
    problems = score_problems(rubric, scores)
    if problems:
        raise DraftIncomplete(problems)
    report.scores = {c.id: scores.get(c.id) for c in rubric.criteria()}
    report.comments = {c: text for c, v in comments.items() if (text := visible_or_none(v))}
    report.overall_comment = visible_or_none(overall_comment)
    report.updated_at = now
    session.flush()


def circulate(session: Session, report: ConsensusReport, *, actor: User,
              now: dt.datetime) -> None:
    """Send the complete draft to the other counted reviewers, on the reviews counted now.

    Raises:
        NotRapporteur: `actor` is not the report's rapporteur.
        DraftIncomplete: a score, a criterion's comment or the overall comment is missing.
    """
    state = _step(report, Act.CIRCULATE)
    _require_rapporteur(report, actor)
    application_scores = counting.application_scores(session, report.application)
    problems = completeness_problems(application_scores.rubric, report.scores, report.comments,
                                     report.overall_comment)
    if problems:
        raise DraftIncomplete(problems)
    report.state, report.circulated_at, report.updated_at = state, now, now
    report.basis = counting.review_basis([r for r, _ in application_scores.reviews])
    report.returned_note = None
    session.flush()
    _audit(session, AuditTag.CONSENSUS_CIRCULATE, report, actor=actor, now=now,
           scores=_marks(report.scores), comments=report.comments,
           overall_comment=report.overall_comment, basis=report.basis)


def respond(session: Session, report: ConsensusReport, reviewer: User, *, agrees: bool,
            reason: str | None, now: dt.datetime) -> ConsensusResponse:
    """Record a counted reviewer's agreement or dissent (a later answer replaces an earlier
    one until the officer approves).

    Raises:
        NotCountedReviewer: the reviewer is the rapporteur, or their review does not count.
        ReasonRequired: a dissent without a visible reason.
    """
    report.state = _step(report, Act.RESPOND)
    others = {u.id for u in counted_reviewers(session, report.application)}
    if reviewer.id == report.rapporteur_id or reviewer.id not in others:
        raise NotCountedReviewer("not_counted_reviewer")
    reason = None if agrees else visible_or_none(reason)
    if not agrees and reason is None:
        raise ReasonRequired("dissent_reason_required")
    response = next((r for r in report.responses if r.reviewer_id == reviewer.id), None)
    if response is None:
        response = ConsensusResponse(reviewer_id=reviewer.id, agrees=agrees, reason=reason,
                                     responded_at=now)
        report.responses.append(response)
    else:
        response.agrees, response.reason, response.responded_at = agrees, reason, now
    session.flush()
    _audit(session, AuditTag.CONSENSUS_AGREE if agrees else AuditTag.CONSENSUS_DISSENT, report,
           actor=reviewer, now=now, reason=reason)
    return response


def approve(session: Session, report: ConsensusReport, *, actor: User, now: dt.datetime) -> None:
    """The officer approves the circulated report once every other counted reviewer answered.

    Raises:
        ConsensusStale: the counted reviews changed since the report was circulated.
        AwaitingResponses: some counted reviewers have not answered.
    """
    state = _step(report, Act.APPROVE)
    found = standing(session, report)
    if not found.current:
        raise ConsensusStale("consensus_stale")
    if found.awaiting:
        raise AwaitingResponses(found.awaiting)
    report.state, report.approved_at, report.approved_by_id = state, now, actor.id
    session.flush()
    _audit(session, AuditTag.CONSENSUS_APPROVE, report, actor=actor, now=now,
           scores=_marks(report.scores), dissents=[r.reviewer_id for r in report.responses
                                           if not r.agrees])


def send_back(session: Session, report: ConsensusReport, note: str, *, actor: User,
              now: dt.datetime) -> None:
    """Return the circulated (or approved, while still in review) report to the rapporteur,
    with what to change; the approval and the reviewers' answers are cleared (the audit events
    keep them) and are asked for again.

    Raises:
        ReasonRequired: the note has nothing visible in it.
    """
    state = _step(report, Act.SEND_BACK)
    note = visible_or_none(note) or ""
    if not note:
        raise ReasonRequired("send_back_reason_required")
    report.state, report.circulated_at, report.returned_note = state, None, note
    report.approved_at = report.approved_by_id = None
    report.updated_at = now
    report.responses.clear()
    session.flush()
    _audit(session, AuditTag.CONSENSUS_SEND_BACK, report, actor=actor, now=now, note=note)


def supersede(session: Session, application: Application, *, now: dt.datetime) -> int | None:
    """Set the present report aside with the evaluation (an upheld evaluation review); return
    its id, or None when there was none."""
    report = current_report(session, application)
    if report is None:
        return None
    report.superseded_at = now
    session.flush()
    return report.id
