"""Revision 861799223189: each review submitted before it gets its version 1, taken from the row
as it stands (a draft gets none); an assignment ended for a conflict goes back to "declined", with
a reason saying so, on downgrade.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from tests.migrations.test_migrations import BACKENDS, empty_database, run

BEFORE, REVISION = "c4e81f0a9b37", "861799223189"
WHEN = "2026-12-01 09:00:00"
RATINGS = {"goal": 4, "budget": None}
COMMENTS = {"goal": "根拠を確認した。"}

ROWS = [
    ("INSERT INTO organizations (id, name, kind, lg_code, verified_at, created_at) VALUES "
     "(1, '札幌市', 'local_government', '011002', :when, :when)"),
    ("INSERT INTO users (id, email, display_name, role, locale, active, created_at, "
     "is_org_admin, organization_id, membership) VALUES "
     "(1, 'a@example.jp', 'A', 'applicant', 'ja', true, :when, true, 1, 'active'), "
     "(2, 'o@example.jp', 'O', 'officer', 'ja', true, :when, false, NULL, NULL), "
     "(3, 'r@example.jp', 'R', 'reviewer', 'ja', true, :when, false, NULL, NULL), "
     "(4, 's@example.jp', 'S', 'reviewer', 'ja', true, :when, false, NULL, NULL)"),
    ("INSERT INTO program_versions (id, program_key, sha256, source_text, source_name, "
     "loaded_at) VALUES (1, 'p', :sha, 'x', 'p.yaml', :when)"),
    ("INSERT INTO rubric_versions (id, rubric_key, sha256, source_text, source_name, "
     "loaded_at) VALUES (1, 'r', :sha, 'x', 'r.yaml', :when)"),
    ("INSERT INTO applications (id, reference, program_version_id, organization_id, "
     "created_by_id, state, answers, lock_version, created_at, updated_at, submitted_at) VALUES "
     "(1, 'A-1', 1, 1, 1, 'in_review', '{}', 1, :when, :when, :when)"),
    ("INSERT INTO assignments (id, application_id, reviewer_id, state, assigned_at, "
     "assigned_by_id) VALUES (1, 1, 3, 'active', :when, 2), (2, 1, 4, 'active', :when, 2)"),
    ("INSERT INTO reviews (id, assignment_id, rubric_version_id, state, ratings, comments, "
     "comment_for_applicant, total, knockout, lock_version, updated_at, submitted_at) VALUES "
     "(1, 1, 1, 'submitted', :ratings, :comments, '具体的です。', 72.50, false, 3, :when, "
     ":when), "
     "(2, 2, 1, 'draft', '{}', '{}', NULL, NULL, false, 1, :when, NULL)"),
]


def _filled(engine: sa.Engine) -> None:
    params = {"when": WHEN, "sha": "0" * 64, "ratings": json.dumps(RATINGS),
              "comments": json.dumps(COMMENTS, ensure_ascii=False)}
    with engine.begin() as connection:
        for statement in ROWS:
            connection.execute(sa.text(statement), params)


def _all(engine: sa.Engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def _json(value: object) -> object:
    return value if isinstance(value, dict) else json.loads(str(value))  # PostgreSQL: JSON


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_submitted_review_gets_its_first_version(backend: str, tmp_path: Path) -> None:
    with empty_database(backend, tmp_path) as engine:
        run(engine, command.upgrade, BEFORE)
        _filled(engine)

        run(engine, command.upgrade, REVISION)

        rows = _all(engine, "SELECT review_id, number, ratings, comments, "
                            "comment_for_applicant, total, knockout, reopen_note, submitted_at "
                            "FROM review_versions")
        assert len(rows) == 1  # the draft has no version
        review_id, number, ratings, comments, shared, total, knockout, note, at = rows[0]
        assert (review_id, number, shared, Decimal(str(total)), bool(knockout), note) == (
            1, 1, "具体的です。", Decimal("72.50"), False, None)
        assert _json(ratings) == RATINGS and _json(comments) == COMMENTS
        assert str(at).startswith("2026-12-01 09:00:00")
        assert _all(engine, "SELECT state, withdrawn_at, withdrawal_reasons FROM assignments "
                            "ORDER BY id") == [("active", None, None)] * 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_downgrade_turns_a_withdrawn_assignment_into_a_declined_one(backend: str,
                                                                     tmp_path: Path) -> None:
    with empty_database(backend, tmp_path) as engine:
        run(engine, command.upgrade, BEFORE)
        _filled(engine)
        run(engine, command.upgrade, REVISION)
        reasons = json.dumps([{"ja": "利害関係", "en": "conflict"}], ensure_ascii=False)
        with engine.begin() as connection:
            connection.execute(sa.text(
                "UPDATE assignments SET state = 'withdrawn', withdrawn_at = :when, "
                "withdrawal_reasons = :reasons WHERE id = 1"), {"when": WHEN, "reasons": reasons})
            # no reasons: refused by the CHECK
            with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
                connection.execute(sa.text(
                    "UPDATE assignments SET state = 'withdrawn' WHERE id = 2"))

        run(engine, command.downgrade, BEFORE)

        declined = _all(engine, "SELECT state, decline_reason FROM assignments ORDER BY id")
        assert declined[0][0] == "declined" and "conflict of interest" in declined[0][1]
        assert declined[1] == ("active", None)
        assert "review_versions" not in sa.inspect(engine).get_table_names()
