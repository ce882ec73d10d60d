"""Typed codes and amounts through the pages: read as their canonical value, or refused with a
message naming the field; never misread, never a 5xx (issue 8, items 1 and 8)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from grants.domain import records
from grants.domain.amounts import AmountProblem, parse_yen
from grants.domain.localgov import lookup
from grants.domain.workflow import Role
from grants.models import ConflictDeclaration, Program
from grants.services import apply
from grants.web.manage_applications import DecisionForm
from tests.conftest import NOW
from tests.web.reviewflow import submit_application
from tests.web.test_audit_search import found, fund

WIDE_AREA = "ict-wide-area-2011"
OWN_FUNDING = "自己負担額（委託費以外の財源）"
TYPED = st.text(
    alphabet=st.sampled_from("0123456789０１２３４５６７８９,，.¥￥円 \u3000-e²①")
    | st.characters(blacklist_categories=("Cs",)),
    max_size=20,
)
# Each example is a real request (~0.5 s); the grammar itself gets 200 examples per property in
# tests/domain/test_amounts_properties.py, so these check the wiring on fewer.
on_one_draft = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def draft(session, make_user):
    user = make_user(Role.APPLICANT, lg_code="011002")  # 札幌市
    application = apply.start(session, session.get(Program, WIDE_AREA), actor=user, now=NOW)
    session.commit()
    return user, application


def _post_step(client, session, application, step, fields):
    session.refresh(application)
    data = {"lock_version": str(application.lock_version), "action": "save", **fields}
    return client.post(f"/applications/{application.id}/steps/{step}", data=data)


def test_full_width_partner_code_stored_canonical_and_counted(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)

    response = _post_step(client, session, application, "partners", {
        "f_partners-0-kind": "local_government", "f_partners-0-code": " ０１２３３５\u3000",
        "f_partners-0-role": "参加団体"})

    assert response.status_code == 303
    session.refresh(application)
    assert application.answers["partners"] == [
        {"code": "012335", "name": "伊達市", "kind": "local_government", "role": "参加団体"}]
    # 札幌市 and 伊達市: the two-government partnership is no longer refused.
    rules = {finding.rule_id for finding in apply.findings_for(application)}
    assert "wide-area-two-local-governments" not in rules


def test_partner_code_on_an_npo_row_is_not_stored_nor_counted(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)

    response = _post_step(client, session, application, "partners", {
        "f_partners-0-kind": "npo", "f_partners-0-code": "012335",
        "f_partners-0-name": "NPO法人みらい"})

    assert response.status_code == 303
    session.refresh(application)
    assert application.answers["partners"][0]["code"] is None
    rules = {finding.rule_id for finding in apply.findings_for(application)}
    assert "wide-area-two-local-governments" in rules


def test_partner_picked_from_search_with_full_width_code_stored_canonical(
        client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)

    response = _post_step(client, session, application, "partners",
                          {"action": "add_partner:０７２１３３"})

    assert response.status_code == 303
    session.refresh(application)
    assert [row["code"] for row in application.answers["partners"]] == ["072133"]


@pytest.mark.parametrize("typed", ["10²", "1 2", "10,000,00", "1,0,0", "1.5", "1e8", "-1"])
def test_misreadable_yen_refused_naming_the_field(client, auth, session, draft, typed):
    user, application = draft
    auth.sign_in(user)

    response = _post_step(client, session, application, "budget", {"f_own_funding_yen": typed})

    assert response.status_code == 422
    assert f"{OWN_FUNDING}：金額は円単位の数字で入力してください" in response.text
    session.refresh(application)
    assert "own_funding_yen" not in application.answers


def test_yen_too_large_for_the_database_refused(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)

    response = _post_step(client, session, application, "budget",
                          {"f_own_funding_yen": "1" + "0" * 19})

    assert response.status_code == 422
    assert f"{OWN_FUNDING}：1,000,000,000,000,000 以下で入力してください" in response.text


def test_budget_line_amount_misread_refused_naming_the_amount(client, auth, session, draft):
    user, application = draft
    auth.sign_in(user)

    response = _post_step(client, session, application, "budget", {
        "f_budget_lines-0-category": "human_resources", "f_budget_lines-0-description": "人件費",
        "f_budget_lines-0-acquisition": "none", "f_budget_lines-0-amount_yen": "1,0,0"})

    assert response.status_code == 422
    assert "金額（円）：金額は円単位の数字で入力してください" in response.text


@on_one_draft
@given(text=TYPED)
def test_any_yen_text_is_stored_canonical_or_refused(client, auth, session, draft, text):
    user, application = draft
    auth.sign_in(user)

    response = _post_step(client, session, application, "budget", {"f_own_funding_yen": text})

    expected = parse_yen(text)
    if expected in (AmountProblem.MALFORMED, AmountProblem.TOO_LARGE):
        assert response.status_code == 422
        assert f"{OWN_FUNDING}：" in response.text
    else:
        assert response.status_code == 303
        session.refresh(application)
        stored = application.answers.get("own_funding_yen")
        assert stored == (None if expected is AmountProblem.EMPTY else expected)


@on_one_draft
@given(text=TYPED)
def test_any_partner_code_text_is_stored_canonical_or_refused(
        client, auth, session, draft, text):
    user, application = draft
    auth.sign_in(user)

    response = _post_step(client, session, application, "partners", {
        "f_partners-0-kind": "local_government", "f_partners-0-code": text,
        "f_partners-0-role": "参加団体"})

    result = lookup(text)
    if result.ok:
        assert response.status_code == 303
        session.refresh(application)
        assert application.answers["partners"][0]["code"] == result.code
    else:
        assert response.status_code == 422
        assert "error-summary" in response.text


@pytest.mark.parametrize(("typed", "expected"), [("１，０００，０００円", 1_000_000), ("", None)])
def test_award_amount_read_as_yen(app, typed, expected):
    with app.test_request_context():
        form = DecisionForm(formdata=MultiDict(
            {"outcome": "award", "amount_yen": typed, "rationale": "理由"}))
        assert form.validate()
        assert form.amount_yen.data == expected


def test_award_amount_misread_refused_naming_the_field(app):
    with app.test_request_context():
        form = DecisionForm(formdata=MultiDict(
            {"outcome": "award", "amount_yen": "1e8", "rationale": "理由"}))
        assert not form.validate()
        [error] = form.amount_yen.errors
        assert error.startswith("交付決定額（円）：金額は円単位の数字で入力してください")


def test_reviewer_declaration_with_full_width_code_stored_canonical(
        client, auth, session, make_user):
    reviewer = make_user(Role.REVIEWER)
    auth.sign_in(reviewer)

    response = client.post("/review/interests", data={"lg_code": "０１１００２ ", "note": ""})

    assert response.status_code == 303
    declared = session.scalar(sa.select(ConflictDeclaration).filter_by(reviewer_id=reviewer.id))
    assert declared.lg_code == "011002"


def test_auditor_finds_a_partner_frozen_with_full_width_digits(
        client, auth, session, make_user):
    template = submit_application(client, auth, session, make_user)
    funded = fund(session, template, make_user(Role.OFFICER), reference="AUD-W",
                  amount=1_000_000, partners=["012335"])
    submission = funded.submissions[-1]
    snapshot = json.loads(submission.snapshot)
    snapshot["answers"]["partners"][0]["code"] = "０１２３３５"  # as typed before this fix
    text = records.canonical_json(snapshot)
    submission.snapshot, submission.snapshot_sha256 = text.decode(), records.sha256_hex(text)
    session.commit()
    auth.sign_in(make_user(Role.AUDITOR))

    page = client.get("/audit/", query_string={"lg_code": "012335"})

    assert page.status_code == 200
    assert found(page.text) == {"AUD-W"}
