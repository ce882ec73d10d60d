"""Create initial schema

Revision ID: 63187a9f7001
Revises:
Create Date: 2026-11-23 18:41:27.754392+09:00

Drafted with ``alembic revision --autogenerate`` against an empty database, then reviewed:
- enums are stored by value in VARCHAR(32) with a CHECK constraint (no native PostgreSQL enum
  types to migrate later); the values are written out here, frozen as of this revision, and the
  CHECK names are the ones grants.db's naming convention gives the models;
- timestamps are plain ``DateTime(timezone=True)``: a revision never imports the app;
- indexes are created with ``op.create_index`` (no table rebuild needed);
- ``downgrade()`` drops everything in the reverse order of ``upgrade()``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "63187a9f7001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stored values as of this revision (grants.models.OrganizationKind, grants.domain.workflow).
ORGANIZATION_KINDS = ("local_government", "third_sector", "npo", "other")
ROLES = ("applicant", "reviewer", "officer", "auditor", "admin")
STATES = ("draft", "submitted", "returned", "in_review", "awarded", "rejected")


def _one_of(column: str, values: Sequence[str]) -> str:
    """Return the CHECK clause SQLAlchemy writes for a non-native enum."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _timestamp(name: str, *, nullable: bool = False, comment: str | None = None) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, comment=comment)


def upgrade() -> None:
    _create_organizations()
    _create_program_versions()
    _create_sign_in_attempts()
    _create_programs()
    _create_users()
    _create_applications()
    _create_audit_events()
    _create_attachments()
    _create_kept_forms()
    _create_submissions()


def downgrade() -> None:
    op.drop_table("submissions")
    op.drop_table("kept_forms")
    op.drop_index(op.f("ix_attachments_application_id"), table_name="attachments")
    op.drop_table("attachments")
    op.drop_table("audit_events")
    op.drop_index(op.f("ix_applications_organization_id"), table_name="applications")
    op.drop_table("applications")
    op.drop_table("users")
    op.drop_table("programs")
    op.drop_index(op.f("ix_sign_in_attempts_email_at"), table_name="sign_in_attempts")
    op.drop_index(op.f("ix_sign_in_attempts_address_at"), table_name="sign_in_attempts")
    op.drop_table("sign_in_attempts")
    op.drop_table("program_versions")
    op.drop_table("organizations")


def _create_organizations() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "name", sa.String(200), nullable=False, comment="name as the organization writes it"
        ),
        sa.Column(
            "kind",
            sa.String(32),
            nullable=False,
            comment="applicant type used by eligibility rules",
        ),
        sa.Column(
            "lg_code",
            sa.String(6),
            nullable=True,
            comment="全国地方公共団体コード, checked by its check digit",
        ),
        _timestamp("created_at"),
        sa.CheckConstraint(
            "(kind = 'local_government') = (lg_code IS NOT NULL)",
            name=op.f("ck_organizations_lg_code_iff_local_government"),
        ),
        sa.CheckConstraint(
            _one_of("kind", ORGANIZATION_KINDS), name=op.f("ck_organizations_organizationkind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("lg_code", name=op.f("uq_organizations_lg_code")),
    )


def _create_program_versions() -> None:
    op.create_table(
        "program_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "program_key", sa.String(64), nullable=False, comment="the program's id in its YAML"
        ),
        sa.Column(
            "sha256", sa.String(64), nullable=False, comment="SHA-256 of the file's UTF-8 text"
        ),
        sa.Column("source_text", sa.Text(), nullable=False, comment="the YAML exactly as loaded"),
        sa.Column("source_name", sa.String(255), nullable=False, comment="file name it came from"),
        _timestamp("loaded_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_versions")),
        sa.UniqueConstraint(
            "program_key", "sha256", name=op.f("uq_program_versions_program_key_sha256")
        ),
    )


def _create_sign_in_attempts() -> None:
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


def _create_programs() -> None:
    op.create_table(
        "programs",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["current_version_id"],
            ["program_versions.id"],
            name=op.f("fk_programs_current_version_id_program_versions"),
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_programs")),
    )


def _create_users() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False, comment="stored lower-case"),
        sa.Column("password_hash", sa.String(255), nullable=False, comment="werkzeug scrypt hash"),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(5), nullable=False, comment="ja or en"),
        sa.Column(
            "active", sa.Boolean(), nullable=False, comment="inactive accounts cannot sign in"
        ),
        _timestamp("created_at"),
        sa.CheckConstraint(
            "role <> 'applicant' OR organization_id IS NOT NULL",
            name=op.f("ck_users_applicant_has_organization"),
        ),
        sa.CheckConstraint(_one_of("role", ROLES), name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_users_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )


def _create_applications() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(20), nullable=False, comment="shown to people"),
        sa.Column("program_version_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False, comment="see grants.domain.workflow"),
        sa.Column("answers", sa.JSON(), nullable=False, comment="draft answers by field"),
        sa.Column(
            "lock_version",
            sa.Integer(),
            nullable=False,
            comment="optimistic lock: a stale save is refused",
        ),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        _timestamp("submitted_at", nullable=True, comment="latest submission, UTC"),
        sa.CheckConstraint(
            "(state = 'draft') = (submitted_at IS NULL)",
            name=op.f("ck_applications_submitted_at_iff_not_draft"),
        ),
        sa.CheckConstraint(_one_of("state", STATES), name=op.f("ck_applications_state")),
        sa.ForeignKeyConstraint(
            ["program_version_id"],
            ["program_versions.id"],
            name=op.f("fk_applications_program_version_id_program_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_applications_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_applications_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_applications_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("reference", name=op.f("uq_applications_reference")),
    )
    op.create_index(op.f("ix_applications_organization_id"), "applications", ["organization_id"])


def _create_audit_events() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        _timestamp("at"),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("tag", sa.String(64), nullable=False, comment="source:subject:action"),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False, comment="event details, JSON"),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        # Two events can never claim the same predecessor, so the chain cannot fork.
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_events_prev_hash")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )


def _create_attachments() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.String(64), nullable=False, comment="the program's file field"),
        sa.Column("sha256", sa.String(64), nullable=False, comment="content address in storage"),
        sa.Column("filename", sa.String(255), nullable=False, comment="display name only"),
        sa.Column("mime_type", sa.String(127), nullable=False, comment="detected from content"),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        _timestamp("uploaded_at"),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_attachments_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_attachments_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index(op.f("ix_attachments_application_id"), "attachments", ["application_id"])


def _create_kept_forms() -> None:
    op.create_table(
        "kept_forms",
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_kept_forms_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_kept_forms")),
    )


def _create_submissions() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column(
            "number",
            sa.Integer(),
            nullable=False,
            comment="1 for the first submission, then 2, ...",
        ),
        sa.Column("snapshot", sa.Text(), nullable=False, comment="canonical JSON, hashed as UTF-8"),
        sa.Column("snapshot_sha256", sa.String(64), nullable=False),
        sa.Column(
            "findings", sa.JSON(), nullable=False, comment="rule findings (warnings) at submission"
        ),
        _timestamp("submitted_at"),
        sa.Column("submitted_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_submissions_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"], ["users.id"], name=op.f("fk_submissions_submitted_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint(
            "application_id", "number", name=op.f("uq_submissions_application_id_number")
        ),
    )
