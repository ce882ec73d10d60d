"""Conflicts of interest, and the automatic assignment of reviewers to applications.

A reviewer is conflicted when they belong to, or declared an interest in, anyone taking part in
an application. Assignment gives every application its N reviewers, never a conflicted or
declined one, with reviewer loads as even as the conflicts allow.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from types import MappingProxyType

from grants.domain import localgov
from grants.domain.findings import LocalizedText

_NOTHING: Mapping[int, AbstractSet[int]] = MappingProxyType({})


@dataclass(frozen=True)
class ReviewerProfile:
    """A reviewer's affiliation and declared interests."""

    id: int
    organization_id: int | None  # None for independent experts
    organization_lg_code: str | None  # set when the reviewer's organization is a local government
    declared_organization_ids: frozenset[int]
    declared_lg_codes: frozenset[str]
    declared_text: str  # free-text declarations joined, may be ""


@dataclass(frozen=True)
class ApplicationParties:
    """Who takes part in an application: the applicant and its partners."""

    id: int
    organization_id: int
    organization_name: str
    lg_codes: frozenset[str]  # local governments taking part: the lead (if one) and partners
    partner_names: tuple[str, ...]


# --- conflicts ---------------------------------------------------------------------------------


def conflicts(reviewer: ReviewerProfile, application: ApplicationParties) -> list[LocalizedText]:
    """Return why `reviewer` must not review `application`; an empty list means no conflict.

    Reasons come in a fixed order: own organization is the applicant; own organization (a local
    government) takes part; declared the applicant; declared codes taking part (by code);
    declaration text naming the applicant, then each partner. The second is left out when the
    first applies: the lead local government is the applicant, not a partner.
    """
    name = application.organization_name
    texts: list[tuple[str, str]] = []  # (ja, en)
    is_applicant = reviewer.organization_id == application.organization_id
    if is_applicant:
        texts.append(
            (
                f"審査員の所属団体が申請団体「{name}」です。",
                f"The reviewer belongs to the applicant, {name}.",
            )
        )
    own_code = reviewer.organization_lg_code
    if own_code and own_code in application.lg_codes and not is_applicant:
        ja, en = _code_label(own_code)
        texts.append(
            (
                f"審査員の所属団体（{ja}）がこの申請に参加しています。",
                f"The reviewer's organization ({en}) takes part in this application.",
            )
        )
    if application.organization_id in reviewer.declared_organization_ids:
        texts.append(
            (
                f"審査員は申請団体「{name}」との利害関係を申告しています。",
                f"The reviewer declared an interest in the applicant, {name}.",
            )
        )
    for code in sorted(reviewer.declared_lg_codes & application.lg_codes):
        ja, en = _code_label(code)
        texts.append(
            (
                f"審査員は、この申請に参加する地方公共団体（{ja}）との利害関係を申告しています。",
                f"The reviewer declared an interest in {en}, which takes part in this application.",
            )
        )
    texts += _mentions(reviewer.declared_text, application)
    return [LocalizedText(ja, en) for ja, en in texts]


def normalize_name(text: str) -> str:
    """Fold a name for matching: NFKC (full-width → half-width), casefold, no whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _mentions(declared_text: str, application: ApplicationParties) -> list[tuple[str, str]]:
    text = normalize_name(declared_text)
    named = [(("申請団体", "the applicant"), application.organization_name)]
    named += [(("連携団体", "the partner"), partner) for partner in application.partner_names]
    texts: list[tuple[str, str]] = []
    seen: set[str] = set()
    for (ja_kind, en_kind), name in named:
        key = normalize_name(name)
        # A one-character name would match far too much free text.
        if len(key) >= 2 and key not in seen and key in text:
            texts.append(
                (
                    f"審査員の申告内容に{ja_kind}「{name}」の名前があります。",
                    f"The reviewer's declaration names {en_kind} “{name}”.",
                )
            )
        seen.add(key)
    return texts


def _code_label(code: str) -> tuple[str, str]:
    """Return (ja, en) labels for a local-government code, with its name when the list has it."""
    government = localgov.get(code)
    if government is None:
        return f"団体コード {code}", f"local government code {code}"
    name = government.display_name
    return f"{name}、団体コード {code}", f"{name}, code {code}"


# --- assignment --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shortfall:
    """An application that could not get all its reviewers: the pool is too small for it."""

    application_id: int
    needed: int  # how many more reviewers it still needs after planning
    eligible: int  # reviewers in the pool neither conflicted nor excluded for it


@dataclass(frozen=True)
class AssignmentPlan:
    """The assignments to create, the applications left short, and the resulting loads."""

    pairs: tuple[tuple[int, int], ...]  # (application_id, reviewer_id), sorted
    shortfalls: tuple[Shortfall, ...]  # by application id
    loads: dict[int, int]  # every pool reviewer's id -> existing + new assignments

    @property
    def complete(self) -> bool:
        """True when every application got all its reviewers."""
        return not self.shortfalls


def plan_assignments(
    applications: Sequence[ApplicationParties],
    reviewers: Sequence[ReviewerProfile],
    *,
    per_application: int,
    existing: Mapping[int, AbstractSet[int]] = _NOTHING,
    excluded: Mapping[int, AbstractSet[int]] = _NOTHING,
) -> AssignmentPlan:
    """Plan which reviewers to add so every application has `per_application` in total.

    `existing` (application id -> reviewer ids already assigned) count toward N and toward the
    loads, even for a reviewer outside the pool (who then has no entry in `loads`); they are
    never moved. `excluded` (application id -> reviewers who declined it) are never chosen for
    it again. Loads count only the applications passed in.

    Method: greedy, then exact rebalancing. Applications with the fewest candidates go first,
    each taking its candidates with the lowest load (ties by id). Then, while a chain of moves
    links a reviewer to one at least two lighter (u passes application a to v1, v1 passes b to
    v2, ... to the light one; each step eligible), it is applied: the first loses one, the last
    gains one. Each chain lowers the sum of squared loads, so this ends; with no chain left the
    loads are the most even possible (a convex-cost flow with no negative cycle), hence within
    one whenever the conflicts allow. How many each application gets does not depend on the
    choices, so shortfalls are exact. Same input, same plan.

    Raises:
        ValueError: when `per_application` < 1, or an id appears twice.
    """
    if per_application < 1:
        raise ValueError(f"per_application must be at least 1, got {per_application}")
    pool = sorted(reviewers, key=lambda r: r.id)
    apps = sorted(applications, key=lambda a: a.id)
    if len({r.id for r in pool}) < len(pool) or len({a.id for a in apps}) < len(apps):
        raise ValueError("a reviewer or application id appears twice")

    loads = {r.id: 0 for r in pool}
    candidates: dict[int, list[int]] = {}
    wanted: dict[int, int] = {}
    shortfalls: list[Shortfall] = []
    for app in apps:
        already = existing.get(app.id, frozenset())
        for reviewer_id in already:
            if reviewer_id in loads:
                loads[reviewer_id] += 1
        declined = excluded.get(app.id, frozenset())
        eligible = [r.id for r in pool if r.id not in declined and not conflicts(r, app)]
        candidates[app.id] = [r for r in eligible if r not in already]
        needed = max(0, per_application - len(already))
        wanted[app.id] = min(needed, len(candidates[app.id]))
        if wanted[app.id] < needed:
            shortfalls.append(Shortfall(app.id, needed - wanted[app.id], len(eligible)))

    chosen: dict[int, set[int]] = {}
    for app_id in sorted(candidates, key=lambda a: (len(candidates[a]), a)):
        picks = sorted(candidates[app_id], key=lambda r: (loads[r], r))[: wanted[app_id]]
        chosen[app_id] = set(picks)
        for reviewer_id in picks:
            loads[reviewer_id] += 1

    while (chain := _improving_chain(chosen, candidates, loads)) is not None:
        for app_id, giver, taker in chain:
            chosen[app_id].remove(giver)
            chosen[app_id].add(taker)
        loads[chain[0][1]] -= 1
        loads[chain[-1][2]] += 1

    pairs = tuple((a, r) for a in sorted(chosen) for r in sorted(chosen[a]))
    return AssignmentPlan(pairs, tuple(shortfalls), loads)


def _improving_chain(
    chosen: Mapping[int, set[int]], candidates: Mapping[int, list[int]], loads: Mapping[int, int]
) -> list[tuple[int, int, int]] | None:
    """Find moves (application, from, to) passing one assignment from a heavy to a light reviewer.

    Breadth-first from the heaviest reviewer (ties by id): u can pass an application it was
    newly given to any candidate of it not already on it. Returns the chain to the lightest
    (then lowest id) reviewer reached that is at least two below the start, else None.
    """
    given: dict[int, list[int]] = {r: [] for r in loads}
    for app_id in sorted(chosen):
        for reviewer_id in chosen[app_id]:
            given[reviewer_id].append(app_id)
    lightest = min(loads.values(), default=0)
    for start in sorted(loads, key=lambda r: (-loads[r], r)):
        if loads[start] - 2 < lightest:
            return None  # everyone left is within one of the lightest
        came_from = {start: (0, start)}  # reviewer -> (application, reviewer it came from)
        frontier = [start]
        while frontier:
            reached = [
                (app_id, giver, taker)
                for giver in frontier
                for app_id in given[giver]
                for taker in candidates[app_id]
                if taker not in chosen[app_id]
            ]
            frontier = []
            for app_id, giver, taker in reached:
                if taker not in came_from:
                    came_from[taker] = (app_id, giver)
                    frontier.append(taker)
        lighter = [r for r in came_from if loads[r] <= loads[start] - 2]
        if lighter:
            end = min(lighter, key=lambda r: (loads[r], r))
            chain: list[tuple[int, int, int]] = []
            while end != start:
                app_id, giver = came_from[end]
                chain.append((app_id, giver, end))
                end = giver
            return chain[::-1]
    return None
