"""The sandboxed child: ``python -m grants.rendering.child``, started by sandbox.run_limited.

It reads (target, job, timeout_s, memory_mb, parent pid) pickled on stdin, arranges to die
with its parent (Linux), lowers its own limits, only then imports the target's module
(WeasyPrint and its C libraries load under the limits), and writes ("ok", result, log
records) or ("error", (type, message, traceback), log records) pickled on stdout. Limits
are set here rather than in a preexec_fn, which is unsafe when the parent has threads.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import math
import os
import pickle
import resource
import signal
import sys
import traceback

FORWARDED_RECORDS = 100  # warnings sent home with the result, at most
CPU_GRACE_S = 5  # the CPU limit only backstops a child whose parent died without killing it
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def main() -> None:
    results = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library printing to stdout must not corrupt the result stream
    target, job, timeout_s, memory_mb, parent = pickle.load(sys.stdin.buffer)  # noqa: S301
    _die_with(parent)
    records: list[tuple[str, int, str]] = []
    logging.getLogger().addHandler(_Collect(records))
    try:
        _limit(timeout_s, memory_mb)
        module, _, function = target.partition(":")
        message = ("ok", getattr(importlib.import_module(module), function)(job), records)
    except BaseException as exc:  # the parent decides what each failure means
        message = ("error", (type(exc).__name__, str(exc), traceback.format_exc()), records)
    try:
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # a result that cannot cross the process gap is a bug, say so
        failure = (type(exc).__name__, f"unsendable result: {exc}", traceback.format_exc())
        data = pickle.dumps(("error", failure, records), pickle.HIGHEST_PROTOCOL)
    with results:
        results.write(data)


def _die_with(parent: int) -> None:
    """Be killed when the parent dies, even by SIGKILL (a gunicorn worker past its graceful
    timeout), when no code of the parent's can stop the child; the CPU limit stays the
    backstop elsewhere. A parent already gone has left the child to another process."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _limit(timeout_s: float, memory_mb: int) -> None:
    """Lower the hard limits too: code running in the child can never raise them again."""
    memory = _capped(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # SIGXCPU at the soft limit, SIGKILL a second later at the hard one.
    cpu = _capped(resource.RLIMIT_CPU, math.ceil(timeout_s) + CPU_GRACE_S + 1)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu - 1, cpu))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no gigabyte core dumps


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
