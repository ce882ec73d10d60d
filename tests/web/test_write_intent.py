"""A request's write intent is set before any hook reads the database.

grants.web.limits reads the application of a step save before the view runs, to size the
body limit. If the intent were still the last request's (a GET: no write), that read would
begin SQLite's transaction without the write lock, and the save's UPDATE would fail on
"database is locked" whenever another writer was busy (the deadline-day benchmark saw it).
"""

from __future__ import annotations

from grants import db
from grants.web import limits


def test_a_save_after_a_get_reads_with_the_write_intent_already_set(
        client, auth, draft, monkeypatch):
    applicant, application = draft
    auth.sign_in(applicant)
    seen = []
    checked = limits._step_takes_files

    def recording() -> bool:
        seen.append(db.write_intent.get())
        return checked()

    monkeypatch.setattr(limits, "_step_takes_files", recording)
    assert client.get(f"/applications/{application.id}/steps/overview").status_code == 200
    assert db.write_intent.get() is False  # the GET's intent stays in this thread
    client.post(f"/applications/{application.id}/steps/overview", data={})
    assert seen == [True]
