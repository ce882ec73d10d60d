"""Accounts: applicant sign-up, staff creation, and rate-limited sign-in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from grants.domain.errors import DomainError
from grants.domain.localgov import load_registry
from grants.domain.workflow import Role
from grants.models import Organization, OrganizationKind, SignInAttempt, User
from grants.services.audit import AuditTag, record

MIN_PASSWORD_LENGTH = 10
# Compared against when the e-mail is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class AccountError(DomainError):
    """Sign-up or sign-in refused; ``code`` says why, for a translated message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class NewOrganization:
    name: str
    kind: OrganizationKind
    lg_code: str | None = None


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password_too_short")
    return generate_password_hash(password, method="scrypt")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_or_create_organization(session: Session, new: NewOrganization) -> Organization:
    """Return the organization to join: a local government exists once, found by its code."""
    if new.kind is OrganizationKind.LOCAL_GOVERNMENT:
        result = load_registry().lookup(new.lg_code or "")
        if not result.ok:
            raise AccountError("lg_code_invalid")
        existing = session.scalar(sa.select(Organization).filter_by(lg_code=new.lg_code))
        if existing:
            return existing
        org = Organization(name=result.government.name, kind=new.kind, lg_code=new.lg_code)
    else:
        org = Organization(name=new.name.strip(), kind=new.kind, lg_code=None)
    session.add(org)
    session.flush()
    return org


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role,
    organization: Organization | None,
    now: dt.datetime,
    actor: User | None = None,
    signed_up: bool = False,
) -> User:
    """Create an account; the e-mail must be new.

    ``actor`` is who created it (None for the command line); ``signed_up`` marks an applicant
    registering themselves, recorded with themselves as the actor.
    """
    email = normalize_email(email)
    if session.scalar(sa.select(User.id).filter_by(email=email)) is not None:
        raise AccountError("email_taken")
    if role is Role.APPLICANT and organization is None:
        raise AccountError("organization_required")
    user = User(
        email=email,
        password_hash=hash_password(password),
        display_name=display_name.strip(),
        role=role,
        organization=organization,
        created_at=now,
    )
    session.add(user)
    session.flush()
    record(
        session,
        AuditTag.ACCOUNT_SIGN_UP if signed_up else AuditTag.ACCOUNT_CREATE,
        subject_type="user",
        subject_id=user.id,
        actor=user if signed_up else actor,
        now=now,
        data={"role": str(role), "organization_id": organization.id if organization else None},
    )
    return user


def sign_up(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    organization: NewOrganization,
    now: dt.datetime,
) -> User:
    """Register an applicant together with the organization they act for."""
    email = normalize_email(email)
    if session.scalar(sa.select(User.id).filter_by(email=email)) is not None:
        raise AccountError("email_taken")
    hash_password(password)  # check the password before creating anything
    org = find_or_create_organization(session, organization)
    return create_user(
        session,
        email=email,
        password=password,
        display_name=display_name,
        role=Role.APPLICANT,
        organization=org,
        now=now,
        signed_up=True,
    )


@dataclass(frozen=True)
class SignInCheck:
    """The outcome of checking credentials: the user, or why sign-in is refused."""

    email: str
    user: User | None
    refusal: str | None


def check_credentials(
    session: Session,
    *,
    email: str,
    password: str,
    address: str,
    now: dt.datetime,
    max_failures: int,
    window: dt.timedelta,
) -> SignInCheck:
    """Check a sign-in without writing anything (the slow password hash holds no write lock).

    Too many recent failures for the account or from the address refuse further tries until
    the window has passed, whatever the password: guessing is slowed, nobody is locked out for
    good.
    """
    email = normalize_email(email)
    since = now - window
    failures = (
        sa.select(sa.func.count())
        .select_from(SignInAttempt)
        .where(SignInAttempt.succeeded.is_(False), SignInAttempt.at >= since)
    )
    by_email = session.scalar(failures.where(SignInAttempt.email == email)) or 0
    by_address = session.scalar(failures.where(SignInAttempt.address == address)) or 0
    if by_email >= max_failures or by_address >= max_failures * 4:
        return SignInCheck(email, None, "too_many_attempts")
    user = session.scalar(sa.select(User).filter_by(email=email))
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user and valid and user.active:
        return SignInCheck(email, user, None)
    return SignInCheck(email, None, "bad_credentials")


def record_sign_in(session: Session, check: SignInCheck, *, address: str, now: dt.datetime) -> User:
    """Record the attempt; return the user, or raise ``AccountError`` with the refusal."""
    if check.refusal != "too_many_attempts":  # refused tries are not counted again
        session.add(
            SignInAttempt(
                email=check.email, address=address, succeeded=check.user is not None, at=now
            )
        )
        session.flush()
    if check.user is None:
        raise AccountError(check.refusal or "bad_credentials")
    return check.user
