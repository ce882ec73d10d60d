"""The variance table (差異表) of a completion report: planned against actual cost per category.

Computed from the plan in force and the reported lines, never typed. A category whose actual
cost differs from its planned amount by more than the program's `variance_reason_share` of the
plan needs a written reason; so does any cost in a category the plan gave nothing, however
small. Integers and fractions only: "exactly 10 %" is exactly 10 %.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from grants.domain.application_data import BudgetLine
from grants.domain.budget import summarize
from grants.domain.definitions import Program
from grants.domain.rounding import to_decimal
from grants.domain.text import has_visible_text

ONE_DECIMAL = Decimal("0.1")


@dataclass(frozen=True)
class VarianceRow:
    """One category: what the plan gave it, what was spent, and whether a reason is due."""

    category: str
    planned_yen: int
    actual_yen: int
    reason_required: bool

    @property
    def difference_yen(self) -> int:
        return self.actual_yen - self.planned_yen

    @property
    def share(self) -> Fraction | None:
        """The difference as a share of the plan; None when the plan gave the category nothing."""
        return Fraction(self.difference_yen, self.planned_yen) if self.planned_yen else None

    @property
    def share_percent(self) -> Decimal | None:
        """The share in per cent to one decimal, halves away from zero (for the page)."""
        return None if self.share is None else to_decimal(self.share * 100, ONE_DECIMAL)

    def as_dict(self) -> dict[str, Any]:
        share = self.share
        return {"category": self.category, "planned_yen": self.planned_yen,
                "actual_yen": self.actual_yen, "difference_yen": self.difference_yen,
                "share": None if share is None else f"{share.numerator}/{share.denominator}",
                "reason_required": self.reason_required}


@dataclass(frozen=True)
class VarianceTable:
    rows: tuple[VarianceRow, ...]
    threshold: Fraction  # the program's variance_reason_share

    @property
    def threshold_percent(self) -> Decimal:
        return to_decimal(self.threshold * 100, ONE_DECIMAL)

    @property
    def planned_yen(self) -> int:
        return sum(row.planned_yen for row in self.rows)

    @property
    def actual_yen(self) -> int:
        return sum(row.actual_yen for row in self.rows)

    @property
    def difference_yen(self) -> int:
        return self.actual_yen - self.planned_yen

    def missing_reasons(self, reasons: Mapping[str, object]) -> list[str]:
        """The categories that need a reason and have none a reader could see, in order."""
        return [row.category for row in self.rows if row.reason_required
                and not has_visible_text(str(reasons.get(row.category) or ""))]

    def as_dict(self) -> dict[str, Any]:
        return {"threshold": f"{self.threshold.numerator}/{self.threshold.denominator}",
                "rows": [row.as_dict() for row in self.rows], "planned_yen": self.planned_yen,
                "actual_yen": self.actual_yen, "difference_yen": self.difference_yen}


def reason_required(planned_yen: int, actual_yen: int, threshold: Fraction) -> bool:
    """More than `threshold` of the plan either way (|actual - planned| > threshold × planned);
    with nothing planned, any actual cost."""
    if planned_yen == 0:
        return actual_yen > 0
    difference = abs(actual_yen - planned_yen)
    return difference * threshold.denominator > planned_yen * threshold.numerator


def variance_table(program: Program, planned: Mapping[str, int],
                   lines: Iterable[BudgetLine | Mapping[str, object]]) -> VarianceTable:
    """Planned against actual per category: the program's categories in order, then any other
    category the plan or the lines name (so nothing reported is ever left out)."""
    actual = summarize(program, lines).by_category
    threshold = program.post_award.variance_reason_share
    categories = list(dict.fromkeys([*actual, *planned]))
    rows = tuple(
        VarianceRow(category, int(planned.get(category, 0)), actual.get(category, 0),
                    reason_required(int(planned.get(category, 0)), actual.get(category, 0),
                                    threshold))
        for category in categories)
    return VarianceTable(rows, threshold)
