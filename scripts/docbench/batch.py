"""A batch of records on real RQ workers: ``rq worker --burst`` processes, as deployed.

The batch is requested as the web app does it (``request_batch``, committed, then
``grants.jobs.start_batch``, which fans it out on the queue); then N workers start, each
configured like the app through GRANTS_* variables. The wall time runs from the request to the
batch's state ``done`` as the database shows it (polled), worker start-up included; the
batch's own started_at/finished_at (written by the workers) give the time spent in them. Each
run has a queue of its own, on a Redis database the tests do not use, and removes its keys.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from docbench.instance import ROOT, Instance
from docbench.seed import Seeded
from grants import jobs
from grants.db import get_session
from grants.models import BatchJob, BatchState, User
from grants.services import batches

RQ = Path(sys.executable).parent / "rq"  # the rq of the virtualenv running this
KEPT_ENV = ("PATH", "HOME", "LANG", "TMPDIR", "TZ")
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class BatchRun:
    backend: str
    renderer_pool: int  # GRANTS_RENDERER_POOL of the workers (0: a fresh child per record)
    workers: int
    records: int
    wall: float  # seconds, request to done
    in_workers: float  # seconds, the batch's started_at to finished_at
    jobs: int  # RQ jobs: the parts and the finisher
    size: int  # bytes of the ZIP


def run_batch(instance: Instance, seeded: Seeded, redis_url: str, workers: int,
              timeout: float, renderer_pool: int) -> BatchRun:
    """Request one batch of the seeded copies and let ``workers`` burst workers build it,
    each with ``renderer_pool`` as its GRANTS_RENDERER_POOL."""
    queue_name = f"docbench-{uuid.uuid4().hex[:12]}"
    settings = {**instance.settings(), "REDIS_URL": redis_url, "RQ_QUEUE": queue_name,
                "RENDERER_POOL": str(renderer_pool)}
    env = {key: os.environ[key] for key in KEPT_ENV if key in os.environ}
    env.update({f"GRANTS_{key}": value for key, value in settings.items()})
    log = instance.folder / f"workers-{queue_name}.log"
    config, saved = instance.app.config, dict(instance.app.config)
    config.update(REDIS_URL=redis_url, RQ_QUEUE=queue_name)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        started = time.perf_counter()
        with instance.app.test_request_context():
            session = get_session()
            job = batches.request_batch(session, seeded.criteria, now=dt.datetime.now(dt.UTC),
                                        actor=session.get(User, seeded.auditor_id))
            session.commit()
            job_id, records = job.id, job.total
            jobs.start_batch(job_id)
        with log.open("wb") as output:
            processes = [subprocess.Popen(
                [str(RQ), "worker", "--url", redis_url, "--burst", "--path", str(ROOT),
                 queue_name], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
                for _ in range(workers)]
        state = _wait(instance, job_id, started + timeout)
        wall = time.perf_counter() - started
        for process in processes:
            process.wait(timeout=60)
        with instance.session() as session:
            done = session.get(BatchJob, job_id)
            assert done is not None
            if state is not BatchState.DONE:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"batch {job_id} ended {state}: {done.error}\n{tail}")
            assert done.started_at and done.finished_at and done.result_size
            in_workers = (done.finished_at - done.started_at).total_seconds()
            size = done.result_size
        assert records == len(seeded.clone_ids)
        count = len(batches.chunks(range(records))) + 1
        return BatchRun(instance.backend, renderer_pool, workers, records, wall, in_workers,
                        count, size)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()  # only the workers this run started
                process.wait()
        config.clear()
        config.update(saved)
        clean_redis(redis_url, queue_name)


def _wait(instance: Instance, job_id: int, deadline: float) -> BatchState | None:
    """Poll the batch's state until it is done or failed (or the deadline passed)."""
    query = sa.select(BatchJob.state).where(BatchJob.id == job_id)
    while time.perf_counter() < deadline:
        with instance.session() as session:
            state = session.scalar(query)
        if state in (BatchState.DONE, BatchState.FAILED):
            return state
        time.sleep(POLL_SECONDS)
    return None


def clean_redis(redis_url: str, queue_name: str) -> None:
    """Remove this run's queue, registries, jobs, results and worker records."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job

    connection = Redis.from_url(redis_url)
    try:
        queue = Queue(queue_name, connection=connection)
        ids = set(queue.job_ids)
        for registry in (queue.finished_job_registry, queue.failed_job_registry,
                         queue.deferred_job_registry, queue.started_job_registry,
                         queue.canceled_job_registry, queue.scheduled_job_registry):
            ids.update(registry.get_job_ids())
        for job in Job.fetch_many(sorted(ids), connection=connection):
            if job is not None:
                job.delete(remove_from_queue=False)
        queue.delete(delete_jobs=True)
        for key in connection.scan_iter(match=f"*{queue_name}*"):
            connection.delete(key)
        for key in connection.scan_iter(match="rq:worker:*"):
            if connection.type(key) == b"hash" and \
                    connection.hget(key, "queues") == queue_name.encode():
                connection.delete(key)
                connection.srem("rq:workers", key)
        if not connection.scard("rq:workers"):
            connection.delete("rq:clean_groups")  # the workers' maintenance lock, no one's now
    finally:
        connection.close()
