"""CPU per request kind, in-process: the benchmark's journeys through ``app.test_client()``.

Run as a child process (``python -m benchlib.cpu_profile EMAIL...``, the password on stdin) with
the backend's environment, on the open loop's database once gunicorn has stopped: the app is
configured as under gunicorn, nothing competes with it for the interpreter, and nothing of it
leaks into the benchmark's process. The journeys are ``journey.Journey``'s own (sign in,
eligibility, start, every step, submit), with a client whose transport is the WSGI call instead
of a socket. The first journey warms the app up (templates, parsed definitions); the next
``MEASURED`` are timed with ``time.process_time`` around each WSGI call (this process's CPU:
SQLite's work is in it, PostgreSQL's is in the server's processes, so wall time is given too);
the last ``PROFILED`` run under cProfile, one profiler per request kind, for the top functions
(cProfile slows them down, so their times are not counted). Sign-in is measured like the others
and its password hash apart (``passwords``). Prints JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from benchlib.applicants import Applicant
from benchlib.backend import Backend, child_json, program_definition
from benchlib.client import Client
from benchlib.common import log
from benchlib.journey import Journey
from benchlib.measure import Recorder, percentile
from benchlib.passwords import password_hashing
from benchlib.probe import trim_profile

MEASURED = 8  # journeys timed
PROFILED = 3  # journeys under cProfile
KINDS = ("step", "save", "submit", "sign_in")  # the kinds profiled (the others are only timed)
TOP = 10


def profile_applicants(password: str) -> list[Applicant]:
    """The accounts the profile runs its journeys with: one to warm up, then the rest."""
    return [
        Applicant(f"profile{n:04d}@example.jp", password, "solo", double_submit=False)
        for n in range(1 + MEASURED + PROFILED)
    ]


def run_cpu_profile(
    backend: Backend, applicants: list[Applicant], moment: str | None
) -> dict[str, Any]:
    """The child's JSON (or {"error": ...}); ``moment`` pins the app's clock as gunicorn's."""
    began = time.perf_counter()
    module_args = ["benchlib.cpu_profile", *(["--pinned", moment] if moment else [])]
    module_args += [a.email for a in applicants]
    found = child_json(backend, module_args, applicants[0].password + "\n", 900)
    if "error" not in found:
        log(f"{backend.name}: in-process CPU profile {time.perf_counter() - began:.1f} s")
    return found


@dataclass
class Costs:
    """Per request kind: CPU ms, wall ms and SQL statements of each timed WSGI call."""

    cpu_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    wall_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statements: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    profilers: dict[str, cProfile.Profile] = field(default_factory=dict)
    counting: bool = False  # timing the measured journeys
    profiling: bool = False  # the profiled journeys
    issued: int = 0  # SQL statements so far, counted by an engine listener

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for kind, cpu in self.cpu_ms.items():
            statements = [float(n) for n in self.statements[kind]]
            out[kind] = {
                "n": len(cpu),
                "cpu_p50": round(statistics.median(cpu), 1),
                "cpu_p90": round(percentile(cpu, 0.9) or 0.0, 1),
                "cpu_mean": round(statistics.fmean(cpu), 1),
                "wall_p50": round(statistics.median(self.wall_ms[kind]), 1),
                "sql_p50": statistics.median(statements),
            }
        return out


class InProcessClient(Client):
    """A ``Client`` whose requests go to the app's WSGI callable (its own cookie handling, so
    the test client keeps none; the inherited connection is never opened)."""

    def __init__(self, app: Any, recorder: Recorder, costs: Costs) -> None:
        super().__init__(0, recorder, float("inf"))
        self.app_client = app.test_client(use_cookies=False)
        self.costs = costs

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], kind: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        costs = self.costs
        profiler = None
        if costs.profiling and kind in KINDS:
            profiler = costs.profilers.setdefault(kind, cProfile.Profile())
        issued, cpu, wall = costs.issued, time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        response = self.app_client.open(path, method=method, data=body, headers=headers)
        content = response.get_data()
        if profiler is not None:
            profiler.disable()
        if costs.counting:
            costs.cpu_ms[kind].append((time.process_time() - cpu) * 1000)
            costs.wall_ms[kind].append((time.perf_counter() - wall) * 1000)
            costs.statements[kind].append(costs.issued - issued)
        return response.status_code, response.headers.to_wsgi_list(), content


class InProcessJourney(Journey):
    def __init__(self, app: Any, definition: Any, recorder: Recorder, costs: Costs) -> None:
        super().__init__(definition, 0, recorder, float("inf"))
        self.app = app
        self.costs = costs

    def new_client(self) -> Client:
        return InProcessClient(self.app, self.recorder, self.costs)


def profile(emails: list[str], password: str, moment: str | None) -> dict[str, Any]:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from benchlib.clock import pinned_app

    app = pinned_app(moment)
    engine = app.extensions["grants.engine"]
    with Session(engine) as session:
        definition = program_definition(session)
    costs = Costs()

    def count(*_args: Any) -> None:
        costs.issued += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    recorder = Recorder()
    journey = InProcessJourney(app, definition, recorder, costs)
    applicants = [Applicant(email, password, "solo", double_submit=False) for email in emails]
    warm, measured = applicants[0], applicants[1 : 1 + MEASURED]
    profiled = applicants[1 + MEASURED :]
    journey.run(warm)  # not counted
    costs.counting = True
    for applicant in measured:
        journey.run(applicant)
    costs.counting, costs.profiling = False, True
    for applicant in profiled:
        journey.run(applicant)
    sa.event.remove(engine, "before_cursor_execute", count)
    if recorder.failures or not measured:
        raise SystemExit(f"in-process journeys failed: {dict(recorder.failures)}")
    every = [ms for kind in costs.cpu_ms.values() for ms in kind]
    return {
        "measured": len(measured),
        "profiled": len(profiled),
        "journey_cpu_ms": round(sum(every) / len(measured), 1),
        "kinds": costs.summary(),
        "top": {kind: _top(costs.profilers[kind]) for kind in KINDS if kind in costs.profilers},
        "hashing": password_hashing(),
    }


def _top(profiler: cProfile.Profile) -> str:
    """The app's functions by cumulative time, then every function by its own time."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"grants/|templates/", TOP)
    stats.sort_stats("tottime").print_stats(TOP)
    return trim_profile(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pinned", default=None, help="pin the app's clock (ISO moment)")
    parser.add_argument("emails", nargs="+")
    args = parser.parse_args()
    password = sys.stdin.readline().strip()  # not on the command line
    print(json.dumps(profile(args.emails, password, args.pinned)))


if __name__ == "__main__":
    main()
