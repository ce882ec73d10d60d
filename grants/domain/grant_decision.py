"""The grant decision (交付決定) made with an award: the amount per cost category, the project
period and the conditions of the grant (交付の条件).

The award is divided among the categories in proportion to the submitted budget, in whole yen,
so the categories add up exactly to the award (the largest remainders get the odd yen). The
project period is the one the application states, never starting before the grant decision
itself (costs incurred before it are not covered); without one, it runs from the decision day
to the end of that fiscal year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from grants.domain.budget import share_ja, yen_ja
from grants.domain.definitions import PostAward
from grants.domain.fiscal import fiscal_year, fiscal_year_end

# Every encoded program names these fields so (see grants.domain.eligibility._period_findings).
PERIOD_START = "period_start"
PERIOD_END = "period_end"
SUMMARY_FIELD = "project_summary"
TITLE_FIELD = "project_title"


def divide_award(requested: Mapping[str, int], award_yen: int) -> dict[str, int]:
    """The award per category: each category's request scaled by award / total request, in
    whole yen that add up to the award; the yen left over by rounding down go one each to the
    largest remainders (the earlier category first on a tie). Keys keep their order.

    Raises:
        ValueError: no category, a negative amount, or an award above the total request.
    """
    total = sum(requested.values())
    if not requested or award_yen < 0 or any(amount < 0 for amount in requested.values()):
        raise ValueError(f"cannot divide {award_yen} among {dict(requested)}")
    if award_yen > total:
        raise ValueError(f"the award {award_yen} exceeds the request {total}")
    if award_yen == total:
        return dict(requested)
    shares = {key: divmod(amount * award_yen, total) for key, amount in requested.items()}
    left = award_yen - sum(share for share, _ in shares.values())
    order = list(requested)
    lucky = sorted(order, key=lambda key: (-shares[key][1], order.index(key)))[:left]
    return {key: share + (key in lucky) for key, (share, _) in shares.items()}


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date


def project_period(answered_start: dt.date | None, answered_end: dt.date | None,
                   decided_on: dt.date) -> Period:
    """The project period of the grant decision made on `decided_on` (a Japan date).

    The answered period where there is one, starting no earlier than the decision; an answered
    end that is over by then (or missing) is replaced by the end of the start's fiscal year.
    """
    start = max(answered_start or decided_on, decided_on)
    end = answered_end
    if end is None or end < start:
        end = fiscal_year_end(fiscal_year(start))
    return Period(start, end)


def standard_conditions(rules: PostAward) -> list[str]:
    """The conditions every grant decision states, in the official wording, with the program's
    own tolerance, report deadline, asset threshold and follow-up years."""
    conditions = [
        "補助事業者は、補助金等に係る予算の執行の適正化に関する法律（昭和30年法律第179号）、"
        "同法施行令その他の法令及び本補助金の交付要綱の定めに従い、補助事業を適正に遂行しなければ"
        "ならない。",
        "補助事業者は、この交付決定の内容及び承認を受けた事業計画に従い、善良な管理者の注意をもって"
        "補助事業を行わなければならない。",
        "補助事業の内容を変更しようとするとき、経費の配分を変更しようとするとき（各経費区分の"
        f"配分額の{share_ja(rules.change_tolerance)}以内の流用を除く。）、又は補助事業の実施期間を"
        "延長しようとするときは、あらかじめ計画変更の承認を受けなければならない。",
        f"補助事業が完了したときは、完了の日から起算して{rules.report_due_days}日以内に"
        "実績報告書を提出しなければならない。",
        "補助事業者は、補助事業に係る収入及び支出を明らかにした帳簿を備え、証拠書類とともに、"
        "補助金の額の確定の日の属する会計年度の終了後5年間保存しなければならない。",
        "補助事業により取得し、又は効用の増加した財産のうち取得価格が単価"
        f"{yen_ja(rules.asset_threshold_yen)}以上のものは、財産管理台帳を備えて管理し、処分制限"
        "期間内に補助金の交付の目的に反して使用し、譲渡し、交換し、貸し付け、担保に供し、又は取り"
        "壊そうとするときは、あらかじめ承認を受けなければならない。承認を受けて処分したことにより"
        "収入があったときは、その全部又は一部を国に納付させることがある。",
    ]
    if rules.followup_years:
        conditions.append(
            f"補助事業者は、補助事業の完了後{rules.followup_years}年間、毎会計年度、事業の運営"
            "状況を報告しなければならない。")
    return conditions


def conditions_text(rules: PostAward, extra: str | None = None) -> str:
    """The conditions as the letter states them: numbered, the officer's own last."""
    clauses = standard_conditions(rules)
    if extra and extra.strip():
        clauses.append(extra.strip())
    return "\n".join(f"{number}. {clause}" for number, clause in enumerate(clauses, start=1))


def plan_scope(answers: Mapping[str, object], field_ids: set[str]) -> str:
    """What the project does, for plan version 1: the project summary where the program asks
    for one, else the project title (empty when the program has neither)."""
    for field_id in (SUMMARY_FIELD, TITLE_FIELD):
        value = answers.get(field_id)
        if field_id in field_ids and isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def answered_date(answers: Mapping[str, object], field_id: str) -> dt.date | None:
    """A date answer (stored as ISO text), or None when not answered or not a date."""
    value = answers.get(field_id)
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
