"""Eligibility and requirements: the pre-check, and every rule of a program as findings.

Each rule kind is one pure function `(rule, program, data) -> list[Finding]`, dispatched from
the closed table `RULE_CHECKS`; budget rules live in `budget.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from grants.domain import budget, consortia
from grants.domain.application_data import ApplicationData
from grants.domain.conditions import answer_value, holds, matches, visibility
from grants.domain.definitions import (
    ChoiceField,
    FormField,
    MinLocalGovernmentsRule,
    Program,
    RequiredAnswerRule,
    RequiredAttachmentRule,
)
from grants.domain.findings import Finding, LocalizedText, Severity

RuleCheck = Callable[[Any, Program, ApplicationData], list[Finding]]
JUSTIFICATIONS_KEY: Final = "_justifications"  # field ids start with a letter


def check_min_local_governments(
    rule: MinLocalGovernmentsRule, program: Program, data: ApplicationData
) -> list[Finding]:
    """Enough distinct local governments (the lead included) must take part."""
    count = len(data.local_government_codes(program))
    if count >= rule.min:
        return []
    text = LocalizedText(
        f"参加する地方公共団体（申請団体を含む）は{rule.min}団体以上必要です"
        f"（現在 {count}団体。同じ団体は1団体として数えます）",
        f"At least {rule.min} distinct local governments (the lead included) must take part; "
        f"now {count} (one listed twice counts once).",
    )
    return [rule.finding(text, program.partners_field.id if program.partners_field else None)]


def check_required_attachment(
    rule: RequiredAttachmentRule, program: Program, data: ApplicationData
) -> list[Finding]:
    """At least one file must be uploaded in the rule's file field."""
    if data.attachment_count(rule.field) > 0:
        return []
    label = program.field(rule.field).label
    text = LocalizedText(f"「{label.ja}」の添付が必要です", f"“{label.en}” must be attached.")
    return [rule.finding(text, rule.field)]


def check_required_answer(
    rule: RequiredAnswerRule, program: Program, data: ApplicationData
) -> list[Finding]:
    """A requirement (要件): the field must be answered with the rule's value."""
    if matches(answer_value(rule.field, data, program), rule.equals):
        return []
    field = program.field(rule.field)
    value = value_words(program, field, rule.equals)
    text = LocalizedText(
        f"「{field.label.ja}」の回答は「{value.ja}」である必要があります",
        f"The answer to “{field.label.en}” must be “{value.en}”.",
    )
    return [rule.finding(text, rule.field)]


RULE_CHECKS: Final[Mapping[str, RuleCheck]] = MappingProxyType(
    {
        "min_local_governments": check_min_local_governments,
        "consortium_local_governments": consortia.check_consortium_local_governments,
        "required_attachment": check_required_attachment,
        "required_answer": check_required_answer,
        "amount_cap": budget.check_amount_cap,
        "category_share": budget.check_category_share,
        "forbidden_acquisition": budget.check_forbidden_acquisition,
    }
)


def precheck(program: Program, applicant_type: str, answers: Mapping[str, object]) -> list[Finding]:
    """Check whether an organization may start an application: its type (alone, or as the
    lead of a consortium), and the yes/no eligibility questions (`answers` maps question id to
    bool).

    Returns:
        The reasons it may not apply, in both languages; an empty list means it may apply.
    """
    findings = _applicant_type_findings(program, applicant_type, None)
    for question in program.eligibility_questions:
        answer = answers.get(question.id)
        if answer is None:
            message = LocalizedText(
                f"次の質問に回答してください：{question.question.ja}",
                f"Please answer: {question.question.en}",
            )
        elif answer is not question.required_answer:
            message = question.reason
        else:
            continue
        findings.append(
            Finding(question.id, "eligibility_question", Severity.ERROR, message, question.id)
        )
    return findings


def evaluate(program: Program, data: ApplicationData) -> list[Finding]:
    """Evaluate an application: applicant type (alone, or as a consortium's lead when members
    are listed), required visible fields, then every rule in order (a rule whose `when` is
    false is skipped). Answers of hidden fields are ignored.

    Returns:
        Every finding; those with severity ERROR block submission.
    """
    shown, data = visibility(program, data)
    findings = _applicant_type_findings(program, data.applicant_type, data)
    for field in program.all_fields():
        if field.required and field.id in shown and _unanswered(field, data):
            findings.append(_required_finding(field))
    findings += _period_findings(program, data)
    for rule in program.rules:
        if rule.when is None or holds(rule.when, data, program):
            findings += RULE_CHECKS[rule.kind](rule, program, data)
    return [finding.justified_by(justifications(data)) for finding in findings]


def justifications(data: ApplicationData) -> dict[str, object]:
    """The applicant's written reasons for exceptions to rules "in principle", by rule id; kept
    in the answers under a key no field id can take, so the snapshot freezes them."""
    stored = data.answers.get(JUSTIFICATIONS_KEY)
    return dict(stored) if isinstance(stored, dict) else {}


def _period_findings(program: Program, data: ApplicationData) -> list[Finding]:
    """A period cannot end before it starts: each date field `<x>_end` is checked against
    `<x>_start` (every program names its project period `period_start` / `period_end`).
    Hidden fields' answers are already dropped from `data`."""
    fields = {field.id: field for field in program.all_fields() if field.kind == "date"}
    findings = []
    for end in (f for f in fields.values() if f.id.endswith("_end")):
        start = fields.get(end.id.removesuffix("_end") + "_start")
        start_value = data.answers.get(start.id) if start else None
        end_value = data.answers.get(end.id)
        if start and start_value and end_value and str(end_value) < str(start_value):
            text = LocalizedText(  # ISO dates (YYYY-MM-DD) order as text
                f"「{end.label.ja}」は「{start.label.ja}」以降の日付にしてください",
                f"“{end.label.en}” cannot be before “{start.label.en}”.",
            )
            findings.append(
                Finding(f"date_order-{end.id}", "date_order", Severity.ERROR, text, end.id)
            )
    return findings


def _applicant_type_findings(
    program: Program, applicant_type: str, data: ApplicationData | None
) -> list[Finding]:
    problem = consortia.applicant_type_problem(program, applicant_type, data)
    return [] if problem is None else [problem]


def _required_finding(field: FormField) -> Finding:
    label = field.label
    text = LocalizedText(f"「{label.ja}」は必須です", f"“{label.en}” is required.")
    return Finding(f"required_field-{field.id}", "required_field", Severity.ERROR, text, field.id)


def _unanswered(field: FormField, data: ApplicationData) -> bool:
    if field.kind == "file":
        return data.attachment_count(field.id) == 0
    value = data.answers.get(field.id)
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not value
    return value is None


def value_words(program: Program, field: FormField, value: object) -> LocalizedText:
    """Show a rule's expected value as the applicant sees it (はい/いいえ, a choice's label)."""
    if isinstance(value, bool):
        return LocalizedText("はい", "Yes") if value else LocalizedText("いいえ", "No")
    if isinstance(field, ChoiceField):
        for choice in program.choices(field):
            if choice.value == value:
                return choice.label
    return LocalizedText(str(value), str(value))
