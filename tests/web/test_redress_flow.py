"""The evaluation review (評価の再審査の申出) through the pages: the applicant's request within
the call's window (the last second inside accepted, the first after refused with the day it
closed), one open at a time, the officer's finding (dismissed with reasons, or upheld: the
decision set aside, the application back in review for new reviewers), e-mails, audit events."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from grants import clock
from grants.domain.definitions import JST
from grants.domain.workflow import Role, State
from grants.models import (
    Assignment,
    AssignmentState,
    Decision,
    Moderation,
    OutboxMessage,
    RedressRequest,
    RedressState,
)
from tests.conftest import NOW
from tests.documents.conftest import decided
from tests.web.consensus_helpers import tags
from tests.web.reviewflow import add_to_call

LAST_SECOND = dt.datetime(2026, 12, 20, 23, 59, 59, tzinfo=JST)  # NOW is 2026-11-20 10:00 JST
REQUEST = {"ground": "conflict_of_interest",
           "description": "評価者の一人が競合する事業者の役員でした。"}


@pytest.fixture
def awarded(app, client, auth, session, make_user):
    """An awarded application (two reviews, a moderation); the services that make it queue
    e-mails from templates, so they run in a request context of their own."""
    with app.test_request_context():
        return decided(client, auth, session, make_user)


def _at(monkeypatch, moment: dt.datetime) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment.astimezone(dt.UTC))


def _requests(session, application):
    session.expire_all()
    return session.scalars(sa.select(RedressRequest).filter_by(
        application_id=application.id).order_by(RedressRequest.id)).all()


def test_the_window_closes_at_the_end_of_its_last_day_in_japan_time(
        client, auth, session, make_user, monkeypatch, awarded):
    application = awarded.application
    url = f"/applications/{application.id}/evaluation-review"
    member = make_user(Role.APPLICANT)  # another member of the same organization
    auth.sign_in(member)
    page = client.get(url)
    assert page.status_code == 200 and "2026-12-20" in page.text
    auth.sign_out()

    _at(monkeypatch, LAST_SECOND + dt.timedelta(seconds=1))
    auth.sign_in(member)  # a month on: a new session
    late = client.post(url, data=REQUEST)
    assert late.status_code == 409
    assert "2026-12-20" in late.text and "終わりに終了しました" in late.text
    assert REQUEST["description"] in late.text  # the answers stay
    assert _requests(session, application) == []

    auth.sign_out()
    _at(monkeypatch, LAST_SECOND)
    auth.sign_in(member)
    blank = client.post(url, data={**REQUEST, "description": "\u200b\u3000"})
    assert blank.status_code == 422 and _requests(session, application) == []
    assert client.post(url, data=REQUEST).status_code == 303
    again = client.post(url, data={**REQUEST, "ground": "other"})
    assert again.status_code == 409 and len(_requests(session, application)) == 1
    request = _requests(session, application)[0]
    assert request.state is RedressState.OPEN and request.requested_at == LAST_SECOND
    assert tags(session, application)[-1] == "apply:redress:request"
    mails = session.scalars(sa.select(OutboxMessage).filter_by(
        application_id=application.id).order_by(OutboxMessage.id)).all()
    assert application.reference in mails[-1].subject and "再審査" in mails[-1].subject


def test_only_the_applicants_members_ask_and_only_officers_find(
        client, auth, session, make_user, awarded):
    application = awarded.application
    url = f"/applications/{application.id}/evaluation-review"
    manage = f"/manage/applications/{application.id}/evaluation-review"
    for user in (make_user(Role.APPLICANT, lg_code="131016"), make_user(Role.REVIEWER),
                 make_user(Role.OFFICER), make_user(Role.AUDITOR)):
        auth.sign_in(user)
        assert client.get(url).status_code in (403, 404), user.role
        assert client.post(url, data=REQUEST).status_code in (403, 404), user.role
        auth.sign_out()
    assert _requests(session, application) == []
    auth.sign_in(application.created_by)
    assert client.post(url, data=REQUEST).status_code == 303
    assert client.get(manage).status_code == 403
    assert client.post(f"{manage}/finding", data={
        "outcome": "upheld", "finding": "認める。"}).status_code == 403
    auth.sign_out()
    assert _requests(session, application)[0].state is RedressState.OPEN


def test_a_dismissed_request_keeps_the_decision_and_tells_the_applicant(
        client, auth, session, make_user, awarded):
    done = awarded
    application = done.application
    auth.sign_in(application.created_by)
    client.post(f"/applications/{application.id}/evaluation-review", data=REQUEST)
    auth.sign_out()
    manage = f"/manage/applications/{application.id}/evaluation-review"
    auth.sign_in(done.officer)
    flagged = client.get(f"/manage/applications/{application.id}").text
    assert 'id="open-redress"' in flagged and "評価の再審査の申出がありました" in flagged
    assert "evaluation-summary.pdf" in flagged
    page = client.get(manage)
    assert page.status_code == 200 and REQUEST["description"] in page.text
    blank = client.post(f"{manage}/finding", data={"outcome": "dismissed", "finding": "\u200b"})
    assert blank.status_code == 422
    assert client.post(f"{manage}/finding", data={
        "outcome": "dismissed", "finding": "当該評価者に利害関係は認められない。"}
    ).status_code == 303
    assert client.post(f"{manage}/finding", data={
        "outcome": "upheld", "finding": "やはり認める。"}).status_code == 404
    assert 'id="open-redress"' not in client.get(f"/manage/applications/{application.id}").text
    auth.sign_out()
    request = _requests(session, application)[0]
    assert request.state is RedressState.DISMISSED and request.found_at == NOW
    session.refresh(application)
    assert application.state is State.AWARDED
    assert session.scalar(sa.select(Decision).filter_by(application_id=application.id))
    mail = session.scalars(sa.select(OutboxMessage).filter_by(
        application_id=application.id).order_by(OutboxMessage.id.desc())).first()
    assert "当該評価者に利害関係は認められない。" in mail.body and "棄却" in mail.body
    assert "/evaluation-review" in mail.body
    assert tags(session, application)[-1] == "manage:redress:dismiss"


def test_an_upheld_request_sets_the_decision_aside_for_new_reviewers(
        client, auth, session, make_user, awarded):
    done = awarded
    application = done.application
    auth.sign_in(application.created_by)
    client.post(f"/applications/{application.id}/evaluation-review", data=REQUEST)
    auth.sign_out()
    auth.sign_in(done.officer)
    assert client.post(f"/manage/applications/{application.id}/evaluation-review/finding",
                       data={"outcome": "upheld", "finding": "利害関係の見落としを認める。"}
                       ).status_code == 303
    session.expire_all()
    assert application.state is State.IN_REVIEW
    assert session.scalar(sa.select(Decision).filter_by(application_id=application.id)) is None
    request = _requests(session, application)[0]
    assert request.state is RedressState.UPHELD
    assert request.set_aside_decision["amount_yen"] == 3_500_000
    assignments = session.scalars(sa.select(Assignment).filter_by(
        application_id=application.id)).all()
    assert {a.state for a in assignments} == {AssignmentState.WITHDRAWN}
    assert session.scalar(sa.select(Moderation).filter_by(application_id=application.id)) \
        is None
    assert tags(session, application)[-1] == "manage:redress:uphold"

    # The earlier reviewers cannot be assigned again; a new one can.
    url = f"/manage/applications/{application.id}"
    again = client.post(f"{url}/assign", data={"reviewer_id": str(done.reviewers[0].id)})
    assert again.status_code == 422 and "再審査の申出が認められ" in again.text
    newcomer = make_user(Role.REVIEWER)
    add_to_call(session, newcomer)
    assert client.post(f"{url}/assign", data={"reviewer_id": str(newcomer.id)}).status_code \
        == 303
    auth.sign_out()

    # The applicant is told, and the application shows no decision until the new one.
    mail = session.scalars(sa.select(OutboxMessage).filter_by(
        application_id=application.id).order_by(OutboxMessage.id.desc())).first()
    assert "認容" in mail.body and "利害関係の見落としを認める。" in mail.body
    auth.sign_in(application.created_by)
    page = client.get(f"/applications/{application.id}/evaluation-review")
    assert "利害関係の見落としを認める。" in page.text and 'name="description"' not in page.text
    auth.sign_out()
