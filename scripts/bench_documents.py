"""Documents benchmark: what one PDF costs, and how a batch of audit records scales on RQ workers.

Not a test: it measures and prints markdown tables (progress goes to stderr). On a throw-away
instance per backend (SQLite in a temporary directory; PostgreSQL in a ``bench_docs`` database
it creates and drops), it makes one application the way the app does (forms, two reviews, a
moderation, an award) and ``--records`` funded copies of it, then:

1. times the review packet and the PDF/A-3u audit record of that application, ours
   (``review_packet_pdf`` / ``audit_record_pdf``: data, template, sandboxed renderer) against
   the same HTML through the renderer alone and through WeasyPrint alone, in-process, with a
   warm renderer of the pool and with a fresh child per document (``--runs`` each after a
   warm-up; on the first backend only);
2. requests a batch of the copies as the web app does and builds it with 1, then 2 real
   ``rq worker --burst`` processes (``--workers``), for each ``--renderer-pool`` setting of
   theirs (``0 2`` compares fresh children with warm ones), on the Redis database of
   ``--redis-url`` (db 14 by default: not the tests'), on a queue of its own whose keys it
   removes.

    .venv/bin/python scripts/bench_documents.py                     # 100 records, 1 and 2 workers
    .venv/bin/python scripts/bench_documents.py --records 100 --workers 1 2 --runs 10
    .venv/bin/python scripts/bench_documents.py --backend sqlite --skip batch
    .venv/bin/python scripts/bench_documents.py --renderer-pool 0 2  # fresh vs warm workers
"""

from __future__ import annotations

import argparse
import sys
from itertools import product
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # grants and tests' helpers

from docbench import batch, documents, instance, report, seed

from grants.config import DEFAULTS

RENDERER_POOL = DEFAULTS["RENDERER_POOL"]

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100, help="records in the batch")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--renderer-pool", type=int, nargs="+", default=[RENDERER_POOL],
                        help="the workers' GRANTS_RENDERER_POOL, each in turn (0: a fresh child "
                             f"per record; default {RENDERER_POOL})")
    parser.add_argument("--runs", type=int, default=10, help="timed renderings per method")
    parser.add_argument("--backend", nargs="+", choices=["sqlite", "postgresql"],
                        help="default: sqlite, and postgresql when it answers")
    parser.add_argument("--postgres-url", default=POSTGRES, help="a server to create it on")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--skip", nargs="*", default=[], choices=["documents", "batch"])
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per batch")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    backends = args.backend or ["sqlite"] + (
        ["postgresql"] if instance.postgres_answers(args.postgres_url) else [])
    uses_pg = "postgresql" in backends
    print(report.host(args.redis_url, args.postgres_url if uses_pg else None) + "\n")
    runs: list[batch.BatchRun] = []
    for n, backend in enumerate(backends):
        with instance.instance(backend, args.postgres_url) as made:
            print(f"[{backend}] seeding {args.records} funded applications", file=sys.stderr)
            seeded = seed.seed(made, args.records)
            if n == 0 and "documents" not in args.skip:
                print(f"[{backend}] timing documents", file=sys.stderr)
                timings = documents.time_documents(made, seeded, args.runs)
                print(report.documents_table(timings, args.runs) + "\n", flush=True)
            for pool, workers in [] if "batch" in args.skip else product(args.renderer_pool,
                                                                         args.workers):
                print(f"[{backend}] batch with {workers} worker(s), renderer pool {pool}",
                      file=sys.stderr)
                runs.append(batch.run_batch(made, seeded, args.redis_url, workers,
                                            args.timeout, pool))
    if runs:
        print(report.batch_table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
