"""The markdown tables (stdout) and the host line."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from importlib.metadata import version
from pathlib import Path

import sqlalchemy as sa

from docbench.batch import BatchRun
from docbench.documents import Timing


def host(redis_url: str, postgres_url: str | None) -> str:
    """CPUs, Python, WeasyPrint, and the servers the run used."""
    cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor() or "?")
    parts = [f"{os.cpu_count()} CPUs ({cpu})", f"{platform.system()} {platform.release()}",
             f"Python {sys.version.split()[0]}", f"WeasyPrint {version('weasyprint')}",
             f"pydyf {version('pydyf')}", f"rq {version('rq')}",
             f"SQLite {sqlite3.sqlite_version}"]
    try:
        from redis import Redis

        with Redis.from_url(redis_url) as connection:
            parts.append(f"Redis {connection.info()['redis_version']}")
    except Exception as error:  # the batch part says what went wrong; this is a label
        parts.append(f"Redis ({type(error).__name__})")
    if postgres_url:
        engine = sa.create_engine(postgres_url)
        try:
            with engine.connect() as connection:
                parts.append(f"PostgreSQL {connection.scalar(sa.text('SHOW server_version'))}")
        finally:
            engine.dispose()
    return "Host: " + ", ".join(parts)


def _lines(path: str) -> list[str]:
    file = Path(path)
    return file.read_text().splitlines() if file.is_file() else []


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def documents_table(timings: list[Timing], runs: int) -> str:
    """Per document and method: median, p90, size, and the ratio to WeasyPrint alone."""
    alone = {t.document: t for t in timings if t.method.startswith("WeasyPrint")}
    rows = []
    for t in timings:
        base = alone[t.document]
        rows.append([t.document, t.method, f"{t.median:.2f}", f"{t.p90:.2f}",
                     f"{t.median / base.median:.2f}×", f"{t.p90 / base.p90:.2f}×",
                     f"{t.size / 1024:.0f}"])
    title = (f"### One document ({runs} runs each after a warm-up; seconds; "
             "ratio = this / WeasyPrint alone)\n\n")
    return title + table(["document", "method", "median s", "p90 s", "median ratio",
                          "p90 ratio", "PDF KiB"], rows)


def batch_table(runs: list[BatchRun]) -> str:
    """Per backend and worker count: times, throughput and the speed-up over one worker."""
    one = {(r.backend, r.renderer_pool): r for r in runs if r.workers == 1}
    rows = []
    for r in runs:
        base = one.get((r.backend, r.renderer_pool))
        speedup = f"{base.wall / r.wall:.2f}×" if base else "–"
        rows.append([f"{r.backend}, renderer pool {r.renderer_pool}", str(r.workers),
                     str(r.records), str(r.jobs), f"{r.wall:.1f}",
                     f"{r.in_workers:.1f}", f"{r.records / r.wall:.2f}",
                     f"{r.wall / r.records:.2f}", speedup, f"{r.size / 1024 / 1024:.1f}"])
    title = ("### Batch of audit records on RQ workers (`rq worker --burst`; wall = request to "
             "done, worker start included; in workers = the batch's started_at to "
             "finished_at; renderer pool = the workers' GRANTS_RENDERER_POOL, 0 = a fresh child "
             "per record)\n\n")
    return title + table(["backend", "workers", "records", "RQ jobs", "wall s",
                          "in workers s", "records/s", "s/record", "speed-up (wall)",
                          "ZIP MiB"], rows)
