"""What the server logged (gunicorn's error log and the app's own log, both on the server's
stderr): exceptions by request and kind, and 'database is locked'."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchlib.common import ROOT


@dataclass
class LogFindings:
    exceptions: int = 0
    locked: int = 0
    kinds: Counter[str] = field(default_factory=Counter)  # "GET /path: error" -> count
    traces: dict[str, list[str]] = field(default_factory=dict)  # first one's frames in grants/


def scan_log(path: Path) -> LogFindings:
    """Count the exceptions the server logged, and those that say 'database is locked'."""
    findings = LogFindings()
    if not path.exists():
        return findings
    text = path.read_text(errors="replace")
    # A record starts a line with gunicorn's "[2026-12-08 01:28:01 +0000]" or the app's
    # "2026-12-08T01:28:01.147+00:00" (grants.logging_setup's text format).
    for block in re.split(r"(?m)^(?=\[\d{4}-\d\d-\d\d |\d{4}-\d\d-\d\dT)", text):
        if "Traceback" not in block and "WORKER TIMEOUT" not in block:
            continue
        flask = re.search(r"Exception on (\S+) \[(\w+)\]", block)
        # gunicorn logs a request again when the app's own 500 page failed as well.
        again = re.search(r"Error handling request (\w+) (\S+)", block)
        where = "(no request)"
        if flask:
            where = f"{flask.group(2)} " + re.sub(r"/\d+", "/<id>", flask.group(1))
        elif again:
            where = f"{again.group(1)} " + re.sub(r"/\d+", "/<id>", again.group(2))
            where += " (then the 500 page failed too; gunicorn answered)"
        if flask or not again:
            findings.exceptions += 1
        if "database is locked" in block:
            findings.locked += 1 if flask or not again else 0
            error = "database is locked"
        elif "WORKER TIMEOUT" in block:
            error = "WORKER TIMEOUT"
        else:
            errors = re.findall(r"(?m)^[\w.]+(?:Error|Exception)\b[^\n]*", block)
            error = errors[-1][:100] if errors else block.strip().splitlines()[-1][:100]
        kind = f"{where}: {error}"
        findings.kinds[kind] += 1
        if kind not in findings.traces:
            lines = block.splitlines()
            frames = [
                f"{line.strip()} | {lines[i + 1].strip() if i + 1 < len(lines) else ''}"
                for i, line in enumerate(lines)
                if line.strip().startswith('File "') and f"{ROOT}/grants/" in line
            ]
            findings.traces[kind] = frames
    return findings
