"""A closed demo call with applications at every stage, so a newcomer finds every screen filled.

The call is ict-furusato-genki-2009, whose own window (February 2010) is long closed: no demo
user can add to it, and its applications stay where the demo left them. Everything goes through
the real services (start, save, attach, submit, screen, assign, review, moderate, decide) with
the time set inside and after that window, one phase after another, so the audit chain is a
true record of those steps and ``flask grants audit verify`` holds.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import clock
from grants.domain.definitions import JST
from grants.domain.definitions import Program as ProgramDefinition
from grants.domain.localgov import load_registry
from grants.domain.rubrics import Rubric
from grants.domain.workflow import State
from grants.models import Application, Outcome, Program, ProgramVersion, User
from grants.services import apply, assign, decide, demo_post_award, reviewing, screening
from grants.services.programs import definition_of
from grants.services.rubrics import rubric_of
from grants.storage import Storage

PROGRAM_KEY = "ict-furusato-genki-2009"
# How many applications end at each stage, in the order they are made.
STAGES = (
    (State.DRAFT, 4),
    (State.RETURNED, 3),
    (State.SUBMITTED, 5),
    (State.IN_REVIEW, 8),
    (State.AWARDED, 6),
    (State.REJECTED, 4),
)
DAY = dt.timedelta(days=1)

# (project title, field of use, the problem it tackles): made up, in the program's spirit.
THEMES = (
    ("高齢者見守りICTネットワーク", "ageing_society",
     "独居高齢者の安否確認が民生委員の訪問だけに頼っている。"),
    ("災害時要援護者情報共有システム", "disaster_response",
     "災害時に要援護者の所在を関係者が共有できない。"),
    ("子育て世代の在宅ワーク支援", "telework",
     "育児期の親が地域で働く場を見つけにくい。"),
    ("中山間地域の買い物支援ICT", "other_public_service",
     "商店の撤退で日々の買い物が難しい世帯が増えている。"),
    ("チャレンジド在宅就労センター", "telework",
     "障がいのある人の通勤が難しく、就労機会が限られている。"),
    ("地域防災メール配信と訓練", "disaster_response",
     "避難情報が高齢者に届くまでに時間がかかる。"),
    ("遠隔健康相談による介護予防", "ageing_society",
     "通院が難しい高齢者の健康相談の場が不足している。"),
    ("地域ポータルと住民記者育成", "other_public_service",
     "地域の行事や生活情報を住民が知る手段が乏しい。"),
)
PARTNER_CODES = ("011002", "012335", "012131")  # 札幌市, 伊達市, 苫小牧市 (北海道)
RETURN_REASON = "経費明細書の金額と経費内訳の合計が一致していません。確認のうえ再提出してください。"
AWARD_RATIONALE = "地域の喫緊課題に即した実現性の高い計画であり、採択する。"
REJECT_RATIONALE = "事業継続の見通しが具体性に欠けるため、今回は不採択とする。"
MODERATION_RATIONALE = "二人の評価者の根拠を比較し、計画書の記載に基づいて調整した。"


@dataclass(frozen=True)
class Cast:
    """The demo accounts that play the call; applicants of kinds the call does not take sit out."""

    applicants: Sequence[User]
    officer: User
    reviewers: Sequence[User]


@dataclass
class _Made:
    application: Application
    stage: State
    index: int  # among the applications of its stage


def seed_closed_call(session: Session, cast: Cast, storage: Storage) -> int | None:
    """Make the demo call's applications; return how many: 0 when it has some already, None
    when its program is not loaded.

    Flushes, never commits: the caller's one transaction holds the whole call or none of it.
    """
    program = session.get(Program, PROGRAM_KEY)
    if program is None:
        return None
    if _has_applications(session):
        return 0
    definition = definition_of(program.current_version)
    applicants = [user for user in cast.applicants
                  if user.organization.kind.value in definition.applicant_types]
    pdf = _blank_pdf()
    pdf_sha256 = storage.put(pdf)
    made = []
    moment = definition.call.opens + dt.timedelta(hours=1)
    step = (definition.call.closes - moment) / (sum(count for _, count in STAGES) + 1)
    for stage, count in STAGES:
        for index in range(count):
            applicant = applicants[len(made) % len(applicants)]
            application = _apply(session, program, definition, applicant, stage, len(made),
                                 (pdf_sha256, len(pdf)), storage, moment)
            made.append(_Made(application, stage, index))
            moment += step
    _screen(session, made, cast.officer, definition.call.closes + DAY)
    _review(session, made, cast, definition.call.closes + 3 * DAY)
    today = clock.now().astimezone(JST).date()
    _decide(session, made, cast.officer, definition.call.closes + 25 * DAY, today)
    awards = [row.application for row in made if row.stage is State.AWARDED]
    demo_post_award.play(session, demo_post_award.Stages(*awards), cast.officer, clock.now())
    return len(made)


def _has_applications(session: Session) -> bool:
    return session.scalar(
        sa.select(Application.id).join(Application.program_version)
        .where(ProgramVersion.program_key == PROGRAM_KEY).limit(1)) is not None


def _apply(session: Session, program: Program, definition: ProgramDefinition, applicant: User,
           stage: State, number: int, pdf: tuple[str, int], storage: Storage,
           now: dt.datetime) -> Application:
    """Start, fill and (past the draft stage) submit one application at `now`."""
    application = apply.start(session, program, actor=applicant, now=now)
    answers = _answers(number)
    if stage is State.DRAFT:  # a draft has got as far as its first step
        first = {field.id for field in definition.steps[0].fields}
        answers = {key: value for key, value in answers.items() if key in first}
    apply.save_answers(session, application, answers, expected_version=application.lock_version,
                       actor=applicant, now=now)
    if stage is State.DRAFT:
        return application
    sha256, size = pdf
    apply.add_attachment(session, application, field_id="project_plan", stored_sha256=sha256,
                         filename="事業計画書.pdf", mime_type="application/pdf",
                         size_bytes=size, actor=applicant, now=now)
    apply.submit(session, application, actor=applicant, storage=storage,
                 now=now + dt.timedelta(hours=2))
    return application


def _answers(number: int) -> dict[str, Any]:
    """Valid answers for application `number`: themes, partners and amounts vary."""
    title, field_of_use, issue = THEMES[number % len(THEMES)]
    code = PARTNER_CODES[number % len(PARTNER_CODES)]
    partner = load_registry().get(code)
    text = f"{title}：{issue}NPO等の「ICT人材」が主体となり、地域の公共的サービスを支える。"
    return {
        "representative": "理事長 デモ 太郎",
        "contact_person": "事務局 デモ 花子（011-000-0000）",
        "project_title": f"{title}（デモ{number + 1:02d}）",
        "project_summary": text,
        "field_of_use": field_of_use,
        "period_start": "2010-04-01",
        "period_end": "2011-03-31",
        **{key: text for key in ("regional_issue", "project_goal", "end_user_needs",
                                 "business_model", "stakeholders", "project_leader",
                                 "progress_management", "human_resources_plan",
                                 "continuation_plan")},
        "develops_local_ict_people": True,
        "jobs_target": 3 + number % 8,
        "partners": [{"code": code, "name": partner.name, "kind": "local_government",
                      "role": "事業への助言と公共施設の提供"}],
        "budget_lines": [
            {"category": "human_resources", "description": "ICT人材の研修と雇用",
             "acquisition": "none", "amount_yen": (8 + number % 9) * 1_000_000},
            {"category": "system", "description": "情報共有システムの構築",
             "acquisition": "none", "amount_yen": (12 + number % 7) * 1_000_000},
            {"category": "equipment", "description": "タブレット端末",
             "acquisition": "lease", "amount_yen": (2 + number % 4) * 500_000},
        ],
        "own_funding_yen": (number % 5) * 1_000_000,
        "would_proceed_without_subsidy": number % 3 != 0,
        "operating_cost_per_year_yen": (3 + number % 4) * 1_000_000,
        "operating_cost_payer": ("user_fees", "partners", "own_budget")[number % 3],
    }


def _screen(session: Session, made: list[_Made], officer: User, now: dt.datetime) -> None:
    for row in made:
        if row.stage is State.RETURNED:
            screening.return_to_applicant(session, row.application, RETURN_REASON,
                                          actor=officer, now=now)
        elif row.stage in (State.IN_REVIEW, State.AWARDED, State.REJECTED):
            screening.accept(session, row.application, actor=officer, now=now)
        now += dt.timedelta(minutes=20)


def _progress(row: _Made) -> int | None:
    """How far review went: applications in review show each step (0 unassigned, 1 assigned,
    2 one review in, 3 all reviews in); decided ones were fully reviewed; others never were."""
    if row.stage is State.IN_REVIEW:
        return row.index % 4
    return 3 if row.stage in (State.AWARDED, State.REJECTED) else None


def _review(session: Session, made: list[_Made], cast: Cast, now: dt.datetime) -> None:
    """Assign, review a week later, moderate some a few days after: one phase at a time."""
    plan = [(row, _progress(row)) for row in made if _progress(row)]
    assignments = []
    for row, progress in plan:
        for n, reviewer in enumerate(cast.reviewers):
            assignment = assign.assign(session, row.application, reviewer, actor=cast.officer,
                                       now=now)
            if progress == 3 or (progress == 2 and n == 0):
                assignments.append((row, n, reviewer, assignment))
        now += dt.timedelta(minutes=10)
    now += 7 * DAY
    for row, n, reviewer, assignment in assignments:
        rubric = rubric_of(reviewing.rubric_version_for(session, row.application))
        review = reviewing.open_review(session, assignment, now=now)
        reviewing.save(session, review, ratings=_ratings(rubric, row, n),
                       comments={c.id: "計画書の記載と根拠を確認した。" for c in rubric.criteria()},
                       comment_for_applicant="目標の測定方法が明確です。",
                       expected_version=review.lock_version, now=now)
        reviewing.submit(session, review, actor=reviewer, now=now)
        now += dt.timedelta(minutes=30)
    now += 5 * DAY
    for row, progress in plan:
        if progress == 3 and (row.stage is State.IN_REVIEW or row.index % 2 == 0):
            rubric = rubric_of(reviewing.rubric_version_for(session, row.application))
            first = rubric.criteria()[0].id
            reviewing.moderate(session, row.application, first, _ratings(rubric, row, 0)[first],
                               MODERATION_RATIONALE, actor=cast.officer, now=now)
            now += dt.timedelta(minutes=10)


def _ratings(rubric: Rubric, row: _Made, reviewer: int) -> dict[str, int]:
    """High for awarded, low for rejected, middling in review; reviewers differ a little."""
    scale = rubric.scale
    base = {State.AWARDED: scale.max - 1, State.REJECTED: scale.min + 1}.get(
        row.stage, (scale.min + scale.max) // 2)
    return {c.id: max(scale.min, min(scale.max, base + (row.index + reviewer + i) % 2))
            for i, c in enumerate(rubric.criteria())}


def _decide(session: Session, made: list[_Made], officer: User, now: dt.datetime,
            today: dt.date) -> None:
    """Award and reject; the awards' project periods as `demo_post_award` plays them."""
    periods = demo_post_award.periods(today)
    award_periods = iter((None, None, periods["running"], periods["reported"],
                          periods["completed"], periods["completed"]))
    for row in made:
        if row.stage is State.AWARDED:
            decide.decide(session, row.application, outcome=Outcome.AWARD, amount_yen=None,
                          rationale=AWARD_RATIONALE, actor=officer, now=now,
                          period=next(award_periods))
        elif row.stage is State.REJECTED:
            decide.decide(session, row.application, outcome=Outcome.REJECT, amount_yen=None,
                          rationale=REJECT_RATIONALE, actor=officer, now=now)
        now += dt.timedelta(minutes=10)


def _blank_pdf() -> bytes:
    """The demo's one attachment: a blank A4 page, appended to every packet as it would be."""
    from pypdf import PdfWriter  # the PDF stack loads on first use

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
