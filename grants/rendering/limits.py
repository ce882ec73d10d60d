"""How long one render may take, and how many warm renderers a process keeps.

Time: briefly inside a web request, longer in the background.

A web request has to answer before the WSGI server gives up on its worker (gunicorn
``--timeout 90``, docs/deployment.md). A render started inside ``within_request()`` is stopped after
REQUEST_RENDER_SECONDS, well below that, so that the view can still queue the same document
as a background job and say so; the job, the CLI and batches get BACKGROUND_RENDER_SECONDS.
A context variable rather than an argument, so that the documents (packet.py, record.py) need
not pass a limit through every call; threads and RQ workers start outside it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

REQUEST_RENDER_SECONDS = 20.0  # inside a web request: well below gunicorn's --timeout 90
BACKGROUND_RENDER_SECONDS = 60.0  # background jobs, batches and the CLI

POOL_SIZE = 2  # warm renderers per process, at most
POOL_MAX_JOBS = 50  # renders per warm renderer before a fresh one replaces it
_pool = (POOL_SIZE, POOL_MAX_JOBS)

_in_request: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "render_within_request", default=False
)


@contextmanager
def within_request() -> Iterator[None]:
    """Give renders started inside REQUEST_RENDER_SECONDS; RenderTimeout means 'queue it'."""
    token = _in_request.set(True)
    try:
        yield
    finally:
        _in_request.reset(token)


def render_seconds() -> float:
    """The time limit of a render started here and now."""
    return REQUEST_RENDER_SECONDS if _in_request.get() else BACKGROUND_RENDER_SECONDS


def configure_pool(size: int, max_jobs: int) -> None:
    """Set this process's pool size (0: a fresh child per render) and renders per child."""
    global _pool
    if size < 0 or max_jobs < 1:
        raise ValueError("the renderer pool needs size >= 0 and max_jobs >= 1")
    _pool = (size, max_jobs)


def pool_settings() -> tuple[int, int]:
    """(size, max_jobs) as configure_pool last set them."""
    return _pool
