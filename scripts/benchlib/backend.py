"""A database to benchmark: the app's settings for it, its schema, programs and accounts."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib.applicants import Applicant
from benchlib.common import FIXED_NOW, PARTNER_CODES, PROGRAM_KEY, ROOT, SCRIPTS, log

BENCH_SECRET = secrets.token_urlsafe(32)


@dataclass
class Backend:
    name: str  # "sqlite" or "postgres"
    url: str  # the app's database
    ceiling_url: str
    workdir: Path
    version: str = ""
    admin_url: str | None = None  # PostgreSQL: the database to drop at the end

    @property
    def env(self) -> dict[str, str]:
        """This environment minus the app's own settings, which point at the bench's instead."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GRANTS_", "FLASK_"))
            and k not in ("DATABASE_URL", "SECRET_KEY", "REDIS_URL")
        }
        env.update(
            {
                "GRANTS_DATABASE_URL": self.url,
                "GRANTS_INSTANCE_DIR": str(self.workdir / "instance"),
                "GRANTS_STORAGE_DIR": str(self.workdir / "files"),
                "SECRET_KEY": BENCH_SECRET,
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env


def flask_cli(backend: Backend, *args: str) -> None:
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "grants", *args]
    done = subprocess.run(command, cwd=ROOT, env=backend.env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"`flask grants {' '.join(args)}` failed:\n{done.stdout}{done.stderr}")
    output = done.stdout.strip().splitlines()
    log(f"flask grants {' '.join(args)}: {len(output)} line(s), last: {''.join(output[-1:])}")


def create_accounts(backend: Backend, applicants: list[Applicant]) -> Any:
    """Organizations and applicant accounts through the services; returns the definition."""
    from sqlalchemy.orm import Session

    from grants.db import create_engine
    from grants.domain.localgov import GovernmentKind, load_registry
    from grants.domain.workflow import Role
    from grants.models import OrganizationKind
    from grants.services import accounts

    codes = [
        g.code
        for g in load_registry()
        if g.kind is GovernmentKind.CITY and g.code not in PARTNER_CODES
    ]
    organizations = sum(1 for a in applicants if a.role != "follower")
    if organizations > len(codes):
        raise SystemExit(
            f"{organizations} organizations asked for, the registry has {len(codes)} cities: "
            "fewer applicants (a lower --rate or --open-seconds in the open loop)"
        )
    free = iter(codes)
    engine = create_engine(backend.url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            organization = None
            for applicant in applicants:
                if applicant.role != "follower":  # a follower joins its leader's organization
                    organization = accounts.find_or_create_organization(
                        session,
                        accounts.NewOrganization(
                            name="", kind=OrganizationKind.LOCAL_GOVERNMENT, lg_code=next(free)
                        ),
                    )
                accounts.create_user(
                    session,
                    email=applicant.email,
                    password=applicant.password,
                    display_name=f"ベンチ {applicant.email.split('@')[0]}",
                    role=Role.APPLICANT,
                    organization=organization,
                    now=FIXED_NOW,
                )
            session.commit()
            return program_definition(session)
    finally:
        engine.dispose()


def program_definition(session: Any) -> Any:
    """The benchmarked program's current definition (what the applicants' forms are built from)."""
    from grants.models import Program
    from grants.services.programs import definition_of

    program = session.get(Program, PROGRAM_KEY)
    if program is None:
        raise SystemExit(f"program {PROGRAM_KEY} was not loaded")
    return definition_of(program.current_version)


def child_json(
    backend: Backend, module_args: list[str], stdin: str, timeout: float
) -> dict[str, Any]:
    """Run ``python -m <module_args>`` with the backend's environment (the app configured as
    under gunicorn, nothing of it in this process); its JSON on stdout, or {"error": ...}."""
    env = dict(backend.env, PYTHONPATH=os.pathsep.join([str(ROOT), str(SCRIPTS)]))
    done = subprocess.run(
        [sys.executable, "-m", *module_args],
        input=stdin,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        log(f"{backend.name}: {module_args[0]} failed:\n{done.stderr[-2000:]}")
        return {"error": done.stderr.strip().splitlines()[-1:] or ["no output"]}
    return dict(json.loads(done.stdout))
