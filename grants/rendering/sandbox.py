"""Run functions in a limited Python process and get each result or a clear error.

A pathological document (a huge table, an image bomb) must not take the web worker or job
runner down with it, and no renderer outlives its use: the child's process group is killed
when ``run_limited``'s call (or a pool's use of the child) ends, times out or is interrupted,
and the child (on Linux) dies with its parent even when that is killed outright.

The child is a new interpreter (``python -m grants.rendering.child``), never a fork: the
parent may hold database connections and threads a forked copy would share or deadlock on.
It is not multiprocessing's "spawn" either, because spawn re-runs the parent's ``__main__``
in every child (the CLI's, gunicorn's, pytest's), before any limit and with its side
effects; an unguarded script even fails to start the child at all.

``Child`` is one such process and its pipes; ``run_limited`` uses a fresh one per call, and
pool.RenderPool keeps warm ones for many calls. Both go through ``Child.run``: one code path
for the time limit, the answer and every kind of failure.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import selectors
import signal
import subprocess
import sys
import time
from typing import Any

from grants.rendering import frames
from grants.rendering.errors import RenderFailed, RenderTimeout

LOGGER = logging.getLogger("grants.rendering")
CHILD = "grants.rendering.child"
CHILD_ENV = frozenset({"PATH", "HOME", "LANG", "TMPDIR", "TZ", "SYSTEMROOT"})
STDERR_KEPT = 4000  # characters of the child's stderr kept in RenderFailed.detail
CHUNK = 1 << 20  # bytes per read or write on the pipes


def run_limited(target: str, job: Any, *, timeout_s: float, memory_mb: int) -> Any:
    """Call ``target`` ("package.module:function") on ``job`` in a fresh limited child.

    The target is named, not passed, so the parent never imports it. Raises RenderTimeout
    after ``timeout_s`` (wall clock, including the child's start) and RenderFailed when the
    child raises, runs out of memory or dies.
    """
    check_limits(timeout_s, memory_mb)
    child = Child.start(memory_mb)
    try:
        return child.run(target, job, timeout_s=timeout_s, memory_mb=memory_mb)
    finally:
        # Also on any other exception: SystemExit from gunicorn's worker timeout, a
        # KeyboardInterrupt, a job being stopped.
        child.kill()


def check_limits(timeout_s: float, memory_mb: int) -> None:
    if timeout_s <= 0 or memory_mb <= 0:
        raise ValueError("timeout_s and memory_mb must be positive")


class Child:
    """One renderer process: ``start`` it, ``run`` requests on it, ``kill`` it when done.

    ``memory_mb`` is its ceiling for life. Started with ``warm_up`` (a target name), it calls
    that first and then serves requests until killed; without, it serves exactly one.
    """

    def __init__(self, process: subprocess.Popen[bytes], memory_mb: int) -> None:
        self.process = process
        self.pid = process.pid
        self.memory_mb = memory_mb
        self.jobs = 0  # requests answered

    @classmethod
    def start(cls, memory_mb: int, warm_up: str | None = None) -> Child:
        # Only what rendering needs: never the app's secrets (SECRET_KEY, DATABASE_URL, ...).
        # The parent's import path, as multiprocessing would pass it; -P keeps the cwd out.
        env = {key: value for key, value in os.environ.items() if key in CHILD_ENV
               or key.startswith(("LC_", "FONTCONFIG", "XDG_"))}
        env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
        mode = ["once"] if warm_up is None else ["serve", warm_up]
        command = [sys.executable, "-P", "-m", CHILD, str(os.getpid()), str(memory_mb), *mode]
        # A fixed command running our own module: no shell, nothing from a document in it.
        # A session of its own: the child and anything it starts form one group to kill.
        process = subprocess.Popen(  # noqa: S603
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, start_new_session=True, bufsize=0,
        )
        for pipe in (process.stdin, process.stdout, process.stderr):
            assert pipe is not None
            os.set_blocking(pipe.fileno(), False)
        return cls(process, memory_mb)

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(self, target: str, job: Any, *, timeout_s: float, memory_mb: int) -> Any:
        """The target's result on this child, or RenderTimeout (the child is then killed) or
        RenderFailed. The time limit counts from here, so it includes a warm-up not yet done."""
        deadline = time.monotonic() + timeout_s
        answer, err = self._exchange(frames.pack((target, job, timeout_s, memory_mb)), deadline)
        if answer is None and time.monotonic() < deadline:  # it closed its pipes: exiting
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(max(deadline - time.monotonic(), 0))
        if answer is None and self.alive():
            self.kill()
            raise RenderTimeout(f"rendering took longer than {timeout_s:g} s and was stopped")
        self.jobs += 1
        stderr = err.decode("utf-8", "replace")[-STDERR_KEPT:]
        try:
            outcome, payload, records = pickle.loads(answer or b"")  # noqa: S301 (our child)
        except Exception:
            raise RenderFailed(_death(self.process.returncode, memory_mb),
                               stderr or _silent_death(self.process.returncode)) from None
        _forward(records)
        if stderr:
            LOGGER.debug("renderer stderr: %s", stderr)
        if outcome == "ok":
            return payload
        kind, text, detail = payload
        if kind == "MemoryError":
            text = f"ran out of memory (limit {memory_mb} MB)"
        raise RenderFailed(f"rendering failed ({memory_mb} MB memory limit): {kind}: {text}",
                           detail)

    def _exchange(self, request: bytes, deadline: float) -> tuple[bytes | None, bytearray]:
        """Write ``request``; read the answer (and stderr) until it is whole (returned), the
        child closed its pipes or the deadline passed (None)."""
        stdin, stdout, stderr = self.process.stdin, self.process.stdout, self.process.stderr
        out, err, sent, view = bytearray(), bytearray(), 0, memoryview(request)
        with selectors.DefaultSelector() as selector:
            selector.register(stdin, selectors.EVENT_WRITE)
            selector.register(stdout, selectors.EVENT_READ)
            selector.register(stderr, selectors.EVENT_READ)
            while (answer := frames.complete(out)) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not _files(selector) - {stdin}:
                    return None, err
                for key, _ in selector.select(remaining):
                    if key.fileobj is stdin:
                        try:
                            sent += os.write(key.fd, view[sent:sent + CHUNK])
                        except BrokenPipeError:  # it died: its stderr and status tell why
                            sent = len(view)
                        if sent == len(view):
                            selector.unregister(stdin)
                    elif data := os.read(key.fd, CHUNK):
                        (out if key.fileobj is stdout else err).extend(data)
                    else:
                        selector.unregister(key.fileobj)
        return answer, err

    def kill(self) -> None:
        """Kill its process group, reap it, close the pipes (no zombie, no open descriptor).
        Once only: a reaped child's PID may name another process's group some day."""
        if self.process.stdout is not None and self.process.stdout.closed:
            return
        _kill_group(self.pid)
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


def _files(selector: selectors.BaseSelector) -> set[Any]:
    return {key.fileobj for key in selector.get_map().values()}


def _kill_group(pid: int) -> None:
    """Kill the child's process group: the child, if still running, and whatever it started.

    Also once the child is reaped: its PID then names its leftover group or nothing, since
    Linux hands a PID out again only when no group holds it, after cycling through pid_max.
    """
    with contextlib.suppress(ProcessLookupError):  # every process of it has exited already
        os.killpg(pid, signal.SIGKILL)


def _death(returncode: int | None, memory_mb: int) -> str:
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name
        cause = "CPU time limit" if name == "SIGXCPU" else f"memory limit {memory_mb} MB?"
        return f"the renderer was killed by {name} ({cause})"
    return f"the renderer exited ({returncode}) without a result (memory limit {memory_mb} MB?)"


def _silent_death(returncode: int | None) -> str:
    """The log's detail when a child died without a word (a signal leaves no traceback)."""
    return f"no output on stderr; exit status {returncode}"


def _forward(records: list[tuple[str, int, str]]) -> None:
    """Re-log the child's warnings here, where the app's logging is configured."""
    for name, level, text in records:
        logging.getLogger(name).log(level, "%s", text)
