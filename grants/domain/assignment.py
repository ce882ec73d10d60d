"""Conflicts of interest, and the automatic assignment of reviewers to applications.

A reviewer is conflicted when they belong to, or declared an interest in, anyone taking part in
an application. Assignment gives every application its N reviewers, never a conflicted or
declined one, with reviewer loads as even as the conflicts allow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cached_property, lru_cache
from types import MappingProxyType

from grants.domain import org_names
from grants.domain.findings import LocalizedText
from grants.domain.identifiers import normalize

_NOTHING: Mapping[int, AbstractSet[int]] = MappingProxyType({})


class PartyRole(StrEnum):
    """How an organization takes part in an application."""

    APPLICANT = "applicant"
    PARTNER = "partner"  # listed in the partners field, whatever its kind
    MEMBER = "member"  # a member of the applying consortium (連携主体)


_ROLE_LABELS = {  # (ja, en) as the reasons name a party
    PartyRole.APPLICANT: ("申請団体", "the applicant"),
    PartyRole.PARTNER: ("連携団体", "the partner"),
    PartyRole.MEMBER: ("連携主体の構成団体", "the consortium member"),
}


@dataclass(frozen=True)
class Party:
    """One organization taking part, with whatever identifies it; codes decide over names."""

    name: str
    role: PartyRole = PartyRole.PARTNER
    lg_code: str | None = None  # 全国地方公共団体コード
    corporate_number: str | None = None  # 法人番号
    organization_id: int | None = None  # when it is a registered organization


@dataclass(frozen=True)
class ReviewerProfile:
    """A reviewer's affiliation and declared interests."""

    id: int
    organization_id: int | None  # None for independent experts
    organization_lg_code: str | None  # set when the reviewer's organization is a local government
    declared_organization_ids: frozenset[int]
    declared_lg_codes: frozenset[str]
    declared_text: str  # free-text declarations joined, may be ""
    organization_name: str | None = None
    organization_corporate_number: str | None = None

    @cached_property
    def organization(self) -> Party | None:
        """The reviewer's own organization as a party would be written; None for an expert."""
        if self.organization_id is None and not self.organization_name:
            return None
        return Party(self.organization_name or "", lg_code=_code(self.organization_lg_code),
                     corporate_number=_code(self.organization_corporate_number),
                     organization_id=self.organization_id)


@dataclass(frozen=True)
class ApplicationParties:
    """Who takes part in an application: the applicant, its partners, its consortium members.

    `lg_codes` and `partner_names` are the first, flat form (still accepted); `participants`
    carries every partner (any kind) and consortium member with its identifiers. A partner
    name already among the participants is the same party, not a second one.
    """

    id: int
    organization_id: int
    organization_name: str
    lg_codes: frozenset[str]  # local governments taking part: the lead (if one) and partners
    partner_names: tuple[str, ...]
    organization_lg_code: str | None = None
    organization_corporate_number: str | None = None
    participants: tuple[Party, ...] = ()

    @cached_property
    def applicant(self) -> Party:
        """The applicant as a party."""
        return Party(self.organization_name, PartyRole.APPLICANT,
                     _code(self.organization_lg_code), _code(self.organization_corporate_number),
                     self.organization_id)

    @cached_property
    def others(self) -> tuple[Party, ...]:
        """Every party but the applicant: the participants (codes canonical: snapshots frozen
        before codes were stored canonical may hold full-width digits), then the partner names
        not among them."""
        known = {org_names.core_name(p.name) for p in self.participants}
        named = tuple(Party(name) for name in self.partner_names
                      if org_names.core_name(name) not in known)
        canonical = tuple(replace(p, lg_code=_code(p.lg_code),
                                  corporate_number=_code(p.corporate_number))
                          for p in self.participants)
        return canonical + named

    @cached_property
    def codes(self) -> frozenset[str]:
        """Every local-government code taking part, canonical."""
        codes = {*self.lg_codes, self.organization_lg_code,
                 *(p.lg_code for p in self.participants)}
        return frozenset(c for c in map(_code, codes) if c)


@lru_cache(maxsize=8192)
def _code(code: str | None) -> str | None:
    return normalize(code) or None


# --- conflicts ---------------------------------------------------------------------------------


def conflicts(reviewer: ReviewerProfile, application: ApplicationParties) -> list[LocalizedText]:
    """Return why `reviewer` must not review `application`; an empty list means no conflict.

    Reasons come in a fixed order: own organization is the applicant; own organization (a local
    government) takes part; own organization is another party (by 法人番号, or by name with the
    legal form set aside: see `org_names`); declared the applicant or a member; declared codes
    taking part (by code, in the code field or written in the text, full-width digits too); a
    法人番号 written in the text; declaration text naming the applicant, then each other party.
    The second is left out when the first applies: the lead local government is the applicant,
    not a partner. Where both sides carry a code, the codes decide and the names are not
    compared.
    """
    texts = _own_organization(reviewer, application)
    texts += _declared(reviewer, application)
    texts += _mentions(reviewer.declared_text, application)
    return [LocalizedText(ja, en) for ja, en in texts]


def same_organization(first: Party, second: Party) -> str | None:
    """Why two parties are one organization ("id", "lg_code", "corporate_number", "name"), or
    None. A code on both sides decides; a local government and a corporation are never one."""
    if first.organization_id is not None and first.organization_id == second.organization_id:
        return "id"
    codes = [(first.lg_code, second.lg_code), (first.corporate_number, second.corporate_number)]
    for kind, (a, b) in zip(("lg_code", "corporate_number"), codes, strict=True):
        if a and b:
            return kind if a == b else None
    if (first.lg_code or first.corporate_number) and (second.lg_code or second.corporate_number):
        return None
    return "name" if org_names.same_name(first.name, second.name) else None


_BASIS = {
    "id": ("同じ登録団体", "the same registered organization"),
    "lg_code": ("団体コードが一致", "the same local government code"),
    "corporate_number": ("法人番号が一致", "the same 法人番号"),
    "name": ("法人格を除いた名称が一致", "the same name, legal form aside"),
}


def _own_organization(reviewer: ReviewerProfile, application: ApplicationParties
                      ) -> list[tuple[str, str]]:
    own = reviewer.organization
    if own is None:
        return []
    name = application.organization_name
    texts: list[tuple[str, str]] = []
    as_applicant = same_organization(own, application.applicant)
    if as_applicant == "id":
        texts.append((f"審査員の所属団体が申請団体「{name}」です。",
                      f"The reviewer belongs to the applicant, {name}."))
    elif as_applicant:
        ja_basis, en_basis = _BASIS[as_applicant]
        texts.append((f"審査員の所属団体「{own.name}」は申請団体「{name}」と同じ団体とみなされます"
                      f"（{ja_basis}）。",
                      f"The reviewer's organization, {own.name}, is taken to be the applicant, "
                      f"{name} ({en_basis})."))
    own_code = own.lg_code
    if own_code and own_code in application.codes and not as_applicant:
        ja, en = _code_label(own_code)
        texts.append((f"審査員の所属団体（{ja}）がこの申請に参加しています。",
                      f"The reviewer's organization ({en}) takes part in this application."))
    for party in application.others:
        basis = same_organization(own, party)
        if basis is None or basis == "lg_code":  # a code taking part is reported above
            continue
        (ja_kind, en_kind), (ja_basis, en_basis) = _ROLE_LABELS[party.role], _BASIS[basis]
        texts.append((f"審査員の所属団体「{own.name}」が{ja_kind}「{party.name}」として参加して"
                      f"います（{ja_basis}）。",
                      f"The reviewer's organization, {own.name}, takes part as {en_kind} "
                      f"“{party.name}” ({en_basis})."))
    return texts


def _declared(reviewer: ReviewerProfile, application: ApplicationParties) -> list[tuple[str, str]]:
    """Declared organizations and codes: picked from lists, typed in the code field, or
    written anywhere in the free text (０１２３３５ or 3999905000001 in a sentence)."""
    texts: list[tuple[str, str]] = []
    declared_ids = reviewer.declared_organization_ids
    for party in (application.applicant, *application.others):
        if party.organization_id is not None and party.organization_id in declared_ids:
            ja_kind, en_kind = _ROLE_LABELS[party.role]
            texts.append((f"審査員は{ja_kind}「{party.name}」との利害関係を申告しています。",
                          f"The reviewer declared an interest in {en_kind}, {party.name}."))
    written = org_names.codes_in(reviewer.declared_text)
    declared_codes = {c for c in map(_code, reviewer.declared_lg_codes) if c} | written
    for code in sorted(declared_codes & application.codes):
        ja, en = _code_label(code)
        texts.append((
            f"審査員は、この申請に参加する地方公共団体（{ja}）との利害関係を申告しています。",
            f"The reviewer declared an interest in {en}, which takes part in this application."))
    for party in (application.applicant, *application.others):
        number = party.corporate_number
        if number and number in written:
            ja_kind, en_kind = _ROLE_LABELS[party.role]
            texts.append((f"審査員の申告内容に{ja_kind}「{party.name}」の法人番号 {number} が"
                          "あります。",
                          f"The reviewer's declaration gives the 法人番号 {number} of {en_kind} "
                          f"“{party.name}”."))
    return texts


def _mentions(declared_text: str, application: ApplicationParties) -> list[tuple[str, str]]:
    """Parties the free text names: by core name (`org_names.find`); a local government by its
    registry name, its prefecture considered, and shown with it."""
    if not declared_text.strip():
        return []
    texts: list[tuple[str, str]] = []
    seen: set[str] = set()
    for party in (application.applicant, *application.others):
        key = party.lg_code or org_names.core_name(party.name)
        if not key or key in seen:
            continue
        seen.add(key)
        label = org_names.local_government_label(party.lg_code) if party.lg_code else None
        named = (org_names.mentions_local_government(declared_text, party.lg_code or "")
                 if label is not None else org_names.mentions(declared_text, party.name))
        if named:
            ja_kind, en_kind = _ROLE_LABELS[party.role]
            ja_name, en_name = (label.ja, label.en) if label else (party.name, party.name)
            texts.append((f"審査員の申告内容に{ja_kind}「{ja_name}」の名前があります。",
                          f"The reviewer's declaration names {en_kind} “{en_name}”."))
    return texts


def _code_label(code: str) -> tuple[str, str]:
    """Return (ja, en) labels for a local-government code, with its name and prefecture when
    the list has it: 伊達市（北海道）、団体コード 012335."""
    label = org_names.local_government_label(code)
    if label is None:
        return f"団体コード {code}", f"local government code {code}"
    return f"{label.ja}、団体コード {code}", f"{label.en}, code {code}"


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
