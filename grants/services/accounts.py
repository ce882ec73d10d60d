"""Accounts: organizations by a checked identifier, sign-up, sign-in, passwords, e-mail proof.

Every step that changes an account is an audit event. Sign-up and the reset request answer the
same way whether or not the address is registered; the caller e-mails the owner instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from grants.domain.errors import DomainError
from grants.domain.identifiers import normalize, parse_corporate_number
from grants.domain.localgov import load_registry
from grants.domain.membership import Membership
from grants.domain.workflow import Role
from grants.models import Organization, OrganizationKind, TokenPurpose, User
from grants.services import sessions, throttle, tokens
from grants.services.audit import AuditTag, record

MIN_PASSWORD_LENGTH = 10
# scrypt at OWASP's minimum (Password Storage Cheat Sheet: N=2^17, r=8, p=1, or an equal cost
# such as N=2^13, r=8, p=10): this one costs the least CPU of them here (about 170 ms) and
# needs 8 MiB. werkzeug's default (N=2^15, r=8, p=1) is below it; such hashes are upgraded at
# the next sign-in.
PASSWORD_METHOD = "scrypt:8192:8:10"  # noqa: S105 (a hashing method, not a password)
# Compared against when there is no usable hash, so timing does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=PASSWORD_METHOD)
RESETS_PER_HOUR = 3


class AccountError(DomainError):
    """A request about an account is refused; ``code`` says why, for a translated message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class NewOrganization:
    kind: OrganizationKind
    name: str = ""
    lg_code: str | None = None
    corporate_number: str | None = None


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password_too_short")
    return generate_password_hash(password, method=PASSWORD_METHOD)


def password_matches(user: User | None, password: str) -> bool:
    """Check a password in constant time whether or not the account (or its password) exists."""
    stored = user.password_hash if user is not None and user.password_hash else None
    valid = check_password_hash(stored or _DUMMY_HASH, password)
    return valid and stored is not None


def normalize_email(email: str) -> str:
    return normalize(email).lower()


def user_by_email(email: str) -> sa.Select:
    return sa.select(User).filter_by(email=normalize_email(email))


def find_or_create_organization(
    session: Session, new: NewOrganization, *, verified_at: dt.datetime | None = None
) -> Organization:
    """Return the organization with this identifier, creating it (unverified) the first time.

    Local governments are found by their 全国地方公共団体コード and named from the registry;
    corporations by their 法人番号. ``verified_at`` is for organizations set up by the
    operator (command line, demo), which need no program-office check.
    """
    if new.kind is OrganizationKind.LOCAL_GOVERNMENT:
        code = normalize(new.lg_code)
        result = load_registry().lookup(code)
        if not result.ok:
            raise AccountError("lg_code_invalid")
        existing = session.scalar(sa.select(Organization).filter_by(lg_code=code))
        org = existing or Organization(name=result.government.name, kind=new.kind, lg_code=code)
    else:
        number = parse_corporate_number(new.corporate_number)
        if not isinstance(number, str) or len(number) != 13:
            raise AccountError("corporate_number_invalid")
        existing = session.scalar(sa.select(Organization).filter_by(corporate_number=number))
        if existing is not None and existing.kind is not new.kind:
            raise AccountError("corporate_number_other_kind")
        name = normalize(new.name)
        if existing is None and not name:
            raise AccountError("organization_name_required")
        org = existing or Organization(name=name, kind=new.kind, corporate_number=number)
    if org.verified_at is None and verified_at is not None:
        org.verified_at = verified_at
    session.add(org)
    session.flush()
    return org


def create_user(
    session: Session,
    *,
    email: str,
    password: str | None,
    display_name: str,
    role: Role,
    organization: Organization | None,
    now: dt.datetime,
    actor: User | None = None,
    signed_up: bool = False,
    membership: Membership = Membership.ACTIVE,
    email_verified: bool = True,
    telephone: str | None = None,
) -> User:
    """Create an account; the e-mail must be new.

    ``actor`` is who created it (None for the command line); ``signed_up`` marks a person
    registering themselves, recorded with themselves as the actor. Without a password the
    account cannot sign in until its owner sets one through an invitation link. The first
    active member of an organization becomes its administrator.
    """
    email = normalize_email(email)
    if session.scalar(sa.select(User.id).filter_by(email=email)) is not None:
        raise AccountError("email_taken")
    if role is Role.APPLICANT and organization is None:
        raise AccountError("organization_required")
    first_member = (organization is not None and membership is Membership.ACTIVE
                    and admin_count(session, organization) == 0)
    user = User(
        email=email,
        password_hash=hash_password(password) if password is not None else None,
        display_name=normalize(display_name),
        role=role,
        organization=organization,
        membership=membership if organization is not None else None,
        telephone=normalize(telephone) or None,
        email_verified_at=now if email_verified else None,
        is_org_admin=first_member,
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
        data={"role": str(role), "organization_id": organization.id if organization else None,
              "membership": str(user.membership) if user.membership else None},
    )
    return user


def admin_count(session: Session, organization: Organization) -> int:
    return session.scalar(
        sa.select(sa.func.count()).select_from(User)
        .where(User.organization_id == organization.id, User.is_org_admin.is_(True))
    ) or 0


@dataclass(frozen=True)
class SignUp:
    """What sign-up did: a new account to confirm, or the existing owner of the address."""

    created: User | None
    existing: User | None
    verification_token: str | None


def sign_up(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    organization: NewOrganization,
    telephone: str,
    now: dt.datetime,
) -> SignUp:
    """Register a person asking to act for an organization; nothing is granted yet.

    The account must prove its address (a link), then the program office (an organization's
    first account) or the organization's administrators approve the request.
    """
    existing = session.scalar(user_by_email(email))
    password_hash = hash_password(password)  # also when the address is taken: same timing
    if existing is not None:
        return SignUp(None, existing, None)
    org = find_or_create_organization(session, organization)
    user = create_user(session, email=email, password=None, display_name=display_name,
                       role=Role.APPLICANT, organization=org, now=now, signed_up=True,
                       membership=Membership.REQUESTED, email_verified=False,
                       telephone=telephone)
    user.password_hash = password_hash
    return SignUp(user, None, tokens.issue(session, user, TokenPurpose.VERIFY_EMAIL, now=now))


def verification_link_for(session: Session, user: User, *, now: dt.datetime) -> str | None:
    """Issue a fresh e-mail confirmation token for an unconfirmed account, else None."""
    if user.email_verified_at is not None:
        return None
    return tokens.issue(session, user, TokenPurpose.VERIFY_EMAIL, now=now)


def verify_email(session: Session, token: str, *, now: dt.datetime) -> User:
    user = tokens.consume(session, token, TokenPurpose.VERIFY_EMAIL, now=now)
    if user is None:
        raise AccountError("link_invalid")
    user.email_verified_at = now
    record(session, AuditTag.EMAIL_VERIFY, subject_type="user", subject_id=user.id, actor=user,
           now=now)
    return user


# --- sign-in -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInPolicy:
    max_failures: int  # per account and address; four times as many per address alone
    window: dt.timedelta

    def limits(self, email: str, address: str) -> tuple[throttle.Limit, throttle.Limit]:
        return (
            throttle.Limit(f"sign-in:{email}|{address}", self.max_failures, self.window),
            throttle.Limit(f"sign-in-address:{address}", self.max_failures * 4, self.window),
        )


def reserve_sign_in(session: Session, *, email: str, address: str, now: dt.datetime,
                    policy: SignInPolicy) -> list[int]:
    """Count this try before the password is checked; raise when the limit is reached.

    The limit is per account *and* address, so someone guessing elsewhere cannot lock the
    owner out; the owner can always reset the password by e-mail.
    """
    hits = throttle.reserve(session, policy.limits(normalize_email(email), address), now=now)
    if hits is None:
        raise AccountError("too_many_attempts")
    return hits


def check_credentials(session: Session, *, email: str, password: str) -> User:
    """Return the account if the password is right and it may sign in; a hash made with
    weaker parameters than PASSWORD_METHOD is replaced by one made with it."""
    user = session.scalar(user_by_email(email))
    if not password_matches(user, password) or user is None or not user.active:
        raise AccountError("bad_credentials")
    if user.email_verified_at is None:
        raise AccountError("email_unverified")
    if not user.password_hash.startswith(f"{PASSWORD_METHOD}$"):
        user.password_hash = hash_password(password)
    return user


def complete_sign_in(session: Session, user: User, hits: list[int], *, address: str,
                     now: dt.datetime, policy: SignInPolicy) -> str:
    """Forgive the account's earlier failures here, open a session; return its token."""
    account_limit, _address_limit = policy.limits(user.email, address)
    throttle.clear(session, account_limit.bucket)
    throttle.release(session, hits)
    return sessions.start(session, user, now=now)


# --- passwords -----------------------------------------------------------------------------


def change_password(session: Session, user: User, *, current: str, new: str,
                    now: dt.datetime) -> int:
    """Set a new password and end every other session; return how many were ended."""
    if not password_matches(user, current):
        raise AccountError("current_password_wrong")
    user.password_hash = hash_password(new)
    ended = sessions.revoke_all(session, user, now=now, keep=user.session_token)
    record(session, AuditTag.PASSWORD_CHANGE, subject_type="user", subject_id=user.id,
           actor=user, now=now, data={"sessions_ended": ended})
    return ended


def request_password_reset(
    session: Session, email: str, *, now: dt.datetime
) -> tuple[User, str] | None:
    """Issue a reset link for an existing, active account (at most a few an hour), else None."""
    user = session.scalar(user_by_email(email))
    if user is None or not user.active:
        return None
    if tokens.issued_since(session, user, TokenPurpose.PASSWORD_RESET,
                           now - dt.timedelta(hours=1)) >= RESETS_PER_HOUR:
        return None
    token = tokens.issue(session, user, TokenPurpose.PASSWORD_RESET, now=now)
    record(session, AuditTag.PASSWORD_RESET_REQUEST, subject_type="user", subject_id=user.id,
           actor=None, now=now)
    return user, token


def reset_password(session: Session, token: str, new: str, *, now: dt.datetime) -> User:
    """Set the password from a reset link; the link also proves the address. Ends all sessions."""
    password_hash = hash_password(new)
    user = tokens.consume(session, token, TokenPurpose.PASSWORD_RESET, now=now)
    if user is None:
        raise AccountError("link_invalid")
    user.password_hash = password_hash
    user.email_verified_at = user.email_verified_at or now
    ended = sessions.revoke_all(session, user, now=now)
    record(session, AuditTag.PASSWORD_RESET, subject_type="user", subject_id=user.id,
           actor=user, now=now, data={"sessions_ended": ended})
    return user


def accept_invitation(session: Session, token: str, *, password: str, display_name: str,
                      now: dt.datetime) -> User:
    """The invited person sets their own password; the link proves their address."""
    password_hash = hash_password(password)
    user = tokens.consume(session, token, TokenPurpose.INVITATION, now=now)
    if user is None:
        raise AccountError("link_invalid")
    user.password_hash = password_hash
    user.display_name = normalize(display_name) or user.display_name
    user.email_verified_at = now
    record(session, AuditTag.INVITATION_ACCEPT, subject_type="user", subject_id=user.id,
           actor=user, now=now)
    return user


def sign_out_everywhere(session: Session, user: User, *, now: dt.datetime) -> int:
    ended = sessions.revoke_all(session, user, now=now)
    record(session, AuditTag.SESSIONS_END, subject_type="user", subject_id=user.id, actor=user,
           now=now, data={"sessions_ended": ended})
    return ended
