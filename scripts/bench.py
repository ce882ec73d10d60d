"""Deadline-day benchmark: many applicants fill and submit ict-kizuna-2010 at once over HTTP.

Not a test: it measures, then checks what was written. For each backend (SQLite in a temporary
directory; PostgreSQL in a database it creates and drops) it:

1. prepares a fresh database with ``flask --app wsgi grants migrate`` and ``grants load``, and
   creates the applicant accounts through ``grants.services.accounts`` (one organization each,
   plus pairs of colleagues sharing an organization);
2. serves ``wsgi:app`` under gunicorn on 127.0.0.1 (sync workers by default, CSRF on) and runs
   the simulated applicants with a thread pool: sign in, eligibility check, start, every step
   (GET the page, POST with its lock_version and a unique marker), a PDF, submit. Some submit
   twice at once (two POSTs on two connections); each pair of colleagues presses save on the
   same step of the same draft at the same moment, and one of them saves once more while the
   other submits; some post one step with a stale form token (the kept-answers path);
3. reads the database afterwards: every acknowledged save (303 to the next page) must be stored
   unless a later acknowledged save of the same field replaced it (successful saves are ordered
   by the lock_version they were based on), no application may have two submissions or two
   submit audit events, a submission must match the stored answers, and the server log is
   searched for "database is locked";
4. serves ``scripts/bench_ceiling.py`` (one INSERT per request, same engine settings, same
   gunicorn settings) and hammers it with the same concurrency: the ceiling.

Progress goes to stderr; the markdown report to stdout. Traffic goes to 127.0.0.1 only. It stops
gunicorn, removes its temporary directories and drops the bench database itself, also when
interrupted. Exit status 1 when a correctness figure is not zero (lost saves, duplicate
submissions, "database is locked", 500s), 0 otherwise.

The code is in ``scripts/benchlib/``, one module per part (``cli`` drives the run).

    .venv/bin/python scripts/bench.py                        # SQLite, plus PostgreSQL if it answers
    .venv/bin/python scripts/bench.py --backend sqlite --users 60 --concurrency 12
    .venv/bin/python scripts/bench.py --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import sys

from benchlib.cli import main
from benchlib.common import ROOT, log

if str(ROOT) not in sys.path:  # `python scripts/bench.py` puts only scripts/ on the path
    sys.path.insert(0, str(ROOT))  # benchlib imports grants only when it needs it, after this

if __name__ == "__main__":
    try:
        sys.exit(main(__doc__.split("\n\n")[0]))
    except KeyboardInterrupt:
        log("interrupted: gunicorn stopped, temporary files and the bench database removed")
        sys.exit(130)
