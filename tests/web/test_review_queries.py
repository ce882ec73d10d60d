"""The ranking page, the exports and the reviewer's queue run a fixed number of SQL queries,
however many applications a call has (10 against 200).
"""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

from grants.domain.workflow import Role
from grants.services.reviewing import rubric_version_for
from tests.web.reviewflow import KEY, clone_in_review, review_all, rubric_for, submit_application


@contextlib.contextmanager
def counted(connection):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = connection.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def _queries(client, connection, url):
    with counted(connection) as statements:
        response = client.get(url)
    assert response.status_code == 200, response.text[:2000]
    return len(statements)


def test_ranking_queue_and_exports_do_not_grow_with_applications(
        client, auth, session, make_user, connection):
    template = submit_application(client, auth, session, make_user)
    reviewers = [make_user(Role.REVIEWER) for _ in range(2)]
    officer = make_user(Role.OFFICER)
    rubric = rubric_for(session, template)
    version_id = rubric_version_for(session, template).id
    urls = [f"/manage/calls/{KEY}/ranking", f"/manage/calls/{KEY}/ranking.csv",
            f"/manage/calls/{KEY}/calibration", "/review/"]
    counts = []
    for size in (10, 590):  # 10, then 600 in all: past the 500 ids of one IN batch
        review_all(session, clone_in_review(session, template, size), reviewers, version_id,
                   rubric)
        measured = {}
        auth.sign_in(officer)
        for url in urls[:3]:
            measured[url] = _queries(client, connection, url)
        auth.sign_out()
        auth.sign_in(reviewers[0])
        measured["/review/"] = _queries(client, connection, "/review/")
        auth.sign_out()
        counts.append(measured)
    assert counts[0] == counts[1], counts
