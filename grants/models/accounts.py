"""People, the organizations they act for, and sign-in attempts."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, created_at, intpk
from grants.domain.workflow import Role


class OrganizationKind(enum.StrEnum):
    LOCAL_GOVERNMENT = "local_government"
    THIRD_SECTOR = "third_sector"
    NPO = "npo"
    OTHER = "other"


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'local_government') = (lg_code IS NOT NULL)",
            name="lg_code_iff_local_government",
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
    created_at: Mapped[created_at]

    members: Mapped[list[User]] = relationship(back_populates="organization")


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "role <> 'applicant' OR organization_id IS NOT NULL", name="applicant_has_organization"
        ),
    )

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, comment="stored lower-case")
    password_hash: Mapped[str] = mapped_column(sa.String(255), comment="werkzeug scrypt hash")
    display_name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[Role]
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    locale: Mapped[str] = mapped_column(sa.String(5), default="ja", comment="ja or en")
    active: Mapped[bool] = mapped_column(default=True, comment="inactive accounts cannot sign in")
    created_at: Mapped[created_at]

    organization: Mapped[Organization | None] = relationship(back_populates="members")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active


class SignInAttempt(Base):
    """One sign-in try; recent failures per account and per address limit guessing."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        sa.Index("ix_sign_in_attempts_email_at", "email", "at"),
        sa.Index("ix_sign_in_attempts_address_at", "address", "at"),
    )

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(sa.String(254))
    address: Mapped[str] = mapped_column(sa.String(45), comment="client IP address")
    succeeded: Mapped[bool]
    at: Mapped[dt.datetime]
