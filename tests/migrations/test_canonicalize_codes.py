"""Revision c4e81f0a9b37: typed codes stored as typed become canonical, duplicates merge.

The database is built at the revision before, filled with rows as the old forms stored them
(full-width digits, a pasted space), then upgraded; every application, account and declaration
must survive, on the organization that remains, and frozen snapshots must be left byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from tests.migrations.test_migrations import BACKENDS, empty_database, run

BEFORE, REVISION = "a7c3e9d41b20", "c4e81f0a9b37"
WHEN = "2026-12-01 09:00:00"
SNAPSHOT = json.dumps({"answers": {"partners": [{"code": "０１２３３５"}]}}, ensure_ascii=False)
PARTNERS = [
    {"code": "０１２３３５", "name": "０１２３３５", "kind": "local_government", "role": ""},
    {"code": " 011002", "name": "札幌市", "kind": "local_government", "role": "lead"},
    {"code": "01233²", "name": "01233²", "kind": "local_government", "role": ""},
    {"code": None, "name": "ＮＰＯ法人みらい", "kind": "npo", "role": ""},
]

ROWS = [
    ("INSERT INTO organizations (id, name, kind, lg_code, corporate_number, verified_at, "
     "created_at) VALUES "
     "(1, '伊達市 (typed)', 'local_government', '０１２３３５', NULL, NULL, :when), "
     "(2, '伊達市', 'local_government', '012335', NULL, :when, :when), "
     "(3, '札幌市', 'local_government', '０１１００２', NULL, :when, :when), "
     "(4, 'NPO', 'npo', NULL, '８７００１１０００５９０１', :when, :when), "
     "(5, 'odd', 'local_government', '01233²', NULL, :when, :when)"),
    ("INSERT INTO users (id, email, display_name, role, locale, active, created_at, "
     "is_org_admin, organization_id, membership) VALUES "
     "(1, 'a@example.jp', 'A', 'applicant', 'ja', true, :when, true, 1, 'active'), "
     "(2, 'b@example.jp', 'B', 'applicant', 'ja', true, :when, true, 2, 'active'), "
     "(3, 'r@example.jp', 'R', 'reviewer', 'ja', true, :when, false, NULL, NULL)"),
    ("INSERT INTO program_versions (id, program_key, sha256, source_text, source_name, "
     "loaded_at) VALUES (1, 'p', :sha, 'x', 'p.yaml', :when)"),
    ("INSERT INTO applications (id, reference, program_version_id, organization_id, "
     "created_by_id, state, answers, lock_version, created_at, updated_at, submitted_at) VALUES "
     "(1, 'A-1', 1, 1, 1, 'draft', :answers, 1, :when, :when, NULL), "
     "(2, 'A-2', 1, 1, 1, 'submitted', '{}', 1, :when, :when, :when)"),
    ("INSERT INTO submissions (id, application_id, number, snapshot, snapshot_sha256, findings, "
     "submitted_at, submitted_by_id) VALUES (1, 2, 1, :snapshot, :sha, '[]', :when, 1)"),
    ("INSERT INTO conflict_declarations (id, reviewer_id, organization_id, lg_code, "
     "declared_at) VALUES (1, 3, 1, '０１１００２', :when)"),
]


def _filled(engine: sa.Engine) -> None:
    params = {"when": WHEN, "sha": "0" * 64, "snapshot": SNAPSHOT,
              "answers": json.dumps({"partners": PARTNERS, "own_funding_yen": 500000})}
    with engine.begin() as connection:
        for statement in ROWS:
            connection.execute(sa.text(statement), params)


def _all(engine: sa.Engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


@pytest.mark.parametrize("backend", BACKENDS)
def test_codes_canonical_duplicates_merged_nothing_lost(backend: str, tmp_path: Path) -> None:
    with empty_database(backend, tmp_path) as engine:
        run(engine, command.upgrade, BEFORE)
        _filled(engine)

        run(engine, command.upgrade, REVISION)

        organizations = _all(engine, "SELECT id, lg_code, corporate_number, verified_at IS NOT "
                                     "NULL FROM organizations ORDER BY id")
        assert [row[:3] for row in organizations] == [
            (2, "012335", None), (3, "011002", None), (4, None, "8700110005901"),
            (5, "01233²", None)]  # a superscript is no digit: left, never guessed
        assert organizations[0][3]  # the kept organization stays verified
        assert _all(engine, "SELECT id, organization_id FROM users ORDER BY id") == [
            (1, 2), (2, 2), (3, None)]
        assert _all(engine, "SELECT id, organization_id FROM applications ORDER BY id") == [
            (1, 2), (2, 2)]
        assert _all(engine, "SELECT organization_id, lg_code FROM conflict_declarations") == [
            (2, "011002")]
        stored = _all(engine, "SELECT answers FROM applications WHERE id = 1")[0][0]
        answers = stored if isinstance(stored, dict) else json.loads(stored)  # PostgreSQL: JSON
        assert [(p["code"], p["name"]) for p in answers["partners"]] == [
            ("012335", "012335"), ("011002", "札幌市"), ("01233²", "01233²"),
            (None, "ＮＰＯ法人みらい")]
        assert answers["own_funding_yen"] == 500000
        assert _all(engine, "SELECT snapshot FROM submissions") == [(SNAPSHOT,)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_downgrade_leaves_the_canonical_codes(backend: str, tmp_path: Path) -> None:
    with empty_database(backend, tmp_path) as engine:
        run(engine, command.upgrade, BEFORE)
        _filled(engine)
        run(engine, command.upgrade, REVISION)

        run(engine, command.downgrade, BEFORE)

        assert _all(engine, "SELECT lg_code FROM organizations WHERE id = 3") == [("011002",)]
