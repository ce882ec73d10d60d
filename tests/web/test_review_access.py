"""Who may see what in review: reviewers reach only their own, unconflicted assignments, never
other reviewers' scores, and nothing of the officers' pages, whatever ids they guess.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from grants.domain.workflow import Role
from grants.models import Assignment, ConflictDeclaration, Review
from grants.services import assign
from tests.conftest import NOW
from tests.web.reviewflow import KEY, add_to_call, review_form, rubric_for, submit_application


def _in_review_with(session, client, auth, make_user, *reviewers):
    application = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    auth.sign_in(officer)
    client.post(f"/manage/applications/{application.id}/accept")
    auth.sign_out()
    session.refresh(application)
    assignments = []
    for reviewer in reviewers:
        add_to_call(session, reviewer)
        assignments.append(assign.assign(session, application, reviewer, actor=officer, now=NOW))
    session.commit()
    return application, officer, assignments


def test_reviewer_reaches_only_own_assignment(client, auth, session, make_user):
    mine, theirs = make_user(Role.REVIEWER), make_user(Role.REVIEWER)
    application, _, (own, other) = _in_review_with(session, client, auth, make_user, mine, theirs)
    rubric = rubric_for(session, application)

    auth.sign_in(theirs)
    page = client.get(f"/review/assignments/{other.id}")
    client.post(f"/review/assignments/{other.id}",
                data=review_form(rubric, page.text, 1, action="submit",
                                 comment="他の評価者だけが書いた講評"))
    auth.sign_out()

    auth.sign_in(mine)
    assert client.get(f"/review/assignments/{own.id}").status_code == 200
    for guessed in (other.id, other.id + 1000):
        assert client.get(f"/review/assignments/{guessed}").status_code == 404
        assert client.post(f"/review/assignments/{guessed}", data={}).status_code == 404
        assert client.post(f"/review/assignments/{guessed}/decline",
                           data={"reason": "x"}).status_code == 404
    own_page = client.get(f"/review/assignments/{own.id}")
    assert "他の評価者だけが書いた講評" not in own_page.text
    assert theirs.display_name not in own_page.text
    # Officers' pages (other reviewers' scores among them) are closed to reviewers.
    for url in (f"/manage/applications/{application.id}", f"/manage/calls/{KEY}",
                f"/manage/calls/{KEY}/ranking", f"/manage/calls/{KEY}/scores.csv",
                f"/manage/calls/{KEY}/export.xlsx", f"/manage/calls/{KEY}/calibration",
                "/manage/outbox"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/manage/applications/{application.id}/moderate",
                       data={"criterion_id": "x", "score": "1", "rationale": "x"}
                       ).status_code == 403
    assert client.get(f"/applications/{application.id}").status_code in (403, 404)
    attachment = application.attachments[0]
    assert client.get(
        f"/applications/{application.id}/attachments/{attachment.id}").status_code == 403
    own_file = client.get(f"/review/assignments/{own.id}/files/{attachment.sha256}")
    assert own_file.status_code == 200 and own_file.data.startswith(b"%PDF")
    own_file.close()
    assert client.get(
        f"/review/assignments/{other.id}/files/{attachment.sha256}").status_code == 404
    assert client.get(f"/review/assignments/{own.id}/files/{'0' * 64}").status_code == 404


def test_conflicted_reviewer_loses_access_and_is_refused_by_hand(
        client, auth, session, make_user):
    reviewer = make_user(Role.REVIEWER)
    application, officer, (assignment,) = _in_review_with(
        session, client, auth, make_user, reviewer)
    auth.sign_in(reviewer)
    assert client.get(f"/review/assignments/{assignment.id}").status_code == 200
    # The reviewer declares the applicant's local government: the assignment disappears.
    lead_code = application.organization.lg_code
    declared = client.post("/review/interests", data={"lg_code": lead_code, "note": ""})
    assert declared.status_code == 303
    assert session.scalar(sa.select(ConflictDeclaration).filter_by(
        reviewer_id=reviewer.id)).lg_code == lead_code
    assert client.get(f"/review/assignments/{assignment.id}").status_code == 404
    assert f"/review/assignments/{assignment.id}" not in client.get("/review/").text
    auth.sign_out()

    other = make_user(Role.REVIEWER)
    session.add(ConflictDeclaration(reviewer_id=other.id, lg_code=lead_code, declared_at=NOW))
    add_to_call(session, other)
    auth.sign_in(officer)
    refused = client.post(f"/manage/applications/{application.id}/assign",
                          data={"reviewer_id": str(other.id)})
    assert refused.status_code == 422
    assert lead_code in refused.text
    assert session.scalar(sa.select(Assignment).filter_by(
        application_id=application.id, reviewer_id=other.id)) is None


def test_reviewer_from_a_partner_government_is_never_auto_assigned(
        client, auth, session, make_user):
    application = submit_application(client, auth, session, make_user)
    partner_code = json.loads(application.submissions[-1].snapshot)["answers"]["partners"][0][
        "code"]
    partner_staff = make_user(Role.APPLICANT, lg_code=partner_code)
    conflicted = make_user(Role.REVIEWER, organization=partner_staff.organization)
    free = make_user(Role.REVIEWER)
    officer = make_user(Role.OFFICER)
    for reviewer in (conflicted, free):
        add_to_call(session, reviewer)
    auth.sign_in(officer)
    client.post(f"/manage/applications/{application.id}/accept")
    client.post(f"/manage/calls/{KEY}/settings", data={"reviewers_per_application": "2"})
    report = client.post(f"/manage/calls/{KEY}/auto-assign")
    assert report.status_code == 200  # the pool is too small: the report is shown
    shortfall = report.text.split('class="notice notice-error"', 1)[1].split("</div>", 1)[0]
    assert application.reference in shortfall
    assigned = session.scalars(sa.select(Assignment.reviewer_id).filter_by(
        application_id=application.id)).all()
    assert assigned == [free.id]


def test_declined_assignment_is_reassigned_to_someone_else(client, auth, session, make_user):
    first, second = make_user(Role.REVIEWER), make_user(Role.REVIEWER)
    application, officer, (assignment,) = _in_review_with(
        session, client, auth, make_user, first)
    add_to_call(session, second)
    auth.sign_in(first)
    assert client.post(f"/review/assignments/{assignment.id}/decline",
                       data={"reason": ""}).status_code == 422
    assert client.post(f"/review/assignments/{assignment.id}/decline",
                       data={"reason": "利害関係があります"}).status_code == 303
    assert client.get(f"/review/assignments/{assignment.id}").status_code == 404
    auth.sign_out()
    auth.sign_in(officer)
    client.post(f"/manage/calls/{KEY}/auto-assign")
    active = session.scalars(sa.select(Assignment.reviewer_id).filter_by(
        application_id=application.id, state="active")).all()
    assert active == [second.id]
    assert session.scalar(sa.select(Review).filter_by(assignment_id=assignment.id)) is None


def test_applicants_and_auditors_cannot_reach_review_pages(client, auth, session, make_user):
    reviewer = make_user(Role.REVIEWER)
    application, _, (assignment,) = _in_review_with(session, client, auth, make_user, reviewer)
    for role in (Role.APPLICANT, Role.AUDITOR):
        user = application.created_by if role is Role.APPLICANT else make_user(role)
        auth.sign_in(user)
        assert client.get("/review/").status_code == 403
        assert client.get(f"/review/assignments/{assignment.id}").status_code == 403
        assert client.get(f"/manage/calls/{KEY}/ranking").status_code == 403
        assert client.post(f"/manage/applications/{application.id}/accept").status_code == 403
        auth.sign_out()


def test_declaring_the_applicant_organization_removes_the_assignment(
        client, auth, session, make_user):
    reviewer = make_user(Role.REVIEWER)
    application, _, (assignment,) = _in_review_with(session, client, auth, make_user, reviewer)
    auth.sign_in(reviewer)
    page = client.get("/review/interests")
    assert application.organization.name in page.text
    empty = client.post("/review/interests", data={"organization_id": "0", "lg_code": "",
                                                   "note": ""})
    assert empty.status_code == 422 and "error-summary" in empty.text
    declared = client.post("/review/interests", data={
        "organization_id": str(application.organization_id), "lg_code": "", "note": ""})
    assert declared.status_code == 303
    assert client.get(f"/review/assignments/{assignment.id}").status_code == 404
    other_organization = make_user(Role.APPLICANT, lg_code="012131").organization_id
    client.post("/review/interests", data={"organization_id": str(other_organization),
                                           "lg_code": "", "note": ""})
    ids = session.scalars(sa.select(ConflictDeclaration.organization_id).filter_by(
        reviewer_id=reviewer.id)).all()
    assert ids == [application.organization_id]  # not a choice offered: not recorded
