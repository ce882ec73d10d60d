"""``wsgi:app`` with the number of SQL statements each request issued, in a response header.

The ranking scenario serves this instead of ``wsgi:app`` so that every timed request reports its
statement count at no extra cost: a ``before_cursor_execute`` listener on the app's engine counts
per thread (a gthread worker serves several requests at once), and a WSGI wrapper resets the
count and adds the header. The app itself is untouched.

    gunicorn --pythonpath scripts 'benchlib.sqlcount:counted_app()'
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

HEADER = "X-Bench-SQL-Statements"


def counted_app() -> Any:
    import sqlalchemy as sa

    from wsgi import app

    seen = threading.local()

    def count(*_args: Any) -> None:
        seen.count = getattr(seen, "count", 0) + 1

    sa.event.listen(app.extensions["grants.engine"], "before_cursor_execute", count)
    inner = app.wsgi_app

    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.count = 0

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, (HEADER, str(seen.count))], exc_info)

        return inner(environ, start)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
    return app
