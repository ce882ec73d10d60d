"""The ranking scenario's markdown: what was seeded, one table of URLs per backend, the checks,
and the evidence (SQL statements by table, the profile of one ranking request)."""

from __future__ import annotations

import argparse
import datetime as dt
import statistics

from benchlib.common import PROGRAM_KEY
from benchlib.measure import percentile
from benchlib.rankbench import RankingResult, UrlTiming
from benchlib.report import host_line, ms, statuses


def size(values: list[int]) -> str:
    if not values:
        return "–"
    middle = statistics.median(values)
    return f"{middle / 1e6:.1f} MB" if middle >= 1e6 else f"{middle / 1e3:.0f} kB"


def _span(values: list[int]) -> str:
    if not values:
        return "–"
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}–{high}"


def url_row(timing: UrlTiming) -> str:
    samples = timing.recorder.samples
    every = [s.ms for s in samples]
    elapsed = max(timing.recorder.finished - timing.recorder.started, 1e-9)
    cells = [
        f"`{timing.name}`",
        str(timing.clients),
        str(len(samples)),
        ms(percentile(every, 0.5)),
        ms(percentile(every, 0.99)),
        ms(max(every, default=None)),
        f"{len(samples) / elapsed:.2f}",
        size(timing.sizes),
        _span(timing.statements),
        timing.verified or "not checked",
    ]
    return "| " + " | ".join(cells) + " |"


def failed(result: RankingResult) -> bool:
    """Anything but 200 with the seeded call in it, or an exception in the server's log."""
    samples = [s for t in result.timings for s in t.recorder.samples]
    return bool(
        result.problems
        or result.server_log.exceptions
        or any(s.status != 200 for s in samples)
        or "error" in result.probe
        or result.probe.get("status", 200) != 200
    )


def ranking_report(results: list[RankingResult], args: argparse.Namespace, notes: list[str]) -> str:
    lines = [
        f"### Ranking benchmark ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        host_line(args),
        f"- call: `{PROGRAM_KEY}` with {args.applications:,} applications past screening (a "
        "third on the `education` track, which has a 1/3 quota; one frozen submission each), "
        f"{args.reviewers} reviewers joined to the call, {args.reviews_per_app} submitted "
        "reviews per application (rubric `regional-ict-utilization`)",
        f"- timed: GETs under `/manage/calls/{PROGRAM_KEY}/` as a signed-in officer, after one "
        f"ranking request per worker: `ranking` {args.ranking_repeat}× one after another, "
        f"then {args.ranking_clients} clients × {args.ranking_per_client} at once; each export "
        f"and `calibration` {args.export_repeat}× one after another",
        "- SQL statements: per request, counted by a `before_cursor_execute` listener on the "
        "app's engine in each worker (`benchlib/sqlcount.py`, a header on each answer)",
    ]
    lines += [f"- note: {n}" for n in notes]
    for r in results:
        s = r.seeded
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in s.phases.items())
        lines += [
            "",
            f"#### {r.backend.name}: {r.backend.version}",
            "",
            f"Seeded **{s.applications:,} applications** and **{s.reviews:,} submitted "
            f"reviews** in **{s.seconds:.1f} s** ({phases}); also {s.applications:,} "
            f"organizations and applicants, {len(s.reviewer_names)} reviewers, "
            f"{s.moderations} moderations ({s.knockouts} applications with a knockout), "
            f"{s.decisions} decisions. Warm-up: {r.warm_seconds:.1f} s. Load average (1 min) "
            f"before and after the timed requests: {r.load[0]:.1f}, {r.load[1]:.1f}.",
            "",
            "| URL | clients | requests | p50 ms | p99 ms | max ms | req/s | size "
            "| SQL statements | content check |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
            *(url_row(t) for t in r.timings),
            "",
            f"- status codes: {statuses([x for t in r.timings for x in t.recorder.samples])}; "
            f"server exceptions: {r.server_log.exceptions}; "
            f"problems: {'; '.join(r.problems) or 'none'}",
        ]
        if "text" in r.probe:
            lines.append(
                f"- one `ranking` request in-process under cProfile: {r.probe['ms']:,} ms "
                "(profile and statements by table in the evidence below)"
            )
    details = _details(results)
    if details:
        lines += ["", "<details><summary>Evidence</summary>", "", "```", *details, "```"]
        lines += ["", "</details>"]
    return "\n".join(lines)


def _details(results: list[RankingResult]) -> list[str]:
    out: list[str] = []
    for r in results:
        name, probe = r.backend.name, r.probe
        if "error" in probe:
            out.append(f"[{name}] probe failed: {probe['error']}")
        for kind, count in r.server_log.kinds.most_common():
            out.append(f"[{name}] server log: {count}× {kind}")
            out += [f"    {frame}" for frame in r.server_log.traces.get(kind, [])]
        if "text" in probe:
            kinds = ", ".join(f"{k} ×{n}" for k, n in probe["kinds"].items())
            out.append(f"[{name}] GET {probe['url']}: {probe['statements']} statements: {kinds}")
            out.append(f"[{name}] cProfile of GET {probe['url']} ({probe['ms']:,} ms):")
            out += [f"    {line}" for line in probe["text"].splitlines() if line.strip()]
    return out
