"""The grant decision letter (交付決定通知書), read back as text: the amount, the amount per cost
category, the project period, the conditions and the answer; in the reader's language; for the
grantee's members, the program office and auditors only."""

from __future__ import annotations

import io
import re

import pypdf
from flask_babel import force_locale

from grants.documents.grant_letter import grant_letter_pdf
from grants.domain.workflow import Role
from grants.services import grant_decisions
from tests.conftest import NOW
from tests.documents.conftest import decided
from tests.post_award_helpers import grant_decision


def _text(pdf: bytes) -> str:
    """The letter's text without spaces and without each page's two footer lines (the call, the
    reference, the hash and the page number), so a clause across a page break reads whole."""
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    body = ("".join(page.extract_text().splitlines()[:-2]) for page in pages)
    return re.sub(r"\s+", "", "".join(body))


def test_the_letter_states_the_amounts_period_and_conditions(client, auth, session, make_user):
    made = decided(client, auth, session, make_user)
    application = made.application
    grant = grant_decision(session, application)
    text = _text(grant_letter_pdf(session, application))

    assert "交付決定通知書" in text and application.reference in text
    assert application.organization.name in text
    assert "第6条第1項の規定により" in text and "第8条の規定により通知します" in text
    # The award of ¥3,500,000 against a request of ¥4,000,000: 7/8 of each category.
    assert "¥3,500,000" in text and "¥2,625,000" in text and "¥875,000" in text
    assert "①人材育成・確保に要する経費" in text
    assert "2026-12-01から2027-03-31まで" in text
    for line in grant.conditions.splitlines():
        assert re.sub(r"\s+", "", line) in text
    assert "補助事業者の受諾待ち" in text
    for reviewer in made.reviewers:
        assert reviewer.display_name not in text

    grant_decisions.accept(session, application, actor=application.created_by, now=NOW)
    session.commit()
    assert "2026-11-2010:00JSTに受諾されました。" in _text(grant_letter_pdf(session, application))


def test_the_letter_reads_in_english_for_an_english_reader(client, auth, session, make_user):
    application = decided(client, auth, session, make_user).application
    with force_locale("en"):
        text = _text(grant_letter_pdf(session, application))
    assert "Grantdecisionletter" in text and "Amountpercostcategory" in text
    assert "Waitingforthegrantee'sanswer" in text
    assert "補助金等に係る予算の執行の適正化に関する法律" in text  # the conditions as issued


def test_the_letter_is_downloaded_by_members_staff_and_auditors_only(
        client, auth, session, make_user):
    application = decided(client, auth, session, make_user).application
    url = f"/applications/{application.id}/grant-decision.pdf"
    for user, status in ((application.created_by, 200), (make_user(Role.OFFICER), 200),
                         (make_user(Role.AUDITOR), 200), (make_user(Role.ADMIN), 200),
                         (make_user(Role.REVIEWER), 403),
                         (make_user(Role.APPLICANT, lg_code="131016"), 404)):
        auth.sign_in(user)
        response = client.get(url)
        assert response.status_code == status, user.role
        if status == 200:
            assert response.mimetype == "application/pdf"
            assert f'{application.reference}-grant-decision.pdf' in \
                response.headers["Content-Disposition"]
        auth.sign_out()
