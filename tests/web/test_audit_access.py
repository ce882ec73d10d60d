"""Who may reach the auditor's pages, and what auditors may not do anywhere.

Auditors read: every route that writes (POST/PUT/PATCH/DELETE) refuses them, whatever ids
they try, except the batch requests (a new one, or a failed or expired one run again: each
queues a ZIP and changes no record) and the account's own session routes (sign in/out,
language, the public eligibility check). Applicants, reviewers and admins cannot reach /audit/
at all; officers can (they answer the Board of Audit's requests for documents).
"""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.routing import AnyConverter, IntegerConverter

from grants.domain.workflow import Role
from grants.models import (
    Application,
    Assignment,
    AuditEvent,
    BatchJob,
    Decision,
    Review,
    Submission,
    User,
)
from grants.services import batches
from grants.services.auditing import Criteria
from tests.conftest import NOW
from tests.web.reviewflow import KEY, submit_application
from tests.web.test_audit_search import fund

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ALLOWED_TO_AUDITORS = {"audit.request_batch", "audit.rerun_batch"}
# Routes open to anyone, or to anyone signed in, that only touch the visitor's own session.
# A new one must be looked at (and added here) rather than silently let through.
SELF_SERVICE = {"auth.sign_in", "auth.sign_up", "auth.sign_out", "auth.set_language",
                "auth.resend_verification", "account.change_password",
                "account.sign_out_everywhere", "account.forgot_password", "account.reset_password",
                "account.accept_invitation", "calls.check_eligibility"}
TABLES = (Application, Submission, Decision, Assignment, Review, AuditEvent, BatchJob, User)


def _values(rule, real: dict[str, object]) -> dict[str, object]:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, IntegerConverter):
            values[name] = real.get(name, 987654)
        else:
            values[name] = real.get(name, "made-up")
    return values


def _counts(session):
    return {table.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in TABLES}


def test_auditor_is_refused_every_write_route_but_the_batch_request(
        app, client, auth, session, make_user):
    application = submit_application(client, auth, session, make_user)
    funded = fund(session, application, make_user(Role.OFFICER), reference="AUD-W",
                  amount=1_000_000)
    session.commit()
    auditor = make_user(Role.AUDITOR)
    auth.sign_in(auditor)
    before = _counts(session)
    adapter = app.url_map.bind("localhost")
    open_routes, refused = set(), []
    for rule in app.url_map.iter_rules():
        methods = rule.methods & WRITES
        if not methods or rule.endpoint in ALLOWED_TO_AUDITORS:
            continue
        if getattr(app.view_functions[rule.endpoint], "access", ()) in (("public",),
                                                                       ("signed_in",)):
            open_routes.add(rule.endpoint)
            continue
        for real in ({}, {"application_id": funded.id, "program_key": KEY}):
            url = adapter.build(rule.endpoint, _values(rule, real))
            for method in methods:
                response = client.open(url, method=method, data={"x": "1"})
                assert response.status_code in (403, 404, 405), (method, url)
                refused.append((method, url))
    assert open_routes == SELF_SERVICE
    assert len(refused) >= 2 * 15  # every write route of the app, twice
    session.expire_all()
    assert _counts(session) == before


def test_applicants_reviewers_and_admins_cannot_reach_audit_pages(
        app, client, auth, session, make_user):
    application = submit_application(client, auth, session, make_user)
    funded = fund(session, application, make_user(Role.OFFICER), reference="AUD-X",
                  amount=1_000_000)
    session.commit()
    batch = batches.request_batch(session, Criteria(), actor=make_user(Role.AUDITOR), now=NOW)
    session.commit()
    adapter = app.url_map.bind("localhost")
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.")]
    assert len(rules) == 10
    real = {"application_id": funded.id, "batch_id": batch.id}
    for user in (application.created_by, make_user(Role.REVIEWER), make_user(Role.ADMIN)):
        auth.sign_in(user)
        for rule in rules:
            url = adapter.build(rule.endpoint, _values(rule, real))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert client.open(url, method=method).status_code == 403, (user.role, url)
        auth.sign_out()
    for rule in rules:  # anonymous visitors are sent to sign in
        url = adapter.build(rule.endpoint, _values(rule, real))
        response = client.open(url, method=sorted(rule.methods - {"HEAD", "OPTIONS"})[0])
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_officer_may_search_and_auditor_sees_the_nav_link(client, auth, session, make_user):
    application = submit_application(client, auth, session, make_user)
    fund(session, application, make_user(Role.OFFICER), reference="AUD-Y", amount=1_000_000)
    session.commit()
    auth.sign_in(make_user(Role.OFFICER))
    assert "AUD-Y" in client.get("/audit/").text
    auth.sign_out()
    auth.sign_in(make_user(Role.AUDITOR))
    home = client.get("/")
    assert 'href="/audit/"' in home.text
    assert 'href="/manage/"' not in home.text and 'href="/applications"' not in home.text


def test_only_funded_applications_open(client, auth, session, make_user):
    application = submit_application(client, auth, session, make_user)
    auth.sign_in(make_user(Role.AUDITOR))
    for url in (f"/audit/applications/{application.id}",
                f"/audit/applications/{application.id}/record.pdf",
                "/audit/applications/987654", "/audit/applications/987654/record.pdf"):
        assert client.get(url).status_code == 404, url
