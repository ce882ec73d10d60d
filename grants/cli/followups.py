"""``followups remind``: the follow-up reports' reminders, run daily from cron or a timer."""

from __future__ import annotations

import click

from grants import clock
from grants.cli import command_session, grants_cli
from grants.services import followups


@grants_cli.group("followups")
def followups_group() -> None:
    """Yearly follow-up reports (状況報告) of completed projects."""


@followups_group.command("remind")
def remind_command() -> None:
    """Queue the reminders owed today to the grantees' members, in each one's language.

    30 days before a report's due date, on it, and once after it, each at most once and none
    once the report is filed; a day missed is made up on the next run. Running it again the
    same day queues nothing. Prints each reminder queued; exits 0.
    """
    with command_session() as session:
        queued = followups.remind(session, now=clock.now())
        lines = [f"{q.application.reference} FY{q.followup.fiscal_year} {q.kind} "
                 f"(due {q.followup.due_on.isoformat()}): {len(q.recipients)} recipient(s)"
                 for q in queued]
        session.commit()
    for line in lines:
        click.echo(line)
    click.echo(f"queued {len(queued)} follow-up reminder(s)")
