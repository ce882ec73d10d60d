"""run_limited: a fresh interpreter with its limits set before the target's module loads;
results, failures, deaths and timeouts each come back as something the caller can report."""

from __future__ import annotations

import logging
import os
import resource
import signal
import sys
import time

import pytest

from grants.rendering import RenderFailed, RenderTimeout
from grants.rendering.sandbox import run_limited
from tests.rendering.helpers import (
    all_gone,
    my_children,
    needs_proc,
    noted_pids,
    renderer_outlives_killed_parent,
)

TARGETS = "tests.rendering.targets"
LIMITS = {"timeout_s": 20, "memory_mb": 512}


def run(name: str, job: object = None, **limits: float) -> object:
    return run_limited(f"{TARGETS}:{name}", job, **{**LIMITS, **limits})


def test_the_result_comes_back_even_when_the_child_prints():
    job = {"pdf": b"%PDF-" + bytes(range(256)) * 4096, "日本語": "審査"}

    assert run("echo", job) == job


def test_limits_are_set_before_the_target_module_and_weasyprint_load(tmp_path):
    with open(tmp_path / "held.db", "w") as held:
        inheritable = os.dup2(held.fileno(), 200)  # as a database socket would be
        try:
            state = run("state", timeout_s=12.5, memory_mb=300)
        finally:
            os.close(inheritable)

    assert state["as"] == (300 * 1024 * 1024,) * 2
    soft, hard = state["cpu"]
    assert (soft, hard) == (13 + 5, 13 + 6)
    assert state["core"] == (0, 0)
    assert state["modules"] == []  # grants.rendering.child does not load WeasyPrint itself
    assert 200 not in state["fds"]
    assert state["main"].endswith("grants/rendering/child.py")  # not the parent's __main__


def test_the_parent_keeps_its_own_limits():
    before = resource.getrlimit(resource.RLIMIT_AS)
    run("state", memory_mb=300)
    assert resource.getrlimit(resource.RLIMIT_AS) == before


def test_an_exception_in_the_child_fails_with_its_type_message_and_traceback():
    with pytest.raises(RenderFailed, match="LookupError: no such record: R8-0042") as failure:
        run("fail", "R8-0042")

    assert "Traceback" in failure.value.detail and "targets.py" in failure.value.detail


def test_a_child_that_dies_fails_with_the_signal():
    with pytest.raises(RenderFailed, match="killed by SIGKILL"):
        run("die")


def test_a_child_over_its_time_is_killed():
    started = time.monotonic()

    with pytest.raises(RenderTimeout, match=r"longer than 0\.5 s"):
        run("sleep", 30, timeout_s=0.5)

    assert time.monotonic() - started < 5


def test_the_childs_warnings_are_logged_in_the_parent(caplog):
    with caplog.at_level(logging.WARNING):
        run("warn", "画像を読めません")

    [record] = [r for r in caplog.records if r.name == "weasyprint"]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "from the child: 画像を読めません"


def test_a_result_that_cannot_be_sent_fails_clearly():
    with pytest.raises(RenderFailed, match="unsendable result"):
        run("unsendable")


def test_an_unknown_target_fails_clearly():
    with pytest.raises(RenderFailed, match="AttributeError"):
        run("no_such_function")



def test_the_child_never_sees_the_apps_secrets(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:pw@db/grants")
    monkeypatch.setenv("LANG", "C.UTF-8")

    environment = run("environment")

    assert "SECRET_KEY" not in environment and "DATABASE_URL" not in environment
    assert environment["LANG"] == "C.UTF-8" and "PATH" in environment


# --- no renderer outlives its call --------------------------------------------------------------


class Interrupted(Exception):
    """What a worker's stop signal raises in the middle of a render (gunicorn: SystemExit)."""


@needs_proc
def test_a_render_past_its_time_leaves_no_process_behind(tmp_path):
    note = tmp_path / "pids"
    before = my_children()
    started = time.monotonic()

    with pytest.raises(RenderTimeout):
        run("spawn_and_sleep", str(note), timeout_s=5)

    assert time.monotonic() - started < 30  # not held up by the process it started
    pids = noted_pids(note)
    assert len(pids) == 2
    assert all_gone(pids)  # the renderer and the process it started
    assert my_children() == before  # reaped, not left as a zombie


@needs_proc
def test_a_render_interrupted_by_the_worker_stopping_leaves_no_process_behind(tmp_path):
    note = tmp_path / "pids"

    def stop(_signum: int, _frame: object) -> None:
        if note.exists():
            raise Interrupted
        signal.setitimer(signal.ITIMER_REAL, 0.1)  # not started yet: look again soon

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    started = time.monotonic()
    try:
        with pytest.raises(Interrupted):
            run("spawn_and_sleep", str(note), timeout_s=60)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    assert time.monotonic() - started < 30  # stopped at once, not waited out
    assert all_gone(noted_pids(note))


@needs_proc
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_renderer_dies_with_a_parent_killed_outright(tmp_path):
    note = tmp_path / "pids"
    code = ("from grants.rendering.sandbox import run_limited\n"
            f"run_limited('{TARGETS}:spawn_and_sleep', {str(note)!r}, timeout_s=60,"
            " memory_mb=512)\n")
    assert not renderer_outlives_killed_parent(code, note)
