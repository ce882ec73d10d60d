"""Whole applications through the test client: sign-in, eligibility, every step, submit, receipt."""

from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa

from grants.domain.workflow import Role, State
from grants.models import Application, AuditEvent, OrganizationKind, Program, Submission
from grants.services.programs import definition_of
from tests.web.journey import fill_application

PROGRAM_KEYS = [
    "ict-kizuna-2010",
    "ict-wide-area-2011",
    "ubiquitous-town-2009",
    "iot-implementation-2017",
]


def _applicant_for(definition, make_user):
    kind = OrganizationKind(definition.applicant_types[0])
    return make_user(
        Role.APPLICANT,
        kind=kind,
        lg_code="011002" if kind is OrganizationKind.LOCAL_GOVERNMENT else None,
    )


def _start(client, session, key):
    response = client.post(f"/calls/{key}/start")
    assert response.status_code == 303
    return session.scalars(sa.select(Application).order_by(Application.id.desc())).first()


@pytest.mark.parametrize("key", PROGRAM_KEYS)
def test_journey_each_open_program_reaches_receipt(client, auth, session, make_user, key):
    definition = definition_of(session.get(Program, key).current_version)
    user = _applicant_for(definition, make_user)
    assert auth.sign_in(user).status_code == 302
    assert client.get(f"/calls/{key}").status_code == 200
    questions = {
        f"q_{q.id}": "yes" if q.required_answer else "no" for q in definition.eligibility_questions
    }
    precheck = client.post(f"/calls/{key}/eligibility", data=questions)
    assert "Start an application" in precheck.text or "申請を始める" in precheck.text

    application = _start(client, session, key)
    fill_application(client, definition, application.id)

    check = client.get(f"/applications/{application.id}/check")
    assert check.status_code == 200
    assert "finding-error" not in check.text, check.text
    response = client.post(f"/applications/{application.id}/submit", data={"confirm": "y"})
    assert response.status_code == 303, response.text[:2000]
    receipt = client.get(response.headers["Location"])
    session.refresh(application)
    submission = application.submissions[0]
    assert application.state is State.SUBMITTED
    assert application.reference in receipt.text
    assert submission.snapshot_sha256 in receipt.text
    assert hashlib.sha256(submission.snapshot.encode()).hexdigest() == submission.snapshot_sha256
    snapshot = json.loads(submission.snapshot)
    assert snapshot["program"]["id"] == key
    assert snapshot["program"]["version_sha256"] == application.program_version.sha256
    assert len(snapshot["attachments"]) == len(application.attachments) > 0


def test_submit_twice_gives_one_submission(client, auth, session, make_user):
    key = "ict-kizuna-2010"
    definition = definition_of(session.get(Program, key).current_version)
    auth.sign_in(_applicant_for(definition, make_user))
    application = _start(client, session, key)
    fill_application(client, definition, application.id)
    first = client.post(f"/applications/{application.id}/submit", data={"confirm": "y"})
    second = client.post(f"/applications/{application.id}/submit", data={"confirm": "y"})
    assert first.status_code == second.status_code == 303
    count = session.scalar(
        sa.select(sa.func.count())
        .select_from(Submission)
        .where(Submission.application_id == application.id)
    )
    assert count == 1
    events = session.scalars(
        sa.select(AuditEvent.tag).where(
            AuditEvent.subject_id == application.id, AuditEvent.tag == "apply:application:submit"
        )
    )
    assert len(events.all()) == 1


def test_submitted_application_cannot_be_edited(client, auth, session, make_user):
    key = "ict-kizuna-2010"
    definition = definition_of(session.get(Program, key).current_version)
    auth.sign_in(_applicant_for(definition, make_user))
    application = _start(client, session, key)
    fill_application(client, definition, application.id)
    client.post(f"/applications/{application.id}/submit", data={"confirm": "y"})
    step = definition.steps[0]
    response = client.post(
        f"/applications/{application.id}/steps/{step.id}",
        data={"lock_version": "99", "f_project_title": "changed"},
    )
    assert response.status_code == 303
    session.refresh(application)
    assert application.answers["project_title"] != "changed"
