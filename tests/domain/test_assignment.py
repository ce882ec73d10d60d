"""Conflicts of interest, one rule at a time, and the automatic assignment of reviewers."""

from __future__ import annotations

import itertools
import random

import pytest

from grants.domain.assignment import (
    ApplicationParties,
    Party,
    PartyRole,
    ReviewerProfile,
    Shortfall,
    conflicts,
    plan_assignments,
)
from grants.domain.findings import LocalizedText
from grants.domain.org_names import core_name, fold

SAPPORO = "011002"  # 北海道 札幌市
HAKODATE = "012025"  # 北海道 函館市
TAKES_PART = "which takes part in this application."


def reviewer(id=1, *, org=None, code=None, orgs=(), codes=(), text="") -> ReviewerProfile:
    return ReviewerProfile(id, org, code, frozenset(orgs), frozenset(codes), text)


def application(id=1, *, org=100, name="株式会社ミライ", codes=(), partners=()):
    return ApplicationParties(id, org, name, frozenset(codes), tuple(partners))


# --- conflicts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "someone",
    [
        reviewer(),  # an independent expert with nothing declared
        reviewer(org=7, code=HAKODATE, orgs=(8,), codes=("012033",), text="株式会社ヒカリの顧問"),
    ],
)
def test_no_conflict(someone):
    assert conflicts(someone, application(codes=(SAPPORO,), partners=("札幌大学",))) == []


SAPPORO_JA = "札幌市（北海道）、団体コード 011002"
RULES = {
    "own-applicant": (
        reviewer(org=100),
        "審査員の所属団体が申請団体「株式会社ミライ」です。",
        "The reviewer belongs to the applicant, 株式会社ミライ.",
    ),
    "own-partner-lg": (
        reviewer(org=5, code=SAPPORO),
        f"審査員の所属団体（{SAPPORO_JA}）がこの申請に参加しています。",
        "The reviewer's organization (札幌市 (北海道), code 011002) takes part in this "
        "application.",
    ),
    "declared-org": (
        reviewer(orgs=(100,)),
        "審査員は申請団体「株式会社ミライ」との利害関係を申告しています。",
        "The reviewer declared an interest in the applicant, 株式会社ミライ.",
    ),
    "declared-lg": (
        reviewer(codes=(SAPPORO,)),
        f"審査員は、この申請に参加する地方公共団体（{SAPPORO_JA}）との利害関係を申告しています。",
        f"The reviewer declared an interest in 札幌市 (北海道), code 011002, {TAKES_PART}",
    ),
    "text-applicant": (
        reviewer(text="昨年まで株式会社ミライの社外取締役"),
        "審査員の申告内容に申請団体「株式会社ミライ」の名前があります。",
        "The reviewer's declaration names the applicant “株式会社ミライ”.",
    ),
    "text-partner": (
        reviewer(text="札幌大学 客員教授"),
        "審査員の申告内容に連携団体「札幌大学」の名前があります。",
        "The reviewer's declaration names the partner “札幌大学”.",
    ),
}


@pytest.mark.parametrize(("someone", "ja", "en"), RULES.values(), ids=RULES.keys())
def test_each_conflict_rule_names_the_party(someone, ja, en):
    app = application(codes=(SAPPORO, HAKODATE), partners=("NPO法人つなぐ", "札幌大学"))

    assert conflicts(someone, app) == [LocalizedText(ja, en)]


def test_lead_local_government_reviewer_is_the_applicant_not_also_a_partner():
    lead = application(org=5, name="札幌市", codes=(SAPPORO,))

    reasons = conflicts(reviewer(org=5, code=SAPPORO), lead)

    assert [r.en for r in reasons] == ["The reviewer belongs to the applicant, 札幌市."]


def test_each_declared_code_taking_part_is_a_reason_in_code_order():
    someone = reviewer(codes=("999999", SAPPORO, HAKODATE))  # 999999: not in the list

    reasons = conflicts(someone, application(codes=(HAKODATE, SAPPORO, "999999", "012033")))

    assert [r.en for r in reasons] == [
        f"The reviewer declared an interest in 札幌市 (北海道), code 011002, {TAKES_PART}",
        f"The reviewer declared an interest in 函館市 (北海道), code 012025, {TAKES_PART}",
        f"The reviewer declared an interest in local government code 999999, {TAKES_PART}",
    ]
    assert "（団体コード 999999）" in reasons[2].ja


@pytest.mark.parametrize(
    ("declared", "name"),
    [
        ("ＮＰＯ法人つなぐの理事", "NPO法人つなぐ"),  # full-width Latin in the declaration
        ("NPO法人つなぐの理事", "ＮＰＯ法人 つなぐ"),  # full-width and a space in the name
        ("株式会社ﾐﾗｲ", "株式会社ミライ"),  # half-width katakana
        ("advisor to acme  corp", "ACME Corp"),  # case and whitespace
        ("顧問:株式会社\u3000ミライ", "株式会社ミライ"),  # ideographic space
    ],
)
def test_declaration_text_is_compared_after_nfkc_casefold_and_without_spaces(declared, name):
    assert len(conflicts(reviewer(text=declared), application(name=name))) == 1
    assert len(conflicts(reviewer(text=declared), application(name="X", partners=[name]))) == 1
    assert core_name(name).replace(" ", "") in fold(declared).replace(" ", "")


def test_one_character_names_are_ignored():
    assert conflicts(reviewer(text="A社とB社の顧問"), application(name="A", partners=("B",))) == []


def test_all_reasons_are_returned_in_a_stable_order():
    someone = reviewer(org=100, orgs=(100,), codes=(HAKODATE,), text="株式会社ミライ、札幌大学")
    app = application(codes=(HAKODATE,), partners=("札幌大学", "株式会社ミライ"))

    reasons = conflicts(someone, app)

    kinds = [r.en.split(" ")[2] for r in reasons]  # the applicant is named once, not twice
    assert kinds == ["belongs", "declared", "declared", "declaration", "declaration"]
    assert conflicts(someone, app) == reasons


# --- Japanese organization names, every party, identifiers ----------------------------------

DATE_HOKKAIDO, DATE_FUKUSHIMA = "012335", "072133"
NUMBER = "3999905000001"  # a 法人番号 with a valid check digit


@pytest.mark.parametrize(
    ("declared", "name"),
    [("(株)テスト", "株式会社テスト"), ("（株）テスト", "株式会社テスト"),
     ("㈱テスト", "株式会社テスト"), ("㈱ﾃｽﾄ", "株式会社テスト"),
     ("テスト株式会社", "株式会社テスト"),
     ("株式会社　テスト", "テスト"), ("テスト(株)の顧問", "株式会社テスト"),
     ("元 ㈱ＡＢＣ 社外取締役", "ABC株式会社"), ("ＮＰＯ法人つなぐ", "特定非営利活動法人 つなぐ")],
)
def test_a_declaration_in_any_legal_form_conflicts_with_the_registered_name(declared, name):
    reasons = conflicts(reviewer(text=declared), application(name=name))

    assert [r.en for r in reasons] == [
        f"The reviewer's declaration names the applicant “{name}”."]


@pytest.mark.parametrize("declared", ["(株)テストシステム", "ABCD株式会社", "テスト"])
def test_a_longer_name_is_not_a_conflict(declared):
    assert conflicts(reviewer(text=declared), application(name="株式会社ABC")) == []
    assert conflicts(reviewer(text=declared), application(name="株式会社テストシステムズ")) == []


def _parties(**kwargs) -> ApplicationParties:
    participants = (
        Party("特定非営利活動法人つなぐ", PartyRole.PARTNER),
        Party("一般社団法人まちづくり協会", PartyRole.MEMBER, corporate_number=NUMBER,
              organization_id=300),
        Party("伊達市", PartyRole.PARTNER, lg_code=DATE_FUKUSHIMA),
    )
    return ApplicationParties(1, 100, "株式会社ミライ", frozenset(), (),
                              organization_corporate_number="1000000000009",
                              participants=participants, **kwargs)


@pytest.mark.parametrize(
    ("someone", "en"),
    [
        (reviewer(text="NPO法人つなぐの理事"),
         "The reviewer's declaration names the partner “特定非営利活動法人つなぐ”."),
        (reviewer(text="(一社)まちづくり協会 会員"),
         "The reviewer's declaration names the consortium member “一般社団法人まちづくり協会”."),
        (reviewer(orgs=(300,)),
         "The reviewer declared an interest in the consortium member, 一般社団法人まちづくり協会."),
        (reviewer(text="法人番号 ３９９９９０５０００００１"),
         f"The reviewer's declaration gives the 法人番号 {NUMBER} of the consortium member "
         "“一般社団法人まちづくり協会”."),
        (reviewer(text="団体コード ０７２１３３ の委員"),
         f"The reviewer declared an interest in 伊達市 (福島県), code 072133, {TAKES_PART}"),
        (reviewer(codes=("０７２１３３",)),
         f"The reviewer declared an interest in 伊達市 (福島県), code 072133, {TAKES_PART}"),
        (reviewer(text="伊達市（福島県）の委員"),
         "The reviewer's declaration names the partner “伊達市 (福島県)”."),
    ],
    ids=["npo-partner", "member-name", "member-id", "member-number", "code-in-text",
         "full-width-code", "lg-with-prefecture"],
)
def test_every_party_is_matched_whatever_its_kind(someone, en):
    assert [r.en for r in conflicts(someone, _parties())] == [en]


def test_a_municipality_of_the_same_name_elsewhere_is_no_conflict():
    for text in ("伊達市（北海道）の委員", "北海道伊達市 参与", f"団体コード {DATE_HOKKAIDO}"):
        assert conflicts(reviewer(text=text), _parties()) == [], text
    assert conflicts(reviewer(codes=(DATE_HOKKAIDO,)), _parties()) == []
    assert conflicts(reviewer(org=9, code=DATE_HOKKAIDO), _parties()) == []
    # A bare 伊達市 does not say which: the safe side, with the prefecture shown to the officer.
    reasons = conflicts(reviewer(text="伊達市の委員"), _parties())
    assert [r.ja for r in reasons] == [
        "審査員の申告内容に連携団体「伊達市（福島県）」の名前があります。"]


def _staff(name: str, *, org=9, code=None, number=None) -> ReviewerProfile:
    return ReviewerProfile(1, org, code, frozenset(), frozenset(), "", organization_name=name,
                           organization_corporate_number=number)


@pytest.mark.parametrize(
    ("someone", "en"),
    [
        (_staff("NPO法人 つなぐ"),
         "The reviewer's organization, NPO法人 つなぐ, takes part as the partner "
         "“特定非営利活動法人つなぐ” (the same name, legal form aside)."),
        (_staff("まちづくり協会", number=NUMBER),
         "The reviewer's organization, まちづくり協会, takes part as the consortium member "
         "“一般社団法人まちづくり協会” (the same 法人番号)."),
        (_staff("一般社団法人まちづくり協会", org=300),
         "The reviewer's organization, 一般社団法人まちづくり協会, takes part as the consortium "
         "member “一般社団法人まちづくり協会” (the same registered organization)."),
        (_staff("伊達市", code=DATE_FUKUSHIMA),
         "The reviewer's organization (伊達市 (福島県), code 072133) takes part in this "
         "application."),
        (_staff("ミライ株式会社"),
         "The reviewer's organization, ミライ株式会社, is taken to be the applicant, "
         "株式会社ミライ (the same name, legal form aside)."),
    ],
    ids=["partner-by-name", "member-by-number", "member-by-id", "partner-lg-by-code", "applicant"],
)
def test_the_reviewers_organization_is_matched_against_every_party(someone, en):
    assert [r.en for r in conflicts(someone, _parties())] == [en]


@pytest.mark.parametrize(
    "someone",
    [
        _staff("株式会社ミライ", number="2000000000008"),  # another 法人番号: codes decide
        _staff("伊達市", code=DATE_HOKKAIDO),  # same name, another local government
        _staff("つなぐ工房"),
        _staff("まちづくり協会", number="2000000000008"),
    ],
    ids=["applicant-other-number", "other-date", "other-name", "member-other-number"],
)
def test_identifiers_on_both_sides_decide_over_names(someone):
    assert conflicts(someone, _parties()) == []


def test_a_partner_name_also_listed_as_a_participant_is_one_party():
    app = ApplicationParties(1, 100, "株式会社ミライ", frozenset(), ("NPO法人つなぐ",),
                             participants=(Party("特定非営利活動法人つなぐ"),))

    assert len(app.others) == 1
    assert len(conflicts(reviewer(text="つなぐ 理事"), app)) == 1


# --- plan_assignments --------------------------------------------------------------------------


def _apps(count: int) -> list[ApplicationParties]:
    return [application(i, org=100 + i, name=f"団体{i:02d}") for i in range(1, count + 1)]


def _pool(count: int) -> list[ReviewerProfile]:
    return [reviewer(i) for i in range(1, count + 1)]


def _check(plan, apps, pool, n, existing=None, excluded=None):
    """Every invariant a complete plan must hold."""
    existing, excluded = existing or {}, excluded or {}
    by_id = {r.id: r for r in pool}
    on = {a.id: set(existing.get(a.id, ())) for a in apps}
    for app_id, reviewer_id in plan.pairs:
        app = next(a for a in apps if a.id == app_id)
        assert conflicts(by_id[reviewer_id], app) == []
        assert reviewer_id not in set(excluded.get(app_id, ())) | on[app_id]
        on[app_id].add(reviewer_id)
    assert plan.complete and all(len(ids) == n for ids in on.values())
    assert plan.loads == {r.id: sum(r.id in ids for ids in on.values()) for r in pool}


def _spread(loads: dict[int, int]) -> int:
    return max(loads.values()) - min(loads.values()) if loads else 0


@pytest.mark.parametrize("reviewers", [3, 4, 7])
def test_ten_applications_two_reviewers_each_balanced_within_one(reviewers):
    apps, pool = _apps(10), _pool(reviewers)

    plan = plan_assignments(apps, pool, per_application=2)

    _check(plan, apps, pool, 2)
    assert len(plan.pairs) == 20 and _spread(plan.loads) <= 1


def test_conflicts_are_respected_and_loads_still_balanced():
    pool = [reviewer(1, org=101), reviewer(2, codes=(SAPPORO,)), reviewer(3), reviewer(4)]
    apps = [application(i, org=100 + i, codes=[SAPPORO] if i <= 5 else []) for i in range(1, 11)]

    plan = plan_assignments(apps, pool, per_application=2)

    _check(plan, apps, pool, 2)
    assert plan.loads == {1: 5, 2: 5, 3: 5, 4: 5}


def test_balance_needs_a_chain_of_moves():
    # Greedy alone gives 1: apps 1 and 3, 2: app 2, 3: nothing. No single move from 1 to 3
    # helps (3 may not take app 3); the chain "1 passes app 3 to 2, 2 passes app 2 to 3" does.
    apps = _apps(3)
    pool = [reviewer(1, orgs=(102,)), reviewer(2, orgs=(101,)), reviewer(3, orgs=(101, 103))]

    plan = plan_assignments(apps, pool, per_application=1)

    _check(plan, apps, pool, 1)
    assert plan.pairs == ((1, 1), (2, 3), (3, 2))


@pytest.mark.parametrize(
    ("conflicted", "loads"),
    [
        ({2: (101, 102, 103, 104), 3: (101, 102, 103, 104, 105)}, {1: 4, 2: 2, 3: 2}),
        ({3: (101, 102, 103, 104, 105, 106, 107, 108)}, {1: 4, 2: 4, 3: 0}),
    ],
)
def test_as_even_as_the_conflicts_allow(conflicted, loads):
    apps = _apps(8)
    pool = [reviewer(i, orgs=conflicted.get(i, ())) for i in (1, 2, 3)]

    plan = plan_assignments(apps, pool, per_application=1)

    _check(plan, apps, pool, 1)
    assert plan.loads == loads


def test_existing_assignments_count_toward_n_and_load():
    apps, pool = _apps(4), _pool(4)
    existing = {1: {1, 2}, 2: {1}, 3: {1}}

    plan = plan_assignments(apps, pool, per_application=2, existing=existing)

    _check(plan, apps, pool, 2, existing=existing)
    assert all(app_id != 1 for app_id, _ in plan.pairs)
    assert plan.loads[1] == 3 and sorted(plan.loads.values()) == [1, 2, 2, 3]


def test_declined_reviewers_are_never_chosen_again():
    apps, pool = _apps(3), _pool(3)
    excluded = {1: {1, 2}, 2: {2}}

    plan = plan_assignments(apps, pool, per_application=1, excluded=excluded)

    _check(plan, apps, pool, 1, excluded=excluded)
    assert (1, 3) in plan.pairs


SHORT = [reviewer(1, orgs=(101,)), reviewer(2, text="団体01")]  # both conflicted with app 1


@pytest.mark.parametrize(
    ("apps", "pool", "n", "existing", "excluded", "pairs", "shortfalls"),
    [
        (2, _pool(2), 3, {}, {}, [(1, 1), (1, 2), (2, 1), (2, 2)], [(1, 1, 2), (2, 1, 2)]),
        (2, SHORT, 2, {}, {}, [(2, 1), (2, 2)], [(1, 2, 0)]),
        # 1 is on it, 2 declined, 3 is added: one more still needed; 1 and 3 are eligible.
        (1, _pool(3), 3, {1: {1}}, {1: {2}}, [(1, 3)], [(1, 1, 2)]),
        (1, [], 1, {}, {}, [], [(1, 1, 0)]),
        (1, _pool(2), 2, {1: {99}}, {}, [(1, 1)], []),  # 99 left the pool: still counts
    ],
    ids=["pool-too-small", "all-conflicted", "existing-and-declined", "no-pool", "left-pool"],
)
def test_shortfalls(apps, pool, n, existing, excluded, pairs, shortfalls):
    plan = plan_assignments(
        _apps(apps), pool, per_application=n, existing=existing, excluded=excluded
    )

    assert plan.pairs == tuple(pairs)
    assert plan.shortfalls == tuple(Shortfall(*s) for s in shortfalls)
    assert plan.complete is not shortfalls and set(plan.loads) == {r.id for r in pool}


@pytest.mark.parametrize(
    ("n", "pool", "message"), [(0, _pool(1), "per_application"), (1, _pool(1) * 2, "twice")]
)
def test_bad_input_is_refused(n, pool, message):
    with pytest.raises(ValueError, match=message):
        plan_assignments(_apps(1), pool, per_application=n)


def test_same_input_same_plan_whatever_the_input_order():
    apps, pool = _apps(9), [*_pool(4), reviewer(5, text="団体02 団体05")]
    first = plan_assignments(apps, pool, per_application=2)

    again = plan_assignments(apps[::-1], pool[::-1], per_application=2)

    assert again == first == plan_assignments(apps, pool, per_application=2)


def test_random_pools_match_the_best_plan_found_by_brute_force():
    """A fixed-seed sweep standing in for a property test (hypothesis is not installed)."""
    rng = random.Random(20240401)
    for _ in range(300):
        apps = _apps(rng.randint(1, 6))
        pool = [
            reviewer(i, orgs=[a.organization_id for a in apps if rng.random() < 0.3])
            for i in range(1, rng.randint(1, 5) + 1)
        ]
        n = rng.randint(1, 2)

        plan = plan_assignments(apps, pool, per_application=n)

        eligible = {a.id: [r.id for r in pool if not conflicts(r, a)] for a in apps}
        for app in apps:
            got = [r for a, r in plan.pairs if a == app.id]
            assert len(got) == len(set(got)) == min(n, len(eligible[app.id]))
            assert set(got) <= set(eligible[app.id])
        assert plan.shortfalls == tuple(
            Shortfall(a, n - len(ids), len(ids)) for a, ids in eligible.items() if len(ids) < n
        )
        assert _spread(plan.loads) == _best_spread(eligible, [r.id for r in pool], n)


def _best_spread(eligible: dict[int, list[int]], pool: list[int], n: int) -> int:
    """The smallest max−min load over every possible plan."""
    options = [itertools.combinations(ids, min(n, len(ids))) for ids in eligible.values()]
    spreads = []
    for choice in itertools.product(*options):
        loads = dict.fromkeys(pool, 0)
        for r in itertools.chain.from_iterable(choice):
            loads[r] += 1
        spreads.append(_spread(loads))
    return min(spreads)
