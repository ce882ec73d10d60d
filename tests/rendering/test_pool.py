"""RenderPool: warm children serve many renders each and keep every guarantee of the one-shot
sandbox (time, memory, environment, URL policy, death with the parent, no process left over);
a child that breached a limit or served its share is replaced; a fork gets a pool of its own."""

from __future__ import annotations

import os
import resource
import sys
import threading
from collections.abc import Iterator

import pytest

from grants import create_app
from grants.config import ConfigError, load_settings
from grants.rendering import RenderFailed, RenderTimeout, limits, render_pdf
from grants.rendering import pool as pool_module
from grants.rendering.pool import RenderPool, shared_pool, shutdown_shared_pool
from tests.rendering.helpers import (
    all_gone,
    my_children,
    needs_fontconfig,
    needs_proc,
    renderer_outlives_killed_parent,
    running,
)

TARGETS = "tests.rendering.targets"
CHEAP_WARM_UP = f"{TARGETS}:pid"  # the real one (weasy.warm_up) is tested through render_pdf
LIMITS = {"timeout_s": 20, "memory_mb": 512}
MB = 1024 * 1024


@pytest.fixture
def make_pool() -> Iterator[object]:
    """Pools of test targets with a cheap warm-up; all shut down after the test."""
    made: list[RenderPool] = []

    def make(size: int = 1, max_jobs: int = 50, memory_mb: int = 512) -> RenderPool:
        made.append(RenderPool(size, max_jobs=max_jobs, memory_mb=memory_mb,
                               warm_up=CHEAP_WARM_UP))
        return made[-1]

    yield make
    for pool in made:
        pool.shutdown()


@pytest.fixture
def own_shared_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A shared pool of one child for this test alone, with the settings restored after."""
    shutdown_shared_pool()
    saved = limits.pool_settings()
    limits.configure_pool(1, 50)
    yield
    shutdown_shared_pool()
    limits.configure_pool(*saved)


def run(pool: RenderPool, name: str, job: object = None, **given: float) -> object:
    return pool.run(f"{TARGETS}:{name}", job, **{**LIMITS, **given})


def test_one_child_serves_many_renders(make_pool):
    pool = make_pool(max_jobs=50)

    served_by = {run(pool, "pid") for _ in range(20)}

    assert len(served_by) == 1 and served_by != {os.getpid()}
    job = {"pdf": b"%PDF-" + bytes(range(256)) * 8192, "日本語": "審査"}  # 2 MiB each way
    assert run(pool, "echo", job) == job


@needs_proc
def test_a_child_is_replaced_after_its_share_of_renders(make_pool):
    pool = make_pool(max_jobs=3)

    pids = [run(pool, "pid") for _ in range(7)]

    assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4] == pids[5] != pids[6]
    assert all_gone([pids[0], pids[3]])


@needs_proc
def test_a_render_over_its_time_kills_the_child_and_the_next_render_works(make_pool):
    pool = make_pool()
    before = run(pool, "pid")

    with pytest.raises(RenderTimeout, match=r"longer than 0\.5 s"):
        run(pool, "sleep", 30, timeout_s=0.5)

    assert all_gone([before])
    after = run(pool, "pid")
    assert after != before and running(after)


@needs_proc
def test_a_memory_bomb_is_refused_and_the_pool_recovers(make_pool):
    pool = make_pool(memory_mb=512)
    before = run(pool, "pid")

    with pytest.raises(RenderFailed, match=r"ran out of memory \(limit 300 MB\)"):
        run(pool, "bomb", 400, memory_mb=300)

    assert all_gone([before])
    assert run(pool, "bomb", 10) == 10 * MB
    assert run(pool, "pid") != before


def test_each_render_gets_its_own_limits_under_the_childs_ceiling(make_pool):
    pool = make_pool(memory_mb=512)

    lower = run(pool, "state", timeout_s=12.5, memory_mb=300)
    full = run(pool, "state", timeout_s=12.5, memory_mb=512)

    assert lower["as"] == (300 * MB, 512 * MB)  # a render can never go above the ceiling
    assert full["as"] == (512 * MB, 512 * MB)
    soft, hard = lower["cpu"]
    assert 13 + 5 <= soft < 13 + 5 + 10  # from the CPU seconds the child used before
    assert hard == resource.RLIM_INFINITY or soft < hard
    assert lower["core"] == (0, 0)
    with pytest.raises(ValueError, match="ceiling"):
        run(pool, "pid", memory_mb=513)


def test_failures_come_back_as_from_a_fresh_child_and_the_child_is_replaced(make_pool, caplog):
    pool = make_pool()
    first = run(pool, "pid")

    with pytest.raises(RenderFailed, match="LookupError: no such record: R8-0042"):
        run(pool, "fail", "R8-0042")
    with pytest.raises(RenderFailed, match="killed by SIGKILL"):
        run(pool, "die")
    with pytest.raises(RenderFailed, match="unsendable result"):
        run(pool, "unsendable")
    assert run(pool, "warn", "画像を読めません") == "画像を読めません"

    assert [r.getMessage() for r in caplog.records if r.name == "weasyprint"] == [
        "from the child: 画像を読めません"]  # this render's warnings only, forwarded once
    assert run(pool, "pid") != first


def test_the_warm_child_never_sees_the_apps_secrets(make_pool, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:pw@db/grants")
    monkeypatch.setenv("LANG", "C.UTF-8")

    environment = run(make_pool(), "environment")

    assert "SECRET_KEY" not in environment and "DATABASE_URL" not in environment
    assert environment["LANG"] == "C.UTF-8" and "PATH" in environment


@needs_proc
def test_a_child_killed_while_idle_is_replaced_on_the_next_render(make_pool):
    pool = make_pool()
    before = run(pool, "pid")
    os.kill(before, 9)
    assert all_gone([before])

    assert run(pool, "pid") != before


def test_threads_share_the_pool_without_exceeding_its_size(make_pool):
    pool = make_pool(size=2)
    results: list[object] = []
    errors: list[BaseException] = []

    def render() -> None:
        try:
            for n in range(5):
                results.append((run(pool, "echo", n), run(pool, "pid")))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=render) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(echoed for echoed, _ in results) == sorted(list(range(5)) * 4)
    assert 1 <= len({pid for _, pid in results}) <= 2


@needs_proc
def test_a_child_outlives_the_thread_that_started_it(make_pool):
    """Linux's PR_SET_PDEATHSIG fires when the starting *thread* ends: children are started
    from the pool's own thread, so a request thread ending kills nothing."""
    pool = make_pool()
    served: list[object] = []
    thread = threading.Thread(target=lambda: served.append(run(pool, "pid")))
    thread.start()
    thread.join()

    assert run(pool, "pid") == served[0] and running(served[0])


@needs_proc
def test_shutdown_leaves_no_process_and_no_zombie(make_pool):
    before = my_children()
    pool = make_pool(size=2)
    barrier = threading.Barrier(2)

    def render() -> None:
        barrier.wait()
        run(pool, "sleep", 0.5)

    threads = [threading.Thread(target=render) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pids = [child.pid for child in pool.children]
    assert len(pids) == 2

    pool.shutdown()

    assert all_gone(pids)
    assert my_children() == before
    with pytest.raises(RenderFailed, match="shut down"):
        run(pool, "pid")


@needs_proc
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_warm_child_dies_with_a_parent_killed_outright(tmp_path):
    note = tmp_path / "pids"
    code = ("from grants.rendering.pool import RenderPool\n"
            f"pool = RenderPool(1, max_jobs=5, warm_up={CHEAP_WARM_UP!r})\n"
            f"pool.run('{TARGETS}:spawn_and_sleep', {str(note)!r}, timeout_s=60, memory_mb=512)\n")
    assert not renderer_outlives_killed_parent(code, note)


# --- the shared pool: render_pdf, settings, fork ------------------------------------------------


@needs_fontconfig
def test_render_pdf_uses_a_warm_child_and_the_url_policy_holds_in_it(
        static_dir, http_server, own_shared_pool):
    html = f"""<html lang="ja"><body><p class="from-static">審査</p>
      <link rel="stylesheet" href="grants-pdf.css">
      <img src="file:///etc/passwd"><img src="../secret.txt">
      <img src="{http_server.url}/image.png"></body></html>"""

    results = [render_pdf(html, static_dir=static_dir) for _ in range(3)]

    pool = shared_pool()
    assert pool is not None
    [child] = pool.children
    assert child.jobs == 3  # all three in one warm child
    secret = (static_dir.parent / "secret.txt").as_uri()
    for result in results:
        assert set(result.refused_urls) == {
            "file:///etc/passwd", secret, f"{http_server.url}/image.png"}
    assert http_server.requests == []


@needs_fontconfig
def test_render_pdf_with_a_pool_of_0_starts_a_fresh_child_each_time(
        static_dir, own_shared_pool, monkeypatch):
    limits.configure_pool(0, 50)
    calls: list[str] = []
    real = pool_module.RenderPool.run
    monkeypatch.setattr(pool_module.RenderPool, "run",
                        lambda *args, **kwargs: calls.append("pool") or real(*args, **kwargs))

    result = render_pdf('<html lang="ja"><p>審査</p></html>', static_dir=static_dir)

    assert result.pdf.startswith(b"%PDF") and calls == [] and shared_pool() is None


def test_the_apps_settings_configure_the_pool(tmp_path, own_shared_pool):
    base = {"INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "x" * 32, "TESTING": True}

    create_app({**base, "RENDERER_POOL": 3, "RENDERER_MAX_JOBS": 7})
    assert limits.pool_settings() == (3, 7)
    create_app(base)
    assert limits.pool_settings() == (2, 50)  # the defaults
    environ = {"GRANTS_RENDERER_POOL": "0", "GRANTS_RENDERER_MAX_JOBS": "１"}  # full-width 1
    assert load_settings(base, environ=environ)["RENDERER_POOL"] == 0
    for bad, message in [({"GRANTS_RENDERER_POOL": "-1"}, "RENDERER_POOL"),
                         ({"GRANTS_RENDERER_MAX_JOBS": "0"}, "RENDERER_MAX_JOBS"),
                         ({"GRANTS_RENDERER_POOL": "two"}, "RENDERER_POOL")]:
        with pytest.raises(ConfigError, match=message):
            load_settings(base, environ=bad)


@needs_proc
def test_a_forked_process_starts_a_pool_of_its_own(own_shared_pool, monkeypatch):
    monkeypatch.setattr(pool_module, "WARM_UP", CHEAP_WARM_UP)
    parent_pool = shared_pool()
    assert parent_pool is not None
    mine = parent_pool.run(f"{TARGETS}:pid", None, **LIMITS)
    reader, writer = os.pipe()

    forked = os.fork()
    if forked == 0:  # the forked process: report what its pool used, then leave at once
        code = 1
        try:
            pool = shared_pool()
            theirs = pool.run(f"{TARGETS}:pid", None, **LIMITS) if pool else 0
            os.write(writer, f"{theirs} {pool is not parent_pool}".encode())
            shutdown_shared_pool()
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader) as answer:
        theirs, fresh = answer.read().split()
    _, status = os.waitpid(forked, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert fresh == "True" and int(theirs) not in (0, mine)
    assert all_gone([int(theirs)])  # the fork shut its own pool down
    assert running(mine) and parent_pool.run(f"{TARGETS}:pid", None, **LIMITS) == mine
