"""Who the simulated applicants are and what each of them does, fixed before the run."""

from __future__ import annotations

import dataclasses
import random
import threading
from dataclasses import dataclass, field


@dataclass
class Pair:
    """Two colleagues of one organization editing the same draft at the same moment."""

    barrier: threading.Barrier = field(default_factory=lambda: threading.Barrier(2))
    started: threading.Event = field(default_factory=threading.Event)
    application_id: int | None = None


@dataclass(frozen=True)
class Applicant:
    email: str
    password: str
    role: str  # "solo", "leader" (starts and submits) or "follower" (edits the same draft)
    double_submit: bool
    pair: Pair | None = None
    stale_form: bool = False  # posts one step with a form token from an earlier session


def plan_applicants(
    users: int, pairs: int, double_fraction: float, stale_fraction: float, password: str
) -> list[Applicant]:
    """Who does what, fixed by a seeded shuffle; a follower comes right after its leader, so
    the pool never holds a leader whose colleague cannot get a slot."""
    rng = random.Random(2010)
    units: list[list[Applicant]] = []
    n = 0
    for _ in range(pairs):
        pair = Pair()
        units.append(
            [
                Applicant(f"bench{n:04d}@example.jp", password, "leader", False, pair),
                Applicant(f"bench{n + 1:04d}@example.jp", password, "follower", False, pair),
            ]
        )
        n += 2
    while n < users:
        units.append([Applicant(f"bench{n:04d}@example.jp", password, "solo", False)])
        n += 1
    rng.shuffle(units)
    submitters = [u[0] for u in units]
    doubles = set(rng.sample(range(len(submitters)), round(len(submitters) * double_fraction)))
    solos = [i for i, unit in enumerate(units) if len(unit) == 1]
    stale = set(rng.sample(solos, round(len(solos) * stale_fraction)))
    planned = []
    for i, unit in enumerate(units):
        first = dataclasses.replace(unit[0], double_submit=i in doubles, stale_form=i in stale)
        planned += [first, *unit[1:]]
    return planned
