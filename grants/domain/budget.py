"""Money: integer-yen totals, caps, category shares and award amounts, and how yen is written.

Only integers: a share is compared as `part * denominator < total * numerator`, never as a
float, so "exactly half" is exactly half.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from grants.domain.application_data import (
    ACQUISITION_LABELS,
    Acquisition,
    ApplicationData,
    BudgetLine,
)
from grants.domain.conditions import holds, visibility
from grants.domain.definitions import (
    AmountCapRule,
    CapCase,
    CategoryShareRule,
    ForbiddenAcquisitionRule,
    Program,
)
from grants.domain.findings import Finding, LocalizedText

_NO_EQUIPMENT = frozenset({Acquisition.NONE})


# --- writing money ---------------------------------------------------------------------------


def yen(amount: int) -> str:
    """Write an amount as `¥100,000,000`."""
    return f"-¥{-amount:,}" if amount < 0 else f"¥{amount:,}"


def yen_ja(amount: int) -> str:
    """Write an amount the Japanese way: `1億円`, `5,000万円`, `1億5,000万円`, `1,234円`."""
    if amount < 0:
        return "マイナス" + yen_ja(-amount)
    oku, rest = divmod(amount, 100_000_000)
    man, en = divmod(rest, 10_000)
    parts = [f"{oku:,}億" if oku else "", f"{man:,}万" if man else "", f"{en:,}" if en else ""]
    return ("".join(parts) or "0") + "円"


def share_ja(share: Fraction) -> str:
    """Write a share the Japanese way: 1/2 -> `2分の1`."""
    return f"{share.denominator}分の{share.numerator}"


def share_en(share: Fraction) -> str:
    """Write a share as `1/2` (or `half` for 1/2, which reads better)."""
    return "half" if share == Fraction(1, 2) else f"{share.numerator}/{share.denominator}"


def join_en(words: Sequence[str], last: str = "and") -> str:
    """Join words as `a, b and c`."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


# --- totals and caps ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetSummary:
    """What the budget adds up to; `cap_yen` is None when no amount cap applies (or is known)."""

    total_yen: int
    by_category: dict[str, int]
    equipment_yen: int
    cap_yen: int | None


def summarize(
    program: Program,
    lines: Iterable[BudgetLine | Mapping[str, object]],
    data: ApplicationData | None = None,
) -> BudgetSummary:
    """Add up budget lines.

    Args:
        program: gives the categories (and the amount caps).
        lines: `BudgetLine`s, or rows as stored in the answers.
        data: the application; caps that depend on answers are only known with it. Without it,
            only a cap with a single unconditional fixed case is known.

    Returns:
        The total, the total per category (every category, unknown ones too), the equipment
        total (purchase + lease + rental in `equipment` categories), and the lowest cap that
        applies.
    """
    rows = [
        line if isinstance(line, BudgetLine) else BudgetLine.from_answer(line) for line in lines
    ]
    by_category = {category.id: 0 for category in program.budget.categories}
    for line in rows:
        by_category[line.category] = by_category.get(line.category, 0) + line.amount_yen
    equipment = {c.id for c in program.budget.categories if c.equipment}
    equipment_yen = sum(
        line.amount_yen
        for line in rows
        if line.category in equipment and line.acquisition not in _NO_EQUIPMENT
    )
    return BudgetSummary(
        total_yen=sum(line.amount_yen for line in rows),
        by_category=by_category,
        equipment_yen=equipment_yen,
        cap_yen=_lowest_cap(program, data),
    )


def _lowest_cap(program: Program, data: ApplicationData | None) -> int | None:
    shown = None if data is None else visibility(program, data).data
    caps = [_rule_cap(r, program, shown) for r in program.rules if isinstance(r, AmountCapRule)]
    return min((cap for cap in caps if cap is not None), default=None)


def _rule_cap(rule: AmountCapRule, program: Program, data: ApplicationData | None) -> int | None:
    if data is None:  # without answers, only an unconditional fixed cap is known
        first = rule.cases[0]
        unconditional = rule.when is None and len(rule.cases) == 1 and first.when is None
        return first.amount_yen if unconditional else None
    if rule.when is not None and not holds(rule.when, data, program):
        return None
    case = applicable_case(rule, program, data)
    return None if case is None else case_cap(case, data)


def applicable_case(rule: AmountCapRule, program: Program, data: ApplicationData) -> CapCase | None:
    """Return the first case whose `when` holds (a case without `when` always holds)."""
    for case in rule.cases:
        if case.when is None or holds(case.when, data, program):
            return case
    return None


def case_cap(case: CapCase, data: ApplicationData) -> int | None:
    """Return the case's cap in yen; None when its unit field is not answered yet."""
    if case.amount_yen is not None:
        return case.amount_yen
    units = data.answers.get(case.unit_field or "")
    if isinstance(units, bool) or not isinstance(units, int):
        return None
    return (case.per_unit_yen or 0) * max(units, 0)


def award_amount(requested: int, cap: int | None, rounding: int) -> int:
    """Return the award: the request, limited by the cap, rounded down to `rounding` yen.

    Raises:
        ValueError: a negative request or cap, or a rounding step below 1 yen.
    """
    if requested < 0 or (cap is not None and cap < 0) or rounding < 1:
        raise ValueError(f"bad award inputs: {requested=}, {cap=}, {rounding=}")
    amount = requested if cap is None else min(requested, cap)
    return amount - amount % rounding


# --- budget rules (one pure function per rule kind; dispatched in eligibility.RULE_CHECKS) ----


def check_amount_cap(rule: AmountCapRule, program: Program, data: ApplicationData) -> list[Finding]:
    """The request total must not exceed the cap of the first case that applies."""
    total = sum(line.amount_yen for line in data.budget_lines(program))
    case = applicable_case(rule, program, data)
    if total == 0 or case is None:
        return []
    if case.amount_yen is None:
        return _per_unit_finding(rule, program, case, total, case_cap(case, data))
    cap = case.amount_yen
    if total <= cap:
        return []
    text = LocalizedText(
        f"申請額 {yen(total)} が上限額 {yen(cap)}（{yen_ja(cap)}）を超えています",
        f"The requested amount {yen(total)} exceeds the cap of {yen(cap)}.",
    )
    return [rule.finding(text, program.budget_field.id if program.budget_field else None)]


def _per_unit_finding(
    rule: AmountCapRule, program: Program, case: CapCase, total: int, cap: int | None
) -> list[Finding]:
    per_unit, unit = case.per_unit_yen or 0, case.unit_label or LocalizedText("単位", "unit")
    field_id = case.unit_field or ""
    if cap is None:
        label = program.field(field_id).label
        text = LocalizedText(
            f"上限額（1{unit.ja}あたり {yen(per_unit)}）の計算に「{label.ja}」の回答が必要です",
            f"Answer “{label.en}” so the cap ({yen(per_unit)} per {unit.en}) can be worked out.",
        )
        return [rule.finding(text, field_id)]
    if total <= cap:
        return []
    units = cap // per_unit if per_unit else 0
    text = LocalizedText(
        f"申請額 {yen(total)} が上限額 {yen(cap)}（1{unit.ja}あたり {yen(per_unit)} × "
        f"{units}{unit.ja}）を超えています",
        f"The requested amount {yen(total)} exceeds the cap of {yen(cap)} "
        f"({yen(per_unit)} per {unit.en} × {units}).",
    )
    return [rule.finding(text, field_id)]


def check_category_share(
    rule: CategoryShareRule, program: Program, data: ApplicationData
) -> list[Finding]:
    """Matching lines must stay under (strict, 未満) or at most (以下) a share of the total."""
    lines = data.budget_lines(program)
    total = sum(line.amount_yen for line in lines)
    part = sum(
        line.amount_yen
        for line in lines
        if line.category in rule.categories
        and (rule.acquisition_types is None or line.acquisition in rule.acquisition_types)
    )
    n, d = rule.max_share.numerator, rule.max_share.denominator
    within = part * d < total * n if rule.strict else part * d <= total * n
    if total == 0 or within:
        return []
    what_ja, what_en = _what(program, rule.categories, rule.acquisition_types)
    bound_ja, bound_en = ("未満", "less than") if rule.strict else ("以下", "at most")
    text = LocalizedText(
        f"{what_ja}の合計は申請額の{share_ja(rule.max_share)}{bound_ja}でなければなりません"
        f"（現在 {yen(part)} / 申請額 {yen(total)}）",
        f"The total of {what_en} must be {bound_en} {share_en(rule.max_share)} of the requested "
        f"amount (now {yen(part)} of {yen(total)}).",
    )
    return [rule.finding(text, program.budget_field.id if program.budget_field else None)]


def check_forbidden_acquisition(
    rule: ForbiddenAcquisitionRule, program: Program, data: ApplicationData
) -> list[Finding]:
    """No line in the rule's categories (every line when it names none) may use the forbidden
    acquisition types: the acquisition type is read wherever the applicant set it."""
    bad = [
        line
        for line in data.budget_lines(program)
        if (rule.categories is None or line.category in rule.categories)
        and line.acquisition in rule.acquisition_types
    ]
    if not bad:
        return []
    acq_ja, acq_en = acquisition_words(rule.acquisition_types, last="or")
    amount = sum(line.amount_yen for line in bad)
    cats_ja, cats_en = forbidden_scope(program, rule)
    text = LocalizedText(
        f"{cats_ja}の{acq_ja}は認められません（該当 {len(bad)}件、計 {yen(amount)}）",
        f"{acq_en.capitalize()} is not allowed for {cats_en} "
        f"({len(bad)} line(s), {yen(amount)} in total).",
    )
    return [rule.finding(text, program.budget_field.id if program.budget_field else None)]


def forbidden_scope(program: Program, rule: ForbiddenAcquisitionRule) -> tuple[str, str]:
    """Name what a forbidden_acquisition rule covers: its categories, or every budget line."""
    if rule.categories is None:
        return "いずれの経費区分でも機器・設備等", "equipment in any cost category"
    return category_titles(program, rule.categories)


def category_titles(program: Program, ids: Sequence[str]) -> tuple[str, str]:
    """Name categories in both languages (ja joined with 、)."""
    titles = [program.category(category_id).title for category_id in ids]
    return "、".join(t.ja for t in titles), join_en([t.en for t in titles])


def acquisition_words(types: Sequence[str], last: str = "and") -> tuple[str, str]:
    """Name acquisition types: `購入・リース・レンタル` / `purchase, lease and rental`."""
    labels = [ACQUISITION_LABELS[t] for t in types]
    return "・".join(label.ja for label in labels), join_en([lb.en for lb in labels], last)


def _what(
    program: Program, categories: Sequence[str], types: Sequence[str] | None
) -> tuple[str, str]:
    cats_ja, cats_en = category_titles(program, categories)
    if not types:
        return cats_ja, cats_en
    acq_ja, acq_en = acquisition_words(types)
    return f"{cats_ja}（{acq_ja}）", f"{cats_en} ({acq_en})"
