"""``create-user`` and ``users …``: accounts, from the command line.

``users`` runs the same service as the accounts page (grants.web.admin_users) for an operator
with shell access.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import click
from flask import current_app
from sqlalchemy.orm import Session

from grants import clock
from grants.cli import command_session, grants_cli, reading_session
from grants.domain.account_admin import MAX_REASON_LENGTH, STAFF_ROLES, AccountChangeRefused
from grants.domain.identifiers import normalize
from grants.domain.workflow import Role
from grants.i18n import to_jst
from grants.models import Organization, User
from grants.services import accounts, user_admin
from grants.web.account import queue_reset_link

# --- accounts --------------------------------------------------------------------------------


@grants_cli.command("create-user")
@click.option("--email", required=True, help="Sign-in address.")
@click.option("--name", required=True, help="Name shown to other users.")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--organization-id", type=int, help="Organization the user acts for.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for (twice, hidden) when not given.",
)
def create_user_command(
    email: str, name: str, role: str, organization_id: int | None, password: str
) -> None:
    """Create an account (staff, or an applicant of an existing organization)."""
    with command_session() as session:
        organization = None
        if organization_id is not None:
            organization = session.get(Organization, organization_id)
            if organization is None:
                raise click.BadParameter(
                    f"no organization {organization_id}", param_hint="--organization-id"
                )
        try:
            user = accounts.create_user(
                session,
                email=email,
                password=password,
                display_name=name,
                role=Role(role),
                organization=organization,
                now=clock.now(),
            )
        except accounts.AccountError as exc:
            raise click.ClickException(_ACCOUNT_ERRORS.get(exc.code, exc.code)) from None
        session.commit()
        click.echo(f"created user {user.id}: {user.email} ({user.role})")


_ACCOUNT_ERRORS = {
    "email_taken": "an account with this e-mail address already exists",
    "password_too_short": f"the password needs at least {accounts.MIN_PASSWORD_LENGTH} characters",
    "organization_required": "an applicant needs --organization-id",
}


# --- users: operators' account tools (the same service as the accounts page) -----------------


@grants_cli.group("users")
def users_group() -> None:
    """Accounts: list them, disable or enable one, send a password-reset link, change a role.

    Each change is an audit event with the reason given, recorded with no actor (the command
    line). An e-mail address is taken as on the sign-in form: case, surrounding spaces and
    full-width characters do not matter.
    """


_REFUSALS = {
    "no_change": "nothing to change: {email} is already so",
    "applicant_role": "{email} is an applicant account, which belongs to its organization: its "
                      "role cannot change, and staff accounts cannot become applicants",
    "last_admin": "{email} is the last enabled admin: make another account admin first",
    "disabled": "{email} is disabled: enable it first (flask grants users enable)",
    "reason_required": "a reason is required (--reason TEXT): it is kept in the audit log",
    "reason_too_long": f"the reason is too long: at most {MAX_REASON_LENGTH} characters",
}
_REASON = click.option("--reason", help="Why (required; kept in the audit event).")


@contextmanager
def _account_change(email: str) -> Iterator[tuple[Session, User]]:
    """Yield the session and the account of ``email``; commit after, or stop in one line."""
    with command_session() as session:
        user = user_admin.find(session, email)
        if user is None:
            raise click.ClickException(f"no account with the e-mail address {email.strip()!r}")
        try:
            yield session, user
        except AccountChangeRefused as refused:
            raise click.ClickException(
                _REFUSALS.get(refused.code, refused.code).format(email=user.email)) from None
        session.commit()


def _role(text: str | None, allowed: Sequence[Role]) -> Role | None:
    """A role typed by an operator (any case), or None; one line for an unknown one."""
    if text is None:
        return None
    typed = normalize(text).lower()
    if typed not in allowed:
        raise click.ClickException(
            f"unknown role {text!r}: one of {', '.join(role.value for role in allowed)}")
    return Role(typed)


@users_group.command("list")
@click.option("--role", "role_text", metavar="ROLE", help="Only accounts of this role.")
@click.option("--disabled", is_flag=True, help="Only disabled accounts.")
def users_list_command(role_text: str | None, disabled: bool) -> None:
    """List accounts by e-mail address: role, state, last sign-in (Japan time), name and
    organization."""
    wanted = user_admin.AccountFilter(role=_role(role_text, list(Role)),
                                      disabled=True if disabled else None)
    rows, number = [], 1
    with reading_session() as session:
        while True:
            page = user_admin.search(session, wanted, page=number, per_page=1000)
            rows += [(row.user.email, str(row.user.role),
                      "enabled" if row.user.active else "disabled",
                      to_jst(row.last_sign_in).strftime("%Y-%m-%d %H:%M") if row.last_sign_in
                      else "never",
                      row.user.display_name,
                      row.user.organization.name if row.user.organization else "")
                     for row in page.rows]
            if number >= page.pages:
                break
            number += 1
    if rows:
        print_table(("E-mail", "Role", "State", "Last sign-in (JST)", "Name", "Organization"),
                    rows)
    click.echo(f"{len(rows)} account(s)")


@users_group.command("disable")
@click.argument("email")
@_REASON
def users_disable_command(email: str, reason: str | None) -> None:
    """Disable an account: it can no longer sign in; its sessions and e-mail links end now."""
    with _account_change(email) as (session, user):
        ended = user_admin.disable(session, user, actor=None, reason=reason or "",
                                   now=clock.now())
    click.echo(f"disabled {user.email}: {ended} open session(s) ended")


@users_group.command("enable")
@click.argument("email")
@_REASON
def users_enable_command(email: str, reason: str | None) -> None:
    """Enable a disabled account again."""
    with _account_change(email) as (session, user):
        user_admin.enable(session, user, actor=None, reason=reason or "", now=clock.now())
    click.echo(f"enabled {user.email}: it may sign in again")


@users_group.command("set-role")
@click.argument("email")
@click.argument("role_text", metavar="ROLE")
@_REASON
def users_set_role_command(email: str, role_text: str, reason: str | None) -> None:
    """Give a staff account another role (reviewer, officer, auditor, admin); its sessions end
    so the new role holds at once."""
    role = _role(role_text, STAFF_ROLES)
    with _account_change(email) as (session, user):
        before = user.role
        ended = user_admin.set_role(session, user, role, actor=None, reason=reason or "",
                                    now=clock.now())
    click.echo(f"{user.email} is now {role} (was {before}): {ended} open session(s) ended")


@users_group.command("reset-link")
@click.argument("email")
@_REASON
@click.option("--print-link", is_flag=True,
              help="Also print the link, for an owner you reach another way (no mail server); "
                   "the audit event records that it was shown.")
def users_reset_link_command(email: str, reason: str | None, print_link: bool) -> None:
    """E-mail the owner a link to set a new password (it works once, for one hour).

    The link is queued in the outbox like the "forgot password" e-mail; it is printed only with
    --print-link, since whoever holds it can take over the account until it is used.
    """
    with _account_change(email) as (session, user):
        token = user_admin.issue_reset_link(session, user, actor=None, reason=reason or "",
                                            now=clock.now(), shown=print_link)
        link = queue_reset_link(session, user, token)
    click.echo(f"queued a password-reset e-mail to {user.email} in the outbox; "
               "the link works once, for one hour")
    if print_link:
        click.echo(link)
    elif not current_app.config["SMTP_URL"]:
        click.echo("GRANTS_SMTP_URL is not set: the e-mail waits in the outbox "
                   "(/manage/outbox); --print-link prints the link instead")


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns aligned for a terminal; the last one is left ragged."""
    table = [tuple(header), *rows]
    widths = [max(_width(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        cells = [
            cell + " " * (width - _width(cell))
            for cell, width in zip(row[:-1], widths, strict=True)
        ]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


def _width(text: str) -> int:
    """Columns a text takes in a terminal: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
