"""The app's log: one line per record on stderr, JSON in production, with the request's id.

Everything the package logs (``grants`` and below: the access log, refusals, jobs, the PDF
renderer) goes through one handler on the ``grants`` logger. A JSON line carries the time, the
level, the logger, the message, the request id inside a request, and any ``extra`` fields
(``status``, ``duration_ms``, ``account_id`` …), so a log collector can filter on them. The
standard library does it all: no logging dependency.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

from flask import g, has_app_context

LOGGER = "grants"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
NO_REQUEST = "-"
# What every LogRecord has: anything else on a record came as ``extra=`` and is logged as a field.
STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def configure(log_format: str) -> None:
    """Send the ``grants`` loggers' INFO and above to stderr as ``json`` or ``text`` lines.

    Called by every ``create_app``: the handler is replaced, never added twice. Records still
    propagate, so a handler someone put on the root logger (pytest's caplog) sees them too.
    """
    from flask.logging import default_handler

    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):
        if isinstance(handler, _StderrHandler) or handler is default_handler:
            logger.removeHandler(handler)
    handler = _StderrHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (as logging.lastResort does),
    so a replaced stderr (a test's capture, a daemon's redirection) is followed."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """StreamHandler sets it; the property above decides."""


class RequestIdFilter(logging.Filter):
    """Put the current request's id on each record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = (g.get("request_id") if has_app_context() else None) or NO_REQUEST
        return True


class TextFormatter(logging.Formatter):
    """Readable lines for development; times in UTC, as in the JSON lines."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _timestamp(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; non-ASCII kept as it is (Japanese messages stay readable)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((key, value) for key, value in record.__dict__.items()
                     if key not in STANDARD_ATTRIBUTES and not key.startswith("_"))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _timestamp(record: logging.LogRecord) -> str:
    return dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
