"""The command line: options, which backends to run, cleanup, the report and the exit status."""

from __future__ import annotations

import argparse
import shutil
import signal
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from benchlib.backend import Backend
from benchlib.common import log
from benchlib.measure import journey_rate
from benchlib.open_loop import OpenResult, bench_open_loop
from benchlib.openreport import open_report
from benchlib.postgres import (
    PostgresUnavailable,
    drop_postgres,
    postgres_answers,
    prepare_postgres,
)
from benchlib.rankbench import RankingResult, bench_ranking
from benchlib.rankreport import failed, ranking_report
from benchlib.report import report
from benchlib.runner import BackendResult, bench_backend
from benchlib.server import ServerSettings

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"


def parse_args(description: str, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--users", type=int, default=40, help="applicant accounts (default 40)")
    parser.add_argument(
        "--pairs", type=int, default=None, help="pairs sharing one draft (default users/10)"
    )
    parser.add_argument("--concurrency", type=int, default=12, help="applicants at once (12)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument(
        "--scenario",
        choices=("journey", "open", "ranking", "all"),
        default="journey",
        help="journey: deadline day (applicants fill and submit) and the write ceiling; "
        "open: deadline day as an open loop (journeys arrive at a fixed rate; the closed loop "
        "runs first to measure the maximum unless --rate is given), and the CPU per request "
        "in-process; ranking: an officer reads a big call's ranking, exports and calibration; "
        "all: every one, each on a fresh database (default journey)",
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--postgres-url",
        default=None,
        help=f"database to create and drop (name bench*); default {DEFAULT_POSTGRES_URL}, "
        "used only if a server answers on 127.0.0.1:5432",
    )
    parser.add_argument(
        "--seconds", type=float, default=90, help="cap on each backend's journey phase (90)"
    )
    parser.add_argument(
        "--double-submit", type=float, default=0.25, help="fraction of submitters (0.25)"
    )
    parser.add_argument(
        "--stale-form",
        type=float,
        default=0.15,
        help="fraction of single applicants who post one step with a stale form token (0.15)",
    )
    parser.add_argument(
        "--no-profile",
        dest="profile",
        action="store_false",
        help="skip the in-process cProfile (one ranking request; the open loop's CPU per request)",
    )
    _open_options(parser)
    _ranking_options(parser)
    args = parser.parse_args(argv)
    if args.pairs is None:
        args.pairs = args.users // 10 if args.concurrency >= 2 else 0
    if args.users < 1 or args.concurrency < 1 or args.workers < 1 or args.seconds <= 0:
        parser.error("--users, --concurrency, --workers and --seconds must be positive")
    if args.pairs * 2 > args.users or (args.pairs and args.concurrency < 2):
        parser.error("pairs need 2 users each and --concurrency of at least 2")
    if not (0 <= args.double_submit <= 1 and 0 <= args.stale_form <= 1):
        parser.error("--double-submit and --stale-form are fractions between 0 and 1")
    if (args.rate is not None and args.rate <= 0) or args.open_seconds <= 0:
        parser.error("--rate and --open-seconds must be positive")
    if args.max_in_flight < 2:
        parser.error("--max-in-flight must be at least 2 (a pair starts two applicants)")
    counts = ("applications", "reviewers", "reviews_per_app", "ranking_repeat")
    counts += ("ranking_clients", "ranking_per_client", "export_repeat")
    if any(getattr(args, name) < 1 for name in counts):
        parser.error("the ranking scenario's counts must be positive")
    if args.reviews_per_app > args.reviewers:
        parser.error("--reviews-per-app cannot exceed --reviewers")
    return args


def _open_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("open scenario")
    group.add_argument(
        "--rate",
        type=float,
        default=None,
        help="journeys started per second (default: half the closed loop's maximum, measured "
        "first on each backend)",
    )
    group.add_argument(
        "--open-seconds", type=float, default=60, help="how long journeys arrive (60)"
    )
    group.add_argument(
        "--max-in-flight",
        type=int,
        default=40,
        help="applicants running at once at most; an arrival finding none free is not "
        "started (40)",
    )


def _ranking_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("ranking scenario")
    group.add_argument("--applications", type=int, default=5000, help="seeded (default 5000)")
    group.add_argument("--reviewers", type=int, default=30, help="joined to the call (30)")
    group.add_argument(
        "--reviews-per-app", type=int, default=3, help="submitted reviews per application (3)"
    )
    group.add_argument(
        "--ranking-repeat", type=int, default=5, help="ranking GETs one after another (5)"
    )
    group.add_argument(
        "--ranking-clients", type=int, default=4, help="clients GETting the ranking at once (4)"
    )
    group.add_argument("--ranking-per-client", type=int, default=2, help="GETs each (2)")
    group.add_argument(
        "--export-repeat",
        type=int,
        default=2,
        help="GETs of each export and of the calibration page, one after another (2)",
    )


def main(description: str, argv: list[str] | None = None) -> int:
    """Run the benchmark; ``description`` is the first paragraph of scripts/bench.py's doc."""
    args = parse_args(description, argv)
    settings = ServerSettings(args.workers, args.worker_class, args.threads)

    def interrupted(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    names = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    notes: list[str] = []
    if "postgres" in names and args.postgres_url is None and not postgres_answers():
        if args.backend == "postgres":
            raise SystemExit("no PostgreSQL server answers on 127.0.0.1:5432")
        names.remove("postgres")
        notes.append("PostgreSQL skipped: nothing answers on 127.0.0.1:5432")
    scenarios = _scenarios(args)
    journeys: list[BackendResult] = []
    opens: list[OpenResult] = []
    rankings: list[RankingResult] = []
    for name in names:
        for scenario in scenarios:
            workdir = Path(tempfile.mkdtemp(prefix=f"grants-bench-{name}-"))
            backend: Backend | None = None
            try:
                backend = _backend(name, workdir, args, notes)
                if backend is None:
                    break  # PostgreSQL not there, and not asked for by name
                log(f"{name}: {scenario}: preparing {backend.url} in {workdir}")
                if scenario == "journey":
                    journeys.append(bench_backend(backend, args, settings))
                elif scenario == "open":
                    rate, rate_note = _open_rate(args, journeys, name)
                    if rate is None:
                        notes.append(rate_note)
                    else:
                        opens.append(bench_open_loop(backend, args, settings, rate, rate_note))
                else:
                    rankings.append(bench_ranking(backend, args, settings))
            finally:
                if backend is not None and backend.admin_url:
                    try:
                        drop_postgres(backend.admin_url)
                    except Exception as exc:  # report it, and keep cleaning up
                        log(f"could not drop the bench database: {exc}")
                shutil.rmtree(workdir, ignore_errors=True)
    reports = []
    if "journey" in scenarios:
        reports.append(report(journeys, args, notes))
    if "open" in scenarios:
        reports.append(open_report(opens, args, notes))
    if "ranking" in scenarios:
        reports.append(ranking_report(rankings, args, notes))
    print("\n\n".join(reports))
    bad = [
        f"{r.backend.name} journey"
        for r in journeys
        if r.verdict.lost_saves
        or r.verdict.duplicate_submissions
        or r.journey_log.locked
        or r.ceiling_log.locked
        or any(s.status == 500 for s in r.journey.samples + r.ceiling.samples)
    ]
    bad += [
        f"{r.backend.name} open loop"
        for r in opens
        if r.verdict.lost_saves
        or r.verdict.duplicate_submissions
        or r.server_log.exceptions
        or any(s.status == 500 for s in r.recorder.samples)
        or "error" in r.profile
    ]
    bad += [f"{r.backend.name} ranking" for r in rankings if failed(r)]
    if bad:
        log(f"correctness figures are not all zero on: {', '.join(bad)} (see the report)")
    return 1 if bad else 0


def _scenarios(args: argparse.Namespace) -> list[str]:
    """The scenarios to run on each backend, in order: the open loop's rate comes from the
    closed loop run just before it on the same backend, unless --rate is given."""
    if args.scenario == "all":
        return ["journey", "open", "ranking"]
    if args.scenario == "open" and args.rate is None:
        return ["journey", "open"]
    return [args.scenario]


def _open_rate(
    args: argparse.Namespace, journeys: list[BackendResult], name: str
) -> tuple[float | None, str]:
    """The open loop's arrival rate on backend ``name`` and where it comes from (or None and
    why not): --rate, else half the maximum the closed loop measured on that backend."""
    if args.rate is not None:
        return args.rate, "given by --rate"
    closed = next((r for r in journeys if r.backend.name == name), None)
    measured = journey_rate(closed.journey) if closed else None
    if measured is None:
        return None, f"{name}: open loop skipped: the closed loop gave no maximum rate"
    note = (
        f"half the closed loop's maximum on this backend, {measured:.2f} journeys/s with "
        f"{args.concurrency} applicants at once, from its middle half of submissions"
    )
    stopped = sum(closed.journey.failures.values()) if closed else 0
    if stopped:
        note += f"; {stopped} of its journeys stopped early, so that maximum is too low"
    return measured / 2, note


def _backend(
    name: str, workdir: Path, args: argparse.Namespace, notes: list[str]
) -> Backend | None:
    """The backend to run on, with a fresh database; None when PostgreSQL is optional and
    refuses (the reason goes to ``notes``)."""
    if name == "sqlite":
        return Backend(
            name,
            f"sqlite:///{workdir / 'grants.sqlite'}",
            f"sqlite:///{workdir / 'ceiling.sqlite'}",
            workdir,
            version=f"SQLite {sqlite3.sqlite_version} (WAL, busy_timeout, BEGIN IMMEDIATE)",
        )
    try:
        url, version = prepare_postgres(args.postgres_url or DEFAULT_POSTGRES_URL)
    except PostgresUnavailable as exc:
        if args.postgres_url or args.backend == "postgres":
            raise SystemExit(f"PostgreSQL: {exc}") from None
        notes.append(f"PostgreSQL skipped: {exc}")
        return None
    return Backend(name, url, url, workdir, version=version, admin_url=url)
