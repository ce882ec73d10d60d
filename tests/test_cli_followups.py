"""`flask grants followups remind`: the reminders through the service with a frozen clock (30
days before, on the due date, the day after; each once, none once filed, a missed run made up,
each member in their language), and the command as cron runs it, twice, on a fresh database."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.db import create_engine
from grants.domain.definitions import JST
from grants.domain.fiscal import day_in_fiscal_year, fiscal_year, fiscal_year_end
from grants.domain.followups import Reminder
from grants.domain.workflow import Role, State
from grants.models import (
    Application,
    AuditEvent,
    FollowupReminder,
    FollowupReport,
    MembershipState,
    Operating,
    OrganizationKind,
    OutboxMessage,
    PlanVersion,
    ProgramVersion,
)
from grants.services import accounts, followups
from grants.services.audit import AuditTag
from tests.post_award_helpers import PROJECT_END, accepted_report, completed, granted
from tests.test_cli_commands import flask

FIRST = fiscal_year(PROJECT_END) + 1  # the fiscal year the first report is on
DUE = day_in_fiscal_year(FIRST + 1, "06-30")
LINES = [{"category": "human_resources", "description": "研修講師の謝金", "acquisition": "none",
          "amount_yen": 3_000_000}]
YES = followups.Answers(operating=Operating.YES, stop_reason=None, users=10,
                        costs={"local_government": 1_000_000})


def _morning(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(6, 0), JST).astimezone(dt.UTC)


@pytest.fixture
def project(app, client, auth, session, make_user):
    """A COMPLETED project of 札幌市, whose members are its applicant (Japanese), a colleague
    reading English, and two who are told nothing (a removed member, a disabled account)."""
    funded = granted(client, auth, session, make_user)
    completed(session, funded, accepted_report(session, funded, LINES), 3_000_000)
    organization = funded.applicant.organization
    english = make_user(Role.APPLICANT, organization=organization)
    english.locale = "en"
    make_user(Role.APPLICANT, organization=organization).membership = MembershipState.REMOVED
    make_user(Role.APPLICANT, organization=organization).active = False
    session.commit()
    with app.app_context():
        yield funded, english


def _remind(session: Session, day: dt.date) -> list[tuple[int, str, int]]:
    queued = followups.remind(session, now=_morning(day))
    session.commit()
    return [(q.followup.fiscal_year, str(q.kind), len(q.recipients)) for q in queued]


def test_each_reminder_once_on_its_day_and_none_once_filed(session, project):
    funded, english = project
    application = funded.application
    assert _remind(session, DUE - dt.timedelta(days=31)) == []
    assert _remind(session, DUE - dt.timedelta(days=30)) == [(FIRST, "before", 2)]
    assert _remind(session, DUE - dt.timedelta(days=30)) == []  # run twice the same day
    assert _remind(session, DUE - dt.timedelta(days=1)) == []
    assert _remind(session, DUE) == [(FIRST, "due", 2)]
    assert _remind(session, DUE + dt.timedelta(days=1)) == [(FIRST, "overdue", 2)]
    assert _remind(session, DUE + dt.timedelta(days=2)) == []
    rows = session.execute(sa.select(FollowupReminder.fiscal_year, FollowupReminder.kind)
                           .filter_by(application_id=application.id)
                           .order_by(FollowupReminder.id)).all()
    assert rows == [(FIRST, Reminder.BEFORE), (FIRST, Reminder.DUE),
                    (FIRST, Reminder.OVERDUE)]
    events = session.scalars(sa.select(AuditEvent).filter_by(
        tag=AuditTag.FOLLOWUP_REMIND.value, subject_id=application.id)
        .order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.data["kind"]) for e in events] == [
        (None, "before"), (None, "due"), (None, "overdue")]
    assert {k: v for k, v in events[0].data.items() if k != "messages"} == {
        "fiscal_year": FIRST, "year_number": 1, "kind": "before", "due_on": DUE.isoformat(),
        "recipients": [funded.applicant.id, english.id]}
    messages = [session.get(OutboxMessage, message_id)
                for event in events for message_id in event.data["messages"]]
    assert [m.to_address for m in messages] == [funded.applicant.email, english.email] * 3
    assert "状況報告" in messages[0].subject and str(DUE) in messages[0].subject
    assert messages[1].subject.startswith("[Grants] Follow-up report on FY")
    assert "overdue" in messages[5].subject and "期限を過ぎています" in messages[4].subject
    assert f"/applications/{application.id}/followups" in messages[0].body

    next_due = day_in_fiscal_year(FIRST + 2, "06-30")
    followups.file_report(session, application, FIRST + 1, YES, actor=funded.applicant,
                          now=_morning(next_due - dt.timedelta(days=40)))
    session.commit()
    for day in (next_due - dt.timedelta(days=30), next_due, next_due + dt.timedelta(days=1)):
        assert _remind(session, day) == [], day  # filed before any reminder was owed


def test_a_missed_run_is_made_up_with_the_reminder_that_fits_the_day(session, project):
    funded, _english = project
    assert _remind(session, DUE - dt.timedelta(days=12)) == [(FIRST, "before", 2)]
    # No run on the due date: the next run says it is overdue, and nothing more.
    assert _remind(session, DUE + dt.timedelta(days=4)) == [(FIRST, "overdue", 2)]
    kinds = session.scalars(sa.select(FollowupReminder.kind).filter_by(
        application_id=funded.application.id)).all()
    assert sorted(kinds) == [Reminder.BEFORE, Reminder.OVERDUE]


def test_only_completed_projects_are_reminded(client, auth, session, make_user, app):
    running = granted(client, auth, session, make_user)  # final amount not fixed yet
    with app.app_context():
        assert _remind(session, DUE + dt.timedelta(days=1)) == []
    assert running.application.state is State.GRANTED


# --- the command, as cron runs it -----------------------------------------------------------


def _completed_project(database: str, today: dt.date) -> tuple[str, int]:
    """A completed project of a new organization with two members (ja, en) whose first report
    is overdue today and whose second is filed (its own due date may be either side of today):
    one reminder is owed. Returns its reference and the fiscal year of the overdue report."""
    completion = fiscal_year_end(fiscal_year(today) - 3)
    now = dt.datetime.now(dt.UTC)
    with Session(create_engine(database)) as session:
        organization = accounts.find_or_create_organization(session, accounts.NewOrganization(
            kind=OrganizationKind.LOCAL_GOVERNMENT, lg_code="011002"), verified_at=now)
        people = [accounts.create_user(
            session, email=f"member-{locale}@example.jp", password=None,
            display_name=f"担当者 {locale}", role=Role.APPLICANT, organization=organization,
            now=now) for locale in ("ja", "en")]
        people[1].locale = "en"
        version = session.scalar(sa.select(ProgramVersion.id).filter_by(
            program_key="ict-kizuna-2010"))
        application = Application(reference="G99-CRON-0001", program_version_id=version,
                                  organization_id=organization.id, created_by_id=people[0].id,
                                  state=State.COMPLETED, answers={}, submitted_at=now)
        session.add(application)
        session.flush()
        session.add(PlanVersion(application_id=application.id, number=1, category_amounts={},
                                project_end=completion, scope="見守りサービス", created_at=now))
        overdue_year = fiscal_year(completion) + 1
        session.add(FollowupReport(
            application_id=application.id, fiscal_year=overdue_year + 1, year_number=2,
            operating=Operating.YES, operating_costs={}, submitted_at=now,
            submitted_by_id=people[0].id))
        session.commit()
        return application.reference, overdue_year


def test_the_command_queues_once_when_cron_runs_it_twice(tmp_path):
    for command in ("migrate", "load"):
        result = flask(tmp_path, command)
        assert result.returncode == 0, result.stderr
    database = f"sqlite:///{tmp_path / 'grants.sqlite'}"
    reference, year = _completed_project(database, dt.datetime.now(JST).date())

    first = flask(tmp_path, "followups", "remind")
    assert first.returncode == 0, first.stderr
    assert f"{reference} FY{year} overdue" in first.stdout
    assert "2 recipient(s)" in first.stdout
    assert first.stdout.strip().endswith("queued 1 follow-up reminder(s)")
    second = flask(tmp_path, "followups", "remind")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "queued 0 follow-up reminder(s)"

    with sqlite3.connect(tmp_path / "grants.sqlite") as connection:
        subjects = dict(connection.execute(
            "SELECT to_address, subject FROM outbox_messages").fetchall())
        reminders = connection.execute(
            "SELECT fiscal_year, kind FROM followup_reminders").fetchall()
        events = connection.execute("SELECT count(*) FROM audit_events WHERE tag = ?",
                                    (AuditTag.FOLLOWUP_REMIND.value,)).fetchone()[0]
    assert reminders == [(year, "overdue")] and events == 1
    assert f"{year}年度" in subjects["member-ja@example.jp"]
    assert f"FY{year}" in subjects["member-en@example.jp"]
    assert "overdue" in subjects["member-en@example.jp"]
    assert flask(tmp_path, "audit", "verify").returncode == 0
