"""The ceiling: scripts/bench_ceiling.py (one INSERT per request) under the same concurrency."""

from __future__ import annotations

import threading
import time

from benchlib.backend import Backend
from benchlib.client import Client, JourneyFailed, TimeUp
from benchlib.common import CEILING_SECONDS, REQUEST_TIMEOUT, log
from benchlib.measure import Recorder
from benchlib.server import ServerSettings, gunicorn, warm_up
from benchlib.serverlog import LogFindings, scan_log


def measure_ceiling(
    backend: Backend, settings: ServerSettings, concurrency: int, seconds: float
) -> tuple[Recorder, int, LogFindings]:
    """Serve the ceiling app like the real one and hammer it: requests, rows stored, its log."""
    import bench_ceiling  # scripts/ is on the path: benchlib was imported from there

    bench_ceiling.create_table(backend.ceiling_url)
    log_path = backend.workdir / "gunicorn-ceiling.log"
    spec = f"bench_ceiling:create_app({backend.ceiling_url!r})"
    with gunicorn(spec, backend.env, settings, log_path, "/health") as port:
        warm_up(port, ["/health"], settings.workers * 2)
        log(f"{backend.name}: ceiling on 127.0.0.1:{port}")
        recorder = run_ceiling(port, concurrency, min(CEILING_SECONDS, seconds))
    return recorder, bench_ceiling.count_rows(backend.ceiling_url), scan_log(log_path)


def run_ceiling(port: int, concurrency: int, seconds: float) -> Recorder:
    recorder = Recorder()
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))
    lock = threading.Lock()

    def hammer() -> None:
        client = Client(port, recorder, deadline)
        try:
            while True:
                with lock:
                    n = next(counter)
                client.post("/write", {"p": f"w{n}"}, kind="write")
        except (TimeUp, JourneyFailed):
            pass
        finally:
            client.close()

    recorder.started = time.perf_counter()
    threads = [threading.Thread(target=hammer, name=f"ceiling-{i}") for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + REQUEST_TIMEOUT + 5)
    recorder.finished = time.perf_counter()
    return recorder
