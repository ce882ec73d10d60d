"""The final amount (額の確定) from an accepted completion report, with every step of the working.

In order, as the officer checks a 実績報告 by hand:

1. lines a `forbidden_acquisition` rule bans (e.g. a purchase where only lease or rental is
   allowed) are not eligible;
2. per category, the eligible actual cost is the actual cost, never above the plan in force's
   amount plus the program's change tolerance (more needed an approved 計画変更);
3. each `category_share` rule is re-checked on the eligible actual costs; when it is broken,
   the part beyond the largest amount that keeps the rule is not eligible (taken off the rule's
   categories in its order). A rule "in principle" whose exception the application justified
   was accepted with the award, and is not re-applied;
4. the program's funding rate (定額: 1) of the eligible total, rounded down to the yen;
5. the amount cap, as `budget.summarize` finds it for the application;
6. rounded down to the program's `award_rounding_yen`;
7. never above the grant decision's amount. The decided amount is taken as paid in advance
   (概算払), so the grantee returns the decided amount less the final amount.

Integers and fractions only, like the application's rules: a share is kept when
`part × denominator < total × numerator` (strict, 未満) or `<=` (以下).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from grants.domain.application_data import ApplicationData, BudgetLine
from grants.domain.budget import summarize
from grants.domain.conditions import holds, visibility
from grants.domain.definitions import CategoryShareRule, ForbiddenAcquisitionRule, Program
from grants.domain.eligibility import justifications
from grants.domain.findings import Severity
from grants.domain.text import has_visible_text


def ratio(value: Fraction) -> str:
    """A fraction as stored in the working: "1/2"."""
    return f"{value.numerator}/{value.denominator}"


@dataclass(frozen=True)
class ExcludedLine:
    """A reported line a forbidden_acquisition rule makes ineligible."""

    index: int  # its position among the report's lines, from 0
    line: BudgetLine
    rule_id: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "category": self.line.category,
                "description": self.line.description, "acquisition": self.line.acquisition,
                "amount_yen": self.line.amount_yen, "rule_id": self.rule_id}


@dataclass(frozen=True)
class CategoryStep:
    """One category, from its actual cost to its eligible actual cost."""

    category: str
    planned_yen: int
    actual_yen: int
    excluded_yen: int  # lines a forbidden_acquisition rule bans
    limit_yen: int  # the plan in force's amount plus the change tolerance
    within_limit_yen: int  # the allowed actual cost, never above the limit
    share_cut_yen: int  # taken off by a broken category_share rule

    @property
    def over_limit_yen(self) -> int:
        return self.actual_yen - self.excluded_yen - self.within_limit_yen

    @property
    def eligible_yen(self) -> int:
        return self.within_limit_yen - self.share_cut_yen

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "planned_yen": self.planned_yen,
                "actual_yen": self.actual_yen, "excluded_yen": self.excluded_yen,
                "limit_yen": self.limit_yen, "over_limit_yen": self.over_limit_yen,
                "share_cut_yen": self.share_cut_yen, "eligible_yen": self.eligible_yen}


@dataclass(frozen=True)
class ShareCheck:
    """A category_share rule re-checked on the eligible actual costs."""

    rule_id: str
    categories: tuple[str, ...]
    max_share: Fraction
    strict: bool
    justified: bool  # an exception the application justified: not re-applied
    part_yen: int  # what the rule limits, before the cut
    total_yen: int  # the eligible total it is a share of, before the cut
    allowed_yen: int | None  # the most the part may be; None: the rule cannot bind
    cut_yen: int

    @property
    def kept(self) -> bool:
        return self.cut_yen == 0

    def as_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "categories": list(self.categories),
                "max_share": ratio(self.max_share), "strict": self.strict,
                "justified": self.justified, "part_yen": self.part_yen,
                "total_yen": self.total_yen, "allowed_yen": self.allowed_yen,
                "cut_yen": self.cut_yen, "kept": self.kept}


@dataclass(frozen=True)
class FinalAmountWorking:
    """Every step from the reported lines to the final amount and the amount to return."""

    categories: tuple[CategoryStep, ...]
    excluded_lines: tuple[ExcludedLine, ...]
    share_checks: tuple[ShareCheck, ...]
    change_tolerance: Fraction
    eligible_yen: int
    funding_rate: Fraction
    funded_yen: int  # eligible × funding rate, rounded down to the yen
    cap_yen: int | None
    capped_yen: int
    rounding_yen: int
    rounded_yen: int
    decided_yen: int  # the grant decision's amount, taken as paid in advance (概算払)
    final_yen: int

    @property
    def to_return_yen(self) -> int:
        return self.decided_yen - self.final_yen

    @property
    def share_of_eligible(self) -> Fraction:
        """The final amount's share of the eligible actual cost (what the grant paid of it)."""
        return Fraction(self.final_yen, self.eligible_yen) if self.eligible_yen else Fraction(0)

    def as_dict(self) -> dict[str, Any]:
        """The working as kept in FinalAmount.computation (JSON: integers and "n/d" texts)."""
        return {
            "categories": [step.as_dict() for step in self.categories],
            "excluded_lines": [line.as_dict() for line in self.excluded_lines],
            "share_checks": [check.as_dict() for check in self.share_checks],
            "change_tolerance": ratio(self.change_tolerance),
            "eligible_total_yen": self.eligible_yen, "funding_rate": ratio(self.funding_rate),
            "funded_yen": self.funded_yen, "cap_yen": self.cap_yen,
            "capped_yen": self.capped_yen, "rounding_yen": self.rounding_yen,
            "rounded_yen": self.rounded_yen, "decided_yen": self.decided_yen,
            "paid_in_advance_yen": self.decided_yen, "final_yen": self.final_yen,
            "to_return_yen": self.to_return_yen,
            "share_of_eligible": ratio(self.share_of_eligible),
        }


def final_amount(program: Program, data: ApplicationData,
                 lines: Iterable[BudgetLine | Mapping[str, object]],
                 planned: Mapping[str, int], decided_yen: int) -> FinalAmountWorking:
    """Work out the final amount.

    Args:
        program: the categories, rules, rounding and `post_award` settings.
        data: the frozen application (rule conditions, the cap, justified exceptions).
        lines: the accepted report's actual cost lines.
        planned: the plan in force's amount per category.
        decided_yen: the grant decision's amount.
    """
    rows = [line if isinstance(line, BudgetLine) else BudgetLine.from_answer(line)
            for line in lines]
    shown = visibility(program, data).data
    justified = {rule_id for rule_id, text in justifications(data).items()
                 if has_visible_text(str(text or ""))}
    binding = [rule for rule in program.rules if _binds(rule, program, shown)]
    excluded = _excluded(rows, [rule for rule in binding
                                if isinstance(rule, ForbiddenAcquisitionRule)
                                and not _excepted(rule, justified)])
    banned = {item.index for item in excluded}
    allowed_lines = [line for index, line in enumerate(rows) if index not in banned]
    tolerance = program.post_award.change_tolerance
    actual = summarize(program, rows).by_category
    allowed = summarize(program, allowed_lines).by_category
    limits = {category: _limit(int(planned.get(category, 0)), tolerance)
              for category in dict.fromkeys([*actual, *planned])}
    within = {category: min(allowed.get(category, 0), limit) for category, limit in limits.items()}
    cuts = dict.fromkeys(within, 0)
    checks = tuple(_share_check(rule, _excepted(rule, justified), allowed_lines, within, cuts)
                   for rule in binding if isinstance(rule, CategoryShareRule))
    categories = tuple(
        CategoryStep(category, int(planned.get(category, 0)), actual.get(category, 0),
                     actual.get(category, 0) - allowed.get(category, 0), limits[category],
                     within[category], cuts[category])
        for category in limits)
    eligible = sum(step.eligible_yen for step in categories)
    rate = program.post_award.funding_rate
    funded = eligible * rate.numerator // rate.denominator
    cap = summarize(program, (), data).cap_yen
    capped = funded if cap is None else min(funded, cap)
    rounding = program.budget.award_rounding_yen
    rounded = capped - capped % rounding
    return FinalAmountWorking(
        categories=categories, excluded_lines=tuple(excluded), share_checks=checks,
        change_tolerance=tolerance, eligible_yen=eligible, funding_rate=rate, funded_yen=funded,
        cap_yen=cap, capped_yen=capped, rounding_yen=rounding, rounded_yen=rounded,
        decided_yen=decided_yen, final_yen=min(rounded, decided_yen))


def _binds(rule: Any, program: Program, shown: ApplicationData) -> bool:
    """A rule that binds the application: not a mere warning, and its `when` holds."""
    if rule.severity is Severity.WARNING:
        return False
    return rule.when is None or holds(rule.when, shown, program)


def _excepted(rule: Any, justified: set[str]) -> bool:
    """A rule in principle whose exception the application justified, accepted with the award."""
    return rule.severity is Severity.PRINCIPLE and rule.id in justified


def _excluded(rows: list[BudgetLine],
              rules: list[ForbiddenAcquisitionRule]) -> list[ExcludedLine]:
    found = []
    for index, line in enumerate(rows):
        rule = next((r for r in rules if line.acquisition in r.acquisition_types
                     and (r.categories is None or line.category in r.categories)), None)
        if rule is not None:
            found.append(ExcludedLine(index, line, rule.id))
    return found


def _limit(planned_yen: int, tolerance: Fraction) -> int:
    """The plan's amount plus the change tolerance of it, rounded down to the yen."""
    return planned_yen + planned_yen * tolerance.numerator // tolerance.denominator


def largest_part(other_yen: int, share: Fraction, strict: bool) -> int | None:
    """The largest part that keeps `part` under (strict) or at most `share` of `part + other`;
    None when any part does (a non-strict share of 1, or a strict one with something else)."""
    n, d = share.numerator, share.denominator
    if n == d:
        return None if not strict or other_yen > 0 else 0
    if strict:  # part × (d - n) < other × n
        return max((other_yen * n - 1) // (d - n), 0)
    return other_yen * n // (d - n)  # part × (d - n) <= other × n


def _share_check(rule: CategoryShareRule, justified: bool, lines: list[BudgetLine],
                 within: dict[str, int], cuts: dict[str, int]) -> ShareCheck:
    """Re-check one share rule on what is eligible so far, and record its cut in `cuts`.

    In each of the rule's categories the part counted is the matching lines' cost, but never
    more than the category's eligible amount: a category cut back to its limit counts its
    matching lines first, so a cut can never hide equipment from the rule.
    """
    eligible = {category: within[category] - cuts[category] for category in within}
    parts = {
        category: min(eligible.get(category, 0), sum(
            line.amount_yen for line in lines if line.category == category
            and (rule.acquisition_types is None or line.acquisition in rule.acquisition_types)))
        for category in rule.categories}
    part, total = sum(parts.values()), sum(eligible.values())
    allowed = None if justified else largest_part(total - part, rule.max_share, rule.strict)
    cut = 0 if allowed is None else max(part - allowed, 0)
    remaining = cut
    for category in rule.categories:
        taken = min(remaining, parts[category])
        cuts[category] += taken
        remaining -= taken
    return ShareCheck(rule.id, rule.categories, rule.max_share, rule.strict, justified, part,
                      total, allowed, cut)
