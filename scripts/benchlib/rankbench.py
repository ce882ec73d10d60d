"""The ranking scenario: an officer reads a big call's ranking and exports over HTTP.

The journey scenario shows deadline day; this one shows the day after review, when every page an
officer opens reads the whole call (5,000 applications, 15,000 reviews by default) and ranks it
per request. Requests are timed one after another (what one officer sees) and from several
clients at once (a few officers, or one pressing reload), every answer must be 200, and the first
answer of each phase must hold the seeded call (``rankcheck``). The server is ``wsgi:app`` with a
count of each request's SQL statements in a header (``sqlcount``); one ranking request is then
profiled in-process (``probe``).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from benchlib.backend import Backend, child_json, flask_cli
from benchlib.client import Client, JourneyFailed, Response, TimeUp, sign_in
from benchlib.common import PROGRAM_KEY, REQUEST_TIMEOUT, log
from benchlib.measure import Recorder
from benchlib.rankcheck import CHECKS
from benchlib.seed import Seeded, seed_call
from benchlib.server import ServerSettings, gunicorn
from benchlib.serverlog import LogFindings, scan_log
from benchlib.sqlcount import HEADER

RANKING_CAP = 900.0  # seconds: safety cap on one backend's timed requests
# Longer than gunicorn's worker timeout (60 s): a slow page is measured, or killed by the server
# (WORKER TIMEOUT in its log), never abandoned by the client first.
RANKING_TIMEOUT = 90.0
EXPORTS = ("ranking.csv", "scores.csv", "export.xlsx", "calibration")


def call_url(name: str) -> str:
    return f"/manage/calls/{PROGRAM_KEY}/{name}"


@dataclass
class UrlTiming:
    name: str  # "ranking", "ranking.csv", ... (under /manage/calls/<key>/)
    clients: int
    recorder: Recorder
    sizes: list[int] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)  # per request, from the header
    verified: str = ""


@dataclass
class RankingResult:
    backend: Backend
    seeded: Seeded
    timings: list[UrlTiming]
    problems: list[str]
    server_log: LogFindings
    warm_seconds: float
    probe: dict[str, Any]
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after the timing


def bench_ranking(
    backend: Backend, args: argparse.Namespace, settings: ServerSettings
) -> RankingResult:
    (backend.workdir / "instance").mkdir(parents=True, exist_ok=True)
    flask_cli(backend, "migrate")
    flask_cli(backend, "load")
    seeded = seed_call(backend.url, args.applications, args.reviewers, args.reviews_per_app)
    problems: list[str] = []
    log_path = backend.workdir / "gunicorn-ranking.log"
    spec = "benchlib.sqlcount:counted_app()"
    with gunicorn(spec, backend.env, settings, log_path, "/sign-in") as port:
        officer = Client(port, Recorder(), time.monotonic() + RANKING_CAP, RANKING_TIMEOUT)
        sign_in(officer, seeded.officer_email, seeded.officer_password)
        load_before = os.getloadavg()[0]
        began = time.perf_counter()
        _timed(officer, "ranking", settings.workers, 1, seeded, [])  # every worker warm
        warm = time.perf_counter() - began
        log(f"{backend.name}: warm-up ({settings.workers} ranking requests at once) {warm:.1f} s")
        phases = [("ranking", 1, args.ranking_repeat)]
        phases.append(("ranking", args.ranking_clients, args.ranking_per_client))
        phases += [(name, 1, args.export_repeat) for name in EXPORTS]
        timings = []
        for name, clients, each in phases:
            timing = _timed(officer, name, clients, each, seeded, problems)
            samples = timing.recorder.samples
            log(
                f"{backend.name}: {name} ×{clients}: {len(samples)} requests in "
                f"{timing.recorder.finished - timing.recorder.started:.1f} s; {timing.verified}"
            )
            timings.append(timing)
        officer.close()
        load = (load_before, os.getloadavg()[0])
    probe = run_probe(backend, seeded) if args.profile else {}
    server_log = scan_log(log_path)
    return RankingResult(backend, seeded, timings, problems, server_log, warm, probe, load)


def _timed(
    officer: Client, name: str, clients: int, each: int, seeded: Seeded, problems: list[str]
) -> UrlTiming:
    """``clients`` signed-in clients (the officer's cookies) send ``each`` GETs, starting
    together; the first answer is checked after the clock stops."""
    recorder = Recorder()
    timing = UrlTiming(name, clients, recorder)
    first: list[Response] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def run(client: Client) -> None:
        try:
            start.wait(REQUEST_TIMEOUT)
            for _ in range(each):
                response = client.get(call_url(name), kind=name)
                with lock:
                    timing.sizes.append(len(response.content))
                    if HEADER.lower() in response.headers:
                        timing.statements.append(int(response.headers[HEADER.lower()]))
                    if not first:
                        first.append(response)
                    if response.status != 200:
                        problems.append(f"GET {name} answered {response.status}")
        except (JourneyFailed, TimeUp, threading.BrokenBarrierError) as exc:
            with lock:
                problems.append(f"GET {name}: {type(exc).__name__} {exc}")
        finally:
            client.close()

    threads = []
    for i in range(clients):
        client = Client(officer.port, recorder, officer.deadline, RANKING_TIMEOUT)
        client.cookies = dict(officer.cookies)
        threads.append(threading.Thread(target=run, args=(client,), name=f"officer-{i}"))
    recorder.started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recorder.finished = time.perf_counter()
    if first and first[0].status == 200:
        timing.verified, found = CHECKS[name](first[0], seeded)
        problems += found
    return timing


def run_probe(backend: Backend, seeded: Seeded) -> dict[str, Any]:
    """One ranking request in a child process: its statements by table, and its cProfile."""
    began = time.perf_counter()
    module_args = ["benchlib.probe", "--email", seeded.officer_email, call_url("ranking")]
    found = child_json(backend, module_args, seeded.officer_password + "\n", 900)
    if "error" not in found:
        log(f"{backend.name}: in-process probe {time.perf_counter() - began:.1f} s")
    return found
