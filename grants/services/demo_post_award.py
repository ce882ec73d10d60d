"""The demo call's awards after the decision: every post-award stage, through the real services.

Of the demo call's six awards, one waits for the grantee's answer, one is declined, one runs
with a plan change waiting for the officer, one has filed its completion report, and two
completed three fiscal years before today, with their final amounts, asset registers and
follow-up reports: one still operating (and an asset disposed of with the officer's approval),
one that stopped. So the follow-up pages, the asset register and the sustainability dashboard
are not empty after ``make run``.

The call itself is of 2010, but the projects' periods are set in the fiscal years around today
(the officer sets a grant decision's period), so the follow-up schedule, the reminders and the
dashboard count years that mean something on the day the demo is made. Steps run in date
order, each at its own time, so the audit chain stays a true record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from grants.domain.definitions import JST
from grants.domain.fiscal import fiscal_year, fiscal_year_end, fiscal_year_start
from grants.domain.grant_decision import Period
from grants.domain.plan_changes import Proposal
from grants.models import Application, DisposalKind, Operating, User
from grants.services import (
    assets,
    completion_reports,
    final_amounts,
    followups,
    grant_decisions,
    plan_changes,
)
from grants.services.completion_reports import Contents
from grants.services.plans import plan_in_force
from grants.services.programs import definition_of

DECLINE_REASON = "構成団体の議会で事業の見直しが決まったため、交付決定を辞退します。"
CHANGE_REASON = "機器の納期が遅れるため、事業実施期間を3か月延長したい。"
DISPOSAL_REASON = "配信サーバを更新し、旧機を公民館の学習用に転用したい。"
STOP_REASON = "運営を担っていたNPOが解散し、後継の担い手が見つからなかったため。"
OUTCOME = "計画どおり研修と構築を終え、地域の見守りサービスの運用を始めた。"


@dataclass(frozen=True)
class Stages:
    """Where each of the six awards ends, by its place among them."""

    awaiting: Application
    declined: Application
    running: Application
    reported: Application
    operating: Application
    stopped: Application


def periods(today: dt.date) -> dict[str, Period]:
    """The project periods: this fiscal year, the last one, and three fiscal years ago."""
    year = fiscal_year(today)
    return {name: Period(fiscal_year_start(year - back), fiscal_year_end(year - back))
            for name, back in (("running", 0), ("reported", 1), ("completed", 3))}


def play(session: Session, stages: Stages, officer: User, now: dt.datetime) -> None:
    """Take each award to its stage; `now` is the moment the demo is made."""
    today = now.astimezone(JST).date()
    steps: list[tuple[dt.datetime, Callable[[dt.datetime], object]]] = []

    def at(day: dt.date, step: Callable[[dt.datetime], object]) -> None:
        """Run `step` on `day` (before today), in the order the steps were given that day."""
        steps.append((dt.datetime.combine(day, dt.time(10), JST)
                      + dt.timedelta(minutes=len(steps)), step))

    declined = stages.declined
    decided = grant_decisions.grant_of(session, declined).issued_at
    steps.append((decided + dt.timedelta(days=5), lambda moment: grant_decisions.decline(
        session, declined, DECLINE_REASON, actor=declined.created_by, now=moment)))
    for application in (stages.running, stages.reported, stages.operating, stages.stopped):
        at(grant_decisions.grant_of(session, application).project_start - dt.timedelta(days=20),
           _accept(session, application))
    end = stages.running
    at(today - dt.timedelta(days=5), lambda moment: plan_changes.request_change(
        session, end, Proposal(project_end=grant_decisions.grant_of(session, end).project_end
                               + dt.timedelta(days=91)),
        CHANGE_REASON, based_on=1, actor=end.created_by, now=moment))
    for application in (stages.reported, stages.operating, stages.stopped):
        project_end = grant_decisions.grant_of(session, application).project_end
        at(min(project_end + dt.timedelta(days=14), today - dt.timedelta(days=1)),
           _file_report(session, application))
    for application in (stages.operating, stages.stopped):
        project_end = grant_decisions.grant_of(session, application).project_end
        at(project_end + dt.timedelta(days=24), lambda moment, a=application:
           completion_reports.accept_report(session, a, actor=officer, now=moment))
        at(project_end + dt.timedelta(days=40), lambda moment, a=application:
           final_amounts.confirm(session, a, actor=officer, now=moment))
        _follow_ups(session, application, today, at, stops=application is stages.stopped)
    _disposal(session, stages.operating, officer, today, at)
    for moment, step in sorted(steps, key=lambda pair: pair[0]):
        step(moment)
        session.flush()


def _accept(session: Session, application: Application) -> Callable[[dt.datetime], object]:
    return lambda moment: grant_decisions.accept(session, application,
                                                 actor=application.created_by, now=moment)


def _file_report(session: Session, application: Application) -> Callable[[dt.datetime], None]:
    """Save the completion report (the plan in force's amounts, 5 % less; the equipment
    bought outright: a server, in the asset register) and file it."""

    def file(moment: dt.datetime) -> None:
        plan = plan_in_force(session, application)
        titles = {category.id: category.title.ja
                  for category in definition_of(application.program_version).budget.categories}
        lines = [{"category": category, "description": f"{titles[category]}の実績",
                  "acquisition": "purchase" if category == "equipment" else "none",
                  "amount_yen": amount - amount // 20 - (amount - amount // 20) % 1000}
                 for category, amount in plan.category_amounts.items() if amount]
        server = next(line["amount_yen"] for line in lines if line["category"] == "equipment")
        start = grant_decisions.grant_of(session, application).project_start
        contents = Contents(
            lines=lines, jobs_created=3, outcome=OUTCOME,
            equipment=[{"name": "見守り情報の配信サーバ", "kind": "computer",
                        "acquired_on": (start + dt.timedelta(days=60)).isoformat(),
                        "cost_yen": server}])
        report = completion_reports.save_draft(session, application, contents,
                                               expected_version=0,
                                               actor=application.created_by, now=moment)
        completion_reports.submit(session, application, report, actor=application.created_by,
                                  now=moment)

    return file


def _follow_ups(session: Session, application: Application, today: dt.date,
                at: Callable[[dt.date, Callable[[dt.datetime], object]], None], *,
                stops: bool) -> None:
    """File each follow-up whose year is over and whose report is due by now; the project
    that `stops` says in its second that it stopped."""
    completion = fiscal_year(grant_decisions.grant_of(session, application).project_end)
    for number, year in enumerate(range(completion + 1, fiscal_year(today)), start=1):
        filed_on = fiscal_year_end(year) + dt.timedelta(days=60)
        if filed_on >= today:
            continue
        stopped = stops and number > 1
        answers = followups.Answers(
            operating=Operating.STOPPED if stopped else Operating.YES,
            stop_reason=STOP_REASON if stopped else None,
            users=0 if stopped else 420 + 60 * number,
            costs={} if stopped else {"local_government": 1_800_000, "user_fees": 600_000})
        at(filed_on, lambda moment, y=year, a=answers: followups.file_report(
            session, application, y, a, actor=application.created_by, now=moment))


def _disposal(session: Session, application: Application, officer: User, today: dt.date,
              at: Callable[[dt.date, Callable[[dt.datetime], object]], None]) -> None:
    """The operating project repurposes its server, inside the restriction, with approval."""

    def request(moment: dt.datetime) -> None:
        (server,) = assets.register(session, application)
        assets.request_disposal(session, server, kind=DisposalKind.REPURPOSE,
                                planned_on=today, reason=DISPOSAL_REASON,
                                actor=application.created_by, now=moment)

    def approve(moment: dt.datetime) -> None:
        (server,) = assets.register(session, application)
        assets.decide(session, assets.pending(server), approve=True, reason="",
                      actor=officer, now=moment)

    at(today - dt.timedelta(days=20), request)
    at(today - dt.timedelta(days=10), approve)
