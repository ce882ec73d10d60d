"""Gunicorn on a free local port: start it, wait until it answers, warm it up, stop it."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchlib.common import ROOT, SCRIPTS, log


@dataclass(frozen=True)
class ServerSettings:
    workers: int
    worker_class: str
    threads: int

    def args(self) -> list[str]:
        args = ["--workers", str(self.workers), "--worker-class", self.worker_class]
        if self.worker_class == "gthread":
            args += ["--threads", str(self.threads)]
        return args

    def describe(self) -> str:
        return " ".join(["gunicorn", *self.args()])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def gunicorn(
    app_spec: str, env: dict[str, str], settings: ServerSettings, log_path: Path, ready: str
) -> Iterator[int]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        *settings.args(),
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--chdir",
        str(ROOT),
        "--pythonpath",
        f"{ROOT},{SCRIPTS}",
        "--error-logfile",
        "-",  # to stderr, which is the log file: the app's own log (grants.logging_setup) too
        "--log-level",
        "warning",
        app_spec,
    ]
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        began = time.perf_counter()
        _wait_ready(process, port, ready, log_path)
        log(f"gunicorn {app_spec.split('(')[0]} answered after {time.perf_counter() - began:.1f} s")
        yield port
    finally:
        _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], port: int, path: str, log_path: Path) -> None:
    limit = time.monotonic() + 30
    while time.monotonic() < limit:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{_tail(log_path)}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer on 127.0.0.1:{port} within 30 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()  # the master stops its workers
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its own session: only its workers
            process.wait(5)


def _tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def warm_up(port: int, paths: list[str], count: int) -> None:
    """Let every worker import and compile its templates before the clock starts."""
    began = time.perf_counter()

    def hit(path: str) -> None:
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        list(pool.map(hit, paths * count))
    log(f"warm-up: {len(paths) * count} requests in {time.perf_counter() - began:.1f} s")
