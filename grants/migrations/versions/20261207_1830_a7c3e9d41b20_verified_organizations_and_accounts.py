"""Verified organizations and accounts: memberships, 法人番号, sessions, one-time links

Revision ID: a7c3e9d41b20
Revises: 55b02f44a582
Create Date: 2026-12-07 18:30:00+09:00

Written by hand. Organizations gain their 法人番号 and the time the program office verified
them; users gain a membership state, the organization-admin flag, a telephone number, the note
given on refusal or removal, and the time their e-mail address was proven; the password becomes
optional (invited people set their own). New tables: server-side sessions, hashed single-use
links and rate-limit hits, which replace sign_in_attempts.

Rows already stored were created under the old model, where joining was open: every existing
organization is taken as verified, every existing account as proven and every member as active,
with the first account of each organization (lowest id) as its administrator, so nobody is
locked out by the upgrade. Downgrade drops the new columns and tables and recreates
sign_in_attempts empty; accounts without a password get an unusable hash.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e9d41b20"
down_revision: str | Sequence[str] | None = "55b02f44a582"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEMBERSHIP_STATES = ("requested", "active", "refused", "removed")
TOKEN_PURPOSES = ("verify_email", "invitation", "password_reset")


def _one_of(column: str, values: Sequence[str]) -> str:
    """Return the CHECK clause SQLAlchemy writes for a non-native enum."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _timestamp(name: str, *, nullable: bool = False, comment: str | None = None) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, comment=comment)


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column(
            "corporate_number", sa.String(13), nullable=True,
            comment="法人番号 (13 digits, checked by its check digit)"))
        batch.add_column(_timestamp(
            "verified_at", nullable=True,
            comment="when the program office verified the first account; NULL: not verified yet"))
        batch.create_unique_constraint(
            op.f("uq_organizations_corporate_number"), ["corporate_number"])
        batch.create_check_constraint(
            op.f("ck_organizations_corporate_number_not_for_local_government"),
            "kind <> 'local_government' OR corporate_number IS NULL")
    op.execute("UPDATE organizations SET verified_at = created_at")

    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column(
            "membership", sa.String(32), nullable=True,
            comment="whether the account may act for organization_id"))
        batch.add_column(sa.Column(
            "is_org_admin", sa.Boolean(), nullable=False, server_default=sa.false(),
            comment="may invite, approve and remove the organization's members"))
        batch.add_column(sa.Column(
            "telephone", sa.String(30), nullable=True,
            comment="for the program office to check a first account"))
        batch.add_column(sa.Column(
            "membership_note", sa.String(500), nullable=True,
            comment="the reason given when a request was refused or a member removed"))
        batch.add_column(_timestamp(
            "email_verified_at", nullable=True,
            comment="when the owner proved the address by a link; NULL: cannot sign in"))
        batch.alter_column(
            "password_hash", existing_type=sa.String(255), nullable=True,
            comment="werkzeug scrypt hash; NULL until an invited person sets one",
            existing_comment="werkzeug scrypt hash")
    op.execute("UPDATE users SET email_verified_at = created_at")
    op.execute("UPDATE users SET membership = 'active' WHERE organization_id IS NOT NULL")
    op.execute(
        "UPDATE users SET is_org_admin = true WHERE id IN "
        "(SELECT MIN(id) FROM users WHERE organization_id IS NOT NULL GROUP BY organization_id)"
    )
    with op.batch_alter_table("users") as batch:
        batch.alter_column("is_org_admin", server_default=None, existing_type=sa.Boolean())
        batch.create_check_constraint(
            op.f("ck_users_membership"), _one_of("membership", MEMBERSHIP_STATES))
        batch.create_check_constraint(
            op.f("ck_users_membership_iff_organization"),
            "(organization_id IS NULL) = (membership IS NULL)")
        batch.create_check_constraint(
            op.f("ck_users_org_admin_is_active_member"),
            "NOT is_org_admin OR membership = 'active'")

    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False,
                  comment="SHA-256 of the token in the session cookie"),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _timestamp("created_at", comment="the absolute lifetime runs from here"),
        _timestamp("last_seen_at", comment="the idle timeout runs from here"),
        _timestamp("revoked_at", nullable=True, comment="signed out; never valid again"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_user_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, comment="SHA-256"),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at"),
        _timestamp("used_at", nullable=True, comment="a link works once"),
        sa.CheckConstraint(_one_of("purpose", TOKEN_PURPOSES),
                           name=op.f("ck_account_tokens_tokenpurpose")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_account_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    op.create_index(op.f("ix_account_tokens_user_id"), "account_tokens", ["user_id"])
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(320), nullable=False,
                  comment="what is limited, e.g. sign-in:<e-mail>|<address>"),
        _timestamp("at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
    )
    op.create_index(op.f("ix_rate_limit_hits_bucket_at"), "rate_limit_hits", ["bucket", "at"])
    op.drop_index(op.f("ix_sign_in_attempts_email_at"), table_name="sign_in_attempts")
    op.drop_index(op.f("ix_sign_in_attempts_address_at"), table_name="sign_in_attempts")
    op.drop_table("sign_in_attempts")


def downgrade() -> None:
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("address", sa.String(45), nullable=False, comment="client IP address"),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        _timestamp("at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    op.create_index(op.f("ix_sign_in_attempts_address_at"), "sign_in_attempts", ["address", "at"])
    op.create_index(op.f("ix_sign_in_attempts_email_at"), "sign_in_attempts", ["email", "at"])
    op.drop_index(op.f("ix_rate_limit_hits_bucket_at"), table_name="rate_limit_hits")
    op.drop_table("rate_limit_hits")
    op.drop_index(op.f("ix_account_tokens_user_id"), table_name="account_tokens")
    op.drop_table("account_tokens")
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
    # "!" matches no werkzeug hash: such an account cannot sign in after the downgrade.
    op.execute("UPDATE users SET password_hash = '!' WHERE password_hash IS NULL")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_org_admin_is_active_member"), type_="check")
        batch.drop_constraint(op.f("ck_users_membership_iff_organization"), type_="check")
        batch.drop_constraint(op.f("ck_users_membership"), type_="check")
        batch.alter_column(
            "password_hash", existing_type=sa.String(255), nullable=False,
            comment="werkzeug scrypt hash",
            existing_comment="werkzeug scrypt hash; NULL until an invited person sets one")
        batch.drop_column("email_verified_at")
        batch.drop_column("membership_note")
        batch.drop_column("telephone")
        batch.drop_column("is_org_admin")
        batch.drop_column("membership")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_constraint(
            op.f("ck_organizations_corporate_number_not_for_local_government"), type_="check")
        batch.drop_constraint(op.f("uq_organizations_corporate_number"), type_="unique")
        batch.drop_column("verified_at")
        batch.drop_column("corporate_number")
