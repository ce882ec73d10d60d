"""Benchmarks over HTTP: deadline day (applicants submit ict-kizuna-2010 at once, as a closed or
an open loop), and officers ranking a big call (``--scenario journey|open|ranking|all``, default
journey).

Not a test: it measures, then checks what was written or shown. Each scenario runs on each backend
(SQLite in a temporary directory; PostgreSQL in a database it creates and drops) on a fresh
database of its own. ``--scenario journey`` (the default: what ``make bench`` has always
measured; ``make bench BENCH_ARGS="--scenario all"`` runs all three):

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
   searched for "database is locked" (gunicorn's stderr, where both its error log and the app's
   own log go, is kept in a file in the run's temporary directory);
4. serves ``scripts/bench_ceiling.py`` (one INSERT per request, same engine settings, same
   gunicorn settings) and hammers it with the same concurrency: the ceiling.

``--scenario open`` (deadline day as it comes: applicants arrive whatever the server's speed):

1. unless ``--rate`` gives the arrival rate, runs the closed loop above first on the same backend
   and takes half its maximum: journeys submitted per second between the first and the third
   quartile of the submissions (the start and the tail, with fewer applicants than clients,
   left out);
2. on a fresh database with one account per arrival, serves ``wsgi:app`` as above and starts a
   journey (the same journeys: a pair of colleagues is one arrival of two, the same fractions
   double-submit or post a stale form token) every 1/rate s for ``--open-seconds`` (60), then
   lets the started ones finish (60 s at most). At most ``--max-in-flight`` (40) applicants run
   at once, so the client keeps its timing: an arrival that finds no free slot is not started,
   and one that starts more than 100 ms after its moment is late; both are counted. Latency is
   reported per request kind (step GET, save POST, submit POST, sign-in POST, the rest) with
   p50/p90/p99 and whether saves and submits stay under 250 ms at p99, and the database and the
   server log are checked as in the closed loop;
3. runs journeys in-process in a child process (``benchlib/cpu_profile.py``: the same journeys
   through ``app.test_client()``, one to warm up, 8 timed with ``time.process_time`` around each
   WSGI call, 3 under cProfile with one profiler per request kind) and prints the CPU ms and SQL
   statements per request kind, the CPU of a whole journey, and the top 10 functions for a step
   GET, a save, a submit and a sign-in, by cumulative time (the app's) and by own time (any);
   and the password hash the app stores, its cost alone, and whether its parameters meet the
   minimum of OWASP's Password Storage Cheat Sheet (``benchlib/passwords.py``; ``--no-profile``
   skips this step).

``--scenario ranking`` (the day after review, when an officer ranks the call):

1. migrates and loads as above, then seeds the call in bulk, in seconds (``benchlib/seed.py``):
   5,000 organizations with one applicant each, 5,000 applications in review under the current
   program version, each with a frozen submission made by the app's own ``build_snapshot`` from
   varied, valid answers (a third on the ``education`` track, which has a quota; amounts under
   each cap), 30 reviewers joined to the call, 3 assignments per application each with a
   submitted review (every criterion rated 0-5 with a comment; total and knockout by the app's
   scoring), a moderation where a review hit the knockout, one award and one rejection per 500
   applications; PostgreSQL is ANALYZEd afterwards, as autovacuum would;
2. serves ``wsgi:app`` under gunicorn (wrapped by ``benchlib/sqlcount.py``: each answer carries
   the number of SQL statements it took in a header), signs an officer in through the form,
   warms the workers with one ranking request each, then times GETs under
   ``/manage/calls/ict-kizuna-2010/``:
   ``ranking`` (5 one after another, then 4 clients x 2 at once), ``ranking.csv``,
   ``scores.csv``, ``export.xlsx`` and ``calibration`` (2 each: each takes seconds, and both
   backends finish in about five minutes on 2 CPUs). Every answer must be 200 and the first of
   each phase must hold the seeded call: every reference on the page, one CSV or Excel row per
   application or review, one dot per review in the calibration chart;
3. runs the app in-process in a child process to profile one ranking request with cProfile and
   list its statements by table (``--no-profile`` skips it).

Progress goes to stderr; the markdown report to stdout. Traffic goes to 127.0.0.1 only. It stops
gunicorn, removes its temporary directories and drops the bench database itself, also when
interrupted. Exit status 1 when a correctness figure is not zero (lost saves, duplicate
submissions, "database is locked", 500s; in the open loop also any exception in the server's
log or a failed in-process profile; in the ranking scenario an answer other than 200, a seeded
row missing from an answer, or an exception in the server's log), 0 otherwise.

The code is in ``scripts/benchlib/``, one module per part (``cli`` drives the run).

    .venv/bin/python scripts/bench.py                        # SQLite, plus PostgreSQL if it answers
    .venv/bin/python scripts/bench.py --backend sqlite --users 60 --concurrency 12
    .venv/bin/python scripts/bench.py --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python scripts/bench.py --scenario open        # closed loop, then open at half
    .venv/bin/python scripts/bench.py --scenario open --rate 2 --open-seconds 120 --backend sqlite
    .venv/bin/python scripts/bench.py --scenario ranking     # both backends, 5,000 applications
    .venv/bin/python scripts/bench.py --scenario ranking --backend sqlite --applications 1000
    .venv/bin/python scripts/bench.py --scenario all         # journey, open, ranking
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
