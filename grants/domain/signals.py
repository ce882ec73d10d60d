"""Signals: indicators computed from a frozen application, shown beside a rubric's criteria.

A signal informs the reviewer ("equipment is 62% of the request"); it never scores. Each kind
reads the budget, the partners, or one of the answers every encoded program asks under a
conventional field id (see docs/rubric-schema.md). A program that does not ask gives a signal
that says so, rather than a misleading zero.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from grants.domain.application_data import MEMBER_KIND_LABELS, ORG_TYPE_LABELS, ApplicationData
from grants.domain.budget import summarize, yen, yen_ja
from grants.domain.findings import LocalizedText
from grants.domain.rounding import to_decimal

if TYPE_CHECKING:
    from grants.domain.definitions import Program

OWN_FUNDING_FIELD = "own_funding_yen"
WITHOUT_SUBSIDY_FIELD = "would_proceed_without_subsidy"
OPERATING_COST_FIELD = "operating_cost_per_year_yen"
OPERATING_PAYER_FIELD = "operating_cost_payer"


@dataclass(frozen=True)
class Signal:
    """One computed indicator: `value` is what the reviewer reads, `raw` what tests check."""

    kind: str
    title: LocalizedText
    value: LocalizedText
    raw: object


_NOT_ASKED = LocalizedText("この公募では尋ねていません", "not asked in this call")
_NOT_ANSWERED = LocalizedText("回答なし", "not answered")


def _percent(share: Fraction) -> LocalizedText:
    text = f"{to_decimal(share * 100, places=Decimal('0.1'))}%"
    return LocalizedText(text, text)


def _money(amount: int) -> LocalizedText:
    return LocalizedText(yen_ja(amount), yen(amount))


def _answer(program: Program, data: ApplicationData, field_id: str) -> tuple[bool, object]:
    """(asked, answer): whether the program has the field, and the frozen answer."""
    try:
        program.field(field_id)
    except KeyError:
        return False, None
    return True, data.answers.get(field_id)


def _request_yen(program: Program, data: ApplicationData) -> int:
    return summarize(program, data.budget_lines(program), data).total_yen


def equipment_share(program: Program, data: ApplicationData) -> tuple[LocalizedText, object]:
    """Equipment (bought, leased or rented) as a share of the request: hardware-centred?"""
    summary = summarize(program, data.budget_lines(program), data)
    if summary.total_yen <= 0:
        return _NOT_ANSWERED, None
    share = Fraction(summary.equipment_yen, summary.total_yen)
    text = _percent(share)
    equipment, total = summary.equipment_yen, summary.total_yen
    return LocalizedText(f"{text.ja}（{yen_ja(equipment)}／{yen_ja(total)}）",
                         f"{text.en} ({yen(equipment)} of {yen(total)})"), share


def own_funding_share(program: Program, data: ApplicationData) -> tuple[LocalizedText, object]:
    """The applicant's own money as a share of the whole project: budget-driven?"""
    asked, own = _answer(program, data, OWN_FUNDING_FIELD)
    if not asked:
        return _NOT_ASKED, None
    if isinstance(own, bool) or not isinstance(own, int):
        return _NOT_ANSWERED, None
    whole = own + _request_yen(program, data)
    if whole <= 0:
        return _NOT_ANSWERED, None
    share = Fraction(own, whole)
    text = _percent(share)
    return LocalizedText(f"{text.ja}（自己負担 {yen_ja(own)}）",
                         f"{text.en} (own funding {yen(own)})"), share


def proceeds_without_subsidy(program: Program, data: ApplicationData
                             ) -> tuple[LocalizedText, object]:
    """The applicant's answer to "would this go ahead without the subsidy?"."""
    asked, answer = _answer(program, data, WITHOUT_SUBSIDY_FIELD)
    if not asked:
        return _NOT_ASKED, None
    if answer is True:
        return LocalizedText("はい（補助がなくても実施予定）", "yes (would go ahead anyway)"), True
    if answer is False:
        return LocalizedText("いいえ（補助があるから実施）", "no (only with the subsidy)"), False
    return _NOT_ANSWERED, None


def operating_cost_after(program: Program, data: ApplicationData) -> tuple[LocalizedText, object]:
    """The planned yearly operating cost once the funding ends: sustainable?"""
    asked, cost = _answer(program, data, OPERATING_COST_FIELD)
    if not asked:
        return _NOT_ASKED, None
    if isinstance(cost, bool) or not isinstance(cost, int):
        return _NOT_ANSWERED, None
    money = _money(cost)
    return LocalizedText(f"年 {money.ja}", f"{money.en} a year"), cost


def operating_cost_payer(program: Program, data: ApplicationData) -> tuple[LocalizedText, object]:
    """Who pays the operating cost once the funding ends."""
    asked, answer = _answer(program, data, OPERATING_PAYER_FIELD)
    if not asked:
        return _NOT_ASKED, None
    field = program.field(OPERATING_PAYER_FIELD)
    choices = program.choices(field) if hasattr(field, "choices") else ()
    label = next((c.label for c in choices if c.value == answer), None)
    if label is None:
        return _NOT_ANSWERED, None
    return label, answer


def local_governments(program: Program, data: ApplicationData) -> tuple[LocalizedText, object]:
    """Distinct local governments taking part, the lead included."""
    count = len(data.local_government_codes(program))
    return LocalizedText(f"{count} 団体", f"{count}"), count


def partner_kinds(program: Program, data: ApplicationData) -> tuple[LocalizedText, object]:
    """The kinds of the listed partners and consortium members: a diverse partnership, or one
    kind only?"""
    rows = [*data.partners(program), *data.consortium_members(program)]
    kinds = Counter(row.kind for row in rows if row.kind)
    if not kinds:
        return LocalizedText("連携主体の記載なし", "no partners listed"), {}
    return _join_counts(kinds.items()), dict(kinds)


def _join_counts(counts: Iterable[tuple[str, int]]) -> LocalizedText:
    pairs = sorted(counts)
    labels = {**MEMBER_KIND_LABELS, **ORG_TYPE_LABELS}
    label = {k: labels.get(k, LocalizedText(k, k)) for k, _ in pairs}
    return LocalizedText("、".join(f"{label[k].ja} {n}" for k, n in pairs),
                         ", ".join(f"{label[k].en}: {n}" for k, n in pairs))


Compute = Callable[["Program", ApplicationData], tuple[LocalizedText, object]]

_SIGNALS: dict[str, tuple[LocalizedText, Compute]] = {
    "equipment_share": (LocalizedText("申請額に占める機器の割合", "Equipment share of the request"),
                        equipment_share),
    "own_funding_share": (LocalizedText("事業費に占める自己負担の割合",
                                        "Own funding share of the project"), own_funding_share),
    "proceeds_without_subsidy": (LocalizedText("補助がなくても実施するか",
                                               "Would go ahead without the subsidy"),
                                 proceeds_without_subsidy),
    "operating_cost_after": (LocalizedText("国の支援終了後の年間運営費",
                                           "Yearly operating cost after funding ends"),
                             operating_cost_after),
    "operating_cost_payer": (LocalizedText("国の支援終了後の運営費の負担者",
                                           "Who pays after funding ends"), operating_cost_payer),
    "local_governments": (LocalizedText("参加する地方公共団体の数（代表団体を含む）",
                                        "Local governments taking part (lead included)"),
                          local_governments),
    "partner_kinds": (LocalizedText("連携主体の種類", "Kinds of partners"), partner_kinds),
}

SIGNAL_KINDS: tuple[str, ...] = tuple(_SIGNALS)


def compute(kind: str, program: Program, data: ApplicationData) -> Signal:
    """Compute one signal (KeyError for an unknown kind)."""
    title, function = _SIGNALS[kind]
    value, raw = function(program, data)
    return Signal(kind, title, value, raw)


def compute_signals(kinds: Iterable[str], program: Program, data: ApplicationData
                    ) -> dict[str, Signal]:
    """Compute each named signal once."""
    return {kind: compute(kind, program, data) for kind in dict.fromkeys(kinds)}
