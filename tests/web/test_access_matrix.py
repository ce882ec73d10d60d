"""The role × route matrix: every route, asked by every kind of visitor, with real ids of
札幌市's records and with made-up ones.

札幌市 is a verified organization with an active member (its administrator), a submitted
application with attachments (accepted, reviewed by someone else), a funded copy, an auditor's
failed batch (which only that auditor may run again) and a draft. The visitors: nobody signed
in; a stranger who signed up with 札幌市's public code 011002 and proved the address
(membership requested); a refused and a removed member; a member whose address is unproved and
a reviewer who never accepted the invitation (neither can sign in); an active applicant of
千代田区; and the four staff roles.

Each visitor may get a 2xx only on the routes listed for it here; nobody ever gets a 5xx;
outsiders get 403, 404 or "sign in" on every route that is not public or self-service, never
see 札幌市's references, and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.routing import AnyConverter, IntegerConverter

from grants import jobs
from grants.documents.packet import Packet
from grants.domain.workflow import Role
from grants.models import (
    Application,
    Assignment,
    Attachment,
    AuditEvent,
    BatchJob,
    ConsensusReport,
    ConsensusResponse,
    Decision,
    MembershipState,
    Organization,
    OutboxMessage,
    Program,
    RedressRequest,
    Review,
    Submission,
    User,
)
from grants.services import apply, assign, batches, grant_decisions, screening
from grants.services.audit import AuditTag
from grants.services.auditing import Criteria
from grants.services.reviewing import rubric_version_for
from grants.web import grant, packets
from grants.web.auth import error_message
from tests.conftest import NOW, PASSWORD
from tests.web import accounts_helpers
from tests.web.reviewflow import KEY, review_all, rubric_for, submit_application
from tests.web.test_audit_search import fund

MADE_UP_ID = 987654
STUB_PDF = b"%PDF-1.7\n% stand-in\n%%EOF\n"
HARMLESS = {"x": "1"}
ENDS_SESSION = ("auth.sign_out", "account.sign_out_everywhere")
OTHER_LG_CODE = "131016"  # 千代田区
TABLES = (Application, Submission, Attachment, Assignment, Review, Decision, BatchJob,
          AuditEvent, User, Organization, OutboxMessage, ConsensusReport, ConsensusResponse,
          RedressRequest)
# What each role's pages are, besides the public and self-service ones everyone may open.
APPLICANT_PAGES = frozenset({"apply.dashboard", "organization.show"})
REVIEWER_PAGES = frozenset({"review.queue", "review.interests"})
READER_PAGES = frozenset({  # APPLICATION_READ_ANY, CALL_READ, ORGANIZATION_VERIFY
    "apply.dashboard", "apply.show", "files.download_attachment", "manage.list_calls",
    "manage.show_call", "manage.show_ranking", "manage.export_csv", "manage.export_xlsx",
    "manage.calibration", "manage.outbox", "manage_application.show", "packets.officer_packet",
    "packets.officer_packet_job", "packets.officer_packet_file",
    "organization.verification_queue", "organization.verify",
    "organization.refuse_verification", "redress.manage", "summary.download"})
# The funded copy's grant decision (accepted: plan version 1), its letter and the plan history
# are read by the grantee's members, the program office and auditors.
GRANT_READS = frozenset({"grant.show", "grant.letter", "grant.plan"})
READER_PAGES |= GRANT_READS
# The funded copy's completion report page (none filed yet): the program office's and the
# auditors'. Its grantee reads and files it on a page of its own (report.show, report.save),
# and the final amount, its letter and the evidence files answer only once there are some.
REPORT_READS = frozenset({"report.manage"})
READER_PAGES |= REPORT_READS
# The program office's list of overdue follow-up reports, across calls (CALL_READ).
READER_PAGES |= {"followups.overdue"}
# The asset register and the follow-up reports exist once the final amount is fixed: the funded
# copy is not that far (404 for everyone), so these are allowed, never reached, here. The
# grantee's POSTs on the register (a disposal's request, record and withdrawal) answer a
# redirect at best: nobody here may get a 2xx from them. Their own tests (tests/web/
# test_assets.py) try them with another organization and the other roles.
COMPLETED_READS = frozenset({"assets.manage_register", "assets.manage_asset",
                             "followups.manage"})
COMPLETED_AUDIT = frozenset({"assets.audit_register", "followups.audit_show"})
ADMIN_PAGES = frozenset({"admin_users.list_users", "admin_users.show_user"})  # ACCOUNT_MANAGE
# What must answer 2xx with these records (the rest needs a job or a request of one's own).
SIGNED_IN_PAGE = frozenset({"account.show"})
READER_REACHES = READER_PAGES - {"packets.officer_packet_job", "packets.officer_packet_file",
                                 "organization.verify", "organization.refuse_verification"}
# A funded application's evaluation summary is part of its record: auditors download it too.
SUMMARY = frozenset({"summary.download"})
# The sustainability dashboard: the program office's (CALL_READ) and the auditors'.
SUSTAINABILITY = frozenset({"sustainability.list_calls", "sustainability.show_call",
                            "sustainability.projects", "sustainability.export_csv"})
AUDITOR_REACHES = frozenset({"audit.search_funded", "audit.show_application",
                             "audit.download_record", "audit.list_batches"}) | SUMMARY \
    | SUSTAINABILITY | GRANT_READS | REPORT_READS
BATCHES = frozenset({"batch_jobs"})  # an auditor's batch of records


def _blueprint(app, prefix: str) -> frozenset[str]:
    return frozenset(e for e in app.view_functions if e.startswith(prefix))


def _open_to(app, *access: str) -> frozenset[str]:
    return frozenset(endpoint for endpoint, view in app.view_functions.items()
                     if getattr(view, "access", None) in [(a,) for a in access])


# --- 札幌市 and its records ---------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    sapporo: Organization
    admin: User  # 札幌市's active member and administrator
    application: Application  # submitted, accepted, reviewed by someone else
    draft: Application
    funded: Application
    real: dict[str, Any]  # URL arguments naming real records of 札幌市 and of other people

    def variants(self, own_id: int | None) -> list[dict[str, Any]]:
        """Real ids, the draft (and the visitor's own user id), the funded copy, made-up ids."""
        return [self.real,
                {**self.real, "application_id": self.draft.id, "user_id": own_id or MADE_UP_ID},
                {**self.real, "application_id": self.funded.id}, {}]

    def references(self) -> tuple[str, ...]:
        return (self.application.reference, self.draft.reference, self.funded.reference)


def build_world(client, auth, session, make_user) -> World:
    application = submit_application(client, auth, session, make_user)
    officer, reviewer = make_user(Role.OFFICER), make_user(Role.REVIEWER)
    screening.accept(session, application, actor=officer, now=NOW)
    session.commit()
    review_all(session, [application], [reviewer], rubric_version_for(session, application).id,
               rubric_for(session, application))
    funded = fund(session, application, officer, reference="MATRIX-F", amount=1_000_000)
    with client.application.test_request_context():  # the services queue e-mails
        grant_decisions.issue(
            session, funded, session.scalar(sa.select(Decision).filter_by(
                application_id=funded.id)), requested={"human_resources": 1_000_000},
            answers={}, extra_conditions=None, actor=officer, now=NOW)
        grant_decisions.accept(session, funded, actor=application.created_by, now=NOW)
    session.commit()
    batch = batches.request_batch(session, Criteria(), actor=make_user(Role.AUDITOR), now=NOW)
    batches.fail_batch(session, batch.id, "render: RuntimeError: stand-in", now=lambda: NOW)
    admin = application.created_by
    draft = apply.start(session, session.get(Program, KEY), actor=admin, now=NOW)
    session.commit()
    assignment = session.scalar(sa.select(Assignment).filter_by(application_id=application.id))
    attachment = application.attachments[0]
    real = {"application_id": application.id, "attachment_id": attachment.id, "number": 1,
            "assignment_id": assignment.id, "review_id": assignment.review.id,
            "batch_id": batch.id, "job_id": batch.id, "user_id": admin.id,
            "sha256": attachment.sha256, "step_id": "overview", "program_key": KEY}
    return World(admin.organization, admin, application, draft, funded, real)


def fingerprint(session, world: World) -> dict[str, Any]:
    """Row counts, and the state of 札幌市's applications: what a visit must not change."""
    session.expire_all()
    counts = {table.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(table))
              for table in TABLES}
    counts["reruns"] = sum(1 for event in session.scalars(  # nobody runs another's batch
        sa.select(AuditEvent).filter_by(tag=AuditTag.BATCH_REQUEST.value))
        if "rerun_of" in event.data)
    counts["sapporo"] = session.execute(
        sa.select(Application.id, Application.state, Application.lock_version)
        .filter_by(organization_id=world.sapporo.id).order_by(Application.id)).all()
    return counts


# --- the walk -----------------------------------------------------------------------------------


def _values(rule, variant: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, IntegerConverter):
            values[name] = variant.get(name, MADE_UP_ID)
        else:
            values[name] = variant.get(name, "made-up")
    return values


def plan(app, world: World, own_id: int | None) -> list[tuple[str, str, str]]:
    """Every (endpoint, method, URL) to ask, each once."""
    adapter = app.url_map.bind("localhost")
    found: dict[tuple[str, str], str] = {}
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"GET", "POST"} if rule.endpoint != "static" else ()):
            for variant in world.variants(own_id):
                url = adapter.build(rule.endpoint, _values(rule, variant), method=method)
                found.setdefault((method, url), rule.endpoint)
    return [(endpoint, method, url) for (method, url), endpoint in found.items()]


def _to_sign_in(response) -> bool:
    return (response.status_code in (302, 303)
            and urlsplit(response.headers["Location"]).path == "/sign-in")


@dataclass
class Visitor:
    """Who asks, what they may open, and what their visit may change."""

    name: str
    allowed: frozenset[str]  # endpoints that may answer 2xx
    outsider: bool = False  # must be refused every route that is not public or self-service
    may_change: frozenset[str] = frozenset()  # fingerprint keys the visit may change
    unseen: tuple[str, ...] = ()  # text no 2xx page may contain
    must_reach: frozenset[str] = frozenset()  # endpoints that must answer 2xx: the visit is real
    requests: int = 0
    endpoints: set[str] = field(default_factory=set)
    reached: set[str] = field(default_factory=set)  # endpoints that answered 2xx
    wrong: list[tuple[str, str, int, str]] = field(default_factory=list)

    def ask(self, client, endpoint: str, method: str, url: str, closed: frozenset[str]) -> None:
        self.requests += 1
        self.endpoints.add(endpoint)
        try:  # the testing app re-raises what would be a 500 (warnings too: setup.cfg)
            response = client.open(url, method=method, data=HARMLESS if method == "POST" else None)
        except Exception as error:
            self.wrong.append((method, url, 500, f"raised {error!r}"))
            return
        problem = self._problem(response, endpoint, closed)
        if problem:
            self.wrong.append((method, url, response.status_code, problem))
        response.close()

    def _problem(self, response, endpoint: str, closed: frozenset[str]) -> str | None:
        status = response.status_code
        if status >= 500:
            return "server error"
        if 200 <= status < 300:
            self.reached.add(endpoint)
            if endpoint not in self.allowed:
                return "unexpected 2xx"
            text = response.get_data(as_text=True) if response.mimetype.startswith("text/") else ""
            return next((f"shows {s}" for s in self.unseen if s in text), None)
        if self.outsider and endpoint in closed and status not in (403, 404):
            return None if _to_sign_in(response) else "not refused"
        return None


def walk(app, session, world: World, visitor: Visitor, client, own_id: int | None) -> None:
    """Ask every route; record what is wrong, including rows the visit should not change.

    The rows are compared before the routes that end the session are asked: signing out
    everywhere is an audit event of the visitor's own.
    """
    closed = _blueprint(app, "") - _open_to(app, "public", "signed_in")
    steps = plan(app, world, own_id)
    before = fingerprint(session, world)
    for endpoint, method, url in steps:
        if endpoint not in ENDS_SESSION:
            visitor.ask(client, endpoint, method, url, closed)
    after = fingerprint(session, world)
    changed = {key for key in before if before[key] != after[key]} - visitor.may_change
    visitor.wrong.extend(("-", "-", 0, f"changed {key}") for key in sorted(changed))
    for endpoint, method, url in steps:
        if endpoint in ENDS_SESSION:
            visitor.ask(client, endpoint, method, url, closed)
    assert visitor.endpoints == _blueprint(app, "") - {"static"}, visitor.name


def assert_matrix(visitors: list[Visitor], *, at_least: int) -> None:
    wrong = {v.name: v.wrong for v in visitors if v.wrong}
    assert wrong == {}
    missed = {v.name: v.must_reach - v.reached for v in visitors if v.must_reach - v.reached}
    assert missed == {}
    assert sum(v.requests for v in visitors) >= at_least


# --- the visitors -------------------------------------------------------------------------------


def signed_in(app, user: User):
    client = app.test_client()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, user.email
    return client


def refused_sign_in(app, email: str, password: str, code: str):
    """Sign-in must answer the form again with ``code``'s message, and open no session."""
    client = app.test_client()
    response = client.post("/sign-in", data={"email": email, "password": password})
    with app.test_request_context():
        message = error_message(code)
    assert response.status_code == 200 and message in response.text
    assert _to_sign_in(client.get("/account"))
    return client


def stranger(app, session, world: World) -> tuple[Any, User]:
    """Sign up with 札幌市's public code, prove the address, sign in: a requested membership."""
    client, email = app.test_client(), "stranger@example.jp"
    assert accounts_helpers.sign_up(client, email=email, lg="011002").status_code == 200
    mail = accounts_helpers.mails_to(session, email)[-1]
    assert client.get(accounts_helpers.link_in(mail, "/verify/")).status_code == 303
    response = accounts_helpers.sign_in(client, email)
    assert response.status_code == 302
    user = session.scalar(sa.select(User).filter_by(email=email))
    assert user.organization_id == world.sapporo.id
    assert user.membership is MembershipState.REQUESTED and user.email_verified_at is not None
    return client, user


def member_of_sapporo(session, make_user, world: World, **changes: Any) -> User:
    user = make_user(Role.APPLICANT, organization=world.sapporo)
    for name, value in changes.items():
        setattr(user, name, value)
    session.commit()
    return user


def outsiders(app, session, make_user, world: World) -> list[tuple[Visitor, Any, int | None]]:
    public = _open_to(app, "public")
    self_service = public | _open_to(app, "signed_in")
    unseen = world.references()

    def visitor(name: str, allowed: frozenset[str]) -> Visitor:
        signed = SIGNED_IN_PAGE if allowed is self_service else frozenset()
        return Visitor(name, allowed, outsider=True, unseen=unseen, must_reach=signed)

    found, stranger_user = stranger(app, session, world)
    refused = member_of_sapporo(session, make_user, world, membership=MembershipState.REFUSED,
                                membership_note="確認できませんでした")
    removed = member_of_sapporo(session, make_user, world, membership=MembershipState.REMOVED)
    unproved = member_of_sapporo(session, make_user, world, email_verified_at=None)
    invited, _token = assign.add_reviewer(session, session.get(Program, KEY),
                                          email="invited@example.jp", name="招待 未承諾",
                                          actor=make_user(Role.OFFICER), now=NOW)
    session.commit()
    assert invited.password_hash is None
    other = make_user(Role.APPLICANT, lg_code=OTHER_LG_CODE)
    return [
        (visitor("anonymous", public), app.test_client(), None),
        (visitor("requested", self_service), found, stranger_user.id),
        (visitor("refused", self_service), signed_in(app, refused), refused.id),
        (visitor("removed", self_service), signed_in(app, removed), removed.id),
        (visitor("unverified", public),
         refused_sign_in(app, unproved.email, PASSWORD, "email_unverified"), None),
        (visitor("invited", public),
         refused_sign_in(app, invited.email, PASSWORD, "bad_credentials"), None),
        (Visitor("other applicant", self_service | APPLICANT_PAGES, unseen=unseen,
                 must_reach=SIGNED_IN_PAGE | APPLICANT_PAGES,
                 may_change=frozenset({"applications", "audit_events"})),
         signed_in(app, other), other.id),  # starting a draft of its own is its job
    ]


def test_outsiders_reach_nothing_of_sapporo(app, client, auth, session, make_user):
    world = build_world(client, auth, session, make_user)
    visits = outsiders(app, session, make_user, world)
    for visitor, visitor_client, own_id in visits:
        walk(app, session, world, visitor, visitor_client, own_id)
    assert_matrix([v for v, _, _ in visits], at_least=7 * 150)
    assert session.scalars(sa.select(Application.organization_id)
                           .where(Application.organization_id != world.sapporo.id)).all() \
        == [session.scalar(sa.select(Organization.id).filter_by(lg_code=OTHER_LG_CODE))]


def staff(app, make_user, world: World) -> list[tuple[Visitor, Any, int | None]]:
    """Reviewer, auditor and admin first; the officer, whose POSTs really act, last."""
    self_service = _open_to(app, "public", "signed_in")
    audit = _blueprint(app, "audit.")
    officer_pages = (READER_PAGES | audit | _blueprint(app, "manage.")
                     | _blueprint(app, "manage_application.") | SUSTAINABILITY
                     | COMPLETED_READS | COMPLETED_AUDIT)
    downloads = frozenset({"audit_events"})  # every download is an audit event
    visitors = [
        (Role.REVIEWER, Visitor("reviewer", self_service | REVIEWER_PAGES,
                                unseen=world.references(), must_reach=REVIEWER_PAGES)),
        (Role.AUDITOR, Visitor("auditor", self_service | audit | SUMMARY | SUSTAINABILITY
                               | GRANT_READS | REPORT_READS | COMPLETED_AUDIT,
                               unseen=world.references()[:2],
                               must_reach=AUDITOR_REACHES, may_change=downloads | BATCHES)),
        (Role.ADMIN, Visitor("admin", self_service | READER_PAGES | ADMIN_PAGES | SUSTAINABILITY
                             | COMPLETED_READS,
                             unseen=(world.draft.reference,),
                             must_reach=READER_REACHES | ADMIN_PAGES | SUSTAINABILITY,
                             may_change=downloads)),
        (Role.OFFICER, Visitor("officer", self_service | officer_pages,
                               unseen=(world.draft.reference,),
                               must_reach=READER_REACHES | AUDITOR_REACHES,
                               may_change=downloads | BATCHES)),
    ]
    return [(visitor, signed_in(app, user := make_user(role)), user.id)
            for role, visitor in visitors]


@pytest.fixture
def quick_pdfs(monkeypatch):
    """Stand-in PDFs: this module asks who gets a document, not what it holds (the documents'
    own tests read their text), and a real render per request would take minutes here."""
    monkeypatch.setattr(jobs, "render_record", lambda _session, _application: STUB_PDF)
    monkeypatch.setattr(packets, "review_packet_pdf",
                        lambda *_args, **_kwargs: Packet(STUB_PDF, (), ()))
    monkeypatch.setattr(grant, "grant_letter_pdf", lambda _session, _application: STUB_PDF)


def test_staff_reach_only_what_their_role_permits(app, client, auth, session, make_user,
                                                  quick_pdfs):
    world = build_world(client, auth, session, make_user)
    visits = staff(app, make_user, world)
    for visitor, visitor_client, own_id in visits:
        walk(app, session, world, visitor, visitor_client, own_id)
    assert_matrix([v for v, _, _ in visits], at_least=4 * 150)


def test_stranger_who_asked_to_join_sees_nothing_until_approved(
        app, client, auth, session, make_user):
    world = build_world(client, auth, session, make_user)
    visitor, user = stranger(app, session, world)
    application, draft = world.application, world.draft
    before = fingerprint(session, world)
    listing = visitor.get("/applications")
    assert listing.status_code == 403
    assert not any(reference in listing.text for reference in world.references())
    for url in (f"/applications/{application.id}", f"/applications/{draft.id}",
                f"/applications/{draft.id}/start", f"/applications/{draft.id}/check",
                f"/applications/{draft.id}/steps/overview",
                f"/applications/{application.id}/receipt/1",
                f"/applications/{application.id}/attachments/{world.real['attachment_id']}"):
        assert visitor.get(url).status_code == 403, url
    edit = visitor.post(f"/applications/{draft.id}/steps/overview",
                        data={"lock_version": str(draft.lock_version), "action": "next",
                              "f_project_title": "乗っ取り"})
    assert edit.status_code == 403
    submit = visitor.post(f"/applications/{draft.id}/submit", data={"confirm": "y"})
    assert submit.status_code == 403
    for url in (f"/organization/requests/{user.id}/approve",
                f"/manage/organizations/requests/{user.id}/approve"):
        assert visitor.post(url).status_code == 403, url
    assert "/applications/" not in visitor.get("/account").text
    assert fingerprint(session, world) == before
    session.refresh(user)
    assert user.membership is MembershipState.REQUESTED
    # The same requests succeed once 札幌市's administrator approves: the refusals were access.
    assert signed_in(app, world.admin).post(
        f"/organization/requests/{user.id}/approve").status_code == 303
    assert application.reference in visitor.get("/applications").text
    assert visitor.get(f"/applications/{draft.id}/steps/overview").status_code == 200
