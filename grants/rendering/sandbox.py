"""Run one function in a fresh, limited Python process and get its result or a clear error.

A pathological document (a huge table, an image bomb) must not take the web worker or job
runner down with it, and no renderer outlives the call that started it: the child's process
group is killed when the call returns, times out or is interrupted, and the child (on Linux)
dies with its parent even when that is killed outright.

The child is a new interpreter (``python -m grants.rendering.child``), never a fork: the
parent may hold database connections and threads a forked copy would share or deadlock on.
It is not multiprocessing's "spawn" either, because spawn re-runs the parent's ``__main__``
in every child (the CLI's, gunicorn's, pytest's), before any limit and with its side
effects; an unguarded script even fails to start the child at all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
from typing import Any

from grants.rendering.errors import RenderFailed, RenderTimeout

LOGGER = logging.getLogger("grants.rendering")
CHILD = "grants.rendering.child"
CHILD_ENV = frozenset({"PATH", "HOME", "LANG", "TMPDIR", "TZ", "SYSTEMROOT"})
STDERR_KEPT = 4000  # characters of the child's stderr kept in RenderFailed.detail


def run_limited(target: str, job: Any, *, timeout_s: float, memory_mb: int) -> Any:
    """Call ``target`` ("package.module:function") on ``job`` in a limited child.

    The target is named, not passed, so the parent never imports it. Raises RenderTimeout
    after ``timeout_s`` (wall clock, including the child's start) and RenderFailed when the
    child raises, runs out of memory or dies.
    """
    if timeout_s <= 0 or memory_mb <= 0:
        raise ValueError("timeout_s and memory_mb must be positive")
    request = pickle.dumps((target, job, timeout_s, memory_mb, os.getpid()),
                           pickle.HIGHEST_PROTOCOL)
    # Only what rendering needs: never the app's secrets (SECRET_KEY, DATABASE_URL, ...).
    # The parent's import path, as multiprocessing would pass it; -P keeps the cwd out of it.
    env = {key: value for key, value in os.environ.items() if key in CHILD_ENV
           or key.startswith(("LC_", "FONTCONFIG", "XDG_"))}
    env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    command = [sys.executable, "-P", "-m", CHILD]
    # A fixed command running our own module: no shell, nothing from the document in it.
    # A session of its own: the child and anything it starts form one group to kill.
    with subprocess.Popen(  # noqa: S603
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        start_new_session=True,
    ) as child:
        try:
            out, err = child.communicate(request, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise RenderTimeout(
                f"rendering took longer than {timeout_s:g} s and was stopped"
            ) from None
        finally:
            # Also on any other exception: SystemExit from gunicorn's worker timeout, a
            # KeyboardInterrupt, a job being stopped. Popen's exit then reaps the child.
            _kill_group(child.pid)
    stderr = err.decode("utf-8", "replace")[-STDERR_KEPT:]
    try:
        outcome, payload, records = pickle.loads(out)  # noqa: S301 (our child, our format)
    except Exception:
        raise RenderFailed(_death(child.returncode, memory_mb), stderr) from None
    _forward(records)
    if stderr:
        LOGGER.debug("renderer stderr: %s", stderr)
    if outcome == "ok":
        return payload
    kind, text, detail = payload
    if kind == "MemoryError":
        text = f"ran out of memory (limit {memory_mb} MB)"
    raise RenderFailed(f"rendering failed ({memory_mb} MB memory limit): {kind}: {text}", detail)


def _kill_group(pid: int) -> None:
    """Kill the child's process group: the child, if still running, and whatever it started.

    Also once the child is reaped: its PID then names its leftover group or nothing, since
    Linux hands a PID out again only when no group holds it, after cycling through pid_max.
    """
    with contextlib.suppress(ProcessLookupError):  # every process of it has exited already
        os.killpg(pid, signal.SIGKILL)


def _death(returncode: int, memory_mb: int) -> str:
    if returncode < 0:
        name = signal.Signals(-returncode).name
        cause = "CPU time limit" if name == "SIGXCPU" else f"memory limit {memory_mb} MB?"
        return f"the renderer was killed by {name} ({cause})"
    return f"the renderer exited ({returncode}) without a result (memory limit {memory_mb} MB?)"


def _forward(records: list[tuple[str, int, str]]) -> None:
    """Re-log the child's warnings here, where the app's logging is configured."""
    for name, level, text in records:
        logging.getLogger(name).log(level, "%s", text)
