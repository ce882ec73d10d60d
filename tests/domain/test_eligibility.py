"""Eligibility: the pre-check, required fields, and the non-budget rules."""

from __future__ import annotations

import json

from grants.domain.definitions import RULE_KINDS
from grants.domain.eligibility import RULE_CHECKS, evaluate, precheck
from grants.domain.findings import Finding, LocalizedText, Severity


def _by_rule(findings, rule_id):
    return [f for f in findings if f.rule_id == rule_id]


def _complete(application, partner, **overrides):
    """A wide-area application that passes every rule, with `overrides` applied."""
    answers = {"uses_people": True, "partners": [partner("012025")], "budget_lines": []}
    return application(**{**answers, **overrides})


# --- min_local_governments ---------------------------------------------------------------------


def test_min_local_governments_same_code_twice_counts_once(wide_area, application, partner):
    # The lead (011002) listed again as a partner, twice: still one local government.
    data = _complete(application, partner, partners=[partner("011002"), partner("011002")])

    [finding] = _by_rule(evaluate(wide_area, data), "two-local-governments")

    assert finding.field == "partners"
    assert "現在 1団体" in finding.message.ja
    assert "now 1" in finding.message.en


def test_min_local_governments_lead_and_one_partner_passes(wide_area, application, partner):
    data = _complete(application, partner, partners=[partner("012025"), partner("012025")])

    assert evaluate(wide_area, data) == []


def test_min_local_governments_non_government_partners_do_not_count(
    wide_area, application, partner
):
    data = _complete(application, partner, partners=[partner(None, kind="npo")])

    assert len(_by_rule(evaluate(wide_area, data), "two-local-governments")) == 1


def test_min_local_governments_npo_lead_needs_two_partner_governments(
    wide_area, application, partner
):
    one = _complete(application, partner, applicant_type="npo", lead=None)
    two = _complete(
        application,
        partner,
        applicant_type="npo",
        lead=None,
        attachments={"recommendation": 1},
        partners=[partner("012025"), partner("131016")],
    )

    assert len(_by_rule(evaluate(wide_area, one), "two-local-governments")) == 1
    assert evaluate(wide_area, two) == []


# --- required_attachment with `when` -----------------------------------------------------------


def test_required_attachment_npo_without_file_is_error(wide_area, application, partner):
    data = _complete(application, partner, applicant_type="npo", lead=None)

    [finding] = _by_rule(evaluate(wide_area, data), "recommendation-letter")

    assert finding.severity is Severity.ERROR
    assert finding.field == "recommendation"
    assert finding.message.ja == "「地方公共団体の推薦書」の添付が必要です"
    assert finding.message.en == "“Recommendation letter” must be attached."


def test_required_attachment_npo_with_file_passes(wide_area, application, partner):
    data = _complete(
        application, partner, applicant_type="npo", lead=None, attachments={"recommendation": 1}
    )

    assert _by_rule(evaluate(wide_area, data), "recommendation-letter") == []


def test_required_attachment_local_government_without_file_no_finding(
    wide_area, application, partner
):
    data = _complete(application, partner, applicant_type="local_government")

    assert evaluate(wide_area, data) == []


# --- severity, message override, when --------------------------------------------------------


def test_rule_warning_severity_is_carried_and_not_blocking(parse, application):
    program = parse(_ANSWER_RULE.format(extra="severity: warning"))

    [finding] = evaluate(program, application(agrees=False))

    assert finding.severity is Severity.WARNING
    assert not finding.blocking


def test_rule_message_override_replaces_generated_text(parse, application):
    program = parse(_ANSWER_RULE.format(extra="message: {ja: 同意が必要, en: Consent needed}"))

    [finding] = evaluate(program, application(agrees=False))

    assert finding.message == LocalizedText("同意が必要", "Consent needed")
    assert finding.rule_id == "required_answer-0"


def test_rule_when_false_is_skipped(parse, application):
    program = parse(_ANSWER_RULE.format(extra="when: {applicant_type: [npo]}"))

    assert evaluate(program, application(agrees=False)) == []


def test_required_answer_wrong_value_names_field_in_both_languages(wide_area, application, partner):
    data = _complete(application, partner, uses_people=False)

    [finding] = _by_rule(evaluate(wide_area, data), "people")

    assert finding.field == "uses_people"
    assert finding.message.ja == "「人材の育成・活用」の回答は「はい」である必要があります"
    assert finding.message.en == "The answer to “Develops and uses ICT people” must be “Yes”."


# --- required fields and show_when -----------------------------------------------------------


def test_required_field_hidden_by_show_when_is_not_required(kizuna, application):
    findings = evaluate(kizuna, application(track="general"))

    assert [f for f in findings if f.kind == "required_field"] == []


def test_required_field_shown_by_show_when_is_required(kizuna, application):
    findings = evaluate(kizuna, application(track="education"))

    [finding] = [f for f in findings if f.kind == "required_field"]
    assert finding.field == "school_count"
    assert finding.rule_id == "required_field-school_count"
    assert finding.message.ja == "「対象校数」は必須です"


def test_required_field_blank_text_and_empty_list_count_as_missing(parse, application):
    program = parse(_REQUIRED_FIELDS)

    findings = evaluate(program, application(title="  ", topics=[], consent=False))

    assert sorted(f.field for f in findings) == ["plan", "title", "topics"]


def test_hidden_field_stale_answer_is_ignored_by_rules(kizuna, application, line):
    # school_count was answered while the track was "education", then the track changed.
    data = application(
        track="general", school_count=10, budget_lines=[line("human_resources", 150_000_000)]
    )

    [finding] = _by_rule(evaluate(kizuna, data), "amount-cap")

    assert "¥100,000,000" in finding.message.en


# --- precheck ------------------------------------------------------------------------------------


def test_precheck_wrong_applicant_type_gives_reason_in_both_languages(wide_area):
    findings = precheck(wide_area, "other", {"develops_people": True})

    [finding] = findings
    assert finding.kind == "applicant_type"
    assert finding.message.ja == (
        "この公募に申請できるのは地方公共団体、第3セクター、NPO法人です"
        "（申請者の種別：その他の団体）"
    )
    assert finding.message.en.startswith(
        "Only local governments, third-sector companies or NPOs may apply"
    )


def test_precheck_wrong_answer_gives_question_reason(wide_area):
    [finding] = precheck(wide_area, "npo", {"develops_people": False})

    assert finding.kind == "eligibility_question"
    assert finding.field == "develops_people"
    assert finding.message == LocalizedText(
        "人材育成が前提です", "Developing people is a precondition"
    )


def test_precheck_unanswered_question_asks_for_it(wide_area):
    [finding] = precheck(wide_area, "npo", {})

    assert finding.message.en == "Please answer: Does the project develop local ICT people?"


def test_precheck_eligible_applicant_returns_empty_list(wide_area):
    assert precheck(wide_area, "third_sector", {"develops_people": True}) == []


def test_evaluate_wrong_applicant_type_is_error(wide_area, application, partner):
    data = _complete(application, partner, applicant_type="other", lead=None)

    findings = evaluate(wide_area, data)

    assert findings[0].kind == "applicant_type"
    assert findings[0].blocking


# --- the dispatch table and findings as data ---------------------------------------------------


def test_rule_checks_cover_exactly_the_rule_kinds():
    assert set(RULE_CHECKS) == set(RULE_KINDS)


def test_finding_to_dict_round_trips_through_json():
    finding = Finding("r-1", "amount_cap", Severity.WARNING, LocalizedText("上限", "cap"), "f")

    restored = Finding.from_dict(json.loads(json.dumps(finding.to_dict())))

    assert restored == finding
    assert finding.to_dict()["severity"] == "warning"


def test_localized_text_get_falls_back_to_japanese():
    text = LocalizedText("日本語", "English")

    assert [text.get("en"), text.get("en-US"), text.get("ja"), text.get("fr")] == [
        "English",
        "English",
        "日本語",
        "日本語",
    ]


_ANSWER_RULE = """\
applicant_types: [local_government]
steps:
  - id: main
    title: {{ja: 同意, en: Consent}}
    fields:
      - id: agrees
        kind: yes_no
        label: {{ja: 同意します, en: I agree}}
rules:
  - kind: required_answer
    field: agrees
    equals: true
    {extra}
"""

_REQUIRED_FIELDS = """\
applicant_types: [local_government]
steps:
  - id: main
    title: {ja: 入力, en: Input}
    fields:
      - id: title
        kind: text
        label: {ja: 名称, en: Title}
        required: true
      - id: topics
        kind: multi_choice
        label: {ja: 分野, en: Topics}
        required: true
        choices:
          - {value: a, label: {ja: A, en: A}}
      - id: consent
        kind: yes_no
        label: {ja: 同意, en: Consent}
        required: true
      - id: plan
        kind: file
        label: {ja: 計画書, en: Plan}
        required: true
"""
