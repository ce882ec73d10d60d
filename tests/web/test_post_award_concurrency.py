"""Eight clicks at once on the post-award actions, on PostgreSQL: filing the completion report,
accepting it, fixing the final amount, asking to dispose of an asset and deciding the request.

Each action takes the application's row lock before it checks the state, so one click acts and
the seven others wait for it, then find the work done: 409 with a message, never a 500, and one
row or one decision where there must be one. The app runs on a PostgreSQL schema of its own with
a connection per request, as in production (the suite's shared schema is rebuilt by the other
tests, and its rolled-back test connection would serialize the requests and prove nothing);
SQLite serializes writers by itself, so these run only where TEST_DATABASE_URL names PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import clock, create_app
from grants.config import PACKAGE_ROOT
from grants.db import create_engine
from grants.domain.definitions import JST
from grants.domain.workflow import State
from grants.models import (
    AssetDisposal,
    AuditEvent,
    ChangeState,
    CompletionReport,
    FinalAmount,
    ReportState,
)
from grants.services import assets
from grants.services.audit import AuditTag
from grants.services.catalog import sync_catalog
from tests.conftest import NOW, upgrade
from tests.post_award_helpers import accepted_report, completed, granted
from tests.web.test_completion_report import lock_of, report_form

CLICKS = 8


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    """Overrides the suite's engine: a migrated PostgreSQL schema of this test's own."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("concurrent clicks need PostgreSQL (SQLite serializes writers): set "
                    "TEST_DATABASE_URL, e.g. postgresql+psycopg://postgres@127.0.0.1/test")
    schema = f"post_award_race_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
                           .render_as_string(hide_password=False))
    try:
        upgrade(engine)
        with Session(engine) as session:
            sync_catalog(session, PACKAGE_ROOT / "programs", PACKAGE_ROOT / "rubrics", now=NOW)
            session.commit()
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    """Overrides the suite's: commits are real, so the app's own connections see the rows."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(engine: sa.Engine, tmp_path) -> Iterator[Any]:
    """Overrides the suite's: the app's own engine, a connection per request."""
    app = create_app({
        "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "race-test",
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "INSTANCE_DIR": str(tmp_path / "instance"), "STORAGE_DIR": str(tmp_path / "files"),
        "PROGRAMS_DIR": str(PACKAGE_ROOT / "programs")})
    yield app
    app.extensions["grants.engine"].dispose()


def clicks(app: Any, signed_in: Any, url: str, data: dict[str, Any]) -> Counter[int]:
    """POST `data` to `url` from CLICKS clients of the signed-in session, all at once."""
    cookie = signed_in.get_cookie("session")
    clients = []
    for _ in range(CLICKS):
        client = app.test_client()
        client.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
        clients.append(client)
    start = threading.Barrier(CLICKS)

    def click(client: Any) -> int:
        start.wait()
        return client.post(url, data=data).status_code

    with ThreadPoolExecutor(CLICKS) as pool:
        return Counter(pool.map(click, clients))


def count(session: Session, model: Any, **where: Any) -> int:
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))


def events(session: Session, tag: AuditTag, application_id: int) -> int:
    return count(session, AuditEvent, tag=tag.value, subject_id=application_id)


def test_filing_accepting_and_fixing_each_happen_once(app, client, auth, session, make_user):
    with app.test_request_context():
        funded = granted(client, auth, session, make_user)
    application = funded.application
    report_url = f"/applications/{application.id}/completion-report"
    auth.sign_in(funded.applicant)
    assert client.post(report_url, data=report_form()).status_code == 303
    lock = lock_of(client.get(report_url).text)

    filed = clicks(app, client, report_url, report_form(lock, action="submit"))

    assert max(filed) < 500, filed  # the losers: a stale save or "filed already"
    assert events(session, AuditTag.REPORT_SUBMIT, application.id) == 1
    assert count(session, CompletionReport, application_id=application.id,
                 state=ReportState.SUBMITTED) == 1
    auth.sign_out()
    auth.sign_in(funded.officer)
    manage = f"/manage/applications/{application.id}"

    accepted = clicks(app, client, f"{manage}/completion-report", {"outcome": "accept"})

    assert accepted == Counter({303: 1, 409: CLICKS - 1})
    assert events(session, AuditTag.REPORT_ACCEPT, application.id) == 1

    fixed = clicks(app, client, f"{manage}/final-amount", {})

    assert fixed == Counter({303: 1, 409: CLICKS - 1})
    assert count(session, FinalAmount, application_id=application.id) == 1
    assert events(session, AuditTag.AMOUNT_FIX, application.id) == 1
    assert events(session, AuditTag.ASSET_REGISTER, application.id) == 1  # the ¥1,200,000 PC
    session.refresh(application)
    assert application.state is State.COMPLETED


def test_a_disposal_is_asked_for_and_decided_once(app, client, auth, session, make_user,
                                                  monkeypatch):
    with app.test_request_context():
        funded = granted(client, auth, session, make_user)
    report = accepted_report(session, funded, [
        {"category": "human_resources", "description": "謝金", "acquisition": "none",
         "amount_yen": 3_000_000},
        {"category": "equipment", "description": "サーバ", "acquisition": "purchase",
         "amount_yen": 1_000_000}], equipment=[
        {"name": "配信サーバ", "kind": "computer", "acquired_on": "2027-01-15",
         "cost_yen": 1_000_000}])
    completed(session, funded, report)
    with app.test_request_context():
        (server,) = assets.register_from_report(session, funded.application, report,
                                                actor=funded.officer, now=NOW)
    session.commit()
    moment = dt.datetime(2027, 7, 1, 10, tzinfo=JST).astimezone(dt.UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)
    auth.sign_in(funded.applicant)
    asset_url = f"/applications/{funded.application.id}/assets/{server.id}"

    asked = clicks(app, client, f"{asset_url}/disposal-request",
                   {"kind": "dispose", "planned_on": "2027-07-10", "reason": "更新する。"})

    assert asked == Counter({303: 1, 409: CLICKS - 1})
    assert count(session, AssetDisposal, asset_id=server.id) == 1
    disposal = session.scalar(sa.select(AssetDisposal).filter_by(asset_id=server.id))
    auth.sign_out()
    auth.sign_in(funded.officer)

    decided = clicks(app, client, f"/manage/applications/{funded.application.id}/assets/"
                                  f"{server.id}/decision",
                     {"outcome": "approve", "disposal": disposal.id})

    assert decided == Counter({303: 1, 409: CLICKS - 1})
    assert events(session, AuditTag.DISPOSAL_APPROVE, funded.application.id) == 1
    session.refresh(disposal)
    assert disposal.state is ChangeState.APPROVED
