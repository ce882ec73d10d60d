"""Rank bands: where an application stood among its competitors, without its exact rank.

The evaluation summary tells every applicant how its application compared (the EU Funding &
Tenders Portal's evaluation summary report does likewise), but not its exact place: a band of
the applications ranked in its budget group. An application in the top p of n ranked rows is
in the first band whose upper bound reaches p/n, exactly (rank 1 of 10 is in the top 10 %,
rank 2 of 10 is not). Rows tied on score take the place of the first of them: the tie-break
orders them for the money, not by merit. An application that hit a knockout or missed a
minimum score is "not fundable"; one never scored is "not ranked".
"""

from __future__ import annotations

from enum import StrEnum
from fractions import Fraction
from typing import Final

from grants.domain.findings import LocalizedText
from grants.domain.ranking import RankGroup


class RankBand(StrEnum):
    TOP_10 = "top_10"
    FROM_10_TO_25 = "10_25"
    FROM_25_TO_50 = "25_50"
    FROM_50_TO_100 = "50_100"
    NOT_FUNDABLE = "not_fundable"
    NOT_RANKED = "not_ranked"


# Each band's upper bound as a share of the ranked rows, best band first.
UPPER_BOUNDS: Final = (
    (Fraction(1, 10), RankBand.TOP_10),
    (Fraction(1, 4), RankBand.FROM_10_TO_25),
    (Fraction(1, 2), RankBand.FROM_25_TO_50),
    (Fraction(1), RankBand.FROM_50_TO_100),
)

LABELS: Final = {
    RankBand.TOP_10: LocalizedText("上位10％以内", "Top 10 %"),
    RankBand.FROM_10_TO_25: LocalizedText("上位10％超25％以内", "10–25 %"),
    RankBand.FROM_25_TO_50: LocalizedText("上位25％超50％以内", "25–50 %"),
    RankBand.FROM_50_TO_100: LocalizedText("上位50％超", "50–100 %"),
    RankBand.NOT_FUNDABLE: LocalizedText(
        "採択の対象外（足切り項目に該当、または最低点に未達）",
        "Not fundable (a knockout criterion was hit or a minimum score was not reached)"),
    RankBand.NOT_RANKED: LocalizedText("順位なし（評価がありません）",
                                       "Not ranked (no review counted)"),
}


def band(place: int, ranked: int) -> RankBand:
    """The band of the `place`-th (1-based) of `ranked` ranked rows.

    Raises:
        ValueError: unless 1 <= place <= ranked.
    """
    if not 1 <= place <= ranked:
        raise ValueError(f"place {place} is not among {ranked} ranked rows")
    share = Fraction(place, ranked)
    return next(b for bound, b in UPPER_BOUNDS if share <= bound)


def band_in(group: RankGroup, application_id: int) -> RankBand:
    """The band of one application of `group` (KeyError when it is not in the group)."""
    row = next((r for r in group.rows if r.entry.application_id == application_id), None)
    if row is None:
        raise KeyError(application_id)
    if row.entry.unfundable:
        return RankBand.NOT_FUNDABLE
    if row.rank is None:
        return RankBand.NOT_RANKED
    ranked = [r for r in group.rows if r.rank is not None]  # by score, highest first
    first_tied = next(r for r in ranked if r.entry.score == row.entry.score)
    return band(first_tied.rank, len(ranked))


def label(value: str) -> LocalizedText | None:
    """The label of a stored band (None for a value this version does not know)."""
    try:
        return LABELS[RankBand(value)]
    except ValueError:
        return None
