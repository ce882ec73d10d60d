"""SQLite under concurrency: writes wait for each other instead of failing "database is locked"."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import db


@pytest.fixture
def engine(tmp_path):
    engine = db.create_engine(f"sqlite:///{tmp_path / 'lock.sqlite'}", busy_timeout_ms=5000)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    yield engine
    engine.dispose()


def _write_elsewhere(engine: sa.Engine, body: str) -> None:
    with db.writing(), engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO notes (body) VALUES (?)", (body,))


def test_sqlite_engine_uses_wal_and_busy_timeout(engine):
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_read_then_write_without_begin_write_fails_at_once(engine):
    """Why begin_write exists: a stale read transaction cannot become a write, timeout or not."""
    token = db.write_intent.set(False)
    try:
        with Session(engine) as session:
            session.execute(sa.text("SELECT count(*) FROM notes")).scalar()
            _write_elsewhere(engine, "other")
            with pytest.raises(sa.exc.OperationalError, match="locked"):
                session.execute(sa.text("INSERT INTO notes (body) VALUES ('mine')"))
    finally:
        db.write_intent.reset(token)


def test_read_then_begin_write_succeeds_after_another_commit(engine):
    token = db.write_intent.set(False)
    try:
        with Session(engine) as session:
            session.execute(sa.text("SELECT count(*) FROM notes")).scalar()
            _write_elsewhere(engine, "other")
            db.begin_write(session)
            session.execute(sa.text("INSERT INTO notes (body) VALUES ('mine')"))
            session.commit()
    finally:
        db.write_intent.reset(token)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM notes").scalar() == 2


def test_concurrent_write_transactions_queue_instead_of_failing(engine):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(20):
                with db.writing(), Session(engine) as session:
                    count = session.execute(sa.text("SELECT count(*) FROM notes")).scalar()
                    session.execute(
                        sa.text("INSERT INTO notes (body) VALUES (:b)"), {"b": f"{n}-{i}-{count}"}
                    )
                    session.commit()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM notes").scalar() == 80
