"""Ranking a call's applications within its budget, per track quota.

A reserved quota sets a share of the budget apart for one track; every other track competes for
the rest. A target quota is an intended share only (「予算の1/3程度」): its track competes with the
others, and the ranking reports the share it reached above the line beside the line it would have
as a reserved pot, for the officer to decide. Within each group, applications are ranked by score
with an explicit tie-break, and the money is given out strictly in rank order (see `rank`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import groupby

from grants.domain.findings import LocalizedText

TIE_BREAK = LocalizedText(
    ja=(
        "評点の高い順に順位を付けます。同点のときは、申請額の少ない順（同じ予算でより多くの事業を"
        "支援できるため）、次に提出日時の早い順、最後に受付番号の順とします。足切り項目に該当した"
        "申請、最低点に達しない申請と未評価の申請には順位を付けず、末尾に表示します。予算は"
        "順位どおりに配分し、予算に収まらない申請が出たところで打ち切ります（それより下の申請も"
        "予算外とし、例外は担当者が判断します）。"
    ),
    en=(
        "Applications are ranked by score, highest first. Equal scores are ordered by the lower "
        "requested amount first (more projects for the money), then the earlier submission, "
        "then the reference number. Applications that hit a knockout criterion or miss a "
        "minimum score, and those not yet scored, get no rank and are listed last. The money "
        "goes strictly in rank order and stops at the first application that does not fit: "
        "those below it are over budget too, and exceptions are for the officers to decide."
    ),
)


@dataclass(frozen=True)
class RankEntry:
    """One application as the ranking sees it."""

    application_id: int
    reference: str
    track: str | None
    score: Decimal | None  # 0–100, moderated or mean; None = not yet scored
    knockout: bool  # a knockout criterion was hit: unfundable
    requested_yen: int
    submitted_at: datetime
    unmet: tuple[LocalizedText, ...] = ()  # thresholds not reached (domain.thresholds): unfundable

    @property
    def unfundable(self) -> bool:
        """A knockout hit or a threshold missed: listed after the ranked rows, never fits."""
        return self.knockout or bool(self.unmet)


class TieBreak(StrEnum):
    """The rule that ordered two ranked rows of exactly the same score (see `TIE_BREAK`)."""

    REQUESTED = "requested"  # the lower request first
    SUBMITTED = "submitted"  # then the earlier submission
    REFERENCE = "reference"  # then the reference number


TIE_BREAK_ORDERS = {
    TieBreak.REQUESTED: LocalizedText("申請額の少ない順", "the lower requested amount"),
    TieBreak.SUBMITTED: LocalizedText("提出日時の早い順", "the earlier submission"),
    TieBreak.REFERENCE: LocalizedText("受付番号の順", "the reference number"),
}


@dataclass(frozen=True)
class Tie:
    """A ranked row with exactly the score of another ranked row of its group."""

    at_line: bool  # the tie spans the budget line: the last row that fits shares the score
    # with the first that does not
    order: TieBreak  # the rule that ordered this row against its tied neighbour

    @property
    def note(self) -> LocalizedText:
        """What the row says: tied on score (at the budget line, where so), ordered by which
        rule."""
        order = TIE_BREAK_ORDERS[self.order]
        if self.at_line:
            return LocalizedText(f"予算の線上で同点。{order.ja}で順位を付けました。",
                                 f"Tied on score at the budget line; ordered by {order.en}.")
        return LocalizedText(f"同点。{order.ja}で順位を付けました。",
                             f"Tied on score; ordered by {order.en}.")


@dataclass(frozen=True)
class RankRow:
    """An entry's place in its group; knockout and unscored rows have no rank and never fit."""

    rank: int | None  # 1-based among the ranked rows of the group
    entry: RankEntry
    cumulative_yen: int | None  # requests of the ranked rows down to this one
    fits: bool
    tie: Tie | None = None  # the same exact score as another ranked row of the group


@dataclass(frozen=True)
class RankGroup:
    """The applications competing for one pot of money, ranked rows first."""

    tracks: tuple[str | None, ...]  # quota group: its track; shared group: the tracks seen
    budget_yen: int | None  # None = the call states no budget: every ranked row fits
    rows: tuple[RankRow, ...]
    cutoff_index: int | None  # first ranked row over budget (where the money runs out), if any

    @property
    def requested_yen(self) -> int:
        """The total requested by the ranked rows."""
        return sum(row.entry.requested_yen for row in self.rows if row.rank is not None)

    @property
    def funded_yen(self) -> int:
        """The total requested by the rows that fit."""
        return sum(row.entry.requested_yen for row in self.rows if row.fits)

    @property
    def tied_at_line(self) -> bool:
        """The last row that fits and the first that does not have exactly the same score."""
        return any(row.tie is not None and row.tie.at_line for row in self.rows)

    @property
    def funded_count(self) -> int:
        """How many rows fit: the line falls below that many ranked rows."""
        return sum(row.fits for row in self.rows)


@dataclass(frozen=True)
class TargetShare:
    """A target track's intended share against the share of the money above the line it got."""

    track: str
    intended: Fraction
    funded_yen: int  # the track's requests above the line
    reached: Fraction | None  # of all the money given above the line; None when none is given


@dataclass(frozen=True)
class Ranking:
    """The groups (shared first, then one per reserved quota) and the budget of the call.

    With target quotas, `targets` reports each one and `as_reserved` is the same call ranked with
    the targets held as reserved pots: where the line would fall the other way.
    """

    groups: tuple[RankGroup, ...]
    budget_yen: int | None
    targets: tuple[TargetShare, ...] = ()
    as_reserved: Ranking | None = None

    def fits_as_reserved(self) -> dict[int, bool]:
        """Per application id, whether it fits when the targets are reserved pots (else empty)."""
        if self.as_reserved is None:
            return {}
        return {row.entry.application_id: row.fits
                for group in self.as_reserved.groups for row in group.rows}


def rank(
    entries: Sequence[RankEntry],
    *,
    budget_yen: int | None,
    quotas: Mapping[str, Fraction],
    targets: Mapping[str, Fraction] | None = None,
) -> Ranking:
    """Rank `entries` per budget group.

    Target tracks compete in the shared group like any other; each is reported as a
    `TargetShare`, and `as_reserved` ranks the call again with the targets as quotas. Quotas and
    targets together are held to the share checks below.

    Each quota track gets floor(budget × share) yen in a group of its own; all other tracks
    (and entries without a track) share the remainder in one group. Groups: the shared one
    first, then the quotas in the order given, each even when empty. With no budget, every
    group has none and every ranked row fits.

    Order within a group: score descending, then the lower request (more projects for the
    money), then the earlier submission, then the reference (then the id, for determinism).
    Equal scores still get distinct consecutive ranks, and each such row is marked with its
    `Tie` (at the budget line where the line cuts through it). Knockout entries, then unscored ones,
    follow without rank, each by reference.

    The money is given strictly in rank order: the first ranked row whose cumulative request
    exceeds the group's budget sets `cutoff_index`, and no row from there on fits, even a
    smaller one that would. Skipping down the list would fund lower-ranked projects ahead of
    better ones without anyone deciding so; such exceptions are for the officers.

    Raises:
        ValueError: when a share is negative, the shares add up to more than 1, or the budget
            is negative.
    """
    targets = targets or {}
    shares = {**quotas, **targets}
    if any(share < 0 for share in shares.values()) or sum(shares.values(), Fraction(0)) > 1:
        raise ValueError(f"quota shares must be non-negative and add up to at most 1: {shares}")
    if budget_yen is not None and budget_yen < 0:
        raise ValueError(f"the budget cannot be negative: {budget_yen}")
    ranking = _rank(entries, budget_yen, quotas)
    if not targets:
        return ranking
    return Ranking(ranking.groups, budget_yen, _target_shares(ranking, targets),
                   _rank(entries, budget_yen, shares))


def _target_shares(ranking: Ranking, targets: Mapping[str, Fraction]) -> tuple[TargetShare, ...]:
    funded = [row.entry for group in ranking.groups for row in group.rows if row.fits]
    total = sum(e.requested_yen for e in funded)
    reports = []
    for track, intended in targets.items():
        yen = sum(e.requested_yen for e in funded if e.track == track)
        reports.append(TargetShare(track, intended, yen, Fraction(yen, total) if total else None))
    return tuple(reports)


def _rank(
    entries: Sequence[RankEntry], budget_yen: int | None, quotas: Mapping[str, Fraction]
) -> Ranking:
    quota_budgets: dict[str, int | None] = {
        track: None if budget_yen is None else budget_yen * share.numerator // share.denominator
        for track, share in quotas.items()
    }
    shared_budget = None
    if budget_yen is not None:
        shared_budget = budget_yen - sum(b for b in quota_budgets.values() if b is not None)

    shared = [e for e in entries if e.track not in quotas]
    shared_tracks = sorted({e.track for e in shared}, key=lambda t: (t is None, t or ""))
    groups = [_group(tuple(shared_tracks), shared_budget, shared)]
    for track, budget in quota_budgets.items():
        groups.append(_group((track,), budget, [e for e in entries if e.track == track]))
    return Ranking(tuple(groups), budget_yen)


def _order(entry: RankEntry) -> tuple[Decimal, int, datetime, str, int]:
    score = Decimal(0) if entry.score is None else entry.score  # only scored entries get here
    return (-score, entry.requested_yen, entry.submitted_at, entry.reference, entry.application_id)


def _group(
    tracks: tuple[str | None, ...], budget_yen: int | None, entries: Sequence[RankEntry]
) -> RankGroup:
    ranked = sorted((e for e in entries if not e.unfundable and e.score is not None), key=_order)
    knockouts = [e for e in entries if e.unfundable]
    unscored = [e for e in entries if not e.unfundable and e.score is None]

    rows: list[RankRow] = []
    cutoff_index: int | None = None
    cumulative = 0
    for position, entry in enumerate(ranked):
        cumulative += entry.requested_yen
        over = budget_yen is not None and cumulative > budget_yen
        if over and cutoff_index is None:
            cutoff_index = position
        rows.append(RankRow(position + 1, entry, cumulative, cutoff_index is None))
    rows = _mark_ties(rows, cutoff_index)
    for entry in sorted(knockouts, key=_by_reference) + sorted(unscored, key=_by_reference):
        rows.append(RankRow(None, entry, None, False))
    return RankGroup(tracks, budget_yen, tuple(rows), cutoff_index)


def _mark_ties(ranked: list[RankRow], cutoff_index: int | None) -> list[RankRow]:
    """Mark every run of ranked rows with exactly the same score as tied, each with the rule
    that ordered it against the row above it (the first of a run: against the row below), and
    the run that the budget line cuts through as tied at the line."""
    marked = list(ranked)
    for _score, run in groupby(range(len(ranked)), key=lambda i: ranked[i].entry.score):
        indexes = list(run)
        if len(indexes) < 2:
            continue
        first, last = indexes[0], indexes[-1]
        at_line = cutoff_index is not None and first < cutoff_index <= last
        for i in indexes:
            neighbour = ranked[i - 1] if i > first else ranked[i + 1]
            marked[i] = replace(ranked[i], tie=Tie(at_line, _tie_break(neighbour.entry,
                                                                       ranked[i].entry)))
    return marked


def _tie_break(one: RankEntry, other: RankEntry) -> TieBreak:
    """The first rule of `_order` after the score that tells two entries apart."""
    if one.requested_yen != other.requested_yen:
        return TieBreak.REQUESTED
    if one.submitted_at != other.submitted_at:
        return TieBreak.SUBMITTED
    return TieBreak.REFERENCE


def _by_reference(entry: RankEntry) -> tuple[str, int]:
    return entry.reference, entry.application_id
