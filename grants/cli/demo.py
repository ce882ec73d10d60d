"""``demo`` and ``init``: demo organizations and accounts, a closed call with applications at
every stage, and first-run setup (development only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import click
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from grants import clock
from grants.cli import command_session, grants_cli
from grants.cli.definitions import load_programs, migrate, report_migration
from grants.cli.users import print_table
from grants.domain.identifiers import corporate_number, normalize
from grants.domain.workflow import Role
from grants.models import (
    CallReviewer,
    Organization,
    OrganizationKind,
    Program,
    User,
)
from grants.services import accounts, demo_call
from grants.storage import stores_of

# --- demo data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoOrganization:
    key: str
    name: str
    kind: OrganizationKind
    lg_code: str | None = None
    corporate_number: str | None = None


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
    # Made-up names and 法人番号 (valid check digits, on a registry-office prefix no real
    # corporation has): the demo must not speak for a real NPO or company.
    DemoOrganization("npo", "特定非営利活動法人 デモ地域ICT支援ネット", OrganizationKind.NPO,
                     corporate_number=corporate_number("999905000001")),
    DemoOrganization(
        "third", "株式会社デモ地域情報センター（第3セクター）", OrganizationKind.THIRD_SECTOR,
        corporate_number=corporate_number("999901000002"),
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
    DemoAccount("reviewer2@example.jp", "審査委員 加藤", Role.REVIEWER, "reviewer-demo"),
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


def seed_demo(session: Session) -> list[tuple[DemoAccount, str, bool]]:
    """The demo accounts, then the closed demo call played by them; says what was seeded."""
    rows = create_demo_data(session)
    by_role: dict[Role, list[User]] = {}
    for user in session.scalars(sa.select(User).where(
            User.email.in_([demo.email for demo in DEMO_ACCOUNTS])).order_by(User.id)):
        by_role.setdefault(user.role, []).append(user)
    cast = demo_call.Cast(applicants=by_role[Role.APPLICANT], officer=by_role[Role.OFFICER][0],
                          reviewers=by_role[Role.REVIEWER])
    seeded = demo_call.seed_closed_call(session, cast, stores_of(current_app).files)
    if seeded is None:
        outcome = "its program is not loaded: run `flask grants load`, then this again"
    else:
        outcome = (f"{seeded} applications seeded, at every stage" if seeded
                   else "its applications are already there")
    click.echo(f"demo call {demo_call.PROGRAM_KEY} (closed): {outcome}")
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
    """The demo's organizations need no program-office check: they are verified at once.

    An instance made before organizations had a 法人番号 gets the number on its demo rows.
    """
    unnumbered = session.scalar(sa.select(Organization).filter_by(
        name=normalize(demo.name), kind=demo.kind, corporate_number=None, lg_code=None))
    if unnumbered is not None and demo.corporate_number:
        unnumbered.corporate_number = demo.corporate_number
        session.flush()
    new = accounts.NewOrganization(kind=demo.kind, name=demo.name, lg_code=demo.lg_code,
                                   corporate_number=demo.corporate_number)
    return accounts.find_or_create_organization(session, new, verified_at=clock.now())


def _refuse_in_production() -> None:
    if current_app.config["ENV"] == "production":
        raise click.ClickException(
            "demo accounts have published passwords: refused when GRANTS_ENV=production"
        )


def print_demo_accounts(rows: Sequence[tuple[DemoAccount, str, bool]]) -> None:
    print_table(("E-mail", "Password", "Role", "Organization"),
                [(d.email, d.password, str(d.role), org) for d, org, _new in rows])


@grants_cli.command("demo")
def demo_command() -> None:
    """Create demo organizations, accounts and the closed demo call (development only; safe to
    run again)."""
    _refuse_in_production()
    with command_session() as session:
        rows = seed_demo(session)
        session.commit()
    created = sum(1 for *_rest, new in rows if new)
    click.echo(f"demo accounts: {created} created, {len(rows) - created} already there")
    print_demo_accounts(rows)



# --- init ------------------------------------------------------------------------------------


@grants_cli.command("init")
def init_command() -> None:
    """Migrate, load rubrics and programs, create the demo accounts and the closed demo call:
    what `make run` does first."""
    _refuse_in_production()
    report_migration(migrate(current_app))
    with command_session() as session:
        ok = load_programs(session)
        rows = seed_demo(session)
        session.commit()
    click.echo("")
    click.echo("Demo accounts (development only):")
    print_demo_accounts(rows)
    if not ok:
        click.echo("some program files were not loaded: fix them (flask grants check)", err=True)
        raise SystemExit(1)
