"""The open loop's markdown: arrivals, latency per request kind, the correctness figures, the
CPU each request kind costs in-process, the password hash, and the profiles as evidence."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import Any

from benchlib.common import PROGRAM_KEY
from benchlib.measure import Sample, percentile
from benchlib.open_loop import DRAIN, LATE_MS, OpenResult
from benchlib.report import CORRECTNESS_HEADER, correctness_row, evidence, host_line, ms, statuses

GOAL_MS = 250.0  # issue 10: p99 of saves and submits at half the maximum rate
# (label, which samples, held to the goal); "kept" is a save with a stale form token.
KINDS: list[tuple[str, Callable[[Sample], bool], bool]] = [
    ("step GET", lambda s: s.kind == "step", False),
    ("save POST", lambda s: s.kind == "save", True),
    ("submit POST", lambda s: s.kind == "submit", True),
    ("sign-in POST", lambda s: s.kind == "sign_in", False),
    ("other", lambda s: s.kind not in ("step", "save", "submit", "sign_in"), False),
]
CPU_KINDS = (("step GET", "step"), ("save POST", "save"), ("submit POST", "submit"))
CPU_KINDS += (("sign-in POST", "sign_in"), ("other pages", "page"), ("other POSTs", "other"))


def kind_row(name: str, label: str, samples: list[Sample], goal: bool) -> str:
    times = [s.ms for s in samples]
    p99 = percentile(times, 0.99)
    verdict = "–"
    if goal and p99 is not None:
        verdict = "yes" if p99 < GOAL_MS else "**no**"
    cells = [
        name,
        label,
        str(len(samples)),
        ms(percentile(times, 0.5)),
        ms(percentile(times, 0.9)),
        ms(p99),
        ms(max(times, default=None)),
        statuses(samples) or "–",
        verdict,
    ]
    return "| " + " | ".join(cells) + " |"


def arrival_row(r: OpenResult) -> str:
    a, recorder = r.arrivals, r.recorder
    elapsed = max(recorder.finished - recorder.started, 1e-9)
    cells = [
        r.backend.name,
        "open loop",
        f"{a.rate:.2f}",
        str(a.scheduled),
        str(a.started),
        str(a.skipped),
        str(a.late),
        ms(percentile(a.lateness_ms, 0.99)),
        str(a.peak),
        str(len(recorder.samples)),
        f"{elapsed:.1f}",
        f"{len(recorder.samples) / elapsed:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def open_report(results: list[OpenResult], args: argparse.Namespace, notes: list[str]) -> str:
    lines = [
        f"### Deadline-day open loop ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        host_line(args),
        f"- arrivals: one journey on `{PROGRAM_KEY}` every 1/rate s for "
        f"{args.open_seconds:.0f} s (then up to {DRAIN:.0f} s to finish), at most "
        f"{args.max_in_flight} applicants in flight (an arrival finding no free slot is not "
        f"started; one starting more than {LATE_MS:.0f} ms after its moment is late); pairs, "
        f"double submits ({args.double_submit:.0%}) and stale form tokens "
        f"({args.stale_form:.0%}) in the closed loop's proportions, CSRF on",
    ]
    for r in results:
        lines.append(
            f"- {r.backend.name}: {r.backend.version}; rate {r.arrivals.rate:.2f} journeys/s "
            f"({r.rate_note}); {r.clock_note}; load average (1 min) before and after the "
            f"arrivals {r.load[0]:.1f}, {r.load[1]:.1f}"
        )
    lines += [f"- note: {n}" for n in notes]
    lines += [
        "",
        "| backend | scenario | journeys/s | arrivals | started | not started (no slot) "
        "| late | start lateness p99 ms | peak in flight | requests | s | req/s |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        *(arrival_row(r) for r in results),
        "",
        f"| backend | request | requests | p50 ms | p90 ms | p99 ms | max ms | statuses "
        f"| p99 < {GOAL_MS:.0f} ms |",
        "|---|---|--:|--:|--:|--:|--:|---|---|",
    ]
    for r in results:
        for label, chosen, goal in KINDS:
            samples = [s for s in r.recorder.samples if chosen(s)]
            lines.append(kind_row(r.backend.name, label, samples, goal))
    lines += ["", *CORRECTNESS_HEADER]
    lines += [
        correctness_row(r.backend.name, r.verdict, r.recorder, r.server_log, r.arrivals.started)
        for r in results
    ]
    lines += _cpu_section(results)
    details = _details(results)
    if details:
        lines += ["", "<details><summary>Evidence</summary>", "", "```", *details, "```"]
        lines += ["", "</details>"]
    return "\n".join(lines)


def _cpu_section(results: list[OpenResult]) -> list[str]:
    profiled = [r for r in results if "kinds" in r.profile]
    if not profiled:
        return []
    first = profiled[0].profile
    lines = [
        "",
        f"CPU per request, in-process (`benchlib/cpu_profile.py`: {first['measured']} journeys "
        "through `app.test_client()` after one to warm up, `time.process_time` around each WSGI "
        "call, one process, nothing else in it; PostgreSQL's own CPU is in its server and not "
        "counted; the top functions come from "
        f"{first['profiled']} more journeys under cProfile, in the evidence: its clock is "
        "wall time, so on PostgreSQL psycopg's `wait` there is the wait for the server):",
        "",
        "| backend | request | requests | CPU ms p50 | CPU ms p90 | CPU ms mean | wall ms p50 "
        "| SQL statements p50 |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in profiled:
        for label, kind in CPU_KINDS:
            found = r.profile["kinds"].get(kind)
            if found:
                cells = [r.backend.name, label, str(found["n"])]
                cells += [f"{found[k]:.1f}" for k in ("cpu_p50", "cpu_p90", "cpu_mean")]
                cells += [f"{found['wall_p50']:.1f}", f"{found['sql_p50']:.0f}"]
                lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for r in profiled:
        lines.append(_journey_line(r.backend.name, r.profile))
    lines.append(_hash_line(first["hashing"]))
    return lines


def _journey_line(name: str, profile: dict[str, Any]) -> str:
    sign_in = profile["kinds"].get("sign_in", {})
    share = sign_in.get("cpu_mean", 0.0) * sign_in.get("n", 0) / profile["measured"]
    return (
        f"- {name}: one whole journey costs {profile['journey_cpu_ms']:.0f} ms of app CPU, "
        f"{share:.0f} ms of it signing in"
    )


def _hash_line(hashing: dict[str, Any]) -> str:
    line = (
        f"- password hash (`grants.services.accounts.hash_password`, werkzeug): "
        f"`{hashing['method']}` with a {hashing['salt_chars']}-character salt; one hash "
        f"{hashing['hash_ms']:.0f} ms CPU, one check {hashing['check_ms']:.0f} ms. "
    )
    minimums = hashing["at_minimums_ms"]
    if not minimums:
        return line + "The bench knows no OWASP minimum for this algorithm: compare by hand."
    verdict = "meets" if hashing["meets_minimum"] else "is **below**"
    costs = ", ".join(f"{name}: {ms:.0f} ms" for name, ms in minimums.items())
    return (
        line + f"It {verdict} the minimum of OWASP's Password Storage Cheat Sheet, any of "
        f"these (one hash here, CPU): {costs}"
    )


def _details(results: list[OpenResult]) -> list[str]:
    out: list[str] = []
    for r in results:
        name = r.backend.name
        out += evidence(name, r.verdict, r.recorder, [("open loop", r.server_log)])
        if r.recorder.restores:
            kept = ", ".join(f"{k}×{n}" for k, n in sorted(r.recorder.restores.items()))
            out.append(f"[{name}] stale-token saves: {kept}")
        refused = ", ".join(f"{k}×{n}" for k, n in sorted(r.verdict.refused_saves.items()))
        out.append(f"[{name}] saves not acknowledged: {refused or 'none'}")
        if "error" in r.profile:
            out.append(f"[{name}] in-process profile failed: {r.profile['error']}")
        for kind, text in r.profile.get("top", {}).items():
            out.append(f"[{name}] cProfile of the {kind} requests of the profiled journeys:")
            out += [f"    {line}" for line in text.splitlines() if line.strip()]
    return out
