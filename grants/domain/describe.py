"""Plain-language sentences for a call's page, generated from the program definition.

Generated, not written by hand, so the page cannot drift from the rules the app enforces.
"""

from __future__ import annotations

from collections.abc import Sequence

from grants.domain import consortia
from grants.domain.application_data import ORG_TYPE_LABELS
from grants.domain.budget import (
    acquisition_words,
    category_titles,
    forbidden_scope,
    join_en,
    share_en,
    share_ja,
    yen,
    yen_ja,
)
from grants.domain.conditions import Condition
from grants.domain.definitions import (
    AmountCapRule,
    CapCase,
    CategoryShareRule,
    ConsortiumLocalGovernmentsRule,
    ForbiddenAcquisitionRule,
    MinLocalGovernmentsRule,
    Program,
    RequiredAnswerRule,
    RequiredAttachmentRule,
    Rule,
)
from grants.domain.eligibility import value_words
from grants.domain.findings import LocalizedText, Severity

_ORG_EN = {  # singular, for "the applicant is ..." (ORG_TYPE_LABELS are plural in English)
    "local_government": "a local government",
    "third_sector": "a third-sector company",
    "npo": "an NPO",
    "other": "another organization",
}


def describe(program: Program) -> list[LocalizedText]:
    """Return sentences for the call page: who may apply (alone, and as a consortium's lead),
    the amounts (caps by case), the budget rules, required attachments and answers, the minimum
    of local governments, and a note when the settings are examples.
    """
    who = [t.value for t in program.applicant_types]
    lead = list(consortia.leads(program))
    alone = ("単独で", " alone") if lead else ("", "")
    sentences = [
        LocalizedText(
            f"{alone[0]}申請できるのは{'、'.join(ORG_TYPE_LABELS[t].ja for t in who)}です。",
            f"Who may apply{alone[1]}: {join_en([_ORG_EN[t] for t in who], 'or')}.",
        )
    ]
    if lead:
        sentences.append(
            LocalizedText(
                "コンソーシアム（連携主体）として申請することもできます。代表団体になれるのは"
                f"{'、'.join(ORG_TYPE_LABELS[t].ja for t in lead)}で、構成員を申請書に記入します。",
                "A consortium (連携主体) may also apply: its lead, listing the members in the "
                f"application, is {join_en([_ORG_EN[t] for t in lead], 'or')}.",
            )
        )
    for rule in program.rules:
        for sentence in _describe_rule(program, rule):
            sentences.append(_with_severity(rule, _with_when(program, rule.when, sentence)))
    if program.example_settings:
        sentences.append(
            program.example_note
            or LocalizedText(
                "この公募の日程・金額の一部は例示です。",
                "Some dates and amounts of this call are examples.",
            )
        )
    return sentences


def _describe_rule(program: Program, rule: Rule) -> list[LocalizedText]:
    if isinstance(rule, AmountCapRule):
        return _describe_caps(program, rule)
    if isinstance(rule, CategoryShareRule):
        cats_ja, cats_en = category_titles(program, rule.categories)
        if rule.acquisition_types:
            acq_ja, acq_en = acquisition_words(rule.acquisition_types)
            cats_ja, cats_en = f"{cats_ja}（{acq_ja}）", f"{cats_en} ({acq_en})"
        bound_ja, bound_en = ("未満", "less than") if rule.strict else ("以下", "at most")
        share = rule.max_share
        return [
            LocalizedText(
                f"{cats_ja}の合計は申請額の{share_ja(share)}{bound_ja}でなければなりません。",
                f"The total of {cats_en} must be {bound_en} {share_en(share)} of the request.",
            )
        ]
    if isinstance(rule, ForbiddenAcquisitionRule):
        cats_ja, cats_en = forbidden_scope(program, rule)
        acq_ja, acq_en = acquisition_words(rule.acquisition_types, last="or")
        return [
            LocalizedText(
                f"{cats_ja}の{acq_ja}は認められません。",
                f"{acq_en.capitalize()} is not allowed for {cats_en}.",
            )
        ]
    return [_describe_requirement(program, rule)]


def _describe_requirement(program: Program, rule: Rule) -> LocalizedText:
    if isinstance(rule, ConsortiumLocalGovernmentsRule):
        return consortia.requirement_sentence(rule)
    if isinstance(rule, MinLocalGovernmentsRule):
        return LocalizedText(
            f"{rule.min}団体以上の地方公共団体（申請団体を含む）の参加が必要です。",
            f"At least {rule.min} local governments (the lead included) must take part.",
        )
    if isinstance(rule, RequiredAttachmentRule):
        label = program.field(rule.field).label
        return LocalizedText(f"「{label.ja}」の添付が必要です。", f"“{label.en}” must be attached.")
    if not isinstance(rule, RequiredAnswerRule):  # the closed set of rule kinds ends here
        raise TypeError(f"no description for rule kind {rule.kind!r}")
    field = program.field(rule.field)
    value = value_words(program, field, rule.equals)
    return LocalizedText(
        f"「{field.label.ja}」の回答は「{value.ja}」である必要があります。",
        f"The answer to “{field.label.en}” must be “{value.en}”.",
    )


def _describe_caps(program: Program, rule: AmountCapRule) -> list[LocalizedText]:
    sentences = []
    for case in rule.cases:
        amount = _cap_words(program, case)
        if case.when is not None:
            cond = describe_condition(program, case.when)
            text = LocalizedText(
                f"{cond.ja}の場合、申請額の上限は{amount.ja}です。",
                f"If {cond.en}, the request may be at most {amount.en}.",
            )
        elif len(rule.cases) > 1:
            text = LocalizedText(
                f"それ以外の場合、申請額の上限は{amount.ja}です。",
                f"Otherwise, the request may be at most {amount.en}.",
            )
        else:
            text = LocalizedText(
                f"申請額の上限は{amount.ja}です。", f"The request may be at most {amount.en}."
            )
        sentences.append(text)
    return sentences


def _cap_words(program: Program, case: CapCase) -> LocalizedText:
    if case.amount_yen is not None:
        return LocalizedText(
            f" {yen(case.amount_yen)}（{yen_ja(case.amount_yen)}）", yen(case.amount_yen)
        )
    per_unit, unit = case.per_unit_yen or 0, case.unit_label or LocalizedText("単位", "unit")
    label = program.field(case.unit_field or "").label
    return LocalizedText(
        f"1{unit.ja}あたり {yen(per_unit)}（{yen_ja(per_unit)}）×「{label.ja}」",
        f"{yen(per_unit)} per {unit.en} × “{label.en}”",
    )


def describe_condition(program: Program, condition: Condition) -> LocalizedText:
    """Say a condition in words: `「案件区分」が「教育」` / `“Track” is “Education”`."""
    form = condition.form
    if form in ("all", "any"):
        parts = [describe_condition(program, c) for c in (condition.all or condition.any or ())]
        ja_word, en_word = ("かつ", "and") if form == "all" else ("または", "or")
        return LocalizedText(ja_word.join(p.ja for p in parts), _join(parts, en_word))
    if form == "not" and condition.not_ is not None:
        inner = describe_condition(program, condition.not_)
        return LocalizedText(f"（{inner.ja}）でない", f"it is not true that {inner.en}")
    if form == "applicant_type":
        types = [t.value for t in condition.applicant_type or ()]
        return LocalizedText(
            f"申請者が{'または'.join(ORG_TYPE_LABELS[t].ja for t in types)}",
            f"the applicant is {join_en([_ORG_EN[t] for t in types], 'or')}",
        )
    if form == "local_governments_at_least":
        n = condition.local_governments_at_least
        return LocalizedText(
            f"参加する地方公共団体が{n}団体以上", f"at least {n} local governments take part"
        )
    field = program.field(condition.field or "")
    label = field.label
    if form == "at_least":
        n = condition.at_least
        return LocalizedText(f"「{label.ja}」が{n}以上", f"“{label.en}” is at least {n}")
    values = [condition.equals] if form == "equals" else list(condition.in_ or ())
    words = [value_words(program, field, value) for value in values]
    if len(words) == 1:
        return LocalizedText(
            f"「{label.ja}」が「{words[0].ja}」", f"“{label.en}” is “{words[0].en}”"
        )
    return LocalizedText(
        f"「{label.ja}」が{''.join(f'「{w.ja}」' for w in words)}のいずれか",
        f"“{label.en}” is one of {', '.join(f'“{w.en}”' for w in words)}",
    )


def _join(parts: Sequence[LocalizedText], word: str) -> str:
    return f" {word} ".join(p.en for p in parts)


def _with_when(program: Program, when: Condition | None, text: LocalizedText) -> LocalizedText:
    if when is None:
        return text
    cond = describe_condition(program, when)
    return LocalizedText(f"{cond.ja}の場合、{text.ja}", f"If {cond.en}, {_lower_first(text.en)}")


def _lower_first(sentence: str) -> str:
    """Lower-case a sentence's first word when it follows "If ...,", keeping acronyms (ICT)."""
    if len(sentence) > 1 and sentence[0].isupper() and sentence[1].islower():
        return sentence[0].lower() + sentence[1:]
    return sentence


def _with_severity(rule: Rule, text: LocalizedText) -> LocalizedText:
    if rule.severity is Severity.ERROR:
        return text
    if rule.severity is Severity.PRINCIPLE:
        return LocalizedText(
            f"原則として、{text.ja.removesuffix('。')}（例外とする場合は、申請時に理由の記入が必要です）。",
            f"As a rule: {_lower_first(text.en)} (An exception needs a written justification "
            "when applying.)",
        )
    return LocalizedText(
        f"{text.ja}（目安：満たさなくても申請はできます）",
        f"{text.en} (A guideline: applications that miss it can still be submitted.)",
    )
