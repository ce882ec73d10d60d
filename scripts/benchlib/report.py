"""The markdown report: speed per backend and scenario, correctness figures, evidence."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
from collections import Counter

import gunicorn

from benchlib.common import CEILING_SECONDS, KEPT_OK, PROGRAM_KEY
from benchlib.measure import Recorder, Sample, percentile
from benchlib.runner import BackendResult
from benchlib.server import ServerSettings
from benchlib.serverlog import LogFindings
from benchlib.verify import Verdict


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def statuses(samples: list[Sample]) -> str:
    counts = Counter(str(s.status) for s in samples)
    return " ".join(f"{k}×{v}" for k, v in sorted(counts.items()))


def perf_row(label: str, scenario: str, recorder: Recorder) -> str:
    samples = recorder.samples
    elapsed = max(recorder.finished - recorder.started, 1e-9)
    every = [s.ms for s in samples]
    saves = [s.ms for s in samples if s.kind == "save"]
    submits = [s.ms for s in samples if s.kind == "submit"]
    cells = [
        label,
        scenario,
        str(len(samples)),
        f"{elapsed:.1f}",
        f"{len(samples) / elapsed:.1f}",
        ms(percentile(every, 0.5)),
        ms(percentile(every, 0.99)),
        ms(percentile(saves, 0.5)),
        ms(percentile(saves, 0.99)),
        ms(percentile(submits, 0.5)),
        ms(percentile(submits, 0.99)),
    ]
    return "| " + " | ".join(cells) + " |"


def host_line(args: argparse.Namespace) -> str:
    """The machine and server settings, shared by every scenario's report."""
    settings = ServerSettings(args.workers, args.worker_class, args.threads)
    return (
        f"- host: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"gunicorn {gunicorn.__version__} `{settings.describe()}` "
        "(clients run on the same host)"
    )


CORRECTNESS_HEADER = [
    "| backend | submitted | saves 303 / 409 | LOST SAVES | DUPLICATE SUBMISSIONS "
    "| locked | 500 | other anomalies |",
    "|---|--:|--:|--:|--:|--:|--:|---|",
]


def correctness_row(
    name: str, v: Verdict, recorder: Recorder, found: LogFindings, journeys: int
) -> str:
    """One row of the correctness table: what was checked in the database and the server log."""
    anomalies = []
    if v.version_collisions:
        anomalies.append(f"{len(v.version_collisions)} acks on one lock_version")
    if v.refused_but_stored:
        anomalies.append(f"{len(v.refused_but_stored)} refused saves stored")
    if v.acked_not_submitted:
        anomalies.append(f"{len(v.acked_not_submitted)} submits 303 but not stored")
    if v.changed_after_submit:
        anomalies.append(f"{len(v.changed_after_submit)} changed after submission")
    if recorder.failures:
        anomalies.append(f"{sum(recorder.failures.values())} journeys stopped")
    if found.exceptions > found.locked:
        anomalies.append(f"{found.exceptions - found.locked} other server exceptions")
    not_shown = sum(n for k, n in recorder.restores.items() if k != KEPT_OK)
    if not_shown:
        anomalies.append(f"{not_shown} stale-token saves not given back")
    n500 = sum(1 for s in recorder.samples if s.status == 500)
    conflicts = v.refused_saves.get("409", 0)  # a correct outcome, not a lost save
    return (
        f"| {name} | {v.submitted}/{journeys} | {v.acked_saves} / {conflicts} "
        f"| **{len(v.lost_saves)}** | **{len(v.duplicate_submissions)}** "
        f"| {found.locked} | {n500} | {'; '.join(anomalies) or 'none'} |"
    )


def report(results: list[BackendResult], args: argparse.Namespace, notes: list[str]) -> str:
    lines = [
        f"### Deadline-day benchmark ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        host_line(args),
        f"- journey: {args.users} applicants on `{PROGRAM_KEY}` ({args.pairs} pair(s) editing "
        f"a shared draft), {args.concurrency} at once, {args.double_submit:.0%} of submitters "
        f"double-submit, {args.stale_form:.0%} of the others post one step with a stale form "
        f"token, CSRF on, cap {args.seconds:.0f} s",
        f"- ceiling: `scripts/bench_ceiling.py`, one INSERT per request, {args.concurrency} "
        f"at once for {CEILING_SECONDS:.0f} s",
    ]
    lines += [f"- {r.backend.name}: {r.backend.version}; {r.clock_note}" for r in results]
    lines += [f"- note: {n}" for n in notes]
    lines += [
        "",
        "| backend | scenario | requests | s | req/s | p50 ms | p99 ms | save p50 | save p99 "
        "| submit p50 | submit p99 |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        lines.append(perf_row(r.backend.name, "journey", r.journey))
        lines.append(perf_row(r.backend.name, "ceiling (1 write)", r.ceiling))
    lines += ["", *CORRECTNESS_HEADER]
    for r in results:
        journeys = args.users - args.pairs
        lines.append(correctness_row(r.backend.name, r.verdict, r.journey, r.journey_log, journeys))
    lines += ["", "Status codes:", ""]
    for r in results:
        sign_ins = [s.ms for s in r.journey.samples if s.kind == "sign_in"]
        failed = [s.ms for s in r.journey.samples if s.status == 500]
        refused = ", ".join(f"{k}×{n}" for k, n in sorted(r.verdict.refused_saves.items()))
        lines.append(
            f"- {r.backend.name} journey: {statuses(r.journey.samples)}; sign-in POST p50 "
            f"{ms(percentile(sign_ins, 0.5))} ms, p99 {ms(percentile(sign_ins, 0.99))} ms; "
            f"saves not acknowledged: {refused or 'none'}"
            + (f"; the 500s took at most {max(failed):.0f} ms" if failed else "")
        )
        if r.journey.restores:
            restores = ", ".join(f"{k}×{n}" for k, n in sorted(r.journey.restores.items()))
            lines.append(f"- {r.backend.name} stale-token saves: {restores}")
        ceiling_ok = sum(1 for s in r.ceiling.samples if s.status == 200)
        lines.append(
            f"- {r.backend.name} ceiling: {statuses(r.ceiling.samples)}; rows stored "
            f"{r.ceiling_rows} for {ceiling_ok} × 200; locked {r.ceiling_log.locked}"
        )
    details = _details(results)
    if details:
        lines += [
            "",
            "<details><summary>Evidence</summary>",
            "",
            "```",
            *details,
            "```",
            "",
            "</details>",
        ]
    return "\n".join(lines)


def _details(results: list[BackendResult]) -> list[str]:
    out: list[str] = []
    for r in results:
        logs = [("journey", r.journey_log), ("ceiling", r.ceiling_log)]
        out += evidence(r.backend.name, r.verdict, r.journey, logs)
    return out


def evidence(
    name: str, v: Verdict, recorder: Recorder, logs: list[tuple[str, LogFindings]]
) -> list[str]:
    """The first ten of each kind of correctness finding, and what the server logged."""
    out: list[str] = []
    sections = [
        ("lost saves", v.lost_saves),
        ("acks on one lock_version", v.version_collisions),
        ("refused saves that were stored", v.refused_but_stored),
        ("duplicate submissions", v.duplicate_submissions),
        ("submit 303 without a submission", v.acked_not_submitted),
        ("changed after submission", v.changed_after_submit),
        ("journeys stopped, by reason", [f"{n}× {k}" for k, n in recorder.failures.most_common()]),
    ]
    for title, items in sections:
        if items:
            counted = "" if title.endswith("by reason") else f" ({len(items)})"
            out.append(f"[{name}] {title}{counted}:")
            out += [f"  {item}" for item in items[:10]]
            if len(items) > 10:
                out.append(f"  … {len(items) - 10} more")
    for phase, found in logs:
        for kind, count in found.kinds.most_common():
            out.append(f"[{name}] server log ({phase}): {count}× {kind}")
            out += [f"    {frame}" for frame in found.traces.get(kind, [])]
    return out
