"""Funded applications to render: one made as in real life, then copies of it.

The first goes through the app's own forms (an applicant fills and submits every step, with
attachments) and services (screening, two submitted reviews, a moderation, an award), exactly
as the document tests' ``decided`` helper does. The copies share its frozen submission, reviews,
moderation and decision, as tests/web/reviewflow.py ``clone_in_review`` makes them, but have no
audit events of their own (the chain is not forged), so their records are a little shorter.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from docbench.instance import Instance
from grants import clock
from grants.domain.workflow import Role, State
from grants.models import (
    Application,
    Assignment,
    Decision,
    Moderation,
    Organization,
    OrganizationKind,
    User,
)
from grants.services import accounts
from grants.services.auditing import Criteria
from tests.conftest import NOW, PASSWORD, AuthActions
from tests.documents.conftest import decided
from tests.web.reviewflow import KEY, clone_in_review

CLONE_AWARD_YEN = 3_000_000  # below the original's 3,500,000: a search finds the copies alone


@dataclass(frozen=True)
class Seeded:
    template_id: int  # the application made through the app
    officer_id: int
    auditor_id: int
    clone_ids: list[int]
    criteria: Criteria  # finds exactly the copies


@contextlib.contextmanager
def frozen_clock() -> Iterator[None]:
    """The programs' demo call windows are in 2026: submit at the tests' NOW."""
    real = clock.now
    clock.now = lambda: NOW
    try:
        yield
    finally:
        clock.now = real


def seed(instance: Instance, copies: int) -> Seeded:
    """The decided application, an auditor, and ``copies`` funded copies of it."""
    client = instance.app.test_client()
    with frozen_clock(), instance.app.test_request_context(), instance.session() as session:
        maker = _user_maker(session)
        made = decided(client, AuthActions(client), session, maker)
        auditor = maker(Role.AUDITOR)
        clone_ids = fund_copies(session, made.application.id, copies)
        return Seeded(made.application.id, made.officer.id, auditor.id, clone_ids,
                      Criteria(program_key=KEY, max_yen=CLONE_AWARD_YEN))


def fund_copies(session: Session, template_id: int, count: int) -> list[int]:
    """``count`` awarded copies of the template, each with its reviews, moderation, decision."""
    template = session.get(Application, template_id)
    assert template is not None
    assignments = session.scalars(sa.select(Assignment).filter_by(application_id=template_id)).all()
    moderations = session.scalars(sa.select(Moderation).filter_by(application_id=template_id)).all()
    decision = session.scalar(sa.select(Decision).filter_by(application_id=template_id))
    assert decision is not None and len(assignments) == 2 and moderations
    clones = clone_in_review(session, template, count)
    for clone in clones:
        clone.state = State.AWARDED
        for assignment in assignments:
            copy = _copy(assignment, application_id=clone.id)
            if assignment.review is not None:
                copy.review = _copy(assignment.review, assignment_id=None)
            session.add(copy)
        session.add_all(_copy(m, application_id=clone.id) for m in moderations)
        session.add(_copy(decision, application_id=clone.id, amount_yen=CLONE_AWARD_YEN,
                          computation={**decision.computation, "awarded_yen": CLONE_AWARD_YEN}))
    session.commit()
    return [clone.id for clone in clones]


def _copy(row: Any, **changes: Any) -> Any:
    """A new row of the same type with the same column values, but for ``changes`` and the id."""
    columns = sa.inspect(type(row)).column_attrs
    values = {c.key: getattr(row, c.key) for c in columns if c.key != "id"}
    return type(row)(**{**values, **changes})


def _user_maker(session: Session) -> Any:
    """``make_user`` as tests/conftest.py has it: applicants belong to a local government."""
    counter = itertools.count(1)

    def make(role: Role = Role.APPLICANT, *,
             kind: OrganizationKind = OrganizationKind.LOCAL_GOVERNMENT,
             lg_code: str | None = "011002", **_: Any) -> User:
        n = next(counter)
        organization = None
        if role is Role.APPLICANT:
            organization = session.scalar(sa.select(Organization).filter_by(lg_code=lg_code)) \
                or accounts.find_or_create_organization(session, accounts.NewOrganization(
                    name=f"ベンチ団体{n}", kind=kind, lg_code=lg_code))
        user = accounts.create_user(session, email=f"bench{n}-{role}@example.jp",
                                    password=PASSWORD, display_name=f"利用者{n}", role=role,
                                    organization=organization, now=NOW)
        session.commit()
        return user

    return make
