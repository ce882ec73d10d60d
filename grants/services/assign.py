"""Reviewers for a call, their declared interests, and who reviews which application."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager

from grants.domain.assignment import (
    ApplicationParties,
    AssignmentPlan,
    ReviewerProfile,
    conflicts,
    plan_assignments,
)
from grants.domain.errors import DomainError
from grants.domain.findings import LocalizedText
from grants.domain.identifiers import normalize
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
    Submission,
    TokenPurpose,
    User,
)
from grants.services import accounts, tokens
from grants.services.audit import AuditTag, record


class Conflicted(DomainError):
    """The reviewer may not review this application; ``reasons`` says why."""

    def __init__(self, reasons: list[LocalizedText]) -> None:
        super().__init__("conflicted")
        self.reasons = reasons


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
) -> ConflictDeclaration:
    """Record an interest the reviewer declares; it excludes them from matching applications.

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
    return declaration


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
    text when it is already loaded)."""
    snapshot = json.loads(snapshot_text or application.submissions[-1].snapshot)
    partners = snapshot["answers"].get("partners") or []
    # Snapshots frozen before codes were stored canonical may hold full-width digits.
    codes = {normalize(p["code"]) for p in partners if p.get("code")}
    if snapshot["applicant"].get("lg_code"):
        codes.add(normalize(snapshot["applicant"]["lg_code"]))
    return ApplicationParties(
        id=application.id, organization_id=application.organization_id,
        organization_name=snapshot["applicant"]["name"], lg_codes=frozenset(codes),
        partner_names=tuple(p["name"] for p in partners if p.get("name")),
    )


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
    """Assign by hand; a conflicted reviewer is refused with the reasons."""
    reasons = conflicts_of(session, reviewer, application)
    if reasons:
        raise Conflicted(reasons)
    existing = session.scalar(sa.select(Assignment).filter_by(
        application_id=application.id, reviewer_id=reviewer.id))
    if existing is not None:
        return existing
    return _create(session, application.id, reviewer.id, actor=actor, now=now)


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
    """Give every application in review its N reviewers, balanced, never a conflicted one."""
    applications = session.scalars(
        sa.select(Application).join(Application.program_version)
        .where(Application.state == State.IN_REVIEW, ProgramVersion.program_key == program.key)
        .order_by(Application.id)
        .options(sa.orm.selectinload(Application.submissions))).all()
    reviewers = call_reviewers(session, program)
    by_id = {a.id: parties(a) for a in applications}
    assigned = session.scalars(sa.select(Assignment).where(
        Assignment.application_id.in_(by_id)).options(sa.orm.selectinload(Assignment.reviewer)))
    assigned = list(assigned)
    known = profiles(session, list({*reviewers, *(row.reviewer for row in assigned)}))
    existing: dict[int, set[int]] = defaultdict(set)
    excluded: dict[int, set[int]] = defaultdict(set)
    for row in assigned:
        # A declined assignment, or one whose reviewer has since declared a conflict, never
        # yields a review: it does not count, and that reviewer is not chosen again.
        dead = row.state is AssignmentState.DECLINED or conflicts(
            known[row.reviewer_id], by_id[row.application_id])
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
    """A reviewer declines with a reason; the officer then assigns someone else."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is required")
    assignment.state = AssignmentState.DECLINED
    assignment.decline_reason = reason
    session.flush()
    record(session, AuditTag.ASSIGNMENT_DECLINE, subject_type="application",
           subject_id=assignment.application_id, actor=actor, now=now,
           data={"reviewer_id": assignment.reviewer_id, "reason": reason})
