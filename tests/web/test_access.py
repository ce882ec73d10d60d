"""Who may reach what: every route is guarded, and ids of other organizations lead nowhere."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from grants.domain.workflow import Role
from grants.models import Application, OrganizationKind, Program
from grants.services import apply
from tests.conftest import NOW


def test_routes_every_endpoint_declares_its_access(app):
    unguarded = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not hasattr(app.view_functions[rule.endpoint], "access")
    ]
    assert unguarded == []


def _draft(session, user):
    program = session.get(Program, "ict-kizuna-2010")
    application = apply.start(session, program, actor=user, now=NOW)
    session.commit()
    return application


def test_other_organization_application_not_found_by_id(client, auth, session, make_user):
    owner = make_user(Role.APPLICANT, lg_code="011002")
    stranger = make_user(Role.APPLICANT, lg_code="012131")
    application = _draft(session, owner)
    auth.sign_in(stranger)
    step = "overview"
    for url in (
        f"/applications/{application.id}",
        f"/applications/{application.id}/check",
        f"/applications/{application.id}/steps/{step}",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        f"/applications/{application.id}/steps/{step}",
        data={"lock_version": "1", "f_project_title": "乗っ取り"},
    )
    assert response.status_code == 404
    assert (
        client.post(f"/applications/{application.id}/submit", data={"confirm": "y"}).status_code
        == 404
    )
    listing = client.get("/applications")
    assert application.reference not in listing.text


def test_same_organization_member_can_continue_draft(client, auth, session, make_user):
    first = make_user(Role.APPLICANT, lg_code="011002")
    colleague = make_user(Role.APPLICANT, organization=first.organization)
    application = _draft(session, first)
    auth.sign_in(colleague)
    assert client.get(f"/applications/{application.id}/steps/overview").status_code == 200
    assert application.reference in client.get("/applications").text


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.AUDITOR])
def test_staff_without_permission_cannot_open_drafts(client, auth, session, make_user, role):
    owner = make_user(Role.APPLICANT)
    application = _draft(session, owner)
    auth.sign_in(make_user(role))
    assert client.get(f"/applications/{application.id}").status_code == 403
    assert client.get(f"/applications/{application.id}/steps/overview").status_code == 403


def test_officer_does_not_see_drafts(client, auth, session, make_user):
    owner = make_user(Role.APPLICANT)
    application = _draft(session, owner)
    auth.sign_in(make_user(Role.OFFICER))
    assert client.get(f"/applications/{application.id}").status_code == 404
    assert client.get(f"/applications/{application.id}/steps/overview").status_code == 403


def test_anonymous_is_sent_to_sign_in(client, session, make_user):
    application = _draft(session, make_user(Role.APPLICANT))
    response = client.get(f"/applications/{application.id}/check")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_ineligible_applicant_type_is_told_why(client, auth, session, make_user):
    from grants.domain.eligibility import precheck
    from grants.services.programs import definition_of

    definition = definition_of(session.get(Program, "ict-kizuna-2010").current_version)
    answers = {q.id: q.required_answer for q in definition.eligibility_questions}
    [reason] = precheck(definition, "other", answers)
    auth.sign_in(make_user(Role.APPLICANT, kind=OrganizationKind.OTHER, lg_code=None))
    page = client.post(
        "/calls/ict-kizuna-2010/eligibility",
        data={f"q_{key}": "yes" if value else "no" for key, value in answers.items()},
    )
    assert page.status_code == 200
    assert reason.message.ja in page.text
    assert "start" not in page.text.split("notice-error")[1][:200]


def test_attachment_download_refused_to_other_organization(client, auth, session, make_user):
    from grants.models import Attachment

    owner = make_user(Role.APPLICANT, lg_code="011002")
    application = _draft(session, owner)
    attachment = Attachment(
        field_id="project_plan",
        sha256="a" * 64,
        filename="plan.pdf",
        mime_type="application/pdf",
        size_bytes=1,
        uploaded_by_id=owner.id,
    )
    application.attachments.append(attachment)
    session.commit()
    auth.sign_in(make_user(Role.APPLICANT, lg_code="012131"))
    url = f"/applications/{application.id}/attachments/{attachment.id}"
    assert client.get(url).status_code == 404
    assert session.scalar(sa.select(sa.func.count()).select_from(Application)) >= 1
