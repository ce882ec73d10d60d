"""The open loop: applicant journeys arrive at a fixed rate, whatever the server's speed.

The closed loop (``runner``) keeps a set number of applicants busy, so a slow server is sent
less work and its queue never shows in the latencies. Here a new journey (one applicant, or a
pair of colleagues on one draft) starts every 1/R s, as on a deadline day. At most
``--max-in-flight`` applicants run at once so that the client machine keeps its timing: an
arrival that finds no free slot is not started and is counted, as is one that starts more than
``LATE_MS`` after its moment. The journeys, the database checks and the server log are the
closed loop's own; afterwards the journey's requests are profiled in-process (``cpu_profile``).
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from benchlib.applicants import Applicant, plan_applicants
from benchlib.backend import Backend, create_accounts, flask_cli
from benchlib.clock import app_spec, pinned_moment
from benchlib.common import PROGRAM_KEY, REQUEST_TIMEOUT, log
from benchlib.cpu_profile import profile_applicants, run_cpu_profile
from benchlib.journey import Journey
from benchlib.measure import Recorder
from benchlib.server import ServerSettings, gunicorn, warm_up
from benchlib.serverlog import LogFindings, scan_log
from benchlib.verify import Verdict, verify

DRAIN = 60.0  # seconds the last arrivals may take to finish their journeys
LATE_MS = 100.0  # a journey starting later than this after its moment did not start on time


@dataclass
class Arrivals:
    """What the schedule asked for and what could be started."""

    rate: float  # journeys per second
    seconds: float
    limit: int  # applicants in flight at most
    scheduled: int = 0
    started: int = 0
    skipped: int = 0  # no free slot at their moment: not started
    lateness_ms: list[float] = field(default_factory=list)  # per applicant started
    peak: int = 0  # most applicants in flight at once
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def late(self) -> int:
        return sum(1 for ms in self.lateness_ms if ms > LATE_MS)

    def take(self, count: int) -> bool:
        """Reserve ``count`` slots (a pair needs two at once), or refuse."""
        with self.lock:
            if self.in_flight + count > self.limit:
                return False
            self.in_flight += count
            self.peak = max(self.peak, self.in_flight)
            return True

    def begun(self, lateness_ms: float) -> None:
        with self.lock:
            self.lateness_ms.append(lateness_ms)

    def give(self) -> None:
        with self.lock:
            self.in_flight -= 1


@dataclass
class OpenResult:
    backend: Backend
    rate_note: str  # where the rate comes from
    arrivals: Arrivals
    recorder: Recorder
    verdict: Verdict
    server_log: LogFindings
    clock_note: str
    load: tuple[float, float]  # 1-minute load average before and after the arrivals
    profile: dict[str, Any]


def plan_units(args: argparse.Namespace, count: int, password: str) -> list[list[Applicant]]:
    """``count`` arrivals, with pairs, double submits and stale forms in the closed loop's
    proportions; a pair is one arrival of two applicants."""
    pairs = round(count * args.pairs / max(1, args.users - args.pairs))
    planned = plan_applicants(count + pairs, pairs, args.double_submit, args.stale_form, password)
    units: list[list[Applicant]] = []
    for applicant in planned:
        if applicant.role == "follower":
            units[-1].append(applicant)  # plan_applicants puts it right after its leader
        else:
            units.append([applicant])
    return units


def run_open_loop(
    port: int, definition: Any, units: list[list[Applicant]], arrivals: Arrivals
) -> Recorder:
    """Start ``units[i]`` at i/rate seconds; wait for the started journeys to finish."""
    recorder = Recorder()
    began = time.monotonic()
    journey = Journey(definition, port, recorder, began + arrivals.seconds + DRAIN)

    def run(applicant: Applicant, due: float) -> None:
        arrivals.begun((time.monotonic() - due) * 1000)
        try:
            journey.run(applicant)
        finally:
            arrivals.give()

    threads = []
    recorder.started = time.perf_counter()
    for i, unit in enumerate(units):
        due = began + i / arrivals.rate
        time.sleep(max(0.0, due - time.monotonic()))
        arrivals.scheduled += 1
        if not arrivals.take(len(unit)):
            arrivals.skipped += 1
            continue
        arrivals.started += 1
        for applicant in unit:
            name = f"arrival-{i}-{applicant.role}"
            thread = threading.Thread(target=run, args=(applicant, due), name=name, daemon=True)
            thread.start()
            threads.append(thread)
    limit = began + arrivals.seconds + DRAIN + REQUEST_TIMEOUT
    for thread in threads:
        thread.join(max(0.1, limit - time.monotonic()))
    running = sum(1 for thread in threads if thread.is_alive())
    if running:
        recorder.fail(f"{running} applicants still running at the hard limit")
    recorder.finished = time.perf_counter()
    return recorder


def bench_open_loop(
    backend: Backend,
    args: argparse.Namespace,
    settings: ServerSettings,
    rate: float,
    rate_note: str,
) -> OpenResult:
    (backend.workdir / "instance").mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    units = plan_units(args, math.ceil(rate * args.open_seconds), password)
    profiled = profile_applicants(password) if args.profile else []
    flask_cli(backend, "migrate")
    flask_cli(backend, "load")
    began = time.perf_counter()
    applicants = [a for unit in units for a in unit]
    definition = create_accounts(backend, applicants + profiled)
    log(f"{backend.name}: {len(applicants) + len(profiled)} accounts in "
        f"{time.perf_counter() - began:.1f} s")

    spec, clock_note = app_spec(definition)
    arrivals = Arrivals(rate, args.open_seconds, args.max_in_flight)
    log_path = backend.workdir / "gunicorn-open.log"
    with gunicorn(spec, backend.env, settings, log_path, "/sign-in") as port:
        warm_up(port, ["/sign-in", "/", f"/calls/{PROGRAM_KEY}"], settings.workers * 2)
        log(f"{backend.name}: open loop, {rate:.2f} journeys/s for {args.open_seconds:.0f} s "
            f"({len(units)} arrivals, at most {args.max_in_flight} applicants in flight)")
        load_before = os.getloadavg()[0]
        recorder = run_open_loop(port, definition, units, arrivals)
        load = (load_before, os.getloadavg()[0])
        log(f"{backend.name}: {len(recorder.samples)} requests in "
            f"{recorder.finished - recorder.started:.1f} s; {arrivals.skipped} arrivals "
            f"not started, {arrivals.late} started late")
    file_fields = {f.id for f in definition.all_fields() if f.kind == "file"}
    verdict = verify(backend.url, recorder, file_fields)
    profile = run_cpu_profile(backend, profiled, pinned_moment(definition)) if profiled else {}
    return OpenResult(
        backend=backend,
        rate_note=rate_note,
        arrivals=arrivals,
        recorder=recorder,
        verdict=verdict,
        server_log=scan_log(log_path),
        clock_note=clock_note,
        load=load,
        profile=profile,
    )
