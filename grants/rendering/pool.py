"""Warm renderers: a few sandboxed children that each serve many renders.

Starting an interpreter, importing WeasyPrint and loading the CJK fonts costs about a second,
more than laying out a typical document. A pool keeps up to ``size`` children (sandbox.Child,
"serve" mode) that did all that at their start, by rendering a small Japanese document
(weasy.warm_up), and hands each render to an idle one. Every guarantee of the one-shot
sandbox holds per render: the wall-clock limit (the parent kills the child's process group
when it passes), the memory limit (RLIMIT_AS in the child, lowered for each render under the
child's ceiling), the allow-listed environment, the static-only fetcher, death with the
parent (children are started from one long-lived thread of the pool, because Linux sends
PR_SET_PDEATHSIG when the starting *thread* ends, and request threads come and go).

A child is replaced after ``max_jobs`` renders and after any render that did not end well
(time or memory limit, crash, exception): only a child in a known state serves again.

What a child keeps from one render to the next, and why that is safe: it starts before any
request and gets one job at a time, nothing else of any user. Each render makes its own
StaticOnlyFetcher and FontConfiguration (weasy.render_job), and its log records are collected
apart; the caches WeasyPrint and fontconfig keep across renders hold installed fonts and files
of the static directory, the only things the fetcher ever reads, which are the same for every
user. The memory of an earlier document may linger in the heap, but no render can read it:
nothing a document contains is executed.

The pool is per process: ``shared_pool`` starts one lazily on first use, and a process forked
from its owner (gunicorn's preloading master, an RQ work horse) gets a fresh one rather than
sharing pipes and locks with another process. Thread-safe: web workers' threads share it.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from grants.rendering import limits
from grants.rendering.errors import RenderFailed
from grants.rendering.sandbox import Child, check_limits

LOGGER = logging.getLogger("grants.rendering")
WARM_UP = "grants.rendering.weasy:warm_up"
MEMORY_MB = 1024  # every child's ceiling; render_pdf's default limit


class RenderPool:
    """Up to ``size`` warm children, started when renders need them, each for ``max_jobs``."""

    def __init__(self, size: int, *, max_jobs: int, memory_mb: int = MEMORY_MB,
                 warm_up: str = WARM_UP) -> None:
        if size < 1 or max_jobs < 1:
            raise ValueError("a pool needs size >= 1 and max_jobs >= 1")
        self.size, self.max_jobs, self.memory_mb, self.warm_up = size, max_jobs, memory_mb, warm_up
        self.pid = os.getpid()
        self.children: set[Child] = set()  # idle and busy, for _after_fork
        self._idle: list[Child] = []
        self._live = 0  # children idle, busy or being started: at most size
        self._closed = False
        self._changed = threading.Condition()
        self._starter = ThreadPoolExecutor(1, thread_name_prefix="grants-renderer")

    def run(self, target: str, job: Any, *, timeout_s: float, memory_mb: int) -> Any:
        """As sandbox.run_limited, on a warm child; ``memory_mb`` at most the pool's."""
        check_limits(timeout_s, memory_mb)
        if memory_mb > self.memory_mb:
            raise ValueError(f"memory_mb above the pool's ceiling of {self.memory_mb} MB")
        child = self._acquire()
        reusable = False
        try:
            result = child.run(target, job, timeout_s=timeout_s, memory_mb=memory_mb)
            reusable = child.jobs < self.max_jobs
            return result
        finally:
            self._release(child, reusable)

    def shutdown(self) -> None:
        """Kill the idle children now and the busy ones when their render ends."""
        with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            self._changed.notify_all()
        for child in idle:
            self._retire(child)
        self._starter.shutdown(wait=True)

    def _acquire(self) -> Child:
        with self._changed:
            while not self._idle and self._live >= self.size and not self._closed:
                self._changed.wait()
            if self._closed:
                raise RenderFailed("the renderer pool was shut down")
            child = self._idle.pop() if self._idle else None
            if child is None:
                self._live += 1
        if child is not None and child.alive():
            return child
        if child is not None:  # died while idle (killed from outside): another takes its place
            self._retire(child, keep_slot=True)
        return self._start()

    def _release(self, child: Child, reusable: bool) -> None:
        with self._changed:
            if reusable and not self._closed:
                self._idle.append(child)
                self._changed.notify()
                return
        self._retire(child, keep_slot=not self._closed)
        if self._closed:
            return
        try:  # started now, the replacement is warm when the next render comes
            replacement = self._start()
        except Exception:  # the next render starts one, or says why it cannot
            LOGGER.exception("could not start a renderer")
            return
        self._release(replacement, True)

    def _start(self) -> Child:
        """A new child in a slot already counted in _live (given back if it fails)."""
        try:
            child = self._starter.submit(Child.start, self.memory_mb, self.warm_up).result()
        except BaseException:
            with self._changed:
                self._live -= 1
                self._changed.notify()
            raise
        with self._changed:
            self.children.add(child)
        return child

    def _retire(self, child: Child, *, keep_slot: bool = False) -> None:
        child.kill()
        with self._changed:
            self.children.discard(child)
            if not keep_slot:
                self._live -= 1
                self._changed.notify()


_shared: RenderPool | None = None
_lock = threading.Lock()


def shared_pool() -> RenderPool | None:
    """This process's pool as limits.configure_pool set it; None when its size is 0."""
    global _shared
    size, max_jobs = limits.pool_settings()
    with _lock:
        old = _shared
        if old is not None and (old.pid, old.size, old.max_jobs) == (os.getpid(), size, max_jobs):
            return old
        _shared = RenderPool(size, max_jobs=max_jobs, warm_up=WARM_UP) if size else None
        pool = _shared
    if old is not None and old.pid == os.getpid():  # settings changed: the old one goes
        old.shutdown()
    return pool


def shutdown_shared_pool() -> None:
    """Stop this process's pool (at exit; tests)."""
    global _shared
    with _lock:
        pool, _shared = _shared, None
    if pool is not None and pool.pid == os.getpid():
        pool.shutdown()


def _after_fork() -> None:
    """In a forked process: forget the parent's pool (its children are not ours) and its
    locks, which another thread may have held at the fork."""
    global _shared, _lock
    _lock = threading.Lock()
    if _shared is not None:
        for child in _shared.children:  # close this copy of its pipes; no reaping, no warning
            for pipe in (child.process.stdin, child.process.stdout, child.process.stderr):
                if pipe is not None:
                    pipe.close()
            child.process.returncode = 0
    _shared = None


os.register_at_fork(after_in_child=_after_fork)
atexit.register(shutdown_shared_pool)
