"""Consortium applications (連携主体): who may lead one, members as typed, the rule "a consortium
must include at least N local governments" at its boundaries, and the shipped ユビキタスタウン."""

from __future__ import annotations

import pytest

from grants.config import PACKAGE_ROOT
from grants.domain.consortia import (
    consortium_summary,
    member_problems,
    member_row,
    only_as_lead,
)
from grants.domain.definitions import load_program_file
from grants.domain.describe import describe
from grants.domain.eligibility import evaluate, precheck
from grants.domain.errors import DefinitionErrors
from grants.domain.identifiers import corporate_number
from grants.domain.signals import compute

TOWN = "072133"  # 福島県 伊達市
CITY = "011002"  # 北海道 札幌市 (the default lead of the `application` fixture)
WARD = "011011"  # 札幌市中央区: a designated-city ward, not a local government
NUMBER = corporate_number("999901000002")  # 6999901000002
RULE = "consortium-includes-a-local-government"

CONSORTIUM = """\
applicant_types: [local_government]
consortium:
  leads: [local_government, third_sector, npo, other]
steps:
  - id: members
    title: {{ja: 構成員, en: Members}}
    fields:
      - id: members
        kind: consortium
        label: {{ja: コンソーシアムの構成員, en: Consortium members}}
rules:
  - id: consortium-includes-a-local-government
    kind: consortium_local_governments
    min: {n}
"""


@pytest.fixture
def program(parse):
    return parse(CONSORTIUM.format(n=1))


@pytest.fixture
def two(parse):
    return parse(CONSORTIUM.format(n=2))


def lg(code):
    return {"kind": "local_government", "code": code, "name": f"団体{code}", "role": ""}


def npo(name="特定非営利活動法人 まちネット"):
    return {"kind": "npo", "code": NUMBER, "name": name, "role": "運営"}


def _npo_lead(application, *members):
    return application(applicant_type="npo", lead=None, members=list(members))


def _rule(findings):
    return [f for f in findings if f.rule_id == RULE]


# --- the rule at its boundary (N = 1) ----------------------------------------------------------


def test_npo_consortium_without_a_local_government_is_refused(program, application):
    [finding] = evaluate(program, _npo_lead(application, npo()))

    assert (finding.rule_id, finding.kind, finding.field) == (
        RULE, "consortium_local_governments", "members")
    assert finding.blocking
    assert finding.message.ja == (
        "コンソーシアムには地方公共団体（代表団体を含む）が1団体以上"
        "含まれている必要があります（現在 0団体。同じ団体は1団体として数えます）"
    )
    assert finding.message.en == ("A consortium must include at least 1 local government (the "
                                  "lead included); now 0 (one listed twice counts once).")


def test_npo_consortium_with_one_local_government_passes(program, application):
    assert evaluate(program, _npo_lead(application, npo(), lg(TOWN))) == []


def test_a_local_government_may_apply_alone(program, application):
    assert evaluate(program, application(members=[])) == []
    assert evaluate(program, application()) == []


def test_a_local_government_lead_counts_for_its_consortium(program, application):
    assert evaluate(program, application(members=[npo()])) == []


def test_an_npo_alone_is_told_to_apply_as_a_consortium(program, application):
    [finding] = evaluate(program, _npo_lead(application))

    assert (finding.kind, finding.field) == ("applicant_type", "members")
    assert finding.message.ja.startswith("NPO法人は単独では申請できません。")
    assert "「コンソーシアムの構成員」に構成員を入力してください" in finding.message.ja
    assert finding.message.en.startswith("NPOs cannot apply alone: apply as the lead")


def test_a_type_that_may_not_lead_is_refused_even_with_members(parse, application):
    program = parse(CONSORTIUM.format(n=1).replace(
        "leads: [local_government, third_sector, npo, other]", "leads: [npo]"))

    [finding] = evaluate(program, application(applicant_type="other", lead=None,
                                              members=[lg(TOWN)]))

    assert finding.kind == "applicant_type" and finding.field is None
    assert "代表団体になれるのはNPO法人です" in finding.message.ja
    assert "NPOs may apply as the lead of a consortium" in finding.message.en


# --- counting: duplicates and codes that name nobody -------------------------------------------


def test_same_code_twice_counts_once(two, application):
    [finding] = _rule(evaluate(two, _npo_lead(application, lg(TOWN), lg(TOWN), npo())))

    assert "現在 1団体" in finding.message.ja and "now 1" in finding.message.en


def test_the_lead_listed_again_counts_once(two, application):
    assert len(_rule(evaluate(two, application(members=[lg(CITY)])))) == 1
    assert _rule(evaluate(two, application(members=[lg(CITY), lg(TOWN)]))) == []


@pytest.mark.parametrize("code", ["072134", WARD, "０７２１３３", "12345", None])
def test_a_code_that_names_no_local_government_does_not_count(program, application, code):
    # Stored codes are canonical (the form normalizes); anything else names nobody.
    assert len(_rule(evaluate(program, _npo_lead(application, lg(code))))) == 1


def test_a_code_on_a_non_government_row_does_not_count(program, application):
    row = {**npo(), "code": TOWN}
    assert len(_rule(evaluate(program, _npo_lead(application, row)))) == 1


def test_the_rule_when_is_honoured(parse, application):
    program = parse(CONSORTIUM.format(n=1) + "    when: {applicant_type: [third_sector]}\n")

    assert evaluate(program, _npo_lead(application, npo())) == []
    assert len(evaluate(program, application(applicant_type="third_sector", lead=None,
                                             members=[npo()]))) == 1


# --- members as typed --------------------------------------------------------------------------


@pytest.mark.parametrize("code", [TOWN, "０７２１３３", " 072133\u3000"])
def test_a_local_government_is_accepted_with_full_width_digits(code):
    assert member_problems("local_government", code, "") == {}
    assert member_row("local_government", code, "typed name ignored", " 事業主体 ") == {
        "kind": "local_government", "code": TOWN, "name": "伊達市", "role": "事業主体"}


def test_a_local_government_with_a_bad_check_digit_is_refused_at_entry():
    problems = member_problems("local_government", "０７２１３４", "")

    assert list(problems) == ["code"]
    assert problems["code"].ja == ("072134 は検査数字（6桁目）が合いません。"
                                   "入力に誤りがないか確認してください。")


@pytest.mark.parametrize(("code", "ja"), [
    ("", "団体コード（6桁）を入力してください。"),
    (WARD, "札幌市中央区は行政区のため参加団体になれません。札幌市（011002）を指定してください。"),
    ("7213", "団体コードは6桁の数字で入力してください（入力: 「7213」）。"),
])
def test_a_local_government_code_that_names_nobody_is_refused(code, ja):
    assert member_problems("local_government", code, "")["code"].ja == ja


@pytest.mark.parametrize("kind", ["corporation", "npo"])
def test_a_corporation_number_is_checked_by_its_check_digit(kind):
    wide = NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert member_problems(kind, wide, "株式会社テスト") == {}
    assert member_row(kind, wide, " 株式会社テスト ", "")["code"] == NUMBER

    bad = member_problems(kind, "７" + NUMBER[1:], "株式会社テスト")

    assert list(bad) == ["code"]
    assert bad["code"].ja.startswith("7999901000002 は法人番号の検査数字（1桁目）が合いません")
    assert "wrong check digit" in bad["code"].en


@pytest.mark.parametrize(("code", "needle"), [
    ("", "法人番号（13桁）を入力してください。"),
    ("699990100000", "13桁の数字で入力してください（入力：「699990100000」）"),
    ("x" * 300, "（入力：「" + "x" * 20 + "…」）"),
])
def test_a_corporation_needs_a_well_formed_number(code, needle):
    assert needle in member_problems("corporation", code, "株式会社テスト")["code"].ja


def test_another_body_may_have_no_number_but_not_a_wrong_one():
    assert member_problems("other", "", "まちづくり協議会") == {}
    assert member_row("other", "", "まちづくり協議会", "")["code"] is None
    assert list(member_problems("other", "1234", "まちづくり協議会")) == ["code"]


def test_a_member_other_than_a_local_government_needs_a_name():
    assert list(member_problems("npo", NUMBER, "  ")) == ["name"]


def test_an_unknown_kind_is_refused():
    assert list(member_problems("third_sector", NUMBER, "x")) == ["kind"]


# --- pre-check, call page, check page, signals -------------------------------------------------


def test_precheck_lets_a_lead_start_and_says_it_must_lead_a_consortium(program):
    assert precheck(program, "npo", {}) == []
    assert [t.ja for t in only_as_lead(program, "npo")] == [
        "NPO法人は、コンソーシアム（連携主体）の代表団体としてのみ申請できます。",
        "コンソーシアムには地方公共団体（代表団体を含む）が1団体以上含まれている必要があります。",
    ]
    assert only_as_lead(program, "local_government") == []


def test_call_page_says_who_may_lead_and_the_rule(program):
    sentences = describe(program)

    assert sentences[0].ja == "単独で申請できるのは地方公共団体です。"
    assert sentences[0].en == "Who may apply alone: a local government."
    assert "代表団体になれるのは地方公共団体、第3セクター、NPO法人、その他の団体" in sentences[1].ja
    assert sentences[2].en == (
        "A consortium must include at least 1 local government (the lead included).")


def test_check_page_summary_says_whether_the_rule_is_met(program, application):
    met = consortium_summary(program, _npo_lead(application, npo(), lg(TOWN), lg(TOWN)))
    missed = consortium_summary(program, _npo_lead(application, npo()))
    alone = consortium_summary(program, application())

    assert met[0].ja == ("代表団体（申請者）と構成員3団体のコンソーシアムとして申請します。"
                         "地方公共団体は1団体です（代表団体を含む。同じ団体は1団体として数えます）。")
    assert met[1].ja.startswith("満たしています：コンソーシアムには")
    assert met[1].en == (
        "Met: A consortium must include at least 1 local government (the lead included).")
    assert missed[1].en.startswith("Not met: ")
    assert [t.en for t in alone] == ["No consortium member is listed: the lead applies alone."]


def test_signals_count_consortium_members(program, application):
    data = _npo_lead(application, npo(), lg(TOWN), {**npo("株式会社テスト"), "kind": "corporation"})

    assert compute("local_governments", program, data).raw == 1
    assert compute("partner_kinds", program, data).raw == {
        "corporation": 1, "local_government": 1, "npo": 1}
    assert "法人（企業・第3セクター等） 1" in compute("partner_kinds", program, data).value.ja


# --- schema ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("edit", "message"), [
    (("min: 1", "min: 0"), "rules[0].min: must be at least 1 (got 0)"),
    (("kind: consortium\n", "kind: partners\n"),
     "rules[0].kind: a rule of kind consortium_local_governments needs a consortium field"),
    (("consortium:\n  leads: [local_government, third_sector, npo, other]\n", ""),
     "steps[0].fields[0].kind: a consortium field needs a `consortium` section"),
    (("leads: [local_government, third_sector, npo, other]", "leads: []"),
     "consortium.leads: "),
])
def test_malformed_consortia_are_refused_with_their_line(parse, edit, message):
    body = CONSORTIUM.format(n=1).replace(*edit)

    with pytest.raises(DefinitionErrors) as raised:
        parse(body)

    assert any(message in str(e) for e in raised.value.errors), raised.value.errors


def test_only_one_consortium_field(parse):
    body = CONSORTIUM.format(n=1).replace("rules:", """\
      - id: more
        kind: consortium
        label: {ja: 追加, en: More}
rules:""")

    with pytest.raises(DefinitionErrors, match="only one consortium field is allowed"):
        parse(body)


def test_ubiquitous_town_allows_consortia_that_include_a_local_government():
    path = PACKAGE_ROOT / "programs" / "ubiquitous-town-2009.yaml"
    program = load_program_file(path)
    text = path.read_text(encoding="utf-8")

    assert program.applicant_types == ("local_government",)
    assert set(program.consortium.leads) == {"local_government", "third_sector", "npo", "other"}
    [rule] = [r for r in program.rules if r.kind == "consortium_local_governments"]
    assert (rule.id, rule.min, program.consortium_field.id) == (RULE, 1, "consortium")
    quote = "「地方公共団体（NPOなどのコンソーシアム等も含む）」"
    assert quote in text[text.rindex("\n", 0, text.index(f"id: {RULE}")) - 200:]
    assert program.partners_field is None
