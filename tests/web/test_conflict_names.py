"""Conflicts found by Japanese organization names, through the pages: a reviewer who declares
「(株)テスト」 never reviews an application from 株式会社テスト, and the reviewer's declared local
governments are shown with their prefecture."""

from __future__ import annotations

import sqlalchemy as sa

from grants.domain.identifiers import corporate_number
from grants.domain.workflow import Role, State
from grants.models import Application, Assignment, AssignmentState, OrganizationKind, Program
from grants.services import accounts
from grants.services.programs import definition_of
from tests.conftest import NOW
from tests.web.journey import fill_application
from tests.web.reviewflow import KEY, add_to_call, submit_application


def _application_from(client, auth, session, make_user, name: str) -> Application:
    """A third-sector company called `name` fills and submits an application; an officer
    accepts it for review."""
    organization = accounts.find_or_create_organization(
        session, accounts.NewOrganization(OrganizationKind.THIRD_SECTOR, name,
                                          corporate_number=corporate_number("999900000777")),
        verified_at=NOW)
    applicant = make_user(Role.APPLICANT, organization=organization)
    auth.sign_in(applicant)
    assert client.post(f"/calls/{KEY}/start").status_code == 303
    application = session.scalars(sa.select(Application).order_by(Application.id.desc())).first()
    fill_application(client, definition_of(session.get(Program, KEY).current_version),
                     application.id)
    submitted = client.post(f"/applications/{application.id}/submit", data={"confirm": "y"})
    assert submitted.status_code == 303, submitted.text[:2000]
    auth.sign_out()
    officer = make_user(Role.OFFICER)
    auth.sign_in(officer)
    assert client.post(f"/manage/applications/{application.id}/accept").status_code == 303
    auth.sign_out()
    session.refresh(application)
    assert application.state is State.IN_REVIEW
    return application


def _active(session, application, reviewer) -> Assignment | None:
    return session.scalar(sa.select(Assignment).filter_by(
        application_id=application.id, reviewer_id=reviewer.id, state=AssignmentState.ACTIVE))


def test_a_declaration_in_abbreviated_form_keeps_the_reviewer_off(client, auth, session,
                                                                  make_user):
    application = _application_from(client, auth, session, make_user, "株式会社テスト")
    officer, declared, free = (make_user(Role.OFFICER), make_user(Role.REVIEWER),
                               make_user(Role.REVIEWER))
    for reviewer in (declared, free):
        add_to_call(session, reviewer)

    # Assigned first, the reviewer opens the application, then declares 「(株)テスト」.
    auth.sign_in(officer)
    assert client.post(f"/manage/applications/{application.id}/assign",
                       data={"reviewer_id": str(declared.id)}).status_code == 303
    auth.sign_out()
    assignment = _active(session, application, declared)
    auth.sign_in(declared)
    assert client.get(f"/review/assignments/{assignment.id}").status_code == 200
    assert client.post("/review/interests",
                       data={"note": "（株）テスト 社外取締役", "lg_code": ""}).status_code == 303
    assert client.get(f"/review/assignments/{assignment.id}").status_code == 404
    assert application.reference not in client.get("/review/").text
    auth.sign_out()

    # The officer cannot assign the reviewer again by hand, and is told why.
    auth.sign_in(officer)
    refused = client.post(f"/manage/applications/{application.id}/assign",
                          data={"reviewer_id": str(declared.id)})
    assert refused.status_code in (409, 422)
    assert "申請団体「株式会社テスト」の名前があります" in refused.text
    # Auto-assignment picks the other reviewer only.
    assert client.post(f"/manage/calls/{KEY}/settings",
                       data={"reviewers_per_application": "1"}).status_code in (200, 303)
    client.post(f"/manage/calls/{KEY}/auto-assign")
    auth.sign_out()
    assert _active(session, application, declared) is None
    assert _active(session, application, free) is not None


def test_declared_local_governments_are_shown_with_their_prefecture(client, auth, session,
                                                                    make_user):
    reviewer = make_user(Role.REVIEWER)
    auth.sign_in(reviewer)
    for code in ("０１２３３５", "072133"):  # 伊達市 of 北海道, then of 福島県
        assert client.post("/review/interests",
                           data={"lg_code": code, "note": ""}).status_code == 303

    page = client.get("/review/interests").text

    assert "伊達市（北海道）" in page and "伊達市（福島県）" in page
    assert "<code>012335</code>" in page and "<code>072133</code>" in page


def test_the_officer_tells_the_two_date_cities_apart(client, auth, session, make_user):
    # The application's partners are 苫小牧市 and 伊達市 of 福島県 (072133).
    application = submit_application(client, auth, session, make_user)
    hokkaido, fukushima, officer = (make_user(Role.REVIEWER), make_user(Role.REVIEWER),
                                    make_user(Role.OFFICER))
    for reviewer, data in ((hokkaido, {"lg_code": "012335", "note": "伊達市（北海道）の委員"}),
                           (fukushima, {"lg_code": "０７２１３３", "note": ""})):
        add_to_call(session, reviewer)
        auth.sign_in(reviewer)
        assert client.post("/review/interests", data=data).status_code == 303
        auth.sign_out()
    auth.sign_in(officer)
    assert client.post(f"/manage/applications/{application.id}/accept").status_code == 303

    refused = client.post(f"/manage/applications/{application.id}/assign",
                          data={"reviewer_id": str(fukushima.id)})
    assigned = client.post(f"/manage/applications/{application.id}/assign",
                           data={"reviewer_id": str(hokkaido.id)})

    assert refused.status_code in (409, 422)
    assert "伊達市（福島県）、団体コード 072133" in refused.text
    assert assigned.status_code == 303
    assert _active(session, application, hokkaido) is not None
    assert _active(session, application, fukushima) is None
