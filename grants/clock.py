"""The current time, in one place so tests and benchmarks can pin it."""

import datetime as dt


def now() -> dt.datetime:
    """Return the current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)
