"""Reviewers for a call, their declared interests, and who reviews which application."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager

from grants.domain.assignment import (
    ApplicationParties,
    AssignmentPlan,
    Party,
    PartyRole,
    ReviewerProfile,
    conflicts,
    plan_assignments,
)
from grants.domain.counting import require_in_review
from grants.domain.errors import DomainError
from grants.domain.findings import LocalizedText
from grants.domain.identifiers import normalize
from grants.domain.text import visible_or_none
from grants.domain.workflow import Role, State
from grants.models import (
    Application,
    Assignment,
    AssignmentState,
    CallReviewer,
    ConflictDeclaration,
    Organization,
    Program,
    ProgramVersion,
    ReviewState,
    Submission,
    TokenPurpose,
    User,
)
from grants.services import accounts, tokens
from grants.services.audit import AuditTag, record
from grants.services.programs import definition_of


class Conflicted(DomainError):
    """The reviewer may not review this application; ``reasons`` says why."""

    def __init__(self, reasons: list[LocalizedText]) -> None:
        super().__init__("conflicted")
        self.reasons = reasons


class AlreadyAssigned(DomainError):
    """The reviewer already has an active assignment to this application."""


class DeclineRefused(DomainError):
    """A submitted review cannot be declined: the reviewer asks the program office instead."""


class NotActive(DomainError):
    """Only an active assignment can be ended."""


@dataclass(frozen=True)
class Declared:
    """A declaration, and the assignments it ended (the reviewer is now conflicted with them)."""

    declaration: ConflictDeclaration
    ended: list[Assignment]


def add_reviewer(
    session: Session, program: Program, *, email: str, name: str, actor: User, now: dt.datetime,
) -> tuple[User, str | None]:
    """Add a reviewer to the call, inviting them first if they have no password yet.

    Returns the reviewer and, when an invitation link is due, its token: a new account, or
    one whose earlier invitation was never accepted, gets a fresh single-use link (nobody
    else ever sees a password).
    """
    reviewer = session.scalar(accounts.user_by_email(email))
    if reviewer is None:
        reviewer = accounts.create_user(session, email=email, password=None,
                                        display_name=name, role=Role.REVIEWER, organization=None,
                                        now=now, actor=actor, email_verified=False)
    elif reviewer.role is not Role.REVIEWER:
        raise accounts.AccountError("email_taken")
    invitation = None
    if reviewer.password_hash is None:
        invitation = tokens.issue(session, reviewer, TokenPurpose.INVITATION, now=now)
    if session.get(CallReviewer, (program.key, reviewer.id)) is None:
        session.add(CallReviewer(program_key=program.key, reviewer_id=reviewer.id, added_at=now))
        session.flush()
        record(session, AuditTag.REVIEWER_ADD, subject_type="user", subject_id=reviewer.id,
               actor=actor, now=now, data={"program": program.key})
    return reviewer, invitation


def declare(
    session: Session, reviewer: User, *, organization_id: int | None = None,
    lg_code: str | None = None, note: str | None = None, now: dt.datetime,
) -> Declared:
    """Record an interest the reviewer declares; it excludes them from matching applications,
    and ends their assignments to the applications in review it now conflicts with (a decided
    application's assignments stay: its scores are frozen).

    The code is stored canonical (``identifiers.normalize``), as the codes it is matched with.
    """
    lg_code = normalize(lg_code) or None
    declaration = ConflictDeclaration(reviewer_id=reviewer.id, organization_id=organization_id,
                                      lg_code=lg_code, note=note, declared_at=now)
    session.add(declaration)
    session.flush()
    record(session, AuditTag.CONFLICT_DECLARE, subject_type="user", subject_id=reviewer.id,
           actor=reviewer, now=now,
           data={"organization_id": organization_id, "lg_code": lg_code, "note": note})
    active = session.scalars(
        sa.select(Assignment).join(Assignment.application)
        .where(Assignment.reviewer_id == reviewer.id, Assignment.state == AssignmentState.ACTIVE,
               Application.state == State.IN_REVIEW)
        .options(sa.orm.selectinload(Assignment.application)
                 .selectinload(Application.submissions))
        .order_by(Assignment.id)).all()
    ended = end_conflicted(session, list(active), {a.application_id: parties(a.application)
                                                   for a in active}, actor=reviewer, now=now)
    return Declared(declaration, ended)


def applicant_organizations(session: Session, reviewer: User) -> list[tuple[int, str]]:
    """The organizations that submitted to the reviewer's calls, by name: what they may declare."""
    return [(row.id, row.name) for row in session.execute(
        sa.select(Organization.id, Organization.name).distinct()
        .join(Application, Application.organization_id == Organization.id)
        .join(Application.program_version)
        .join(CallReviewer, CallReviewer.program_key == ProgramVersion.program_key)
        .where(CallReviewer.reviewer_id == reviewer.id, Application.state != State.DRAFT)
        .order_by(Organization.name))]


def parties(application: Application, snapshot_text: str | None = None) -> ApplicationParties:
    """Who takes part in an application, read from its latest frozen submission (pass its
    text when it is already loaded): the applicant, its partners and its consortium members
    (a local-government member by its code, every member by its name)."""
    snapshot = json.loads(snapshot_text or application.submissions[-1].snapshot)
    partners = [row for row in snapshot["answers"].get("partners") or [] if isinstance(row, dict)]
    members = _members(application, snapshot)
    participants = (*_as_parties(partners, PartyRole.PARTNER),
                    *_as_parties(members, PartyRole.MEMBER))
    return ApplicationParties(
        id=application.id, organization_id=application.organization_id,
        organization_name=snapshot["applicant"]["name"],
        lg_codes=frozenset(p.lg_code for p in participants if p.lg_code),
        partner_names=(), organization_lg_code=snapshot["applicant"].get("lg_code"),
        organization_corporate_number=application.organization.corporate_number,
        participants=participants,
    )


def _members(application: Application, snapshot: dict) -> list[dict]:
    """The consortium members frozen in the snapshot, as typed."""
    field = definition_of(application.program_version).consortium_field
    rows = snapshot["answers"].get(field.id) if field else None
    return [row for row in rows or [] if isinstance(row, dict)]


def _as_parties(rows: list[dict], role: PartyRole) -> tuple[Party, ...]:
    """Partners or members rows as parties, whatever their kind: a row's code is a local
    government's code on a local-government row, else the member's 法人番号. Snapshots frozen
    before codes were stored canonical may hold full-width digits: the domain folds them."""
    parties = []
    for row in rows:
        code = str(row.get("code") or "") or None
        local = row.get("kind") == "local_government"
        parties.append(Party(str(row.get("name") or ""), role, lg_code=code if local else None,
                             corporate_number=None if local else code))
    return tuple(parties)


def profiles(session: Session, reviewers: list[User]) -> dict[int, ReviewerProfile]:
    """Each reviewer's affiliation and declarations, in one query."""
    declared = defaultdict(list)
    rows = session.scalars(sa.select(ConflictDeclaration).where(
        ConflictDeclaration.reviewer_id.in_([r.id for r in reviewers])))
    for row in rows:
        declared[row.reviewer_id].append(row)
    return {
        r.id: ReviewerProfile(
            id=r.id, organization_id=r.organization_id,
            organization_lg_code=r.organization.lg_code if r.organization else None,
            organization_name=r.organization.name if r.organization else None,
            organization_corporate_number=(r.organization.corporate_number if r.organization
                                           else None),
            declared_organization_ids=frozenset(d.organization_id for d in declared[r.id]
                                                if d.organization_id),
            declared_lg_codes=frozenset(d.lg_code for d in declared[r.id] if d.lg_code),
            declared_text=" / ".join(d.note for d in declared[r.id] if d.note),
        )
        for r in reviewers
    }


def conflicts_of(session: Session, reviewer: User, application: Application) -> list[LocalizedText]:
    return conflicts(profiles(session, [reviewer])[reviewer.id], parties(application))


def assign(
    session: Session, application: Application, reviewer: User, *, actor: User, now: dt.datetime
) -> Assignment:
    """Assign by hand, only to an application in review. A conflicted reviewer is refused with
    the reasons, so is one whose assignment a conflict ended; one who declined is assigned
    again (the same assignment, active once more).
    """
    require_in_review(application.state)
    reasons = conflicts_of(session, reviewer, application)
    if reasons:
        raise Conflicted(reasons)
    existing = session.scalar(sa.select(Assignment).filter_by(
        application_id=application.id, reviewer_id=reviewer.id))
    if existing is None:
        return _create(session, application.id, reviewer.id, actor=actor, now=now)
    if existing.state is AssignmentState.ACTIVE:
        raise AlreadyAssigned("already_assigned")
    if existing.state is AssignmentState.WITHDRAWN:
        raise Conflicted(withdrawal_reasons(existing))
    previous = existing.decline_reason
    existing.state, existing.decline_reason = AssignmentState.ACTIVE, None
    existing.assigned_at, existing.assigned_by_id = now, actor.id
    session.flush()
    record(session, AuditTag.ASSIGNMENT_REACTIVATE, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"reviewer_id": reviewer.id, "reason": previous})
    return existing


def _create(session: Session, application_id: int, reviewer_id: int, *, actor: User,
            now: dt.datetime) -> Assignment:
    assignment = Assignment(application_id=application_id, reviewer_id=reviewer_id,
                            assigned_at=now, assigned_by_id=actor.id)
    session.add(assignment)
    session.flush()
    record(session, AuditTag.ASSIGNMENT_CREATE, subject_type="application",
           subject_id=application_id, actor=actor, now=now, data={"reviewer_id": reviewer_id})
    return assignment


def call_reviewers(session: Session, program: Program) -> list[User]:
    return list(session.scalars(
        sa.select(User).join(CallReviewer, CallReviewer.reviewer_id == User.id)
        .where(CallReviewer.program_key == program.key, User.active.is_(True))
        .order_by(User.id)))


def auto_assign(session: Session, program: Program, *, actor: User, now: dt.datetime
                ) -> AssignmentPlan:
    """Top every application in review up to N active, unconflicted assignments (each one a
    review that will count), balanced, never above N and never a conflicted reviewer. An
    assignment whose reviewer is found conflicted since is ended first (see `end_conflicted`).
    """
    applications = session.scalars(
        sa.select(Application).join(Application.program_version)
        .where(Application.state == State.IN_REVIEW, ProgramVersion.program_key == program.key)
        .order_by(Application.id)
        .options(sa.orm.selectinload(Application.submissions),
                 sa.orm.selectinload(Application.organization))).all()
    reviewers = call_reviewers(session, program)
    by_id = {a.id: parties(a) for a in applications}
    assigned = session.scalars(sa.select(Assignment).where(
        Assignment.application_id.in_(by_id)).options(sa.orm.selectinload(Assignment.reviewer)))
    assigned = list(assigned)
    end_conflicted(session, assigned, by_id, actor=actor, now=now)
    known = profiles(session, reviewers)
    existing: dict[int, set[int]] = defaultdict(set)
    excluded: dict[int, set[int]] = defaultdict(set)
    for row in assigned:
        # A declined or ended assignment never yields a review that counts, and that reviewer
        # is not chosen again; an active one counts toward N.
        dead = row.state is not AssignmentState.ACTIVE
        (excluded if dead else existing)[row.application_id].add(row.reviewer_id)
    plan = plan_assignments(
        list(by_id.values()), [known[r.id] for r in reviewers],
        per_application=program.reviewers_per_application, existing=existing, excluded=excluded)
    for application_id, reviewer_id in plan.pairs:
        _create(session, application_id, reviewer_id, actor=actor, now=now)
    return plan


def open_assignments(session: Session, reviewer: User) -> list[Assignment]:
    """The reviewer's active assignments they have no conflict with, with application,
    organization and review loaded: a fixed number of queries however many there are (joins,
    not IN-list batches)."""
    mine = (Assignment.reviewer_id == reviewer.id) & (Assignment.state == AssignmentState.ACTIVE)
    assignments = session.scalars(
        sa.select(Assignment).join(Assignment.application).join(Application.organization)
        .outerjoin(Assignment.review).where(mine)
        .options(contains_eager(Assignment.application).contains_eager(Application.organization),
                 contains_eager(Assignment.application).defer(Application.answers),
                 contains_eager(Assignment.review))
        .order_by(Assignment.id)).all()
    snapshots = {application_id: text for application_id, text in session.execute(  # latest last
        sa.select(Submission.application_id, Submission.snapshot)
        .join(Assignment, Assignment.application_id == Submission.application_id).where(mine)
        .order_by(Submission.application_id, Submission.number))}
    profile = profiles(session, [reviewer])[reviewer.id]
    return [a for a in assignments
            if not conflicts(profile, parties(a.application, snapshots[a.application_id]))]


def decline(session: Session, assignment: Assignment, reason: str, *, actor: User,
            now: dt.datetime) -> None:
    """A reviewer declines with a reason, before submitting; the officer then assigns someone
    else. A submitted review counts: to step back from it the reviewer asks the program office
    (or declares the conflict, which ends the assignment)."""
    require_in_review(assignment.application.state)
    if assignment.review is not None and assignment.review.state is ReviewState.SUBMITTED:
        raise DeclineRefused("review_submitted")
    reason = visible_or_none(reason)
    if reason is None:
        raise ValueError("a reason is required")
    assignment.state = AssignmentState.DECLINED
    assignment.decline_reason = reason
    session.flush()
    record(session, AuditTag.ASSIGNMENT_DECLINE, subject_type="application",
           subject_id=assignment.application_id, actor=actor, now=now,
           data={"reviewer_id": assignment.reviewer_id, "reason": reason})


# --- conflicts found after assignment ----------------------------------------------------------


def conflicted_assignments(
    session: Session, assignments: Sequence[Assignment],
    parties_by_application: Mapping[int, ApplicationParties],
) -> dict[int, list[LocalizedText]]:
    """The active ones among `assignments` whose reviewer is conflicted with the application
    now, with the reasons, by assignment id. One query, for the reviewers' declarations."""
    active = [a for a in assignments if a.state is AssignmentState.ACTIVE]
    known = profiles(session, list({a.reviewer for a in active}))
    found = {}
    for a in active:
        reasons = conflicts(known[a.reviewer_id], parties_by_application[a.application_id])
        if reasons:
            found[a.id] = reasons
    return found


def end_conflicted(
    session: Session, assignments: Sequence[Assignment],
    parties_by_application: Mapping[int, ApplicationParties], *, actor: User, now: dt.datetime,
) -> list[Assignment]:
    """End every active assignment among `assignments` (of applications in review) whose
    reviewer is now conflicted: the conflict was found after assignment."""
    found = conflicted_assignments(session, assignments, parties_by_application)
    ended = [a for a in assignments if a.id in found]
    for assignment in ended:
        _withdraw(session, assignment, found[assignment.id], actor=actor, now=now)
    return ended


def withdraw(session: Session, assignment: Assignment, reason: str, *, actor: User,
             now: dt.datetime) -> None:
    """The officer ends an assignment for a conflict of interest they found, with the reason;
    a review already submitted stops counting and is kept, shown as withdrawn."""
    require_in_review(assignment.application.state)
    if assignment.state is not AssignmentState.ACTIVE:
        raise NotActive("assignment_not_active")
    text = visible_or_none(reason)
    if text is None:
        raise ValueError("a reason is required")
    _withdraw(session, assignment, [LocalizedText(text, text)], actor=actor, now=now)


def _withdraw(session: Session, assignment: Assignment, reasons: list[LocalizedText], *,
              actor: User, now: dt.datetime) -> None:
    assignment.state = AssignmentState.WITHDRAWN
    assignment.withdrawn_at = now
    assignment.withdrawal_reasons = [reason.to_dict() for reason in reasons]
    session.flush()
    submitted = assignment.review is not None and assignment.review.state is ReviewState.SUBMITTED
    record(session, AuditTag.ASSIGNMENT_WITHDRAW, subject_type="application",
           subject_id=assignment.application_id, actor=actor, now=now,
           data={"reviewer_id": assignment.reviewer_id,
                 "reasons": [reason.ja for reason in reasons],
                 "review_withdrawn": assignment.review.id if submitted else None})


def withdrawal_reasons(assignment: Assignment) -> list[LocalizedText]:
    """Why an assignment no longer counts: the conflicts that ended it, or the decline."""
    if assignment.state is AssignmentState.DECLINED:
        reason = assignment.decline_reason or ""
        return [LocalizedText(f"評価者が辞退しました：{reason}",
                              f"The reviewer declined: {reason}")]
    return [LocalizedText(**reason) for reason in assignment.withdrawal_reasons or []]
