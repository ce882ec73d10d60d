"""Rules "in principle" (原則) and purchases banned on every line, on the shipped programs:
ICT絆's equipment share blocks until the exception is justified; 広域連携's purchase ban is a
hard error whatever the category; ユビキタスタウン is a subsidy."""

from __future__ import annotations

import pytest

from grants.config import PACKAGE_ROOT
from grants.domain.definitions import load_program_file
from grants.domain.describe import describe
from grants.domain.eligibility import JUSTIFICATIONS_KEY, evaluate
from grants.domain.errors import DefinitionErrors
from grants.domain.findings import Finding, Severity

BODY = """\
applicant_types: [local_government]
budget:
  categories:
    - id: other
      title: {ja: その他, en: Other}
steps:
  - id: budget
    title: {ja: 経費, en: Budget}
    fields:
      - id: budget_lines
        kind: budget_lines
        label: {ja: 経費内訳, en: Budget lines}
rules:
  - id: ban
    kind: forbidden_acquisition
    acquisition_types: [purchase]
"""
SHARE = "equipment-under-half"
BAN = "no-equipment-purchase"


def _program(program_id: str):
    return load_program_file(PACKAGE_ROOT / "programs" / f"{program_id}.yaml")


def _by_rule(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


def _equipment_half(application, line, **answers):
    """Equipment at exactly half of the request: over the strict 未満 rule by the smallest step."""
    lines = [line("equipment", 50_000_000, "purchase"), line("human_resources", 50_000_000)]
    return application(track="general", budget_lines=lines, **answers)


def test_unjustified_exception_blocks(application, line):
    [finding] = _by_rule(evaluate(_program("ict-kizuna-2010"), _equipment_half(application, line)),
                         SHARE)

    assert finding.severity is Severity.PRINCIPLE
    assert finding.blocking
    assert finding.justification is None
    assert finding.prompt is not None and "理由" in finding.prompt.ja


def test_blank_justification_still_blocks(application, line):
    data = _equipment_half(application, line, **{JUSTIFICATIONS_KEY: {SHARE: "   "}})

    [finding] = _by_rule(evaluate(_program("ict-kizuna-2010"), data), SHARE)

    assert finding.blocking


def test_justified_exception_does_not_block_and_is_kept(application, line):
    reason = "遠隔授業用の端末が全校で必要なため"
    data = _equipment_half(application, line, **{JUSTIFICATIONS_KEY: {SHARE: f" {reason} "}})

    [finding] = _by_rule(evaluate(_program("ict-kizuna-2010"), data), SHARE)

    assert not finding.blocking
    assert finding.justification == reason
    assert Finding.from_dict(finding.to_dict()) == finding


def test_one_yen_under_half_has_no_exception(application, line):
    lines = [line("equipment", 49_999_999, "purchase"), line("human_resources", 50_000_001)]
    data = application(track="general", budget_lines=lines)

    assert _by_rule(evaluate(_program("ict-kizuna-2010"), data), SHARE) == []


def test_justification_cannot_excuse_a_hard_error(application, line):
    lines = [line("system", 3_000_000, "purchase"), line("human_resources", 7_000_000)]
    data = application(budget_lines=lines, **{JUSTIFICATIONS_KEY: {BAN: "必要なため"}})

    [finding] = _by_rule(evaluate(_program("ict-wide-area-2011"), data), BAN)

    assert finding.severity is Severity.ERROR
    assert finding.blocking
    assert finding.justification is None


@pytest.mark.parametrize("category", ["human_resources", "system", "equipment"])
def test_wide_area_purchase_is_refused_on_any_line(application, line, category):
    data = application(budget_lines=[line(category, 3_000_000, "purchase")])

    [finding] = _by_rule(evaluate(_program("ict-wide-area-2011"), data), BAN)

    assert finding.message.ja.startswith("「機器・設備等の購入は不可")
    assert finding.blocking


def test_wide_area_lease_on_any_line_passes(application, line):
    lines = [line("system", 3_000_000, "lease"), line("equipment", 2_000_000, "rental")]
    data = application(budget_lines=lines)

    assert _by_rule(evaluate(_program("ict-wide-area-2011"), data), BAN) == []


def test_generated_message_names_every_line(parse, application, line):
    program = parse(BODY)
    data = application(budget_lines=[line("other", 1_000, "purchase")])

    [finding] = _by_rule(evaluate(program, data), "ban")

    assert finding.message.ja == (
        "いずれの経費区分でも機器・設備等の購入は認められません（該当 1件、計 ¥1,000）"
    )


def test_ubiquitous_town_is_a_subsidy():
    assert _program("ubiquitous-town-2009").kind == "subsidy"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    severity: principle\n", 'severity "principle" needs `justification`'),
        ("    justification: {ja: 理由, en: Why}\n", "goes with severity"),
    ],
)
def test_principle_and_justification_go_together(parse, extra, message):
    with pytest.raises(DefinitionErrors) as raised:
        parse(BODY + extra)

    assert message in str(raised.value)


def test_call_page_says_the_share_is_a_rule_in_principle_and_the_ban_applies_everywhere():
    kizuna = [t.ja for t in describe(_program("ict-kizuna-2010")) if "2分の1未満" in t.ja]
    wide = [t.ja for t in describe(_program("ict-wide-area-2011")) if "購入" in t.ja]

    assert kizuna == [
        "原則として、③ ICT機器・設備整備費（購入・リース・レンタル）の合計は申請額の2分の1未満で"
        "なければなりません（例外とする場合は、申請時に理由の記入が必要です）。"
    ]
    assert wide == ["いずれの経費区分でも機器・設備等の購入は認められません。"]
