"""A big call's applications: varied, valid answers and the frozen snapshot the app would store.

The snapshot is made by the app's own ``build_snapshot`` (fed plain objects instead of ORM rows)
and hashed with ``records.canonical_json``, so its format follows the app's; the findings are
the app's own ``evaluate``, and a seeded application with a blocking finding stops the run: the
ranking must be measured on data the app could have accepted.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from benchlib.common import FIXED_NOW

SENTENCES = (
    "中山間地域の集落では高齢化と人口減少が進み、買い物や通院の手段が限られている。",
    "地元の商工会、社会福祉協議会、NPO法人と協議会を設け、月に一度進捗を確認する。",
    "タブレット端末を用いた見守りサービスを構築し、住民ボランティアが運用を担う。",
    "事前に全世帯アンケート（回収率62%）を行い、利用意向と支払意思額を把握した。",
    "地域の若者を期間雇用し、研修を経てシステムの運用とヘルプデスクを任せる。",
    "観光客向けの多言語案内を整備し、地場産品の通信販売と連動させて収益を得る。",
    "交付終了後は利用料収入と町の一般財源で年間運営費を賄う計画である。",
    "学校と公民館を光回線で結び、遠隔授業と住民向けICT講座に共用する。",
    "プロジェクトリーダーは情報政策課長で、民間企業でシステム開発に十年従事した。",
    "成果指標として、利用登録者数、月間利用件数、新規雇用者数を四半期ごとに公表する。",
    "隣接する三町村と運用ノウハウを共有し、二年目以降に広域での共同利用へ広げる。",
    "端末の操作に不慣れな高齢者には、公民館で対面の相談窓口を週二回開設する。",
)
COMMENTS = (
    "計画は具体的で、目標の根拠も示されている。",
    "ニーズ調査の方法は妥当だが、結果の分析がやや浅い。",
    "交付終了後の費用負担者が明記されており、継続性は高い。",
    "リーダーの権限と会議体の頻度が明確ではない。",
    "連携主体の役割分担が実質的で、住民の参加も見込める。",
    "雇用創出数の目標が過大で、積算の根拠が弱い。",
)
KIND_CYCLE = ("local_government", "local_government", "npo", "third_sector")
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class Org:
    name: str
    kind: str
    lg_code: str | None


def plan_organizations(count: int, lg_codes: list[tuple[str, str]]) -> list[Org]:
    """One organization per application: local governments (each code once), NPOs, 3rd sector."""
    orgs: list[Org] = []
    codes = iter(lg_codes)
    for n in range(count):
        kind = KIND_CYCLE[n % len(KIND_CYCLE)]
        code = next(codes, None) if kind == "local_government" else None
        if kind == "local_government" and code is None:
            kind = "npo"  # every code used: the rest are NPOs
        if code is not None:
            orgs.append(Org(code[1], kind, code[0]))
        elif kind == "npo":
            orgs.append(Org(f"特定非営利活動法人 地域ICT支援ネット{n:05d}", kind, None))
        else:
            orgs.append(Org(f"株式会社 まちづくり情報{n:05d}", kind, None))
    return orgs


def reference(n: int) -> str:
    """A reference in the app's shape (``G26-7K3M-9QXP``), unique per n (an odd multiplier
    permutes the numbers below 32**8)."""
    n = (n * 0x9E3779B97F + 12345) % len(REFERENCE_ALPHABET) ** 8
    digits = []
    for _ in range(8):
        n, digit = divmod(n, len(REFERENCE_ALPHABET))
        digits.append(REFERENCE_ALPHABET[digit])
    body = "".join(reversed(digits))
    return f"G26-{body[:4]}-{body[4:]}"


def _text(rng: random.Random, limit: int | None, sentences: int) -> str:
    text = "".join(rng.choice(SENTENCES) for _ in range(sentences))
    return text[:limit] if limit else text


def answers_for(
    definition: Any, n: int, org: Org, rng: random.Random, partner_codes: list[tuple[str, str]]
) -> dict[str, Any]:
    """Valid answers for every field: a third of the applications on the education track,
    amounts varied under each case's cap, equipment below half, hidden fields left empty."""
    from grants.domain.application_data import ApplicationData
    from grants.domain.conditions import visibility

    education = n % 3 == 0
    schools = rng.randint(1, 4)
    partnership = not education and org.kind == "local_government" and rng.random() < 0.4
    cap = 50_000_000 * schools if education else (200_000_000 if partnership else 100_000_000)
    special = {
        "track": "education" if education else "general",
        "school_count": schools,
        "field_of_use": "education"
        if education
        else rng.choice([f.id for f in definition.fields_of_use if f.id != "education"]),
        "local_government_partnership": partnership,
        "period_start": "2026-12-01",
        "period_end": "2027-03-31",
        "jobs_target": rng.randint(1, 30),
        "would_proceed_without_subsidy": rng.random() < 0.5,
    }
    answers: dict[str, Any] = {}
    for field in definition.all_fields():
        kind = field.kind
        if field.id in special:
            answers[field.id] = special[field.id]
        elif kind == "text":
            answers[field.id] = f"{org.name} {field.label.ja} {n}"[: field.max_length or 100]
        elif kind == "long_text":
            answers[field.id] = _text(rng, field.max_length, rng.randint(4, 12))
        elif kind == "number":
            answers[field.id] = (field.min or 0) + rng.randrange(0, 50)
        elif kind == "yen":
            answers[field.id] = (field.min or 0) + rng.randrange(0, 20_000_000, 1000)
        elif kind == "yes_no":
            answers[field.id] = True
        elif kind == "choice":
            answers[field.id] = rng.choice([c.value for c in field.choices or []])
        elif kind == "partners":
            answers[field.id] = _partners(rng, partnership, partner_codes, org)
        elif kind == "budget_lines":
            answers[field.id] = _budget_lines(definition, rng, cap)
    shown = visibility(definition, ApplicationData(org.kind, org.lg_code, answers)).shown
    return {k: (v if k in shown else None) for k, v in answers.items()}


def _partners(
    rng: random.Random, partnership: bool, codes: list[tuple[str, str]], org: Org
) -> list[dict[str, Any]]:
    rows = []
    for code, name in rng.sample(codes, rng.randint(1, 3) if partnership else rng.randint(0, 1)):
        if code != org.lg_code:
            rows.append(
                {"code": code, "name": name, "kind": "local_government", "role": "参加団体"}
            )
    if rng.random() < 0.5:
        rows.append({"code": None, "name": "NPO法人 地域の輪", "kind": "npo", "role": "運営支援"})
    return rows


def _budget_lines(definition: Any, rng: random.Random, cap: int) -> list[dict[str, Any]]:
    """Three to five lines totalling 30–100 % of the cap; equipment strictly under half."""
    total = rng.randrange(cap * 3 // 10, cap + 1, 1000)
    ordinary = [c.id for c in definition.budget.categories if not c.equipment]
    equipment = [c.id for c in definition.budget.categories if c.equipment]
    equipment_yen = (total * rng.randint(5, 45) // 100) // 1000 * 1000 if equipment else 0
    rest, lines = total - equipment_yen, []
    parts = rng.randint(2, 4)
    for i in range(parts):
        amount = rest if i == parts - 1 else rest // parts // 1000 * 1000
        rest -= amount if i < parts - 1 else 0
        lines.append(
            {
                "category": ordinary[i % len(ordinary)],
                "description": rng.choice(("人材育成研修", "システム設計", "運用委託", "広報")),
                "acquisition": "none",
                "amount_yen": amount,
            }
        )
    if equipment_yen:
        acquisition = rng.choice(("purchase", "lease", "rental"))
        lines.append(
            {
                "category": equipment[0],
                "description": "タブレット端末",
                "acquisition": acquisition,
                "amount_yen": equipment_yen,
            }
        )
    return lines


def snapshot_for(
    definition: Any,
    version_sha256: str,
    ref: str,
    org: Any,
    actor: Any,
    answers: dict[str, Any],
    now: dt.datetime,
) -> tuple[str, str, list[dict[str, Any]], list[Any]]:
    """(snapshot text, its sha256, findings as stored, attachments) as ``apply.submit`` makes
    them; ``org`` and ``actor`` carry id, name/display_name, kind, lg_code, email."""
    from grants.domain import records
    from grants.domain.application_data import ApplicationData
    from grants.domain.eligibility import evaluate
    from grants.domain.findings import Severity
    from grants.services.apply import build_snapshot

    attachments = [
        SimpleNamespace(
            field_id="project_plan",
            filename=f"事業計画書_{ref}.pdf",
            sha256=records.sha256_hex(ref.encode()),
            mime_type="application/pdf",
            size_bytes=180_000 + len(ref) * 1000,
        )
    ]
    data = ApplicationData(org.kind, org.lg_code, answers, {"project_plan": 1})
    findings = evaluate(definition, data)
    blocking = [f.to_dict() for f in findings if f.severity is Severity.ERROR]
    if blocking:
        raise SystemExit(f"seeded application {ref} would be refused: {blocking}")
    application = SimpleNamespace(
        organization=org,
        reference=ref,
        program_version=SimpleNamespace(sha256=version_sha256),
        answers=answers,
        attachments=attachments,
    )
    snapshot = build_snapshot(application, definition, findings, actor=actor, now=now, number=1)
    text = records.canonical_json(snapshot)
    return text.decode(), records.sha256_hex(text), [f.to_dict() for f in findings], attachments


def submitted_at(n: int) -> dt.datetime:
    """Every 400 s from 30 days before FIXED_NOW (inside the call), in application order."""
    return FIXED_NOW - dt.timedelta(days=30) + dt.timedelta(seconds=n * 400)


def comment(rng: random.Random, title: str) -> str:
    return f"{title}：{rng.choice(COMMENTS)}"
