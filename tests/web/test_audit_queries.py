"""The auditor's search runs a fixed number of SQL queries, however many applications it finds
(10 against 100), with and without the criterion that looks inside the frozen snapshots, and
with the follow-up and asset criteria.
"""

from __future__ import annotations

import datetime as dt

from grants.domain.workflow import Role
from grants.models import AssetState, Operating
from tests.web.reviewflow import submit_application
from tests.web.test_audit_post_award import complete
from tests.web.test_audit_search import fund
from tests.web.test_review_queries import counted


def _queries(client, connection, query):
    with counted(connection) as statements:
        response = client.get("/audit/", query_string=query)
    assert response.status_code == 200, response.text[:2000]
    return len(statements), response.text.count('href="/audit/applications/')


def test_search_queries_do_not_grow_with_results(client, auth, session, make_user, connection):
    template = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    auditor = make_user(Role.AUDITOR)
    queries = [{}, {"lg_code": "012335", "min_yen": "1"},
               {"followup": "overdue", "restricted_assets": "y"}, {"followup": "stopped"}]
    counts, shown = [], []
    made = 0
    for size in (10, 90):  # 10, then 100 in all
        for n in range(made, made + size):
            funded = fund(session, template, officer, reference=f"AUD-{n:04d}",
                          amount=1_000_000 + n, partners=["012335"])
            complete(session, funded, officer.id, project_end=dt.date(2021, 3, 31),
                     followups=[Operating.STOPPED],
                     assets=[(dt.date(2030, 3, 31), AssetState.HELD)])
        made += size
        session.commit()
        auth.sign_in(auditor)
        measured = [_queries(client, connection, query) for query in queries]
        auth.sign_out()
        counts.append([count for count, _rows in measured])
        shown.append([rows for _count, rows in measured])
    assert shown == [[10] * 4, [50] * 4]  # a full page of results the second time
    assert counts[0] == counts[1], counts
