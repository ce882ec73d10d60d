"""Bulk inserts for the big call, and its people: the officer, organizations, applicants and
reviewers (joined to the call).

Only the officer is made through ``accounts.create_user`` (its password signs in); the others
share one password hash, since hashing thousands with scrypt would take minutes.
"""

from __future__ import annotations

import secrets
from types import SimpleNamespace
from typing import Any

from benchlib.bigcall import plan_organizations
from benchlib.common import FIXED_NOW, PROGRAM_KEY


def insert_rows(session: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk INSERT: one executemany."""
    import sqlalchemy as sa

    if rows:
        session.execute(sa.insert(model), rows)


def insert_ids(session: Any, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk INSERT ... RETURNING id: the new ids in the order of ``rows``."""
    import sqlalchemy as sa

    statement = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows))


def seed_accounts(
    session: Any,
    officer_email: str,
    officer_password: str,
    count: int,
    reviewer_names: tuple[str, ...],
) -> Any:
    """The officer (through the service), then organizations, applicants and reviewers in bulk,
    the reviewers joined to the call."""
    import sqlalchemy as sa

    from grants.domain.localgov import GovernmentKind, load_registry
    from grants.domain.membership import Membership
    from grants.domain.workflow import Role
    from grants.models import CallReviewer, Organization, User
    from grants.services import accounts

    officer = accounts.create_user(
        session,
        email=officer_email,
        password=officer_password,
        display_name="ベンチ 担当官",
        role=Role.OFFICER,
        organization=None,
        now=FIXED_NOW,
    )
    shared_hash = accounts.hash_password(secrets.token_urlsafe(16))
    registry = load_registry()
    lg_codes = [(g.code, g.name) for g in registry if g.kind is not GovernmentKind.PREFECTURE]
    orgs = plan_organizations(count, lg_codes)
    org_rows = [
        {"name": o.name, "kind": o.kind, "lg_code": o.lg_code, "created_at": FIXED_NOW}
        for o in orgs
    ]
    org_ids = insert_ids(session, Organization, org_rows)
    person = {
        "password_hash": shared_hash,
        "locale": "ja",
        "active": True,
        "email_verified_at": FIXED_NOW,
        "created_at": FIXED_NOW,
    }
    rows = [
        {
            **person,
            "email": f"applicant{n:05d}@bench.example.jp",
            "display_name": f"申請担当 {n:05d}",
            "role": Role.APPLICANT,
            "organization_id": org_ids[n],
            "membership": Membership.ACTIVE,  # each its organization's one member and admin
            "is_org_admin": True,
        }
        for n in range(count)
    ]
    rows += [
        {
            **person,
            "email": f"reviewer{r:02d}@bench.example.jp",
            "display_name": name,
            "role": Role.REVIEWER,
            "organization_id": None,
            "membership": None,
            "is_org_admin": False,
        }
        for r, name in enumerate(reviewer_names)
    ]
    user_ids = insert_ids(session, User, rows)
    session.execute(
        sa.insert(CallReviewer),
        [
            {"program_key": PROGRAM_KEY, "reviewer_id": r, "added_at": FIXED_NOW}
            for r in user_ids[count:]
        ],
    )
    return SimpleNamespace(
        officer_id=officer.id,
        orgs=orgs,
        org_ids=org_ids,
        lg_codes=lg_codes,
        applicants=[(user_ids[n], rows[n]) for n in range(count)],
        reviewer_ids=user_ids[count:],
    )
