"""Seed a big call in bulk: organizations, applicants, reviewers, applications in review with
their frozen submissions, assignments with submitted reviews, moderations and a few decisions.

Rows go in through ORM bulk INSERTs (one executemany per table; ids back by RETURNING where later
rows need them) in three transactions, so 5,000 applications take seconds: the benchmark
measures the ranking, not the seeding. The people are in ``seedaccounts``, the answers and
snapshots in ``bigcall``, the reviews in ``seedreviews``.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from benchlib.bigcall import answers_for, reference, snapshot_for, submitted_at
from benchlib.common import PROGRAM_KEY, log
from benchlib.seedaccounts import insert_ids, insert_rows, seed_accounts
from benchlib.seedreviews import decision_row, plan_reviews

DECIDED_EVERY = 500  # one award and one rejection per this many applications


@dataclass
class Seeded:
    applications: int = 0
    reviews: int = 0
    moderations: int = 0
    decisions: int = 0
    knockouts: int = 0  # applications with a review that hit a knockout
    references: frozenset[str] = frozenset()
    reviewer_names: tuple[str, ...] = ()
    officer_email: str = "officer@bench.example.jp"
    officer_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    def phase(self, name: str, began: float) -> float:
        now = time.perf_counter()
        self.phases[name] = now - began
        return now


def seed_call(url: str, applications: int, reviewers: int, per_application: int) -> Seeded:
    """Seed ``PROGRAM_KEY`` in the database at ``url`` (migrated and loaded beforehand)."""
    from sqlalchemy.orm import Session

    from grants.db import create_engine

    seeded = Seeded()
    began = time.perf_counter()
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            _seed(session, seeded, applications, reviewers, per_application)
        if engine.dialect.name == "postgresql":  # what autovacuum would do within a minute
            began_analyze = time.perf_counter()
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
            seeded.phase("analyze", began_analyze)
    finally:
        engine.dispose()
    seeded.seconds = time.perf_counter() - began
    log(
        f"seeded {seeded.applications} applications, {seeded.reviews} reviews, "
        f"{seeded.moderations} moderations, {seeded.decisions} decisions in "
        f"{seeded.seconds:.1f} s: " + ", ".join(f"{k} {v:.1f} s" for k, v in seeded.phases.items())
    )
    return seeded


def _seed(session: Any, seeded: Seeded, count: int, reviewer_count: int, per: int) -> None:
    from grants.models import Assignment, Decision, Moderation, Program, Review
    from grants.services.decide import award_limit
    from grants.services.programs import definition_of
    from grants.services.reviewing import current_rubric_version
    from grants.services.rubrics import rubric_of

    rng = random.Random(2010)
    t = time.perf_counter()
    program = session.get(Program, PROGRAM_KEY)
    if program is None:
        raise SystemExit(f"program {PROGRAM_KEY} was not loaded")
    program.reviewers_per_application = per
    version = program.current_version
    definition = definition_of(version)
    rubric_version = current_rubric_version(session, version)
    seeded.reviewer_names = tuple(f"審査員 {r + 1:02d}" for r in range(reviewer_count))
    people = seed_accounts(
        session, seeded.officer_email, seeded.officer_password, count, seeded.reviewer_names
    )
    session.commit()
    t = seeded.phase("accounts", t)

    apps = _applications(session, seeded, definition, version, people, rng, t)
    t = time.perf_counter()
    officer_id = people.officer_id
    plan = plan_reviews(
        rubric_of(rubric_version),
        rubric_version.id,
        apps.ids,
        people.reviewer_ids,
        per,
        officer_id,
        rng,
    )
    decisions = [
        decision_row(apps.ids[n], award, award_limit(limit_of), officer_id)
        for n, (award, limit_of) in apps.decided.items()
    ]
    t = seeded.phase("build reviews", t)
    assignment_ids = insert_ids(session, Assignment, plan.assignments)
    for assignment_id, row in zip(assignment_ids, plan.reviews, strict=True):
        row["assignment_id"] = assignment_id
    insert_rows(session, Review, plan.reviews)
    insert_rows(session, Moderation, plan.moderations)
    insert_rows(session, Decision, decisions)
    session.commit()
    seeded.phase("insert reviews", t)
    seeded.applications, seeded.reviews = len(apps.ids), len(plan.reviews)
    seeded.moderations, seeded.decisions = len(plan.moderations), len(decisions)
    seeded.knockouts = plan.knockouts


def _applications(
    session: Any,
    seeded: Seeded,
    definition: Any,
    version: Any,
    people: Any,
    rng: random.Random,
    began: float,
) -> Any:
    """Applications in review (a few decided), each with its submission and its project plan."""
    from grants.models import Application, Attachment, Submission

    apps, submissions, attachments, decided, references = [], [], [], {}, []
    for n, org in enumerate(people.orgs):
        ref = reference(n)
        references.append(ref)
        answers = answers_for(definition, n, org, rng, people.lg_codes)
        user_id, user = people.applicants[n]
        org_view = SimpleNamespace(id=people.org_ids[n], **vars(org))
        actor = SimpleNamespace(id=user_id, display_name=user["display_name"], email=user["email"])
        at = submitted_at(n)
        text, digest, findings, files = snapshot_for(
            definition, version.sha256, ref, org_view, actor, answers, at
        )
        state = "in_review"
        if n % DECIDED_EVERY in (7, DECIDED_EVERY // 2 + 7):
            state = "awarded" if n % DECIDED_EVERY == 7 else "rejected"
            # what decide.award_limit reads: the version and the frozen snapshot
            frozen = SimpleNamespace(
                program_version=version, submissions=[SimpleNamespace(snapshot=text)]
            )
            decided[n] = (state == "awarded", frozen)
        apps.append(
            {
                "reference": ref,
                "program_version_id": version.id,
                "organization_id": people.org_ids[n],
                "created_by_id": user_id,
                "state": state,
                "answers": answers,
                "lock_version": 12,
                "created_at": at,
                "updated_at": at,
                "updated_by_id": user_id,
                "submitted_at": at,
                "return_reason": None,
            }
        )
        submissions.append(
            {
                "number": 1,
                "snapshot": text,
                "snapshot_sha256": digest,
                "findings": findings,
                "submitted_at": at,
                "submitted_by_id": user_id,
            }
        )
        attachments += [
            {
                "field_id": f.field_id,
                "sha256": f.sha256,
                "filename": f.filename,
                "mime_type": f.mime_type,
                "size_bytes": f.size_bytes,
                "uploaded_at": at,
                "uploaded_by_id": user_id,
                "n": n,
            }
            for f in files
        ]
    t = seeded.phase("build applications", began)
    ids = insert_ids(session, Application, apps)
    for n, row in enumerate(submissions):
        row["application_id"] = ids[n]
    for row in attachments:
        row["application_id"] = ids[row.pop("n")]
    insert_rows(session, Submission, submissions)
    insert_rows(session, Attachment, attachments)
    session.commit()
    seeded.phase("insert applications", t)
    seeded.references = frozenset(references)
    return SimpleNamespace(ids=ids, decided=decided)
