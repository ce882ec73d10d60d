"""One backend's run: prepare the database, drive the applicants, check it, then the ceiling."""

from __future__ import annotations

import argparse
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from typing import Any

from benchlib.applicants import Applicant, plan_applicants
from benchlib.backend import Backend, create_accounts, flask_cli
from benchlib.ceiling import measure_ceiling
from benchlib.clock import app_spec
from benchlib.common import PROGRAM_KEY, REQUEST_TIMEOUT, log
from benchlib.journey import Journey
from benchlib.measure import Recorder
from benchlib.server import ServerSettings, gunicorn, warm_up
from benchlib.serverlog import LogFindings, scan_log
from benchlib.verify import Verdict, verify


@dataclass
class BackendResult:
    backend: Backend
    journey: Recorder
    verdict: Verdict
    journey_log: LogFindings
    ceiling: Recorder
    ceiling_rows: int
    ceiling_log: LogFindings
    clock_note: str


def run_journeys(
    port: int,
    definition: Any,
    applicants: list[Applicant],
    concurrency: int,
    seconds: float,
) -> Recorder:
    recorder = Recorder()
    deadline = time.monotonic() + seconds
    journey = Journey(definition, port, recorder, deadline)
    recorder.started = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="applicant")
    try:
        futures = [pool.submit(journey.run, applicant) for applicant in applicants]
        _done, pending = wait_futures(futures, timeout=seconds + REQUEST_TIMEOUT + 10)
        if pending:
            recorder.fail(f"{len(pending)} applicants still running at the hard limit")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    recorder.finished = time.perf_counter()
    return recorder


def bench_backend(
    backend: Backend, args: argparse.Namespace, settings: ServerSettings
) -> BackendResult:
    (backend.workdir / "instance").mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    applicants = plan_applicants(
        args.users, args.pairs, args.double_submit, args.stale_form, password
    )
    flask_cli(backend, "migrate")
    flask_cli(backend, "load")
    began = time.perf_counter()
    definition = create_accounts(backend, applicants)
    log(f"{backend.name}: {len(applicants)} accounts in {time.perf_counter() - began:.1f} s")

    spec, clock_note = app_spec(definition)
    journey_log = backend.workdir / "gunicorn-journey.log"
    with gunicorn(spec, backend.env, settings, journey_log, "/sign-in") as port:
        warm_up(port, ["/sign-in", "/", f"/calls/{PROGRAM_KEY}"], settings.workers * 2)
        log(f"{backend.name}: {spec} on 127.0.0.1:{port}; journeys start")
        journey = run_journeys(port, definition, applicants, args.concurrency, args.seconds)
        log(
            f"{backend.name}: {len(journey.samples)} requests in "
            f"{journey.finished - journey.started:.1f} s"
        )
    file_fields = {f.id for f in definition.all_fields() if f.kind == "file"}
    verdict = verify(backend.url, journey, file_fields)
    ceiling, rows, ceiling_log = measure_ceiling(backend, settings, args.concurrency, args.seconds)
    return BackendResult(
        backend=backend,
        journey=journey,
        verdict=verdict,
        journey_log=scan_log(journey_log),
        ceiling=ceiling,
        ceiling_rows=rows,
        ceiling_log=ceiling_log,
        clock_note=clock_note,
    )
