"""The sandboxed child: ``python -m grants.rendering.child PARENT MEMORY_MB MODE [WARM_UP]``.

Started by sandbox.Child. It arranges to die with its parent (Linux) and lowers its limits
before importing anything of the renderer's, then reads requests (target, job, timeout_s,
memory_mb) as frames (frames.py) on stdin and answers each with ("ok", result, log records)
or ("error", (type, message, traceback), log records) on stdout.

MODE "once" (sandbox.run_limited): one request, whose limits become the hard ones, then exit.
MODE "serve" (pool.RenderPool): first call the WARM_UP target (WeasyPrint imported, fonts
loaded) under MEMORY_MB, then serve requests until stdin closes, each under its own lower soft
limits, raised back to MEMORY_MB between requests so that the answer can always be sent.
Limits are set here rather than in a preexec_fn, which is unsafe when the parent has threads.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import math
import os
import resource
import signal
import sys
import traceback
from typing import Any

from grants.rendering import frames

FORWARDED_RECORDS = 100  # warnings sent home with the result, at most
CPU_GRACE_S = 5  # the CPU limit only backstops a child whose parent died without killing it
START_SECONDS = 60  # CPU for the interpreter's start and the warm-up render
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def main() -> None:
    parent, memory_mb, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    _die_with(parent)
    results = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library printing to stdout must not corrupt the result stream
    _start_limits(memory_mb)
    if len(sys.argv) > 4:  # a failed warm-up ends the child: its traceback goes to stderr
        _call(sys.argv[4], None)
    once = mode == "once"
    while True:
        try:
            target, job, timeout_s, job_memory_mb = frames.read(sys.stdin.buffer)
        except EOFError:  # the parent is done with this renderer
            return
        results.write(_serve(target, job, timeout_s, job_memory_mb, final=once))
        results.flush()
        if once:
            return


def _serve(target: str, job: Any, timeout_s: float, memory_mb: int, *, final: bool) -> bytes:
    """One request's answer as a frame; the log records are this request's only."""
    records: list[tuple[str, int, str]] = []
    collect = _Collect(records)
    logging.getLogger().addHandler(collect)
    try:
        _limit(timeout_s, memory_mb, final=final)
        message = ("ok", _call(target, job), records)
    except BaseException as exc:  # the parent decides what each failure means
        message = ("error", (type(exc).__name__, str(exc), traceback.format_exc()), records)
    finally:
        logging.getLogger().removeHandler(collect)
        if not final:
            _relax()
    try:
        return frames.pack(message)
    except Exception as exc:  # a result that cannot cross the process gap is a bug, say so
        failure = (type(exc).__name__, f"unsendable result: {exc}", traceback.format_exc())
        return frames.pack(("error", failure, records))


def _call(target: str, job: Any) -> Any:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)(job)


def _die_with(parent: int) -> None:
    """Be killed when the parent dies, even by SIGKILL (a gunicorn worker past its graceful
    timeout), when no code of the parent's can stop the child; the CPU limit stays the
    backstop elsewhere. A parent already gone has left the child to another process."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _start_limits(memory_mb: int) -> None:
    """The ceiling for the child's whole life, set before the renderer's libraries load."""
    memory = _capped(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no gigabyte core dumps
    _limit(START_SECONDS, memory_mb, final=False)


def _limit(timeout_s: float, memory_mb: int, *, final: bool) -> None:
    """Memory and CPU for what runs next. ``final`` lowers the hard limits too, so code
    running in the child can never raise them again; otherwise the soft limits drop below the
    hard ones (the start's), which _relax restores. CPU time adds up over a child's life, so
    its limit counts from the seconds already used."""
    memory = _capped(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
    used = resource.getrusage(resource.RUSAGE_SELF)
    # SIGXCPU at the soft limit, SIGKILL a second later at the hard one.
    cpu = _capped(resource.RLIMIT_CPU, int(used.ru_utime + used.ru_stime)
                  + math.ceil(timeout_s) + CPU_GRACE_S + 1)
    memory_hard = memory if final else resource.getrlimit(resource.RLIMIT_AS)[1]
    cpu_hard = cpu if final else resource.getrlimit(resource.RLIMIT_CPU)[1]
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory_hard))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu - 1, cpu_hard))


def _relax() -> None:
    """Back to the start's limits between requests (an idle child uses no CPU)."""
    for which in (resource.RLIMIT_AS, resource.RLIMIT_CPU):
        hard = resource.getrlimit(which)[1]
        resource.setrlimit(which, (hard, hard))


def _capped(which: int, wanted: int) -> int:
    _, hard = resource.getrlimit(which)
    return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)


class _Collect(logging.Handler):
    """Keep the child's warnings (WeasyPrint's and ours) to send them home with the result."""

    def __init__(self, records: list[tuple[str, int, str]]) -> None:
        super().__init__(logging.WARNING)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.records) < FORWARDED_RECORDS:
            self.records.append((record.name, record.levelno, record.getMessage()))


if __name__ == "__main__":
    main()
