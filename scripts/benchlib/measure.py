"""What the simulated traffic records: each request's latency, each save and each submit."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sample:
    kind: str  # "step" (GET), "save", "submit", "sign_in", "page", "other", "write" (ceiling)
    status: int | str  # "ERR" when no response came back
    ms: float


@dataclass(frozen=True)
class SaveRecord:
    application_id: int
    step_id: str
    target: str  # "answer", "partner_role" or "attachment"
    field_id: str
    marker: str
    expected_version: int
    status: int | str
    location: str
    user: str

    @property
    def outcome(self) -> str:
        """'stored' (acknowledged), or why not, from the status and where it redirects."""
        if self.status in (302, 303) and self.location == f"/applications/{self.application_id}":
            return f"{self.status} refused: already submitted"
        if self.status == 303 and self.location == self.step_path:
            return "303 kept: form token refused"
        if self.status == 303:
            return "stored"
        return str(self.status)

    @property
    def step_path(self) -> str:
        return f"/applications/{self.application_id}/steps/{self.step_id}"


@dataclass(frozen=True)
class SubmitRecord:
    application_id: int
    status: int | str
    at: float = field(default_factory=time.perf_counter)  # when the answer came back


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    saves: list[SaveRecord] = field(default_factory=list)
    restores: Counter[str] = field(default_factory=Counter)
    submits: list[SubmitRecord] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = 0.0
    finished: float = 0.0

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def fail(self, reason: str) -> None:
        with self.lock:
            self.failures[reason] += 1

    def restore(self, outcome: str) -> None:
        with self.lock:
            self.restores[outcome] += 1


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def journey_rate(recorder: Recorder) -> float | None:
    """Journeys submitted per second while every client was busy: the slope between the first
    and the third quartile of the first acknowledged submit per application (the start, when
    all begin together, and the tail, when fewer are left than clients, are left out)."""
    done: dict[int, float] = {}
    for record in recorder.submits:
        if record.status == 303:
            earlier = done.setdefault(record.application_id, record.at)
            done[record.application_id] = min(earlier, record.at)
    times = sorted(done.values())
    if len(times) < 4:
        return None
    first, third = len(times) // 4, (3 * len(times)) // 4
    span = times[third] - times[first]
    return (third - first) / span if span > 0 else None
