"""People, the organizations they act for, their sessions, one-time links and rate limits."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, created_at, intpk
from grants.domain.membership import Membership as MembershipState
from grants.domain.workflow import Role


class OrganizationKind(enum.StrEnum):
    LOCAL_GOVERNMENT = "local_government"
    THIRD_SECTOR = "third_sector"
    NPO = "npo"
    OTHER = "other"


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a purpose, not a password)


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'local_government') = (lg_code IS NOT NULL)",
            name="lg_code_iff_local_government",
        ),
        sa.CheckConstraint(
            "kind <> 'local_government' OR corporate_number IS NULL",
            name="corporate_number_not_for_local_government",
        ),
    )

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(sa.String(200), comment="name as the organization writes it")
    kind: Mapped[OrganizationKind] = mapped_column(
        comment="applicant type used by eligibility rules"
    )
    lg_code: Mapped[str | None] = mapped_column(
        sa.String(6), unique=True, comment="全国地方公共団体コード, checked by its check digit"
    )
    corporate_number: Mapped[str | None] = mapped_column(
        sa.String(13), unique=True, comment="法人番号 (13 digits, checked by its check digit)"
    )
    verified_at: Mapped[dt.datetime | None] = mapped_column(
        comment="when the program office verified the first account; NULL: not verified yet"
    )
    created_at: Mapped[created_at]

    members: Mapped[list[User]] = relationship(back_populates="organization")

    @property
    def identifier(self) -> str:
        return self.lg_code or self.corporate_number or ""


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "role <> 'applicant' OR organization_id IS NOT NULL", name="applicant_has_organization"
        ),
        sa.CheckConstraint(
            "(organization_id IS NULL) = (membership IS NULL)", name="membership_iff_organization"
        ),
        sa.CheckConstraint(
            "NOT is_org_admin OR membership = 'active'", name="org_admin_is_active_member"
        ),
    )

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, comment="stored lower-case")
    password_hash: Mapped[str | None] = mapped_column(
        sa.String(255), comment="werkzeug scrypt hash; NULL until an invited person sets one"
    )
    display_name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[Role]
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    membership: Mapped[MembershipState | None] = mapped_column(
        comment="whether the account may act for organization_id"
    )
    is_org_admin: Mapped[bool] = mapped_column(
        default=False, comment="may invite, approve and remove the organization's members"
    )
    telephone: Mapped[str | None] = mapped_column(
        sa.String(30), comment="for the program office to check a first account"
    )
    membership_note: Mapped[str | None] = mapped_column(
        sa.String(500), comment="the reason given when a request was refused or a member removed"
    )
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(
        comment="when the owner proved the address by a link; NULL: cannot sign in"
    )
    locale: Mapped[str] = mapped_column(sa.String(5), default="ja", comment="ja or en")
    active: Mapped[bool] = mapped_column(default=True, comment="inactive accounts cannot sign in")
    created_at: Mapped[created_at]

    organization: Mapped[Organization | None] = relationship(back_populates="members")

    # The server-side session this object was loaded for (see services.sessions); not stored.
    session_token = None

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def acts_for_organization(self) -> bool:
        """Whether the account may see and act on its organization's applications."""
        return self.membership is MembershipState.ACTIVE and self.email_verified_at is not None

    def get_id(self) -> str | None:
        """Flask-Login keeps the session token, never the user id: a revoked session is gone."""
        return self.session_token


class UserSession(Base):
    """A signed-in browser; the cookie carries the token, the database decides if it is valid."""

    __tablename__ = "user_sessions"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(
        sa.String(64), unique=True, comment="SHA-256 of the token in the session cookie"
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(comment="the absolute lifetime runs from here")
    last_seen_at: Mapped[dt.datetime] = mapped_column(comment="the idle timeout runs from here")
    revoked_at: Mapped[dt.datetime | None] = mapped_column(comment="signed out; never valid again")

    user: Mapped[User] = relationship()


class AccountToken(Base):
    """A single-use link sent by e-mail; only its hash is stored."""

    __tablename__ = "account_tokens"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, comment="SHA-256")
    purpose: Mapped[TokenPurpose]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None] = mapped_column(comment="a link works once")

    user: Mapped[User] = relationship()


class RateLimitHit(Base):
    """One counted attempt in a rate-limit bucket (sign-in guesses, e-mail requests)."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (sa.Index("ix_rate_limit_hits_bucket_at", "bucket", "at"),)

    id: Mapped[intpk]
    bucket: Mapped[str] = mapped_column(
        sa.String(320), comment="what is limited, e.g. sign-in:<e-mail>|<address>"
    )
    at: Mapped[dt.datetime]
