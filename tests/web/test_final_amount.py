"""The final amount (額の確定) through the pages: the officer sees the working from the accepted
report and fixes it (once: a second confirmation is refused with a message); the FinalAmount
keeps the working, the asset register gets the items at or above the threshold, the grantee is
told and downloads the letter; a share rule broken on the actual costs shows its cut, named by
its words, never its id; nobody else fixes or reads it."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask import render_template

from grants.domain.findings import LocalizedText
from grants.domain.workflow import Role, State
from grants.models import Asset, FinalAmount, PlanVersion
from grants.services import final_amounts
from grants.services.audit import AuditTag
from grants.services.programs import definition_of
from grants.templating import answer_labels
from tests.post_award_helpers import accepted_report, granted
from tests.web.accounts_helpers import mails_to
from tests.web.consensus_helpers import tags

SERVER = {"name": "サーバ", "kind": "computer", "acquired_on": "2027-01-15", "cost_yen": 700_000}
TABLET = {"name": "タブレット端末", "kind": "pc", "acquired_on": "2027-01-15", "cost_yen": 400_000}


def line(category: str, amount: int, acquisition: str = "none") -> dict[str, object]:
    return {"category": category, "description": f"{category}の実績", "acquisition": acquisition,
            "amount_yen": amount}


@pytest.fixture
def project(app, client, auth, session, make_user):
    """A granted ICT絆 project: ¥4,000,000 decided, ¥3,000,000 people and ¥1,000,000
    equipment in plan version 1."""
    with app.test_request_context():
        funded = granted(client, auth, session, make_user)
    plan = session.scalar(sa.select(PlanVersion).filter_by(application_id=funded.application.id))
    assert {k: v for k, v in plan.category_amounts.items() if v} == {
        "human_resources": 3_000_000, "equipment": 1_000_000}
    return funded


def page_url(project) -> str:
    return f"/manage/applications/{project.application.id}/final-amount"


def letter_url(project) -> str:
    return f"/applications/{project.application.id}/final-amount-letter.pdf"


def test_the_officer_fixes_the_amount_the_working_gives(client, auth, session, project):
    report = accepted_report(session, project, [
        line("human_resources", 2_800_000), line("equipment", 1_100_000, "purchase")],
        equipment=[SERVER, TABLET])
    auth.sign_in(project.officer)

    shown = client.get(page_url(project))

    assert shown.status_code == 200
    assert "¥3,900,000" in shown.text and "¥100,000" in shown.text and "概算払" in shown.text
    assert "¥3,900,000 で額を確定する" in shown.text
    fixed = client.post(page_url(project))
    assert fixed.status_code == 303

    session.expire_all()
    final = session.scalar(sa.select(FinalAmount).filter_by(application_id=project.application.id))
    assert (final.amount_yen, final.to_return_yen, final.report_id) == (
        3_900_000, 100_000, report.id)
    assert final.computation["eligible_total_yen"] == 3_900_000
    assert final.computation["paid_in_advance_yen"] == 4_000_000
    assert final.confirmed_by_id == project.officer.id
    assert project.application.state is State.COMPLETED
    assert AuditTag.AMOUNT_FIX in tags(session, project.application)
    [asset] = session.scalars(sa.select(Asset).filter_by(application_id=project.application.id))
    assert (asset.name, asset.subsidized_yen) == ("サーバ", 700_000)  # the tablet is below
    told = mails_to(session, project.applicant.email)[-1]
    assert "確定" in told.subject and "/final-amount-letter.pdf" in told.body
    again = client.post(page_url(project))
    assert again.status_code == 409 and "補助金の額はすでに確定しています。" in again.text  # once
    assert session.scalar(sa.select(sa.func.count()).select_from(FinalAmount).filter_by(
        application_id=project.application.id)) == 1
    assert "¥3,900,000" in client.get(page_url(project)).text
    auth.sign_out()

    auth.sign_in(project.applicant)
    own = client.get(f"/applications/{project.application.id}/completion-report")
    assert "額の確定通知書" in own.text and "¥3,900,000" in own.text
    letter = client.get(letter_url(project))
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    assert letter.data.startswith(b"%PDF")


def test_an_item_acquired_at_the_calendars_end_is_registered_without_failing(
        client, auth, session, project):
    """Filing refuses such a day now; a report accepted before still gets its final amount."""
    accepted_report(session, project, [
        line("human_resources", 2_800_000), line("equipment", 1_100_000, "purchase")],
        equipment=[{**SERVER, "acquired_on": "9999-12-31"}])
    auth.sign_in(project.officer)

    assert client.post(page_url(project)).status_code == 303

    session.expire_all()
    [asset] = session.scalars(sa.select(Asset).filter_by(application_id=project.application.id))
    assert asset.restricted_until == dt.date.max
    assert project.application.state is State.COMPLETED


def test_a_share_rule_broken_on_the_actual_costs_shows_its_cut(client, auth, session, project):
    accepted_report(session, project, [
        line("human_resources", 1_000_000), line("equipment", 1_200_000, "purchase")])
    auth.sign_in(project.officer)

    shown = client.get(page_url(project))

    assert shown.status_code == 200
    assert "満たしていません" in shown.text
    assert ("経費区分の割合の上限（③ ICT機器・設備整備費："
            "補助対象経費の合計の 1/2 未満）") in shown.text
    assert "equipment-under-half" not in shown.text  # the rule's words, never its id
    assert "¥999,999" in shown.text and "¥200,001" in shown.text
    assert "¥1,999,000 で額を確定する" in shown.text


def test_a_rule_is_named_by_the_message_its_program_gives(app, session, project):
    accepted_report(session, project, [
        line("human_resources", 1_000_000), line("equipment", 1_200_000, "purchase")])
    computation = final_amounts.working_for(session, project.application).as_dict()
    computation["excluded_lines"] = [{
        "index": 1, "category": "equipment", "description": "サーバ", "acquisition": "purchase",
        "amount_yen": 300_000, "rule_id": "no-equipment-purchase"}]
    messages = {"equipment-under-half": LocalizedText("機器・設備は申請額の半額未満です。", "x"),
                "no-equipment-purchase": LocalizedText("機器・設備の購入は不可です。", "x")}
    definition = definition_of(project.application.program_version)

    with app.test_request_context():
        shown = render_template("report/_working.html", computation=computation,
                                rule_messages=messages, **answer_labels(definition))

    assert ("機器・設備は申請額の半額未満です。（③ ICT機器・設備整備費："
            "補助対象経費の合計の 1/2 未満）") in shown
    assert "機器・設備の購入は不可です。" in shown
    assert "equipment-under-half" not in shown and "no-equipment-purchase" not in shown


def test_nobody_else_fixes_or_reads_it(client, auth, session, make_user, project):
    auth.sign_in(project.officer)
    assert client.get(page_url(project)).status_code == 404  # no accepted report yet
    assert client.post(page_url(project)).status_code == 404
    auth.sign_out()
    accepted_report(session, project, [line("human_resources", 3_000_000)])
    auditor, reviewer = make_user(Role.AUDITOR), make_user(Role.REVIEWER)
    other = make_user(Role.APPLICANT, lg_code="131016")

    for user, page, post in ((project.applicant, 403, 403), (other, 403, 403),
                             (reviewer, 403, 403), (auditor, 200, 403)):
        auth.sign_in(user)
        assert client.get(page_url(project)).status_code == page, user.email
        assert client.post(page_url(project)).status_code == post, user.email
        assert client.get(letter_url(project)).status_code in (403, 404), user.email
        auth.sign_out()

    session.expire_all()
    assert project.application.state is State.REPORT_ACCEPTED
    assert session.scalar(sa.select(FinalAmount).filter_by(
        application_id=project.application.id)) is None
