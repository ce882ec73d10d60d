"""Helpers for consensus tests: a rubric that ranks by consensus, and a report taken through
its steps by the pages."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.models import Application, AuditEvent, Rubric, RubricVersion
from tests.conftest import NOW
from tests.web.reviewflow import in_review, submit_review

RUBRIC_KEY = "regional-ict-utilization"


def rank_by_consensus(session: Session, mode: str = "consensus") -> None:
    """Make the call's rubric rank by `mode` (consensus by default) with half-marks (a new
    current version, before any review pins one)."""
    head = session.get(Rubric, RUBRIC_KEY)
    text = (head.current_version.source_text
            .replace("scale:\n  levels:", "scale:\n  step: 0.5\n  levels:", 1)
            .replace("\nsections:\n", f"\nranking_score: {mode}\nsections:\n", 1))
    version = RubricVersion(rubric_key=RUBRIC_KEY, source_text=text, loaded_at=NOW,
                            sha256=hashlib.sha256(text.encode()).hexdigest(),
                            source_name=head.current_version.source_name)
    session.add(version)
    session.flush()
    head.current_version_id = version.id
    session.commit()


def reviewed(client: Any, auth: Any, session: Session, make_user: Any,
             scores: tuple[int, ...] = (4, 3, 2)) -> tuple[Application, Any, list[Any]]:
    """An application in review with one submitted review per score, by as many reviewers."""
    application, officer, people = in_review(client, auth, session, make_user,
                                             reviewers=len(scores))
    for reviewer, score in zip(people, scores, strict=True):
        assert submit_review(client, auth, session, application, reviewer, score).status_code \
            == 303
    return application, officer, people


def draft(rubric: Any, score: str, *, comment: str = "審査員の合意による評価。",
          overall: str = "全体として妥当な計画である。", action: str = "circulate"
          ) -> dict[str, str]:
    data = {"action": action, "overall_comment": overall}
    for criterion in rubric.criteria():
        data[f"s_{criterion.id}"] = score
        data[f"c_{criterion.id}"] = comment
    return data


def approved(client: Any, auth: Any, session: Session, application: Application, officer: Any,
             people: list[Any], rubric: Any, score: str = "3.5") -> None:
    """The first reviewer drafts and circulates, the others agree, the officer approves."""
    url = f"/review/applications/{application.id}/consensus"
    auth.sign_in(officer)
    assert client.post(f"/manage/applications/{application.id}/consensus/rapporteur",
                       data={"reviewer_id": str(people[0].id)}).status_code == 303
    auth.sign_out()
    auth.sign_in(people[0])
    assert client.post(url, data=draft(rubric, score)).status_code == 303
    auth.sign_out()
    for other in people[1:]:
        auth.sign_in(other)
        assert client.post(f"{url}/response", data={"answer": "agree"}).status_code == 303
        auth.sign_out()
    auth.sign_in(officer)
    assert client.post(f"/manage/applications/{application.id}/consensus/approve"
                       ).status_code == 303
    auth.sign_out()


def tags(session: Session, application: Application) -> list[str]:
    return list(session.scalars(sa.select(AuditEvent.tag).where(
        AuditEvent.subject_type == "application", AuditEvent.subject_id == application.id)
        .order_by(AuditEvent.id)))
