"""Signals on crafted applications: exact shares, the conventional answers, partners counted,
and the "not asked" / "not answered" cases that must never read as a zero.

The program is the real `programs/ict-kizuna-2010.yaml`: budget categories human_resources,
system and equipment (only equipment has `equipment: true`), a partners field `partners`, a
budget field `budget_lines`, and the conventional fields own_funding_yen,
would_proceed_without_subsidy, operating_cost_per_year_yen and operating_cost_payer.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest

from grants.domain.definitions import Program, load_program_file, parse_program
from grants.domain.findings import LocalizedText
from grants.domain.signals import (
    OPERATING_COST_FIELD,
    OPERATING_PAYER_FIELD,
    OWN_FUNDING_FIELD,
    SIGNAL_KINDS,
    WITHOUT_SUBSIDY_FIELD,
    Signal,
    compute,
    compute_signals,
)

PROGRAMS = Path(__file__).resolve().parents[2] / "grants" / "programs"
KIZUNA_FILE = PROGRAMS / "ict-kizuna-2010.yaml"

NOT_ASKED = LocalizedText("この公募では尋ねていません", "not asked in this call")
NOT_ANSWERED = LocalizedText("回答なし", "not answered")

CONVENTIONAL = {
    "own_funding_share": OWN_FUNDING_FIELD,
    "proceeds_without_subsidy": WITHOUT_SUBSIDY_FIELD,
    "operating_cost_after": OPERATING_COST_FIELD,
    "operating_cost_payer": OPERATING_PAYER_FIELD,
}


@cache
def kizuna_program() -> Program:
    return load_program_file(KIZUNA_FILE)


def _drop_field(text: str, field_id: str) -> str:
    """Cut one form field's block (up to the next field or step) out of a program's YAML."""
    start = text.index(f"\n      - id: {field_id}\n")
    ends = [text.find(marker, start + 1) for marker in ("\n      - id: ", "\n  - id: ")]
    end = min(e for e in ends if e != -1)
    return text[:start] + text[end:]


@cache
def kizuna_without(*field_ids: str) -> Program:
    """The real program with some fields dropped from its YAML text."""
    text = KIZUNA_FILE.read_text(encoding="utf-8")
    for field_id in field_ids:
        text = _drop_field(text, field_id)
    return parse_program(text, "programs/ict-kizuna-2010.yaml")


@pytest.fixture
def program() -> Program:
    return kizuna_program()


@pytest.fixture
def bare(parse) -> Program:
    """A program with neither partners nor budget nor any conventional field."""
    return parse("""\
        applicant_types: [local_government, npo]
        steps:
          - id: main
            title: {ja: 申請, en: Application}
            fields:
              - id: project_title
                kind: text
                label: {ja: 事業名称, en: Project title}
        """)


def test_the_real_program_has_what_these_tests_assume(program):
    assert {c.id: c.equipment for c in program.budget.categories} == {
        "human_resources": False,
        "system": False,
        "equipment": True,
    }
    assert program.partners_field.id == "partners"
    assert program.budget_field.id == "budget_lines"
    for field_id in CONVENTIONAL.values():
        program.field(field_id)


def test_dropping_a_field_leaves_the_others(program):
    variant = kizuna_without(OPERATING_PAYER_FIELD)

    with pytest.raises(KeyError):
        variant.field(OPERATING_PAYER_FIELD)
    assert len(variant.all_fields()) == len(program.all_fields()) - 1
    variant.field("continuation_plan")
    variant.field(OPERATING_COST_FIELD)


# --- equipment_share ---------------------------------------------------------------------------


def test_equipment_share_exact_half(program, application, line):
    # purchase 20,000,000 + lease 20,000,000 + rental 10,000,000 = 50,000,000 of 100,000,000
    data = application(
        budget_lines=[
            line("equipment", 20_000_000, "purchase"),
            line("equipment", 20_000_000, "lease"),
            line("equipment", 10_000_000, "rental"),
            line("human_resources", 50_000_000),
        ]
    )

    signal = compute("equipment_share", program, data)

    assert signal.raw == Fraction(1, 2)
    assert isinstance(signal.raw, Fraction)
    assert signal.value.en == "50.0% (¥50,000,000 of ¥100,000,000)"
    assert signal.value.ja == "50.0%（5,000万円／1億円）"
    assert signal.value.en.startswith("50.0%")


def test_equipment_share_without_acquisition_is_not_counted(program, application, line):
    # equipment "none" 30,000,000 is not equipment; purchase 10,000,000 of 100,000,000 = 1/10
    data = application(
        budget_lines=[
            line("equipment", 30_000_000, "none"),
            line("equipment", 10_000_000, "purchase"),
            line("system", 60_000_000),
        ]
    )

    signal = compute("equipment_share", program, data)

    assert signal.raw == Fraction(1, 10)
    assert signal.value.en == "10.0% (¥10,000,000 of ¥100,000,000)"
    assert signal.value.ja == "10.0%（1,000万円／1億円）"


def test_equipment_share_purchase_outside_equipment_categories_is_not_counted(
    program, application, line
):
    # a purchase under `system` (equipment: false): 0 of 100,000,000
    data = application(
        budget_lines=[
            line("system", 40_000_000, "purchase"),
            line("human_resources", 60_000_000),
        ]
    )

    signal = compute("equipment_share", program, data)

    assert signal.raw == 0
    assert signal.value.en == "0.0% (¥0 of ¥100,000,000)"
    assert signal.value.ja == "0.0%（0円／1億円）"


def test_equipment_share_a_third(program, application, line):
    # 1 of 3 yen: 33.333…% shown as 33.3%, the raw share exact
    data = application(budget_lines=[line("equipment", 1, "lease"), line("system", 2)])

    signal = compute("equipment_share", program, data)

    assert signal.raw == Fraction(1, 3)
    assert signal.value.en == "33.3% (¥1 of ¥3)"
    assert signal.value.ja == "33.3%（1円／3円）"


def test_equipment_share_all_equipment(program, application, line):
    data = application(budget_lines=[line("equipment", 5_000_000, "rental")])

    signal = compute("equipment_share", program, data)

    assert signal.raw == 1
    assert signal.value.en == "100.0% (¥5,000,000 of ¥5,000,000)"


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {"budget_lines": []},
        {"budget_lines": None},
        {"budget_lines": [{"category": "equipment", "acquisition": "purchase", "amount_yen": 0}]},
    ],
)
def test_equipment_share_without_a_budget_is_not_answered(program, application, answers):
    signal = compute("equipment_share", program, application(**answers))

    assert signal.value == NOT_ANSWERED
    assert signal.raw is None


def test_equipment_share_on_a_program_without_a_budget_is_not_answered(bare, application, line):
    data = application(budget_lines=[line("equipment", 1_000, "purchase")])

    signal = compute("equipment_share", bare, data)

    assert signal.value == NOT_ANSWERED
    assert signal.raw is None


# --- own_funding_share -------------------------------------------------------------------------


def test_own_funding_share_of_the_whole_project(program, application, line):
    # own 25,000,000 / (25,000,000 + request 75,000,000) = 1/4
    data = application(
        own_funding_yen=25_000_000,
        budget_lines=[line("system", 50_000_000), line("equipment", 25_000_000, "purchase")],
    )

    signal = compute("own_funding_share", program, data)

    assert signal.raw == Fraction(1, 4)
    assert signal.value.en == "25.0% (own funding ¥25,000,000)"
    assert signal.value.ja == "25.0%（自己負担 2,500万円）"


def test_own_funding_share_two_thirds(program, application, line):
    # own 2,000,000 / (2,000,000 + 1,000,000) = 2/3 → 66.7%
    data = application(own_funding_yen=2_000_000, budget_lines=[line("system", 1_000_000)])

    signal = compute("own_funding_share", program, data)

    assert signal.raw == Fraction(2, 3)
    assert signal.value.en == "66.7% (own funding ¥2,000,000)"
    assert signal.value.ja == "66.7%（自己負担 200万円）"


def test_own_funding_zero_is_a_zero_share_not_missing(program, application, line):
    data = application(own_funding_yen=0, budget_lines=[line("system", 10_000_000)])

    signal = compute("own_funding_share", program, data)

    assert signal.raw == 0
    assert signal.value.en == "0.0% (own funding ¥0)"
    assert signal.value.ja == "0.0%（自己負担 0円）"


def test_own_funding_without_a_budget_is_the_whole_project(program, application):
    # 3,000,000 / (3,000,000 + 0) = 1
    signal = compute("own_funding_share", program, application(own_funding_yen=3_000_000))

    assert signal.raw == 1
    assert signal.value.en == "100.0% (own funding ¥3,000,000)"


@pytest.mark.parametrize(
    "answers",
    [
        {},  # not answered
        {"own_funding_yen": None},
        {"own_funding_yen": True},  # a bool is not yen
        {"own_funding_yen": "1000"},
        {"own_funding_yen": 0},  # nothing at all: 0 / (0 + 0)
    ],
)
def test_own_funding_share_not_answered(program, application, answers):
    signal = compute("own_funding_share", program, application(**answers))

    assert signal.value == NOT_ANSWERED
    assert signal.raw is None


# --- proceeds_without_subsidy ------------------------------------------------------------------


def test_proceeds_without_subsidy_yes(program, application):
    signal = compute(
        "proceeds_without_subsidy", program, application(would_proceed_without_subsidy=True)
    )

    assert signal.raw is True
    assert signal.value == LocalizedText(
        "はい（補助がなくても実施予定）", "yes (would go ahead anyway)"
    )


def test_proceeds_without_subsidy_no(program, application):
    signal = compute(
        "proceeds_without_subsidy", program, application(would_proceed_without_subsidy=False)
    )

    assert signal.raw is False
    assert signal.value == LocalizedText(
        "いいえ（補助があるから実施）", "no (only with the subsidy)"
    )


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {"would_proceed_without_subsidy": None},
        {"would_proceed_without_subsidy": "yes"},
        {"would_proceed_without_subsidy": 1},
    ],
)
def test_proceeds_without_subsidy_missing_is_not_answered(program, application, answers):
    signal = compute("proceeds_without_subsidy", program, application(**answers))

    assert signal.value == NOT_ANSWERED
    assert signal.raw is None


# --- operating_cost_after ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cost", "en", "ja"),
    [
        (3_000_000, "¥3,000,000 a year", "年 300万円"),
        (150_000_000, "¥150,000,000 a year", "年 1億5,000万円"),
        (1_234, "¥1,234 a year", "年 1,234円"),
        (0, "¥0 a year", "年 0円"),
    ],
)
def test_operating_cost_after(program, application, cost, en, ja):
    signal = compute("operating_cost_after", program, application(operating_cost_per_year_yen=cost))

    assert signal.raw == cost
    assert signal.value == LocalizedText(ja, en)


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {"operating_cost_per_year_yen": None},
        {"operating_cost_per_year_yen": False},
        {"operating_cost_per_year_yen": 12.5},
    ],
)
def test_operating_cost_after_missing_is_not_answered(program, application, answers):
    signal = compute("operating_cost_after", program, application(**answers))

    assert signal.value == NOT_ANSWERED
    assert signal.raw is None


# --- operating_cost_payer ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ja", "en"),
    [
        ("user_fees", "利用者からの利用料・会費収入", "User fees or membership fees"),
        ("own_budget", "申請団体の自主財源", "The applicant's own budget"),
        ("undecided", "未定", "Not decided yet"),
    ],
)
def test_operating_cost_payer_gives_the_choice_label(program, application, value, ja, en):
    signal = compute("operating_cost_payer", program, application(operating_cost_payer=value))

    assert signal.raw == value
    assert signal.value == LocalizedText(ja, en)


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {"operating_cost_payer": None},
        {"operating_cost_payer": "somebody_else"},
        {"operating_cost_payer": "User fees or membership fees"},
    ],
)
def test_operating_cost_payer_unknown_or_missing_is_not_answered(program, application, answers):
    signal = compute("operating_cost_payer", program, application(**answers))

    assert signal.value == NOT_ANSWERED
    assert signal.raw is None


# --- a program that does not ask ---------------------------------------------------------------


@pytest.mark.parametrize(("kind", "field_id"), CONVENTIONAL.items())
def test_a_program_without_the_field_says_not_asked(application, line, kind, field_id):
    variant = kizuna_without(field_id)
    # answered anyway (say, by a stale draft): still "not asked", never a number
    data = application(
        budget_lines=[line("system", 1_000_000)],
        own_funding_yen=1_000_000,
        would_proceed_without_subsidy=True,
        operating_cost_per_year_yen=500_000,
        operating_cost_payer="user_fees",
    )

    signal = compute(kind, variant, data)

    assert signal.value == NOT_ASKED
    assert signal.raw is None


@pytest.mark.parametrize("kind", CONVENTIONAL)
def test_a_program_without_any_conventional_field_says_not_asked(application, kind):
    variant = kizuna_without(*CONVENTIONAL.values())

    signal = compute(kind, variant, application())

    assert signal.value == NOT_ASKED
    assert signal.raw is None


def test_dropping_one_field_does_not_affect_the_other_signals(application):
    variant = kizuna_without(OPERATING_PAYER_FIELD)
    data = application(operating_cost_per_year_yen=500_000, operating_cost_payer="user_fees")

    assert compute("operating_cost_payer", variant, data).value == NOT_ASKED
    assert compute("operating_cost_after", variant, data).raw == 500_000


@pytest.mark.parametrize("kind", CONVENTIONAL)
def test_a_program_asking_nothing_says_not_asked(bare, application, kind):
    assert compute(kind, bare, application()).value == NOT_ASKED


# --- local_governments -------------------------------------------------------------------------


def test_local_governments_counts_distinct_codes_with_the_lead(program, application, partner):
    # lead 011002; partners 011002 (the lead again), 012025 twice, an NPO without a code,
    # and a 5-digit code that cannot name a local government: {011002, 012025} = 2
    data = application(
        lead="011002",
        partners=[
            partner("011002"),
            partner("012025"),
            partner("012025"),
            partner(None, "npo"),
            partner("12345"),
        ],
    )

    signal = compute("local_governments", program, data)

    assert signal.raw == 2
    assert signal.value == LocalizedText("2 団体", "2")


def test_local_governments_lead_alone(program, application):
    signal = compute("local_governments", program, application(lead="011002"))

    assert signal.raw == 1
    assert signal.value == LocalizedText("1 団体", "1")


def test_local_governments_without_a_local_government_lead(program, application, partner):
    # an NPO leads; partners 012025 and 012033: 2
    data = application(
        applicant_type="npo", lead=None, partners=[partner("012025"), partner("012033")]
    )

    assert compute("local_governments", program, data).raw == 2


def test_local_governments_none_at_all(program, application, partner):
    data = application(applicant_type="npo", lead=None, partners=[partner(None, "npo")])

    signal = compute("local_governments", program, data)

    assert signal.raw == 0
    assert signal.value == LocalizedText("0 団体", "0")


def test_local_governments_on_a_program_without_partners_counts_the_lead(
    bare, application, partner
):
    data = application(lead="011002", partners=[partner("012025")])

    assert compute("local_governments", bare, data).raw == 1


# --- partner_kinds -----------------------------------------------------------------------------


def test_partner_kinds_counts_by_kind(program, application, partner):
    data = application(
        partners=[
            partner("012025"),
            partner(None, "npo"),
            partner("012033"),
            partner(None, "third_sector"),
        ]
    )

    signal = compute("partner_kinds", program, data)

    assert signal.raw == {"local_government": 2, "npo": 1, "third_sector": 1}
    # sorted by kind value: local_government, npo, third_sector
    assert signal.value.ja == "地方公共団体 2、NPO法人 1、第3セクター 1"
    assert signal.value.en == "local governments: 2, NPOs: 1, third-sector companies: 1"


def test_partner_kinds_one_kind_only(program, application, partner):
    data = application(partners=[partner(None, "other"), partner(None, "other")])

    signal = compute("partner_kinds", program, data)

    assert signal.raw == {"other": 2}
    assert signal.value == LocalizedText("その他の団体 2", "other organizations: 2")


def test_partner_kinds_unknown_kind_is_shown_as_stored(program, application, partner):
    data = application(partners=[partner(None, "university")])

    signal = compute("partner_kinds", program, data)

    assert signal.raw == {"university": 1}
    assert signal.value == LocalizedText("university 1", "university: 1")


def test_partner_kinds_rows_without_a_kind_are_left_out(program, application, partner):
    data = application(partners=[partner("012025"), partner(None, "")])

    assert compute("partner_kinds", program, data).raw == {"local_government": 1}


@pytest.mark.parametrize("answers", [{}, {"partners": []}, {"partners": "none"}])
def test_partner_kinds_without_partners(program, application, answers):
    signal = compute("partner_kinds", program, application(**answers))

    assert signal.raw == {}
    assert signal.value == LocalizedText("連携主体の記載なし", "no partners listed")


def test_partner_kinds_does_not_count_the_lead(program, application):
    assert compute("partner_kinds", program, application(lead="011002")).raw == {}


# --- compute / compute_signals -----------------------------------------------------------------


def test_signal_kinds_are_the_seven_in_order():
    assert SIGNAL_KINDS == (
        "equipment_share",
        "own_funding_share",
        "proceeds_without_subsidy",
        "operating_cost_after",
        "operating_cost_payer",
        "local_governments",
        "partner_kinds",
    )


def test_compute_gives_kind_title_value_and_raw(program, application):
    signal = compute(
        "operating_cost_after", program, application(operating_cost_per_year_yen=1_000)
    )

    assert signal == Signal(
        "operating_cost_after",
        LocalizedText("国の支援終了後の年間運営費", "Yearly operating cost after funding ends"),
        LocalizedText("年 1,000円", "¥1,000 a year"),
        1_000,
    )


def test_compute_signals_deduplicates_and_keeps_order(program, application, line):
    data = application(budget_lines=[line("equipment", 1, "purchase"), line("system", 1)])

    signals = compute_signals(
        ["local_governments", "equipment_share", "local_governments", "equipment_share"],
        program,
        data,
    )

    assert list(signals) == ["local_governments", "equipment_share"]
    assert all(signals[kind].kind == kind for kind in signals)
    assert signals["local_governments"].raw == 1
    assert signals["equipment_share"].raw == Fraction(1, 2)


def test_compute_signals_of_nothing(program, application):
    assert compute_signals([], program, application()) == {}


def test_compute_signals_accepts_any_iterable(program, application):
    signals = compute_signals(iter(("partner_kinds", "partner_kinds")), program, application())

    assert list(signals) == ["partner_kinds"]


def test_unknown_kind_is_a_key_error(program, application):
    with pytest.raises(KeyError):
        compute("budget_size", program, application())
    with pytest.raises(KeyError):
        compute_signals(["equipment_share", "budget_size"], program, application())


@pytest.mark.parametrize("path", sorted(PROGRAMS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_kind_on_every_real_program_with_an_empty_application(path, application):
    # every real program asks the conventional fields: nothing answered, nothing "not asked"
    program = load_program_file(path)

    signals = compute_signals(SIGNAL_KINDS, program, application(lead="011002"))

    assert list(signals) == list(SIGNAL_KINDS)
    for kind in ("equipment_share", *CONVENTIONAL):
        assert signals[kind].value == NOT_ANSWERED, kind
        assert signals[kind].raw is None, kind
    assert signals["local_governments"].raw == 1
    assert signals["partner_kinds"].raw == {}
