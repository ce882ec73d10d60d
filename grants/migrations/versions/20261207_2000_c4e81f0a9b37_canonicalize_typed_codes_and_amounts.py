"""Canonicalize typed codes: organizations, conflict declarations, partners in draft answers

Revision ID: c4e81f0a9b37
Revises: a7c3e9d41b20
Create Date: 2026-12-07 20:00:00+09:00

Written by hand. Codes were stored as typed before every form normalized them, so ``０１２３３５``
(full-width, from a Japanese input method) sits where ``012335`` is meant and is never counted
as the local government it is. Each stored code is rewritten to its canonical form (NFKC,
trim, then exactly 6 ASCII digits for a 全国地方公共団体コード or 13 for a 法人番号); a value
that does not become one is left as it is, since guessing would name another organization.

Two organizations whose codes differ only in form are one organization: the first already
canonical (else the lowest id) is kept, and the other's accounts, applications and conflict
declarations move to it before it is removed; the kept one is verified if either was. Audit
events are hash-chained and left untouched: those about the removed row keep its id as history.

Draft answers (``applications.answers``) get their partner codes canonicalized. Frozen
submissions are hashed and never rewritten; the code reading them normalizes instead. Yen
amounts need no rewrite: the forms always stored them as integers.

Row data is read and rewritten, so offline mode (``--sql``) emits nothing for this revision.
The revision does not import the app (see env.py), so the small normalization is written here.
"""

import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "c4e81f0a9b37"
down_revision: str | Sequence[str] | None = "a7c3e9d41b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODE_LENGTHS = {"lg_code": 6, "corporate_number": 13}
REFERENCES = ("users", "applications", "conflict_declarations")  # organization_id columns

organizations = sa.table(
    "organizations", sa.column("id", sa.Integer), sa.column("lg_code", sa.String),
    sa.column("corporate_number", sa.String), sa.column("verified_at"))  # as stored
applications = sa.table("applications", sa.column("id", sa.Integer),
                        sa.column("answers", sa.JSON))
declarations = sa.table("conflict_declarations", sa.column("id", sa.Integer),
                        sa.column("lg_code", sa.String))


def canonical(value: str | None, length: int) -> str | None:
    """The canonical code for a stored value, or None when it does not become one.

    As ``grants.domain.identifiers.normalize``: NFKC except for digits that are not decimal
    (a superscript is no digit of a code), then trim; then exactly ``length`` ASCII digits.
    """
    if value is None:
        return None
    folded = "".join(
        c if c.isdigit() and not c.isdecimal() else unicodedata.normalize("NFKC", c)
        for c in value).strip()
    return folded if len(folded) == length and folded.isascii() and folded.isdigit() else None


def upgrade() -> None:
    if context.is_offline_mode():
        return
    connection = op.get_bind()
    for column, length in CODE_LENGTHS.items():
        _canonicalize_organizations(connection, column, length)
    for row in connection.execute(sa.select(declarations)).all():
        code = canonical(row.lg_code, CODE_LENGTHS["lg_code"])
        if code is not None and code != row.lg_code:
            connection.execute(declarations.update().where(declarations.c.id == row.id)
                               .values(lg_code=code))
    for row in connection.execute(sa.select(applications)).all():
        answers = _canonical_answers(row.answers or {})
        if answers != row.answers:
            connection.execute(applications.update().where(applications.c.id == row.id)
                               .values(answers=answers))


def _canonicalize_organizations(connection: sa.Connection, column: str, length: int) -> None:
    """Rewrite one code column, merging the organizations it turns out to name twice."""
    code_of = organizations.c[column]
    groups: dict[str, list[Any]] = defaultdict(list)
    for row in connection.execute(sa.select(organizations).where(code_of.is_not(None))
                                  .order_by(organizations.c.id)):
        code = canonical(row._mapping[column], length)
        if code is not None:
            groups[code].append(row)
    for code, rows in groups.items():
        kept = next((r for r in rows if r._mapping[column] == code), rows[0])
        merged = [r for r in rows if r.id != kept.id]
        for row in merged:
            _move_references(connection, row.id, kept.id)
            connection.execute(organizations.delete().where(organizations.c.id == row.id))
        values: dict[str, Any] = {column: code}
        verified = [r.verified_at for r in merged if r.verified_at is not None]
        if kept.verified_at is None and verified:
            values["verified_at"] = min(verified)
        if len(rows) > 1 or kept._mapping[column] != code:
            connection.execute(organizations.update().where(organizations.c.id == kept.id)
                               .values(values))


def _move_references(connection: sa.Connection, old_id: int, new_id: int) -> None:
    for name in REFERENCES:
        table = sa.table(name, sa.column("organization_id", sa.Integer))
        connection.execute(table.update().where(table.c.organization_id == old_id)
                           .values(organization_id=new_id))


def _canonical_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers with each local-government partner row's code canonical.

    Partner rows are recognized by their shape (a list of objects with ``kind`` and ``code``),
    so no program definition is needed. A row whose name was only the typed code (the form's
    fallback for a code it did not know) gets the canonical code as its name too.
    """
    result = dict(answers)
    for key, value in answers.items():
        if isinstance(value, list) and any(_is_partner(row) for row in value):
            result[key] = [_canonical_partner(row) if _is_partner(row) else row for row in value]
    return result


def _is_partner(row: object) -> bool:
    return isinstance(row, dict) and row.get("kind") == "local_government" \
        and isinstance(row.get("code"), str)


def _canonical_partner(row: dict[str, Any]) -> dict[str, Any]:
    code = canonical(row["code"], CODE_LENGTHS["lg_code"])
    if code is None:
        return row
    name = code if row.get("name") == row["code"] else row.get("name")
    return {**row, "code": code, "name": name}


def downgrade() -> None:
    """Nothing to undo: the canonical codes are what the old code meant, and merged
    organizations cannot be split again without inventing which rows belonged to which."""
