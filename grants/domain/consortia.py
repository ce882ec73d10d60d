"""Consortium applications (連携主体): who may lead one, its members as typed, and its rule.

A lead organization applies on behalf of a consortium whose members it lists in the program's
consortium field; an application listing no member is made by the lead alone. Members are
checked as they are entered (`member_problems`, `member_row`): a local government by its
全国地方公共団体コード, a corporation or an NPO by its 法人番号, each with its check digit.
"""

from __future__ import annotations

from grants.domain import localgov
from grants.domain.application_data import (
    MEMBER_KIND_LABELS,
    ORG_TYPE_LABELS,
    ApplicationData,
    MemberKind,
)
from grants.domain.budget import join_en
from grants.domain.conditions import holds, visibility
from grants.domain.definitions import ConsortiumLocalGovernmentsRule, Program
from grants.domain.findings import Finding, LocalizedText, Severity
from grants.domain.identifiers import IdentifierProblem, normalize, parse_corporate_number

_NUMBERED = (MemberKind.CORPORATION, MemberKind.NPO)  # must give a 法人番号
_SHOWN_CHARS = 20  # of a malformed identifier quoted back


def is_consortium(program: Program, data: ApplicationData) -> bool:
    """True when the application lists consortium members: the lead applies for a consortium."""
    return bool(data.consortium_members(program))


def leads(program: Program) -> tuple[str, ...]:
    """The organization types that may apply as the lead of a consortium (none: no consortia)."""
    return tuple(program.consortium.leads) if program.consortium else ()


# --- members as typed --------------------------------------------------------------------------


def member_problems(kind: str, code: str | None, name: str | None) -> dict[str, LocalizedText]:
    """Why a member row as typed cannot be kept, by column (`kind`, `code`, `name`); empty
    when it can. Full-width digits and pasted spaces are fine (`identifiers.normalize`)."""
    if kind not in MEMBER_KIND_LABELS:
        return {"kind": LocalizedText("種別を選んでください。", "Choose the member's type.")}
    if kind == MemberKind.LOCAL_GOVERNMENT:
        if not normalize(code):
            text = LocalizedText("団体コード（6桁）を入力してください。",
                                 "Enter the local government code (6 digits).")
            return {"code": text}
        result = localgov.lookup(code or "")
        return {} if result.ok else {"code": result.message}
    problems = {}
    if kind in _NUMBERED or normalize(code):
        problem = _corporate_number_problem(code)
        if problem is not None:
            problems["code"] = problem
    if not (name or "").strip():
        problems["name"] = LocalizedText("団体の名称を入力してください。",
                                         "Enter the organization's name.")
    return problems


def _corporate_number_problem(code: str | None) -> LocalizedText | None:
    parsed = parse_corporate_number(code)
    if parsed is IdentifierProblem.EMPTY:
        return LocalizedText("法人番号（13桁）を入力してください。",
                             "Enter the 法人番号 (13 digits).")
    if parsed is IdentifierProblem.MALFORMED:
        typed = normalize(code)
        shown = typed if len(typed) <= _SHOWN_CHARS else typed[:_SHOWN_CHARS] + "…"
        return LocalizedText(f"法人番号は13桁の数字で入力してください（入力：「{shown}」）。",
                             f"A 法人番号 has 13 digits (got “{shown}”).")
    if parsed is IdentifierProblem.CHECK_DIGIT:
        number = normalize(code)
        return LocalizedText(
            f"{number} は法人番号の検査数字（1桁目）が合いません。"
            "入力に誤りがないか確認してください。",
            f"{number} has a wrong check digit (the first digit) for a 法人番号. "
            "Please check it for typos.",
        )
    return None


def member_row(
    kind: str, code: str | None, name: str | None, role: str | None
) -> dict[str, object]:
    """The member as stored in the answers: `code` canonical (the 全国地方公共団体コード or the
    法人番号, None for a body without one); a local government's name from the MIC list.
    Call it only for a row `member_problems` accepts."""
    typed_name, kept_role = (name or "").strip(), (role or "").strip()
    if kind == MemberKind.LOCAL_GOVERNMENT:
        number = normalize(code)
        government = localgov.get(number)
        return {"kind": kind, "code": number,
                "name": government.name if government else number, "role": kept_role}
    number = parse_corporate_number(code)
    return {"kind": kind, "code": None if isinstance(number, IdentifierProblem) else number,
            "name": typed_name, "role": kept_role}


# --- who may apply -----------------------------------------------------------------------------


def applicant_type_problem(
    program: Program, applicant_type: str, data: ApplicationData | None
) -> Finding | None:
    """Whether the applicant may apply: alone when its type is in `applicant_types`, as a
    consortium's lead when it is in `consortium.leads`. Without `data` (the pre-check, before
    any member is listed), either will do."""
    consortium = data is not None and is_consortium(program, data)
    if data is None:
        allowed = (*program.applicant_types, *leads(program))
    else:
        allowed = leads(program) if consortium else program.applicant_types
    if applicant_type in allowed:
        return None
    own = ORG_TYPE_LABELS.get(applicant_type, LocalizedText(applicant_type, applicant_type))
    field = program.consortium_field
    if data is not None and not consortium and applicant_type in leads(program) and field:
        text = LocalizedText(
            f"{own.ja}は単独では申請できません。コンソーシアム（連携主体）の代表団体として、"
            f"「{field.label.ja}」に構成員を入力してください。",
            f"{_upper_first(own.en)} cannot apply alone: apply as the lead of a consortium "
            f"(連携主体) by listing its members under “{field.label.en}”.",
        )
        return Finding("applicant_type", "applicant_type", Severity.ERROR, text, field.id)
    text = _who_may_apply(program, own)
    return Finding("applicant_type", "applicant_type", Severity.ERROR, text, None)


def _who_may_apply(program: Program, own: LocalizedText) -> LocalizedText:
    alone = [ORG_TYPE_LABELS[t] for t in program.applicant_types]
    ja = f"この公募に申請できるのは{'、'.join(t.ja for t in alone)}です"
    en = f"Only {join_en([t.en for t in alone], 'or')} may apply to this call"
    if program.consortium:
        lead = [ORG_TYPE_LABELS[t] for t in program.consortium.leads]
        names = "、".join(t.ja for t in lead)
        ja += f"。コンソーシアム（連携主体）の代表団体になれるのは{names}です"
        en += (f"; {join_en([t.en for t in lead], 'or')} may apply as the lead of a "
               "consortium (連携主体)")
    return LocalizedText(f"{ja}（申請者の種別：{own.ja}）",
                         f"{en} (the applicant is registered as: {own.en}).")


def only_as_lead(program: Program, applicant_type: str) -> list[LocalizedText]:
    """For the pre-check: what an organization that may apply only as a consortium's lead must
    know (empty for one that may apply alone, or not at all)."""
    if applicant_type in program.applicant_types or applicant_type not in leads(program):
        return []
    own = ORG_TYPE_LABELS[applicant_type]
    first = LocalizedText(
        f"{own.ja}は、コンソーシアム（連携主体）の代表団体としてのみ申請できます。",
        f"{_upper_first(own.en)} may apply only as the lead of a consortium (連携主体), listing "
        "its members.",
    )
    rules = [r for r in program.rules if isinstance(r, ConsortiumLocalGovernmentsRule)]
    return [first, *(requirement_sentence(rule) for rule in rules)]


# --- the rule ----------------------------------------------------------------------------------


def requirement(rule: ConsortiumLocalGovernmentsRule) -> LocalizedText:
    """The rule in words, without a full stop (the call page, findings and the summary)."""
    plural = "s" if rule.min > 1 else ""
    return LocalizedText(
        f"コンソーシアムには地方公共団体（代表団体を含む）が{rule.min}団体以上含まれている必要があります",
        f"A consortium must include at least {rule.min} local government{plural} (the lead "
        "included)",
    )


def requirement_sentence(rule: ConsortiumLocalGovernmentsRule) -> LocalizedText:
    """The rule in words, as a sentence."""
    words = requirement(rule)
    return LocalizedText(f"{words.ja}。", f"{words.en}.")


def check_consortium_local_governments(
    rule: ConsortiumLocalGovernmentsRule, program: Program, data: ApplicationData
) -> list[Finding]:
    """A consortium application counts the distinct local governments among its lead and
    members (a code listed twice counts once); an application by the lead alone is not a
    consortium, so the rule says nothing of it (`applicant_types` governs that)."""
    if not is_consortium(program, data):
        return []
    count = len(data.consortium_local_government_codes(program))
    if count >= rule.min:
        return []
    words = requirement(rule)
    text = LocalizedText(
        f"{words.ja}（現在 {count}団体。同じ団体は1団体として数えます）",
        f"{words.en}; now {count} (one listed twice counts once).",
    )
    field = program.consortium_field
    return [rule.finding(text, field.id if field else None)]


def consortium_summary(program: Program, data: ApplicationData) -> list[LocalizedText]:
    """Sentences for the check page: alone or as a consortium, how many local governments it
    counts, and whether each consortium rule that applies is met. Empty for a program without
    a consortium field."""
    if program.consortium_field is None:
        return []
    data = visibility(program, data).data
    members = data.consortium_members(program)
    if not members:
        return [LocalizedText("コンソーシアムの構成員は入力されていません（単独での申請です）。",
                              "No consortium member is listed: the lead applies alone.")]
    count = len(data.consortium_local_government_codes(program))
    sentences = [LocalizedText(
        f"代表団体（申請者）と構成員{len(members)}団体のコンソーシアムとして申請します。"
        f"地方公共団体は{count}団体です（代表団体を含む。同じ団体は1団体として数えます）。",
        f"The lead applies for a consortium of {len(members)} listed member(s); local "
        f"governments: {count} (the lead included; one listed twice counts once).",
    )]
    for rule in program.rules:
        if not isinstance(rule, ConsortiumLocalGovernmentsRule):
            continue
        if rule.when is not None and not holds(rule.when, data, program):
            continue
        words = requirement(rule)
        if check_consortium_local_governments(rule, program, data):
            state = LocalizedText("満たしていません", "Not met")
        else:
            state = LocalizedText("満たしています", "Met")
        sentences.append(LocalizedText(f"{state.ja}：{words.ja}。", f"{state.en}: {words.en}."))
    return sentences


def _upper_first(words: str) -> str:
    """Start a sentence with a capital, keeping the rest ("NPOs", not "Npos")."""
    return words[:1].upper() + words[1:]
