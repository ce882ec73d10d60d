"""Helpers for review tests: a submitted application, reviewers, filled review forms, and many
applications cloned from one frozen submission (for the query-count tests).
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.domain.rubrics import Rubric as RubricDefinition
from grants.domain.workflow import Role, State
from grants.models import (
    Application,
    Assignment,
    CallReviewer,
    OrganizationKind,
    Program,
    Review,
    ReviewState,
    Submission,
)
from grants.services.programs import definition_of
from grants.services.reviewing import rubric_version_for
from grants.services.rubrics import rubric_of
from tests.conftest import NOW
from tests.web.journey import fill_application

KEY = "ict-kizuna-2010"


def submit_application(client: Any, auth: Any, session: Session, make_user: Any,
                       key: str = KEY, lg_code: str = "011002", text: str = "") -> Application:
    """An applicant (a local government) fills and submits a whole application, then signs out."""
    definition = definition_of(session.get(Program, key).current_version)
    applicant = make_user(Role.APPLICANT, kind=OrganizationKind.LOCAL_GOVERNMENT, lg_code=lg_code)
    auth.sign_in(applicant)
    assert client.post(f"/calls/{key}/start").status_code == 303
    application = session.scalars(sa.select(Application).order_by(Application.id.desc())).first()
    fill_application(client, definition, application.id, text)
    response = client.post(f"/applications/{application.id}/submit", data={"confirm": "y"})
    assert response.status_code == 303, response.text[:2000]
    auth.sign_out()
    session.refresh(application)
    assert application.state is State.SUBMITTED
    return application


def rubric_for(session: Session, application: Application) -> RubricDefinition:
    return rubric_of(rubric_version_for(session, application))


def review_form(rubric: RubricDefinition, html: str, score: int, *, action: str = "save",
                comment: str = "根拠を確認しました。", shared: str = "") -> dict[str, str]:
    """Every criterion rated `score` with a comment, plus the form's lock version."""
    version = re.search(r'name="lock_version" type="hidden" value="(\d+)"', html)
    assert version, "no lock_version in the review page"
    data = {"lock_version": version.group(1), "action": action, "comment_for_applicant": shared}
    for criterion in rubric.criteria():
        data[f"s_{criterion.id}"] = str(score)
        data[f"c_{criterion.id}"] = comment
    return data


def add_to_call(session: Session, reviewer: Any, key: str = KEY) -> None:
    session.add(CallReviewer(program_key=key, reviewer_id=reviewer.id, added_at=NOW))
    session.commit()


def clone_in_review(session: Session, template: Application, count: int) -> list[Application]:
    """`count` applications in review, each with a copy of the template's frozen submission."""
    source = template.submissions[-1]
    made = session.scalar(sa.select(sa.func.count()).where(
        Application.reference.like(f"T-{template.id}-%")))
    clones = []
    for n in range(made, made + count):
        clone = Application(
            reference=f"T-{template.id}-{n:05d}", program_version_id=template.program_version_id,
            organization_id=template.organization_id, created_by_id=template.created_by_id,
            state=State.IN_REVIEW, answers=template.answers, lock_version=1,
            submitted_at=NOW,
        )
        clone.submissions.append(Submission(
            number=1, snapshot=source.snapshot, snapshot_sha256=source.snapshot_sha256,
            findings=source.findings, submitted_at=NOW, submitted_by_id=source.submitted_by_id))
        clones.append(clone)
    session.add_all(clones)
    session.flush()
    return clones


def review_all(session: Session, applications: list[Application], reviewers: list[Any],
               rubric_version_id: int, rubric: RubricDefinition) -> None:
    """Assign every reviewer to every application with a submitted review (scores vary)."""
    for i, application in enumerate(applications):
        for j, reviewer in enumerate(reviewers):
            assignment = Assignment(application_id=application.id, reviewer_id=reviewer.id,
                                    assigned_at=NOW, assigned_by_id=reviewer.id)
            score = (i + j) % (rubric.scale.max + 1)
            ratings = {c.id: max(score, rubric.scale.min) for c in rubric.criteria()}
            assignment.review = Review(
                rubric_version_id=rubric_version_id, ratings=ratings,
                comments={c.id: "x" for c in rubric.criteria()}, state=ReviewState.SUBMITTED,
                updated_at=NOW, submitted_at=NOW)
            session.add(assignment)
    session.commit()


def in_review(client: Any, auth: Any, session: Session, make_user: Any, reviewers: int = 2,
              per_application: int | None = None) -> tuple[Application, Any, list[Any]]:
    """A submitted application accepted by an officer and assigned by hand to `reviewers`
    reviewers of the call (the call asks for `per_application` when given). Signed out."""
    application = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    people = [make_user(Role.REVIEWER) for _ in range(reviewers)]
    auth.sign_in(officer)
    assert client.post(f"/manage/applications/{application.id}/accept").status_code == 303
    if per_application is not None:
        client.post(f"/manage/calls/{KEY}/settings",
                    data={"reviewers_per_application": str(per_application)})
    for reviewer in people:
        add_to_call(session, reviewer)
        assigned = client.post(f"/manage/applications/{application.id}/assign",
                               data={"reviewer_id": str(reviewer.id)})
        assert assigned.status_code == 303, assigned.text[:2000]
    auth.sign_out()
    session.refresh(application)
    return application, officer, people


def assignment_of(session: Session, application: Application, reviewer: Any) -> Assignment:
    session.expire_all()
    return session.scalar(sa.select(Assignment).filter_by(
        application_id=application.id, reviewer_id=reviewer.id))


def submit_review(client: Any, auth: Any, session: Session, application: Application,
                  reviewer: Any, score: int, **form: Any) -> Any:
    """The reviewer signs in, fills every criterion with `score` and submits; returns the
    response (303 when submitted), signed out again."""
    rubric = rubric_for(session, application)
    assignment = assignment_of(session, application, reviewer)
    auth.sign_in(reviewer)
    page = client.get(f"/review/assignments/{assignment.id}")
    data = review_form(rubric, page.text, score, action="submit",
                       **{k: v for k, v in form.items() if k in ("comment", "shared")})
    data.update({k: v for k, v in form.items() if k not in ("comment", "shared")})
    response = client.post(f"/review/assignments/{assignment.id}", data=data)
    auth.sign_out()
    return response
