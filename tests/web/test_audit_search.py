"""The auditor's search of funded applications: each criterion narrows the results, bad input
is refused with an error summary (never a 500), and only funded applications are found.

Funded applications are made by copying one really submitted application (its frozen snapshot,
rewritten for another applicant, partners or program and hashed again) and deciding an award
for each; `fund` is shared with the other test_audit_* modules.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zlib
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.domain import records
from grants.domain.identifiers import corporate_number
from grants.domain.localgov import load_registry
from grants.domain.workflow import Role, State
from grants.models import (
    Application,
    Decision,
    Organization,
    OrganizationKind,
    Outcome,
    Program,
    ProgramVersion,
    Submission,
)
from grants.services import accounts
from grants.services.decide import award_limit
from grants.services.programs import definition_of
from tests.conftest import NOW
from tests.web.reviewflow import KEY, submit_application

OTHER_KEY = "ubiquitous-town-2009"  # fiscal year 2009 (KEY is 2010)


def fund(session: Session, template: Application, officer: Any, *, reference: str,
         amount: int | None, organization: Organization | None = None,
         partners: list[str] | None = None, program_key: str | None = None,
         outcome: Outcome | None = Outcome.AWARD,
         decided_at: dt.datetime = NOW) -> Application:
    """A copy of `template`'s frozen submission, decided (an award of `amount` by default).

    `organization` becomes the applicant (also in the snapshot), `partners` the local
    governments listed as partners, `program_key` the call; `outcome=None` leaves it in review.
    """
    source = template.submissions[-1]
    snapshot = json.loads(source.snapshot)
    organization = organization or template.organization
    snapshot["reference"] = reference
    snapshot["applicant"] = {"organization_id": organization.id, "name": organization.name,
                             "kind": str(organization.kind), "lg_code": organization.lg_code}
    version_id = (session.get(Program, program_key).current_version_id if program_key
                  else template.program_version_id)
    definition = definition_of(session.get(ProgramVersion, version_id))
    if partners is not None:  # in the call's partners field, or its consortium field
        registry = load_registry()
        field = definition.partners_field or definition.consortium_field
        snapshot["answers"].pop("partners", None)  # the template's, maybe of another call
        snapshot["answers"][field.id] = [
            {"kind": "local_government", "code": code, "name": registry.get(code).name,
             "role": "参加団体"} for code in partners]
    text = records.canonical_json(snapshot)
    state = {Outcome.AWARD: State.AWARDED, Outcome.REJECT: State.REJECTED, None: State.IN_REVIEW}
    application = Application(
        reference=reference, program_version_id=version_id, organization_id=organization.id,
        created_by_id=template.created_by_id, state=state[outcome], answers=template.answers,
        lock_version=1, submitted_at=NOW)
    application.submissions.append(Submission(
        number=1, snapshot=text.decode("utf-8"), snapshot_sha256=records.sha256_hex(text),
        findings=source.findings, submitted_at=NOW, submitted_by_id=source.submitted_by_id))
    session.add(application)
    session.flush()
    if outcome is not None:
        award = outcome is Outcome.AWARD
        session.add(Decision(
            application_id=application.id, outcome=outcome, amount_yen=amount if award else None,
            computation={**award_limit(template).as_dict(), "awarded_yen": amount}
            if award else award_limit(template).as_dict(),
            rationale=f"{reference} の交付決定理由", decided_by_id=officer.id,
            decided_at=decided_at))
        session.flush()
    return application


def organization(session: Session, name: str, lg_code: str | None = None) -> Organization:
    found = session.scalar(sa.select(Organization).filter_by(lg_code=lg_code)) if lg_code else None
    number = None if lg_code else corporate_number(f"{zlib.crc32(name.encode()):012d}")
    return found or accounts.find_or_create_organization(session, accounts.NewOrganization(
        name=name, lg_code=lg_code, corporate_number=number,
        kind=OrganizationKind.LOCAL_GOVERNMENT if lg_code else OrganizationKind.NPO))


def found(page_html: str) -> set[str]:
    """The references listed in the results table."""
    return set(re.findall(r'href="/audit/applications/\d+">([^<]+)</a>', page_html))


@pytest.fixture
def funded(client, auth, session, make_user):
    """Four funded applications, one in review and one rejected (A..D are funded)."""
    template = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    chiyoda = organization(session, "千代田区", "131016")
    npo = organization(session, "特定非営利活動法人 みらいネット")
    fund(session, template, officer, reference="AUD-A", amount=10_000_000,
         partners=["012335"])                                         # 札幌市 + 北海道 伊達市
    fund(session, template, officer, reference="AUD-B", amount=30_000_000,
         organization=chiyoda, partners=[], decided_at=NOW - dt.timedelta(days=400))
    fund(session, template, officer, reference="AUD-C", amount=50_000_000, organization=npo,
         partners=["131016"], program_key=OTHER_KEY)
    fund(session, template, officer, reference="AUD-D", amount=20_000_000,
         organization=organization(session, "大阪市", "271004"), partners=["072133"])
    fund(session, template, officer, reference="AUD-E", amount=None, outcome=None)
    fund(session, template, officer, reference="AUD-F", amount=None, outcome=Outcome.REJECT)
    session.commit()
    auth.sign_in(make_user(Role.AUDITOR))
    return template


@pytest.mark.parametrize(("query", "expected"), [
    ({}, {"AUD-A", "AUD-B", "AUD-C", "AUD-D"}),
    ({"call": OTHER_KEY}, {"AUD-C"}),
    ({"call": KEY}, {"AUD-A", "AUD-B", "AUD-D"}),
    ({"fiscal_year": "2009"}, {"AUD-C"}),
    ({"fiscal_year": "2010"}, {"AUD-A", "AUD-B", "AUD-D"}),
    ({"prefecture": "13"}, {"AUD-B"}),
    ({"prefecture": "01"}, {"AUD-A"}),
    ({"prefecture": "47"}, set()),
    ({"lg_code": "012335"}, {"AUD-A"}),  # a partner
    ({"lg_code": "011002"}, {"AUD-A"}),  # the lead
    ({"lg_code": "131016"}, {"AUD-B", "AUD-C"}),  # lead of one, partner of the other
    ({"lg_code": "０７２１３３"}, {"AUD-D"}),  # full-width digits are fine
    ({"organization": "みらい"}, {"AUD-C"}),
    ({"organization": "100%"}, set()),  # LIKE wildcards are taken literally
    ({"min_yen": "20,000,000"}, {"AUD-B", "AUD-C", "AUD-D"}),
    ({"max_yen": "２０，０００，０００円"}, {"AUD-A", "AUD-D"}),
    ({"min_yen": "15000000", "max_yen": "35000000"}, {"AUD-B", "AUD-D"}),
    ({"call": KEY, "prefecture": "01", "min_yen": "5000000"}, {"AUD-A"}),
])
def test_search_each_criterion_narrows_results(client, funded, query, expected):
    page = client.get("/audit/", query_string=query)
    assert page.status_code == 200, page.text[:2000]
    assert found(page.text) == expected


def test_search_rows_show_call_organization_prefecture_amount_and_jst_date(client, funded):
    page = client.get("/audit/", query_string={"lg_code": "131016"})
    row = page.text.split(">AUD-B</a>", 1)[1].split("</tr>", 1)[0]
    assert "千代田区" in row and "東京都" in row and "¥30,000,000" in row
    # Decided 2025-10-16 01:00 UTC: the date shown is Japan time.
    assert (NOW - dt.timedelta(days=400)).astimezone(dt.timezone(dt.timedelta(hours=9))).strftime(
        "%Y-%m-%d") in row
    npo_row = page.text.split(">AUD-C</a>", 1)[1].split("</tr>", 1)[0]
    assert "特定非営利活動法人 みらいネット" in npo_row and "—" in npo_row  # no prefecture
    # Latest decisions first.
    assert page.text.index(">AUD-C</a>") < page.text.index(">AUD-B</a>")


@pytest.mark.parametrize("query", [
    {"lg_code": "12345"},
    {"lg_code": "011001"},  # wrong check digit
    {"lg_code": "011011"},  # a designated-city ward, not a local government
    {"lg_code": "abcdef"},
    {"organization": "x\x00y"},
    {"organization": "x" * 201},
    {"min_yen": "abc"},
    {"min_yen": "-1"},
    {"max_yen": "9" * 30},
    {"min_yen": "30000000", "max_yen": "10000000"},
    {"call": "no-such-call"},
    {"fiscal_year": "1999"},
    {"fiscal_year": "x"},
    {"prefecture": "48"},
])
def test_search_bad_input_rerenders_with_error_summary(client, funded, query):
    page = client.get("/audit/", query_string=query)
    assert page.status_code == 422, page.text[:2000]
    assert "error-summary" in page.text
    assert found(page.text) == set()


def test_search_bad_page_numbers_show_a_page(client, funded):
    for page in ("x", "-3", "0", "999999"):
        response = client.get("/audit/", query_string={"page": page})
        assert response.status_code == 200
        assert len(found(response.text)) == 4


def test_search_paginates(client, auth, session, funded, monkeypatch):
    from grants.services import auditing

    monkeypatch.setattr(auditing, "PER_PAGE", 3)
    first = client.get("/audit/", query_string={"call": KEY, "page": "1"})
    second = client.get("/audit/", query_string={"call": KEY, "page": "2"})
    assert len(found(first.text)) == 3  # 3 results: one page, and past it the last page
    assert found(second.text) == found(first.text) and 'rel="next"' not in second.text
    everything = client.get("/audit/")
    assert len(found(everything.text)) == 3
    assert 'rel="next"' in everything.text
    last = client.get("/audit/", query_string={"page": "2"})
    assert len(found(last.text)) == 1 and 'rel="prev"' in last.text
    assert found(everything.text) | found(last.text) == {"AUD-A", "AUD-B", "AUD-C", "AUD-D"}
