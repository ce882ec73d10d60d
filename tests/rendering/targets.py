"""Functions the sandbox tests run in the child by name (``tests.rendering.targets:...``).

Test-only targets, so production code needs no test hooks."""

from __future__ import annotations

import logging
import os
import resource
import signal
import subprocess
import sys
import time
from typing import Any


def echo(job: Any) -> Any:
    print("chatter on stdout must not corrupt the result")
    os.write(1, b"and neither must a C library writing to fd 1\n")
    return job


def fail(job: Any) -> None:
    raise LookupError(f"no such record: {job}")


def die(job: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def sleep(job: float) -> None:
    time.sleep(job)


def warn(job: str) -> str:
    logging.getLogger("weasyprint").error("from the child: %s", job)
    return job


def state(job: Any) -> dict[str, Any]:
    """What the child looks like when the target runs."""
    return {
        "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
        "as": resource.getrlimit(resource.RLIMIT_AS),
        "cpu": resource.getrlimit(resource.RLIMIT_CPU),
        "core": resource.getrlimit(resource.RLIMIT_CORE),
        "modules": sorted(name for name in sys.modules if name.split(".")[0] == "weasyprint"),
        "main": getattr(sys.modules["__main__"], "__file__", None),
    }


def unsendable(job: Any) -> Any:
    return lambda: job


def environment(job: Any) -> dict[str, str]:
    """The child's environment variables."""
    return dict(os.environ)


def spawn_and_sleep(job: str) -> None:
    """Start a process of its own, note both PIDs in the file ``job``, then hang."""
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    partial = f"{job}.part"
    with open(partial, "w", encoding="utf-8") as note:
        note.write(f"{os.getpid()} {helper.pid}")
    os.replace(partial, job)
    time.sleep(120)


def pid(job: Any) -> int:
    """Which child ran the job (also a cheap warm-up for the pool tests)."""
    return os.getpid()


def bomb(job: int) -> int:
    """Ask for ``job`` MiB at once: refused under the child's memory limit."""
    return len(bytearray(job * 1024 * 1024))
