"""Settings shared by several parts of the benchmark, and its progress log."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
PROGRAM_KEY = "ict-kizuna-2010"
# Inside the demo call window (Japan time 2026-11-20 10:00), as in tests/conftest.py.
FIXED_NOW = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
REQUEST_TIMEOUT = 30.0  # seconds, per request
CEILING_SECONDS = 8.0
PARTNER_CODES = ("012131", "072133")
KEPT_OK = "kept answers shown again"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
