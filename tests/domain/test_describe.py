"""Call-page sentences generated from the definition."""

from __future__ import annotations

from grants.domain.describe import describe


def _ja(program):
    return [sentence.ja for sentence in describe(program)]


def _en(program):
    return [sentence.en for sentence in describe(program)]


def test_describe_who_may_apply_first(kizuna):
    first = describe(kizuna)[0]

    assert first.ja == "申請できるのは地方公共団体、第3セクター、NPO法人です。"
    assert first.en == "Who may apply: a local government, a third-sector company or an NPO."


def test_describe_caps_by_case_in_both_languages(kizuna):
    ja, en = _ja(kizuna), _en(kizuna)

    assert (
        "「案件区分」が「教育情報化事業案件」の場合、申請額の上限は"
        "1校あたり ¥50,000,000（5,000万円）×「対象校数」です。"
    ) in ja
    assert (
        "「自治体連携」が「はい」かつ参加する地方公共団体が2団体以上の場合、"
        "申請額の上限は ¥200,000,000（2億円）です。"
    ) in ja
    assert "それ以外の場合、申請額の上限は ¥100,000,000（1億円）です。" in ja
    assert "Otherwise, the request may be at most ¥100,000,000." in en
    assert any("¥50,000,000 per school × “Number of schools”" in s for s in en)


def test_describe_category_share_rule(kizuna):
    assert (
        "ICT機器・設備整備費（購入・リース・レンタル）の合計は申請額の2分の1未満で"
        "なければなりません。"
    ) in _ja(kizuna)
    assert (
        "The total of ICT equipment (purchase, lease and rental) must be less than half "
        "of the request."
    ) in _en(kizuna)


def test_describe_wide_area_requirements(wide_area):
    ja = _ja(wide_area)

    assert "2団体以上の地方公共団体（申請団体を含む）の参加が必要です。" in ja
    assert (
        "申請者が第3セクターまたはNPO法人の場合、「地方公共団体の推薦書」の添付が必要です。"
    ) in ja
    assert "ICT機器の購入は認められません。" in ja
    assert "「人材の育成・活用」の回答は「はい」である必要があります。" in ja
    assert (
        "If the applicant is a third-sector company or an NPO, “Recommendation letter” must be "
        "attached."
    ) in _en(wide_area)


def test_describe_warning_rule_says_it_does_not_block(parse, program_text):
    body = """\
applicant_types: [npo]
example_settings: true
steps:
  - id: main
    title: {ja: 入力, en: Input}
    fields:
      - id: partners
        kind: partners
        label: {ja: 連携, en: Partners}
rules:
  - kind: min_local_governments
    severity: warning
    min: 3
"""
    sentences = describe(parse(body))

    assert sentences[1].ja.endswith("（目安：満たさなくても申請はできます）")
    assert "can still be submitted" in sentences[1].en
    assert sentences[-1].ja == "この公募の日程・金額の一部は例示です。"
