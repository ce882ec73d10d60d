"""Loaded program definitions: every version kept, hashed, immutable."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, intpk


class ProgramVersion(Base):
    """One loaded text of a program file; applications point at the version they were made under."""

    __tablename__ = "program_versions"
    __table_args__ = (sa.UniqueConstraint("program_key", "sha256"),)

    id: Mapped[intpk]
    program_key: Mapped[str] = mapped_column(sa.String(64), comment="the program's id in its YAML")
    sha256: Mapped[str] = mapped_column(sa.String(64), comment="SHA-256 of the file's UTF-8 text")
    source_text: Mapped[str] = mapped_column(sa.Text, comment="the YAML exactly as loaded")
    source_name: Mapped[str] = mapped_column(sa.String(255), comment="file name it came from")
    loaded_at: Mapped[dt.datetime]


class Program(Base):
    """A funding program and the version new applications use."""

    __tablename__ = "programs"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    current_version_id: Mapped[int] = mapped_column(sa.ForeignKey("program_versions.id"))
    reviewers_per_application: Mapped[int] = mapped_column(
        default=2, server_default="2", comment="set by the officer for this call"
    )

    current_version: Mapped[ProgramVersion] = relationship()
