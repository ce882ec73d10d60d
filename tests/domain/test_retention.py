"""Retention at its edges: 31 March against 1 April in Japan time (stored in UTC), an asset
restriction outlasting the fiscal-year rule, the last day kept against the first purgeable."""

from __future__ import annotations

import datetime as dt

import pytest

from grants.domain.retention import (
    RETENTION_FISCAL_YEARS,
    Hold,
    Retention,
    StillRetained,
    blank,
    blank_keys,
    blank_text,
    redact_answers,
    redact_snapshot,
    require_purgeable,
    retention,
)
from grants.domain.workflow import State

UTC = dt.UTC
LAST_DAY_OF_FY2024 = dt.datetime(2025, 3, 31, 14, 30, tzinfo=UTC)  # 2025-03-31 23:30 JST
FIRST_HOUR_OF_FY2025 = dt.datetime(2025, 3, 31, 15, 30, tzinfo=UTC)  # 2025-04-01 00:30 JST


def test_the_period_is_five_fiscal_years():
    assert RETENTION_FISCAL_YEARS == 5


def test_a_final_amount_fixed_on_31_march_jst_is_kept_to_the_end_of_fy2029():
    kept = retention(State.COMPLETED, final_fixed_at=LAST_DAY_OF_FY2024)
    assert kept == Retention(dt.date(2030, 3, 31))
    assert kept.purgeable_from == dt.date(2030, 4, 1)


def test_a_final_amount_fixed_on_1_april_jst_is_kept_a_year_longer_though_utc_says_31_march():
    assert FIRST_HOUR_OF_FY2025.date() == dt.date(2025, 3, 31)
    kept = retention(State.COMPLETED, final_fixed_at=FIRST_HOUR_OF_FY2025)
    assert kept.kept_until == dt.date(2031, 3, 31)
    assert kept.purgeable_from == dt.date(2031, 4, 1)


def test_the_last_day_kept_is_not_purgeable_and_the_next_day_is():
    kept = retention(State.COMPLETED, final_fixed_at=LAST_DAY_OF_FY2024)
    assert not kept.purgeable(dt.date(2030, 3, 31))
    assert kept.purgeable(dt.date(2030, 4, 1))
    with pytest.raises(StillRetained) as refused:
        require_purgeable(kept, dt.date(2030, 3, 31))
    assert refused.value.retention.kept_until == dt.date(2030, 3, 31)
    require_purgeable(kept, dt.date(2030, 4, 1))


def test_an_asset_restriction_ending_after_the_fiscal_year_rule_keeps_the_records_longer():
    network_equipment = dt.date(2035, 5, 31)  # acquired 2025-06-01, useful life 10 years
    kept = retention(State.COMPLETED, final_fixed_at=FIRST_HOUR_OF_FY2025,
                     restricted_until=[dt.date(2029, 5, 31), network_equipment])
    assert kept.kept_until == network_equipment
    assert not kept.purgeable(network_equipment)
    assert kept.purgeable(dt.date(2035, 6, 1))


def test_an_asset_restriction_ending_before_the_fiscal_year_rule_changes_nothing():
    kept = retention(State.COMPLETED, final_fixed_at=FIRST_HOUR_OF_FY2025,
                     restricted_until=[dt.date(2031, 3, 30)])
    assert kept.kept_until == dt.date(2031, 3, 31)


@pytest.mark.parametrize("state", [State.REJECTED, State.DECLINED])
@pytest.mark.parametrize(("closed_at", "kept_until"), [
    (LAST_DAY_OF_FY2024, dt.date(2030, 3, 31)),
    (FIRST_HOUR_OF_FY2025, dt.date(2031, 3, 31)),
])
def test_a_closed_application_is_kept_five_fiscal_years_after_its_closing(state, closed_at,
                                                                         kept_until):
    assert retention(state, closed_at=closed_at) == Retention(kept_until)


@pytest.mark.parametrize(("state", "hold"), [
    (State.DRAFT, Hold.UNDECIDED),
    (State.SUBMITTED, Hold.UNDECIDED),
    (State.RETURNED, Hold.UNDECIDED),
    (State.IN_REVIEW, Hold.UNDECIDED),
    (State.AWARDED, Hold.AWAITING_ANSWER),
    (State.GRANTED, Hold.PROJECT_RUNNING),
    (State.REPORTED, Hold.PROJECT_RUNNING),
    (State.REPORT_ACCEPTED, Hold.PROJECT_RUNNING),
    (State.PURGED, Hold.PURGED),
])
def test_an_application_in_progress_is_never_purgeable_and_says_why(state, hold):
    kept = retention(state, final_fixed_at=LAST_DAY_OF_FY2024, closed_at=LAST_DAY_OF_FY2024)
    assert kept == Retention(None, hold)
    assert kept.purgeable_from is None
    assert not kept.purgeable(dt.date(2100, 1, 1))
    with pytest.raises(StillRetained) as refused:
        require_purgeable(kept, dt.date(2100, 1, 1))
    assert refused.value.retention.hold is hold


def test_an_open_evaluation_review_holds_a_rejected_application():
    kept = retention(State.REJECTED, closed_at=LAST_DAY_OF_FY2024, redress_open=True)
    assert kept == Retention(None, Hold.REDRESS_OPEN)


def test_missing_dates_hold_the_records_rather_than_guess():
    assert retention(State.COMPLETED).hold is Hold.NO_FINAL_AMOUNT
    assert retention(State.REJECTED).hold is Hold.NO_DECISION
    assert retention(State.DECLINED).hold is Hold.NO_DECISION


KINDS = {"title": "text", "summary": "long_text", "jobs": "number", "total": "yen",
         "start": "date", "track": "choice", "uses": "multi_choice", "online": "yes_no",
         "partners": "partners", "members": "consortium", "budget": "budget_lines"}
ANSWERS = {
    "title": "山田太郎の見守りサービス", "summary": "連絡先 090-1234-5678", "jobs": 3,
    "total": 9_000_000, "start": "2025-04-01", "track": "health", "uses": ["health", "edu"],
    "online": True,
    "partners": [{"kind": "local_government", "code": "011002", "name": "札幌市",
                  "role": "担当 佐藤"}],
    "members": [{"kind": "npo", "code": "1234567890123", "name": "NPO法人テスト", "role": "運営"}],
    "budget": [{"category": "equipment", "description": "謝金 鈴木一郎", "acquisition": "purchase",
                "amount_yen": 600_000}],
    "removed_field": {"note": "メール taro@example.jp", "count": 2},
}


def test_redacted_answers_keep_amounts_dates_choices_and_codes_and_empty_free_text():
    assert redact_answers(KINDS, ANSWERS) == {
        "title": "", "summary": "", "jobs": 3, "total": 9_000_000, "start": "2025-04-01",
        "track": "health", "uses": ["health", "edu"], "online": True,
        "partners": [{"kind": "local_government", "code": "011002", "name": "", "role": ""}],
        "members": [{"kind": "npo", "code": "1234567890123", "name": "", "role": ""}],
        "budget": [{"category": "equipment", "description": "", "acquisition": "purchase",
                    "amount_yen": 600_000}],
        "removed_field": {"note": "", "count": 2},
    }


def test_a_redacted_snapshot_keeps_its_structure_and_hashes_and_loses_who_and_what():
    snapshot = {
        "format": "grants.snapshot/1", "reference": "G10-0001-0001", "submission_number": 1,
        "submitted_at": "2026-11-20T01:00:00+00:00",
        "submitted_by": {"id": 7, "name": "山田太郎", "email": "taro@example.jp"},
        "program": {"id": "p", "version_sha256": "a" * 64, "title": {"ja": "事業", "en": "P"}},
        "applicant": {"organization_id": 1, "name": "札幌市", "kind": "local_government",
                      "lg_code": "011002"},
        "answers": {"title": "山田太郎の見守り", "total": 9_000_000},
        "attachments": [{"field": "plan", "filename": "山田_計画書.pdf", "sha256": "b" * 64,
                         "mime_type": "application/pdf", "size_bytes": 1234}],
        "findings": [{"rule_id": "cap", "severity": "warning"}],
    }
    redacted = redact_snapshot(KINDS, snapshot)
    assert redacted == {
        **snapshot,
        "submitted_by": {"id": 7, "name": "", "email": ""},
        "answers": {"title": "", "total": 9_000_000},
        "attachments": [{"field": "plan", "filename": "", "sha256": "b" * 64,
                         "mime_type": "application/pdf", "size_bytes": 1234}],
    }
    assert snapshot["submitted_by"]["name"] == "山田太郎"  # the input is left as it was


def test_blank_helpers_keep_shape_numbers_and_absence():
    assert blank({"c1": "良い", "c2": None, "n": [1, "x"]}) == {"c1": "", "c2": None, "n": [1, ""]}
    assert blank_text(None) is None
    assert blank_text("理由") == ""
    computation = {"final_yen": 100, "lines": [{"description": "謝金 鈴木", "amount_yen": 5,
                                               "category": "staff"}], "rate": "1/2"}
    assert blank_keys(computation, frozenset({"description"})) == {
        "final_yen": 100, "lines": [{"description": "", "amount_yen": 5, "category": "staff"}],
        "rate": "1/2"}


def test_a_completed_project_is_kept_while_its_follow_up_reports_still_come():
    """Fixed in FY2024 (kept to 2030-03-31 by the books' rule), its last follow-up due on
    2030-06-30: kept to the end of that fiscal year."""
    fixed = dt.datetime(2024, 5, 10, 1, tzinfo=UTC)
    assert retention(State.COMPLETED, final_fixed_at=fixed).kept_until == dt.date(2030, 3, 31)
    assert retention(State.COMPLETED, final_fixed_at=fixed,
                     last_followup_due=dt.date(2030, 6, 30)).kept_until == dt.date(2031, 3, 31)
    assert retention(State.COMPLETED, final_fixed_at=fixed,
                     last_followup_due=dt.date(2029, 6, 30)).kept_until == dt.date(2030, 3, 31)
