"""Budget rules at their boundaries: shares, caps by case, forbidden acquisitions, awards."""

from __future__ import annotations

import pytest

from grants.domain.budget import (
    award_amount,
    summarize,
    yen,
    yen_ja,
)
from grants.domain.eligibility import evaluate
from grants.domain.findings import Severity


def _by_rule(findings, rule_id):
    return [f for f in findings if f.rule_id == rule_id]


# --- category_share: strict "less than half" ---------------------------------------------------


def test_category_share_equipment_exactly_half_fails_strict_rule(kizuna, application, line):
    lines = [
        line("equipment", 20_000_000, "purchase"),
        line("equipment", 20_000_000, "lease"),
        line("equipment", 10_000_000, "rental"),
        line("human_resources", 50_000_000),
    ]
    data = application(track="general", budget_lines=lines)

    [finding] = _by_rule(evaluate(kizuna, data), "equipment-under-half")

    assert finding.severity is Severity.ERROR
    assert finding.field == "budget_lines"
    assert finding.message.ja == (
        "ICT機器・設備整備費（購入・リース・レンタル）の合計は申請額の2分の1未満でなければ"
        "なりません（現在 ¥50,000,000 / 申請額 ¥100,000,000）"
    )
    assert "less than half" in finding.message.en
    assert "¥50,000,000 of ¥100,000,000" in finding.message.en


def test_category_share_one_yen_under_half_passes_strict_rule(kizuna, application, line):
    lines = [
        line("equipment", 20_000_000, "purchase"),
        line("equipment", 20_000_000, "lease"),
        line("equipment", 9_999_999, "rental"),
        line("human_resources", 50_000_001),
    ]
    data = application(track="general", budget_lines=lines)

    assert _by_rule(evaluate(kizuna, data), "equipment-under-half") == []


def test_category_share_exactly_half_passes_when_not_strict(parse, application, line):
    program = parse(_share_program(strict=False))
    data = application(budget_lines=[line("equipment", 500, "purchase"), line("other", 500)])

    assert evaluate(program, data) == []


def test_category_share_one_yen_over_half_fails_when_not_strict(parse, application, line):
    program = parse(_share_program(strict=False))
    data = application(budget_lines=[line("equipment", 501, "purchase"), line("other", 499)])

    [finding] = evaluate(program, data)

    assert "2分の1以下" in finding.message.ja
    assert "at most half" in finding.message.en


def test_category_share_uneven_third_compares_exactly(parse, application, line):
    # 1/3 of 100 is not a whole number: only integer cross-multiplication gets this right.
    program = parse(_share_program(strict=True, share="1/3"))
    under = application(budget_lines=[line("equipment", 33, "lease"), line("other", 67)])
    over = application(budget_lines=[line("equipment", 34, "lease"), line("other", 66)])

    assert evaluate(program, under) == []
    assert len(evaluate(program, over)) == 1


def test_category_share_lines_without_acquisition_are_not_counted(kizuna, application, line):
    lines = [line("equipment", 80_000_000, "none"), line("human_resources", 20_000_000)]
    data = application(track="general", budget_lines=lines)

    assert _by_rule(evaluate(kizuna, data), "equipment-under-half") == []


def test_category_share_empty_budget_gives_no_finding(kizuna, application):
    data = application(track="general", budget_lines=[])

    assert evaluate(kizuna, data) == []


# --- forbidden_acquisition ---------------------------------------------------------------------


def test_forbidden_acquisition_purchase_is_refused(wide_area, application, line, partner):
    data = application(
        uses_people=True,
        partners=[partner("012025")],
        budget_lines=[line("equipment", 3_000_000, "purchase"), line("system", 7_000_000)],
    )

    [finding] = _by_rule(evaluate(wide_area, data), "no-purchase")

    assert finding.kind == "forbidden_acquisition"
    assert finding.field == "budget_lines"
    assert finding.message.ja == "ICT機器の購入は認められません（該当 1件、計 ¥3,000,000）"
    assert finding.message.en.startswith("Purchase is not allowed for ICT equipment")


def test_forbidden_acquisition_lease_passes(wide_area, application, line, partner):
    data = application(
        uses_people=True,
        partners=[partner("012025")],
        budget_lines=[line("equipment", 3_000_000, "lease"), line("system", 7_000_000)],
    )

    assert evaluate(wide_area, data) == []


# --- amount_cap by case ----------------------------------------------------------------------


def test_amount_cap_200m_case_without_partnership_fails(kizuna, application, line, partner):
    data = application(
        track="general",
        partnership=False,
        partners=[partner("012025")],
        budget_lines=[line("human_resources", 150_000_000)],
    )

    [finding] = _by_rule(evaluate(kizuna, data), "amount-cap")

    assert finding.field == "budget_lines"
    assert "上限額 ¥100,000,000（1億円）" in finding.message.ja
    assert "exceeds the cap of ¥100,000,000" in finding.message.en


def test_amount_cap_200m_case_with_partnership_passes(kizuna, application, line, partner):
    data = application(
        track="general",
        partnership=True,
        partners=[partner("012025")],
        budget_lines=[line("human_resources", 150_000_000)],
    )

    assert evaluate(kizuna, data) == []


def test_amount_cap_partnership_needs_two_distinct_local_governments(
    kizuna, application, line, partner
):
    data = application(
        track="general",
        partnership=True,
        partners=[partner("011002")],  # the lead itself, listed again
        budget_lines=[line("human_resources", 150_000_000)],
    )

    assert len(_by_rule(evaluate(kizuna, data), "amount-cap")) == 1


def test_amount_cap_education_three_schools_at_cap_passes(kizuna, application, line):
    data = application(
        track="education", school_count=3, budget_lines=[line("human_resources", 150_000_000)]
    )

    assert evaluate(kizuna, data) == []


def test_amount_cap_education_three_schools_one_yen_over_fails(kizuna, application, line):
    data = application(
        track="education", school_count=3, budget_lines=[line("human_resources", 150_000_001)]
    )

    [finding] = _by_rule(evaluate(kizuna, data), "amount-cap")

    assert finding.field == "school_count"
    assert "1校あたり ¥50,000,000 × 3校" in finding.message.ja
    assert "(¥50,000,000 per school × 3)" in finding.message.en


def test_amount_cap_education_without_school_count_asks_for_it(kizuna, application, line):
    data = application(track="education", budget_lines=[line("human_resources", 1_000)])

    [finding] = _by_rule(evaluate(kizuna, data), "amount-cap")

    assert finding.field == "school_count"
    assert "「対象校数」の回答が必要です" in finding.message.ja


def test_amount_cap_empty_budget_gives_no_cap_finding(kizuna, application):
    data = application(track="education", school_count=3, budget_lines=[])

    assert _by_rule(evaluate(kizuna, data), "amount-cap") == []


# --- summarize, award_amount, writing yen ------------------------------------------------------


def test_summarize_lines_totals_by_category_and_equipment(kizuna, application, line):
    lines = [
        line("equipment", 10, "purchase"),
        line("equipment", 5, "none"),
        line("human_resources", 100),
    ]
    data = application(track="education", school_count=2, budget_lines=lines)

    summary = summarize(kizuna, lines, data)

    assert summary.total_yen == 115
    assert summary.by_category == {"human_resources": 100, "equipment": 15}
    assert summary.equipment_yen == 10
    assert summary.cap_yen == 100_000_000


def test_summarize_without_data_conditional_cap_is_unknown(kizuna):
    assert summarize(kizuna, []).cap_yen is None


def test_summarize_without_data_single_fixed_cap_is_known(parse):
    program = parse(_share_program(strict=True) + _FIXED_CAP)

    assert summarize(program, []).cap_yen == 100_000_000


def test_award_amount_rounds_down_to_thousand_yen():
    assert award_amount(123_456_789, None, 1000) == 123_456_000


def test_award_amount_limited_by_cap_then_rounded():
    assert award_amount(150_000_000, 99_999_999, 1000) == 99_999_000


@pytest.mark.parametrize(("requested", "cap", "rounding"), [(-1, None, 1000), (1, None, 0)])
def test_award_amount_bad_inputs_raise(requested, cap, rounding):
    with pytest.raises(ValueError, match="bad award inputs"):
        award_amount(requested, cap, rounding)


@pytest.mark.parametrize(
    ("amount", "english", "japanese"),
    [
        (100_000_000, "¥100,000,000", "1億円"),
        (50_000_000, "¥50,000,000", "5,000万円"),
        (150_000_000, "¥150,000,000", "1億5,000万円"),
        (10_000_000_000, "¥10,000,000,000", "100億円"),
        (1_234, "¥1,234", "1,234円"),
        (0, "¥0", "0円"),
    ],
)
def test_yen_amounts_written_both_ways(amount, english, japanese):
    assert (yen(amount), yen_ja(amount)) == (english, japanese)


def test_budget_line_float_amount_is_refused(kizuna, application):
    data = application(budget_lines=[{"category": "equipment", "amount_yen": 1.5}])

    with pytest.raises(TypeError, match="int yen"):
        data.budget_lines(kizuna)


_FIXED_CAP = """\
  - kind: amount_cap
    cases:
      - amount_yen: 100000000
"""


def _share_program(*, strict: bool, share: str = "1/2") -> str:
    return f"""\
applicant_types: [local_government]
budget:
  categories:
    - id: equipment
      title: {{ja: 機器, en: equipment}}
      equipment: true
    - id: other
      title: {{ja: その他, en: other}}
steps:
  - id: main
    title: {{ja: 経費, en: Budget}}
    fields:
      - id: budget_lines
        kind: budget_lines
        label: {{ja: 経費, en: Budget}}
rules:
  - kind: category_share
    categories: [equipment]
    max_share: "{share}"
    strict: {str(strict).lower()}
"""
