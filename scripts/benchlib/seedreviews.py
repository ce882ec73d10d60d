"""The reviewing side of the big call: assignments spread evenly, submitted reviews scored by the
app's own arithmetic, and the moderations and decisions an officer would have made.

Ratings come from a latent quality per application plus a bias per reviewer and some noise, so
totals spread out, reviewers disagree sometimes (flagged for moderation) and a low quality now
and then hits the knockout: the ranking's every branch gets rows, not only the happy path.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from benchlib.bigcall import comment
from benchlib.common import FIXED_NOW

REVIEWED_AT = FIXED_NOW + dt.timedelta(days=14)


@dataclass
class ReviewPlan:
    """Rows to insert once the assignments have their ids (``reviews`` pairs with them)."""

    assignments: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    moderations: list[dict[str, Any]] = field(default_factory=list)
    knockouts: int = 0


def reviewers_of(n: int, per_application: int, perms: list[list[int]]) -> list[int]:
    """Indexes of application n's reviewers: consecutive places in a shuffled round, so every
    reviewer gets the same load and co-reviewers change from round to round."""
    count = len(perms[0])
    start = n * per_application
    return [
        perms[(start + j) // count % len(perms)][(start + j) % count]
        for j in range(per_application)
    ]


def plan_reviews(
    rubric: Any,
    rubric_version_id: int,
    application_ids: list[int],
    reviewer_ids: list[int],
    per_application: int,
    officer_id: int,
    rng: random.Random,
) -> ReviewPlan:
    """Assignments and submitted reviews for every application; a moderation where one hit a
    knockout (the officer's score on that criterion, with a rationale)."""
    from grants.domain.scoring import score

    criteria = list(rubric.criteria())
    low, high = rubric.scale.min, rubric.scale.max
    bias = [rng.uniform(-0.8, 0.8) for _ in reviewer_ids]
    rounds = len(application_ids) * per_application // len(reviewer_ids) + 1
    perms = [rng.sample(range(len(reviewer_ids)), len(reviewer_ids)) for _ in range(rounds)]
    plan = ReviewPlan()
    for n, application_id in enumerate(application_ids):
        quality = rng.uniform(low + 1.6, high - 0.4)
        hit: set[str] = set()
        for j, r in enumerate(reviewers_of(n, per_application, perms)):
            at = REVIEWED_AT + dt.timedelta(seconds=n * 60 + j)
            ratings = {
                c.id: min(high, max(low, round(quality + bias[r] + rng.gauss(0, 0.7))))
                for c in criteria
            }
            card = score(rubric, ratings)
            hit |= set(card.knockouts)
            plan.assignments.append(
                {
                    "application_id": application_id,
                    "reviewer_id": reviewer_ids[r],
                    "state": "active",
                    "decline_reason": None,
                    "assigned_at": REVIEWED_AT - dt.timedelta(days=7),
                    "assigned_by_id": officer_id,
                }
            )
            plan.reviews.append(
                {
                    "rubric_version_id": rubric_version_id,
                    "state": "submitted",
                    "ratings": ratings,
                    "comments": {c.id: comment(rng, c.title.ja) for c in criteria},
                    "comment_for_applicant": comment(rng, "総評") if rng.random() < 0.5 else None,
                    "total": card.total,
                    "knockout": bool(card.knockouts),
                    "reopen_note": None,
                    "lock_version": 1,
                    "updated_at": at,
                    "submitted_at": at,
                }
            )
        plan.knockouts += bool(hit)
        for criterion_id in sorted(hit):
            plan.moderations.append(
                {
                    "application_id": application_id,
                    "criterion_id": criterion_id,
                    "score": rng.randint(low, low + 2),
                    "rationale": "審査員の意見を照合し、交付終了後の負担者の記載を確認した。",
                    "moderated_by_id": officer_id,
                    "moderated_at": REVIEWED_AT + dt.timedelta(days=3),
                }
            )
    return plan


def decision_row(application_id: int, award: bool, limit: Any, officer_id: int) -> dict[str, Any]:
    """An award of the most the app would allow (``decide.award_limit``), or a rejection."""
    computation = limit.as_dict()
    if award:
        computation["awarded_yen"] = limit.maximum_yen
    return {
        "application_id": application_id,
        "outcome": "award" if award else "reject",
        "amount_yen": limit.maximum_yen if award else None,
        "computation": computation,
        "rationale": "審査結果と予算の範囲を踏まえて決定した。",
        "decided_by_id": officer_id,
        "decided_at": REVIEWED_AT + dt.timedelta(days=10),
    }
