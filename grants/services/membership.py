"""Membership: the program office verifies first accounts, organizations run their own.

Every function takes the acting user and checks that they may act (the views check too);
every change is an audit event. E-mail is sent by the caller, which knows the site's links.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from grants.domain.membership import (
    Membership,
    MembershipAction,
    MembershipNotAllowed,
    check_admins_remain,
    fire,
)
from grants.domain.workflow import Role
from grants.models import Organization, TokenPurpose, User
from grants.services import accounts, sessions, tokens
from grants.services.audit import AuditTag, record

OFFICE_ROLES = frozenset({Role.OFFICER, Role.ADMIN})


def _requests() -> sa.Select:
    return (
        sa.select(User).join(User.organization)
        .where(User.membership == Membership.REQUESTED, User.email_verified_at.is_not(None))
        .options(joinedload(User.organization)).order_by(User.created_at, User.id)
    )


def verification_queue(session: Session) -> list[User]:
    """First accounts of organizations nobody has verified yet, for the program office."""
    return list(session.scalars(_requests().where(Organization.verified_at.is_(None))))


def join_requests(session: Session, organization: Organization) -> list[User]:
    """Requests to join a verified organization, for its administrators."""
    return list(session.scalars(_requests().where(
        Organization.verified_at.is_not(None), User.organization_id == organization.id)))


def members(session: Session, organization: Organization) -> list[User]:
    return list(session.scalars(
        sa.select(User).where(User.organization_id == organization.id,
                              User.membership == Membership.ACTIVE)
        .order_by(User.is_org_admin.desc(), User.display_name, User.id)))


def admins_to_tell(session: Session, requester: User) -> list[User]:
    """The administrators who decide on ``requester``'s request (none while unverified)."""
    organization = requester.organization
    if (organization is None or organization.verified_at is None
            or requester.membership is not Membership.REQUESTED):
        return []
    return [m for m in members(session, organization)
            if m.is_org_admin and m.active and m.email_verified_at]


def is_org_admin_of(actor: User, organization: Organization) -> bool:
    return (actor.is_org_admin and actor.organization_id == organization.id
            and actor.acts_for_organization)


def _check_decider(actor: User, member: User) -> None:
    """The office decides on unverified organizations; their admins decide on verified ones."""
    organization = member.organization
    if organization is None or member.email_verified_at is None:
        raise MembershipNotAllowed("not_in_this_state")
    if organization.verified_at is None:
        allowed = actor.role in OFFICE_ROLES
    else:
        allowed = is_org_admin_of(actor, organization)
    if not allowed:
        raise MembershipNotAllowed("not_allowed")


def approve(session: Session, member: User, *, actor: User, now: dt.datetime) -> None:
    """Grant a request. The office's approval verifies the organization and makes its admin."""
    _check_decider(actor, member)
    member.membership = fire(member.membership, MembershipAction.APPROVE)
    member.membership_note = None
    organization = member.organization
    assert organization is not None
    if organization.verified_at is None:
        organization.verified_at = now
        member.is_org_admin = True
        record(session, AuditTag.ORGANIZATION_VERIFY, subject_type="organization",
               subject_id=organization.id, actor=actor, now=now,
               data={"identifier": organization.identifier, "first_member_id": member.id})
    record(session, AuditTag.MEMBERSHIP_APPROVE, subject_type="user", subject_id=member.id,
           actor=actor, now=now, data={"organization_id": organization.id,
                                       "admin": member.is_org_admin})
    session.flush()


def refuse(session: Session, member: User, *, reason: str, actor: User,
           now: dt.datetime) -> None:
    _check_decider(actor, member)
    member.membership = fire(member.membership, MembershipAction.REFUSE)
    member.membership_note = reason.strip()[:500]
    record(session, AuditTag.MEMBERSHIP_REFUSE, subject_type="user", subject_id=member.id,
           actor=actor, now=now, data={"organization_id": member.organization_id,
                                       "reason": member.membership_note})
    session.flush()


def invite(session: Session, organization: Organization, *, email: str, name: str,
           actor: User, now: dt.datetime) -> tuple[User, str]:
    """Create a colleague's account, approved in advance; they set their password by link."""
    if not is_org_admin_of(actor, organization):
        raise MembershipNotAllowed("not_allowed")
    user = accounts.create_user(session, email=email, password=None, display_name=name,
                                role=Role.APPLICANT, organization=organization, now=now,
                                actor=actor, email_verified=False)
    record(session, AuditTag.MEMBER_INVITE, subject_type="user", subject_id=user.id,
           actor=actor, now=now, data={"organization_id": organization.id})
    return user, tokens.issue(session, user, TokenPurpose.INVITATION, now=now)


def remove(session: Session, member: User, *, reason: str, actor: User,
           now: dt.datetime) -> None:
    """Take away a member's access (their applications stay with the organization)."""
    organization = member.organization
    if organization is None or not is_org_admin_of(actor, organization):
        raise MembershipNotAllowed("not_allowed")
    check_admins_remain(accounts.admin_count(session, organization),
                        losing_admin=member.is_org_admin)
    member.membership = fire(member.membership, MembershipAction.REMOVE)
    member.is_org_admin = False
    member.membership_note = reason.strip()[:500] or None
    sessions.revoke_all(session, member, now=now)
    record(session, AuditTag.MEMBER_REMOVE, subject_type="user", subject_id=member.id,
           actor=actor, now=now, data={"organization_id": organization.id,
                                       "reason": member.membership_note})
    session.flush()


def set_admin(session: Session, member: User, admin: bool, *, actor: User,
              now: dt.datetime) -> None:
    """Make an active member an administrator, or step one down (never the last)."""
    organization = member.organization
    if organization is None or not is_org_admin_of(actor, organization):
        raise MembershipNotAllowed("not_allowed")
    if member.membership is not Membership.ACTIVE or member.is_org_admin == admin:
        raise MembershipNotAllowed("not_in_this_state")
    check_admins_remain(accounts.admin_count(session, organization), losing_admin=not admin)
    member.is_org_admin = admin
    record(session, AuditTag.ORG_ADMIN_GRANT if admin else AuditTag.ORG_ADMIN_REVOKE,
           subject_type="user", subject_id=member.id, actor=actor, now=now,
           data={"organization_id": organization.id})
    session.flush()
