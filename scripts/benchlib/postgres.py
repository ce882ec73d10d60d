"""The PostgreSQL bench database: is a server there, create it fresh, drop it afterwards."""

from __future__ import annotations

import re
import socket
from typing import Any


class PostgresUnavailable(Exception):
    """The PostgreSQL server refused the connection or the bench database."""


def prepare_postgres(url: str) -> tuple[str, str]:
    """(Re)create the bench database; return the app URL and the server version."""
    from psycopg import sql
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    name = parsed.database or ""
    if not re.fullmatch(r"bench[a-z0-9_]*", name):
        raise SystemExit(f"refusing to create and drop database {name!r}: its name must be bench*")
    with _pg_admin(parsed) as admin:
        version = admin.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return parsed.render_as_string(hide_password=False), f"PostgreSQL {version}"


def drop_postgres(url: str) -> None:
    from psycopg import sql
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    with _pg_admin(parsed) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(parsed.database or "")
            )
        )


def _pg_admin(parsed: Any) -> Any:
    """An autocommit connection to the server's ``postgres`` database (use it in ``with``)."""
    import psycopg

    try:
        return psycopg.connect(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            dbname="postgres",
            autocommit=True,
            connect_timeout=5,
        )
    except psycopg.Error as exc:
        raise PostgresUnavailable(str(exc).strip()) from exc


def postgres_answers(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False
