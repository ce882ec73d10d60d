"""``flask grants ...``: the commands operators, CI and ``make run`` use.

A command that changes data works like a request: one session whose transactions take the
write lock from the start (``grants.db.writing``), the time from ``grants.clock``, one commit at
the end. ``migrate`` runs Alembic on the app's own engine instead; ``check`` reads files only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from grants import clock, db, emails
from grants.config import PROJECT_ROOT
from grants.documents.packet import review_packet_pdf
from grants.documents.record import audit_record_pdf
from grants.domain.definitions import definition_sha256
from grants.domain.workflow import Role
from grants.models import (
    Application,
    CallReviewer,
    Organization,
    OrganizationKind,
    Program,
    User,
)
from grants.services import accounts, audit
from grants.services.audit import AuditTag, record
from grants.services.catalog import read_catalog, sync_catalog

grants_cli = AppGroup("grants", help="Set up and maintain a Grants installation.")


def init_app(app: Flask) -> None:
    app.cli.add_command(grants_cli)


@contextmanager
def command_session() -> Iterator[Session]:
    """Yield the command's one session; its transactions take the write lock from the start."""
    with db.writing(), current_app.extensions["grants.sessionmaker"]() as session:
        yield session


# --- check -----------------------------------------------------------------------------------


@grants_cli.command("check")
def check_command() -> None:
    """Validate every program and rubric file; print each error as file:line: field: message."""
    programs_dir = Path(current_app.config["PROGRAMS_DIR"])
    rubrics_dir = Path(current_app.config["RUBRICS_DIR"])
    if not any(programs_dir.glob("*.yaml")):
        raise click.ClickException(f"no program files (*.yaml) in {programs_dir}")
    catalog = read_catalog(programs_dir, rubrics_dir)
    errors = [dataclasses.replace(e, file=_shown(Path(e.file))) for e in catalog.errors]
    lines: list[tuple[str, int, str]] = []
    for path, text, program in catalog.programs:
        summary = (
            f"{program.id}, {_count(program.steps, 'step')}, {_count(program.rules, 'rule')}, "
            f"rubric {program.rubric or '-'}, sha256 {definition_sha256(text)[:8]}…"
        )
        lines.append((_shown(path), 0, f"{_shown(path)}: ok ({summary})"))
    for path, text, rubric in catalog.rubrics:
        summary = (
            f"{rubric.id}, {_count(rubric.sections, 'section')}, "
            f"{_count(rubric.criteria(), 'criterion', 'criteria')}, "
            f"sha256 {definition_sha256(text)[:8]}…"
        )
        lines.append((_shown(path), 0, f"{_shown(path)}: ok ({summary})"))
    lines += [(error.file, error.line, str(error)) for error in errors]
    for _file, _line, text in sorted(lines):
        click.echo(text)
    if errors:
        failed = len({error.file for error in errors})
        click.echo(f"{len(errors)} error(s) in {failed} file(s)", err=True)
        raise SystemExit(1)


def _count(items: Sequence[object], noun: str, plural: str | None = None) -> str:
    return f"{len(items)} {noun if len(items) == 1 else plural or noun + 's'}"


def _shown(path: Path) -> str:
    """Name a file relative to the working directory when it is inside it, as errors do."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- migrate, load ---------------------------------------------------------------------------


def alembic_config() -> Config:
    """Return the Alembic configuration of this checkout (alembic.ini, migrations/)."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return config


def migrate(app: Flask, revision: str = "head") -> list[str]:
    """Upgrade the app's database on the app's own engine (same URL, same SQLite settings).

    Returns the revisions applied (none when another instance got there first: on PostgreSQL
    env.py waits for its advisory lock, then finds nothing to do).
    """
    config = alembic_config()
    with db.writing(), app.extensions["grants.engine"].connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()
    return [
        f"{step.up_revision_id} {step.up_revision.doc}"
        for step in config.attributes.get("applied", [])
    ]


def _report_migration(applied: list[str]) -> None:
    for line in applied:
        click.echo(f"migrated   {line}")
    if not applied:
        click.echo("database schema is up to date")


@grants_cli.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    _report_migration(migrate(current_app))


def load_programs(session: Session) -> bool:
    """Store changed rubric and program files as new versions and report; True when all loaded."""
    programs, rubrics, errors = sync_catalog(
        session, Path(current_app.config["PROGRAMS_DIR"]), Path(current_app.config["RUBRICS_DIR"]),
        now=clock.now())
    for kind, report in (("rubric", rubrics), ("program", programs)):
        for definition_id in report.loaded:
            click.echo(f"loaded     {kind} {definition_id}")
        for definition_id in report.unchanged:
            click.echo(f"unchanged  {kind} {definition_id}")
    for error in errors:
        click.echo(f"error      {error}", err=True)
    return not errors


@grants_cli.command("load")
def load_command() -> None:
    """Load program files into the database; a broken file is skipped, the rest are stored."""
    with command_session() as session:
        ok = load_programs(session)
        session.commit()
    if not ok:
        click.echo("some program files were not loaded: fix them and run again", err=True)
        raise SystemExit(1)


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


# --- demo data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoOrganization:
    key: str
    name: str
    kind: OrganizationKind
    lg_code: str | None = None


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: Role
    password: str
    organization: str | None = None  # a DemoOrganization key


DEMO_ORGANIZATIONS = (
    # Real local governments by their 全国地方公共団体コード; names come from the registry.
    DemoOrganization("sapporo", "札幌市", OrganizationKind.LOCAL_GOVERNMENT, "011002"),
    DemoOrganization("date", "伊達市", OrganizationKind.LOCAL_GOVERNMENT, "012335"),
    # Made-up names: the demo must not speak for a real NPO or company.
    DemoOrganization("npo", "特定非営利活動法人 デモ地域ICT支援ネット", OrganizationKind.NPO),
    DemoOrganization(
        "third", "株式会社デモ地域情報センター（第3セクター）", OrganizationKind.THIRD_SECTOR
    ),
)

DEMO_ACCOUNTS = (
    DemoAccount(
        "sapporo@example.jp", "札幌市 情報政策課 佐藤", Role.APPLICANT, "applicant-demo", "sapporo"
    ),
    DemoAccount(
        "sapporo2@example.jp", "札幌市 情報政策課 鈴木", Role.APPLICANT, "applicant-demo", "sapporo"
    ),
    DemoAccount(
        "date@example.jp", "伊達市 企画財政課 高橋", Role.APPLICANT, "applicant-demo", "date"
    ),
    DemoAccount(
        "npo@example.jp", "デモ地域ICT支援ネット 田中", Role.APPLICANT, "applicant-demo", "npo"
    ),
    DemoAccount(
        "third@example.jp", "デモ地域情報センター 伊藤", Role.APPLICANT, "applicant-demo", "third"
    ),
    DemoAccount("reviewer@example.jp", "審査委員 渡辺", Role.REVIEWER, "reviewer-demo"),
    DemoAccount("officer@example.jp", "事業担当 山本", Role.OFFICER, "officer-demo"),
    DemoAccount("auditor@example.jp", "監査担当 中村", Role.AUDITOR, "auditor-demo"),
    DemoAccount("admin@example.jp", "システム管理者 小林", Role.ADMIN, "admin-demo"),
)


def create_demo_data(session: Session) -> list[tuple[DemoAccount, str, bool]]:
    """Create the demo organizations and accounts that do not exist yet; flush, never commit.

    Returns each account with its organization's name and whether it was created now.
    """
    now = clock.now()
    organizations = {demo.key: _demo_organization(session, demo) for demo in DEMO_ORGANIZATIONS}
    rows = []
    for demo in DEMO_ACCOUNTS:
        organization = organizations[demo.organization] if demo.organization else None
        exists = session.scalar(sa.select(User.id).filter_by(email=demo.email)) is not None
        if not exists:
            accounts.create_user(
                session,
                email=demo.email,
                password=demo.password,
                display_name=demo.name,
                role=demo.role,
                organization=organization,
                now=now,
            )
        rows.append((demo, organization.name if organization else "", not exists))
    _demo_reviewers_join_every_call(session, now)
    return rows


def _demo_reviewers_join_every_call(session: Session, now: dt.datetime) -> None:
    reviewers = session.scalars(sa.select(User).where(
        User.role == Role.REVIEWER,
        User.email.in_([d.email for d in DEMO_ACCOUNTS if d.role is Role.REVIEWER]))).all()
    for key in session.scalars(sa.select(Program.key)):
        for reviewer in reviewers:
            if session.get(CallReviewer, (key, reviewer.id)) is None:
                session.add(CallReviewer(program_key=key, reviewer_id=reviewer.id, added_at=now))
    session.flush()


def _demo_organization(session: Session, demo: DemoOrganization) -> Organization:
    if demo.kind is not OrganizationKind.LOCAL_GOVERNMENT:
        existing = session.scalar(sa.select(Organization).filter_by(name=demo.name, kind=demo.kind))
        if existing is not None:
            return existing
    new = accounts.NewOrganization(name=demo.name, kind=demo.kind, lg_code=demo.lg_code)
    return accounts.find_or_create_organization(session, new)


def _refuse_in_production() -> None:
    if current_app.config["ENV"] == "production":
        raise click.ClickException(
            "demo accounts have published passwords: refused when GRANTS_ENV=production"
        )


def print_demo_accounts(rows: Sequence[tuple[DemoAccount, str, bool]]) -> None:
    header = ("E-mail", "Password", "Role", "Organization")
    table = [header] + [(d.email, d.password, str(d.role), org) for d, org, _new in rows]
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


@grants_cli.command("demo")
def demo_command() -> None:
    """Create demo organizations and accounts (development only; safe to run again)."""
    _refuse_in_production()
    with command_session() as session:
        rows = create_demo_data(session)
        session.commit()
    created = sum(1 for *_rest, new in rows if new)
    click.echo(f"demo accounts: {created} created, {len(rows) - created} already there")
    print_demo_accounts(rows)


# --- outbox ----------------------------------------------------------------------------------


@grants_cli.group("outbox")
def outbox_group() -> None:
    """E-mail waiting in the outbox."""


@outbox_group.command("send")
def outbox_send_command() -> None:
    """Send unsent messages through GRANTS_SMTP_URL (run it from cron or a timer)."""
    smtp_url = current_app.config["SMTP_URL"]
    if not smtp_url:
        raise click.ClickException(
            "GRANTS_SMTP_URL is not set: messages stay in the outbox, readable at /manage/outbox"
        )
    with command_session() as session:
        sent = emails.send_pending(session, smtp_url, current_app.config["MAIL_FROM"],
                                   now=clock.now())
    click.echo(f"sent {sent} message(s)")


# --- documents -------------------------------------------------------------------------------


def _application(session: Session, reference: str) -> Application:
    application = session.scalar(sa.select(Application).filter_by(reference=reference))
    if application is None or not application.submissions:
        raise click.ClickException(f"no submitted application {reference!r}")
    return application


@grants_cli.command("packet")
@click.argument("reference")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--as", "viewer_email", help="render as this reviewer or officer sees it "
              "(default: the program office's packet, with every review)")
def packet_command(reference: str, output: str, viewer_email: str | None) -> None:
    """Write the review packet of application REFERENCE to a PDF file."""
    with command_session() as session:
        application = _application(session, reference)
        viewer = _viewer(session, viewer_email)
        packet = review_packet_pdf(session, application, viewer, now=clock.now())
        Path(output).write_bytes(packet.pdf)
        record(session, AuditTag.PACKET_DOWNLOAD, subject_type="application",
               subject_id=application.id, actor=viewer if viewer.id else None, now=clock.now(),
               data={"via": "cli", "as": viewer.email, "bytes": len(packet.pdf)})
        session.commit()
    click.echo(f"wrote {output} ({len(packet.pdf):,} bytes, {len(packet.appended)} attachment(s) "
               f"appended{', skipped: ' + '; '.join(packet.skipped) if packet.skipped else ''})")


def _viewer(session: Session, email: str | None) -> User:
    if email is None:
        return User(email="flask grants packet", display_name="flask grants packet",
                    role=Role.OFFICER)
    viewer = session.scalar(sa.select(User).filter_by(email=accounts.normalize_email(email)))
    if viewer is None or viewer.role not in (Role.REVIEWER, Role.OFFICER, Role.ADMIN):
        raise click.ClickException(f"no reviewer, officer or admin account {email!r}")
    return viewer


@grants_cli.command("record")
@click.argument("reference")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
def record_command(reference: str, output: str) -> None:
    """Write the PDF/A-3 audit record of application REFERENCE to a file."""
    with command_session() as session:
        application = _application(session, reference)
        pdf = audit_record_pdf(session, application, now=clock.now())
        Path(output).write_bytes(pdf)
        record(session, AuditTag.RECORD_DOWNLOAD, subject_type="application",
               subject_id=application.id, actor=None, now=clock.now(),
               data={"via": "cli", "bytes": len(pdf)})
        session.commit()
    click.echo(f"wrote {output} ({len(pdf):,} bytes, PDF/A-3u)")


# --- audit -----------------------------------------------------------------------------------


@grants_cli.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
def audit_verify_command() -> None:
    """Recompute the audit chain; report the first broken link and exit 1 if there is one."""
    with current_app.extensions["grants.sessionmaker"]() as session:
        report = audit.verify(session)
    if report.broken is not None:
        event = report.broken
        click.echo(
            f"BROKEN at event {event.id} ({event.tag}, {event.subject_type} {event.subject_id}, "
            f"{event.at.isoformat()}): {report.count} event(s) before it hold", err=True)
        raise SystemExit(1)
    click.echo(f"audit chain intact: {report.count} event(s), head {report.head_hash or '-'}")


# --- init ------------------------------------------------------------------------------------


@grants_cli.command("init")
def init_command() -> None:
    """Migrate, load the programs and create the demo accounts: what `make run` does first."""
    _refuse_in_production()
    _report_migration(migrate(current_app))
    with command_session() as session:
        ok = load_programs(session)
        rows = create_demo_data(session)
        session.commit()
    click.echo("")
    click.echo("Demo accounts (development only):")
    print_demo_accounts(rows)
    if not ok:
        click.echo("some program files were not loaded: fix them (flask grants check)", err=True)
        raise SystemExit(1)
