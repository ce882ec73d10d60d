"""One request in-process under cProfile: where its time goes, and its SQL statements by table.

Run as a child process (``python -m benchlib.probe URL``, with the backend's environment), so the
app is configured exactly as under gunicorn and nothing of it leaks into the benchmark's
process. Signs in through the form (CSRF on), warms the URL once (templates, parsed definitions),
then runs one request under cProfile with a ``before_cursor_execute`` listener on the app's
engine. The password comes on stdin. Prints JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from typing import Any

from benchlib.client import csrf_token


def probe(email: str, password: str, url: str, top: int) -> dict[str, Any]:
    import sqlalchemy as sa

    from grants import create_app

    app = create_app()
    client = app.test_client()
    page = client.get("/sign-in")
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "email": email}
    signed = client.post("/sign-in", data={**form, "password": password})
    if signed.status_code != 302:
        raise SystemExit(f"probe: sign-in answered {signed.status_code}")
    client.get(url)  # warm: templates compiled, definitions parsed
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = app.extensions["grants.engine"]
    sa.event.listen(engine, "before_cursor_execute", count)
    profiler = cProfile.Profile()
    began = time.perf_counter()
    response = profiler.runcall(client.get, url)
    elapsed = (time.perf_counter() - began) * 1000
    sa.event.remove(engine, "before_cursor_execute", count)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"grants/|templates/", top)  # the app's
    stats.sort_stats("tottime").print_stats(top)  # and the primitives the time ends in
    return {
        "url": url,
        "status": response.status_code,
        "ms": round(elapsed),
        "statements": len(statements),
        "kinds": _kinds(statements),
        "text": trim_profile(out.getvalue()),
    }


def _kinds(statements: list[str]) -> dict[str, int]:
    """Statements by their first words and table, e.g. 'SELECT reviews': 1."""
    kinds: dict[str, int] = {}
    for text in statements:
        words = text.split()
        verb = words[0].upper() if words else "?"
        table = next(
            (words[i + 1] for i, w in enumerate(words[:-1]) if w.upper() == "FROM"), ""
        ).strip('"')
        key = f"{verb} {table}".strip()
        kinds[key] = kinds.get(key, 0) + 1
    return kinds


def trim_profile(text: str) -> str:
    """Shorten the profile's paths: project-relative, and the standard library's left out."""
    import sysconfig

    from benchlib.common import ROOT

    return text.replace(f"{ROOT}/", "").replace(sysconfig.get_paths()["stdlib"] + "/", "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--email", required=True)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("url")
    args = parser.parse_args()
    password = sys.stdin.readline().strip()  # not on the command line
    print(json.dumps(probe(args.email, password, args.url, args.top)))


if __name__ == "__main__":
    main()
