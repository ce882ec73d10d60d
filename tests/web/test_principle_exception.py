"""A rule "in principle" through the test client: ICT絆's equipment share at exactly half is
refused until the applicant writes a justification beside the finding; the reason is frozen in
the snapshot and flagged for the officer. A reason typed on a stale copy of the check page is
refused like any other stale save."""

from __future__ import annotations

import io
import json

import pypdf
import sqlalchemy as sa

from grants.documents.packet import review_packet_pdf
from grants.domain.workflow import Role, State
from grants.models import Application, OrganizationKind, Program
from grants.services import assign, screening
from grants.services.programs import definition_of
from tests.conftest import NOW
from tests.web.journey import fill_application, lock_version, step_form
from tests.web.reviewflow import add_to_call

KEY = "ict-kizuna-2010"
RULE = "equipment-under-half"
REASON = "遠隔授業の端末を全校に配備するため、機器費が半額に達します。"
ASKED_ON_CHECK_PAGE = "この例外の理由は「入力内容の確認」ページで記入します。"


def _draft_over_half(client, auth, session, make_user):
    """A complete draft whose equipment (purchase) is exactly half of the request."""
    definition = definition_of(session.get(Program, KEY).current_version)
    auth.sign_in(make_user(Role.APPLICANT, kind=OrganizationKind.LOCAL_GOVERNMENT,
                           lg_code="011002"))
    assert client.post(f"/calls/{KEY}/start").status_code == 303
    application = session.scalars(sa.select(Application).order_by(Application.id.desc())).first()
    fill_application(client, definition, application.id)
    step = next(s for s in definition.steps if any(f.kind == "budget_lines" for f in s.fields))
    url = f"/applications/{application.id}/steps/{step.id}"
    data = step_form(definition, step, lock_version(client.get(url).text))
    data.update({"f_budget_lines-1-acquisition": "purchase",
                 "f_budget_lines-1-amount_yen": "3,000,000", "action": "save"})
    assert client.post(url, data=data).status_code == 303
    budget_step = client.get(url).text
    assert f"/applications/{application.id}/check#justify-{RULE}" in budget_step
    assert budget_step.count(ASKED_ON_CHECK_PAGE) == 2  # in the step's checks and by the field
    return application


def _version(client, application):
    """The lock version the check page was loaded with (its submit form carries it)."""
    return lock_version(client.get(f"/applications/{application.id}/check").text)


def test_exception_needs_a_justification_then_is_flagged(client, auth, session, make_user):
    application = _draft_over_half(client, auth, session, make_user)
    name = f"justification-{RULE}"

    check = client.get(f"/applications/{application.id}/check")
    assert f'name="{name}"' in check.text and 'form="submit-form"' in check.text
    refused = client.post(f"/applications/{application.id}/submit",
                          data={"confirm": "y", name: "  ",
                                "lock_version": _version(client, application)})
    assert refused.status_code == 422
    assert "finding-principle" in refused.text.split('class="error-summary"')[1].split("</div>")[0]
    session.refresh(application)
    assert application.state is State.DRAFT

    done = client.post(f"/applications/{application.id}/submit",
                       data={"confirm": "y", name: REASON,
                             "lock_version": _version(client, application)})
    assert done.status_code == 303, done.text[:2000]
    session.refresh(application)
    snapshot = json.loads(application.submissions[0].snapshot)
    assert snapshot["answers"]["_justifications"] == {RULE: REASON}
    [exception] = [f for f in snapshot["findings"] if f["rule_id"] == RULE]
    assert (exception["severity"], exception["justification"]) == ("principle", REASON)

    auth.sign_in(make_user(Role.OFFICER))
    page = client.get(f"/manage/applications/{application.id}")
    assert page.status_code == 200
    assert 'class="notice notice-warning exceptions"' in page.text and REASON in page.text


def test_a_reason_typed_before_a_refusal_is_kept(client, auth, session, make_user):
    application = _draft_over_half(client, auth, session, make_user)

    response = client.post(f"/applications/{application.id}/submit",  # confirmation not ticked
                           data={f"justification-{RULE}": REASON,
                                 "lock_version": _version(client, application)})

    assert response.status_code == 422
    session.refresh(application)
    assert application.state is State.DRAFT
    assert application.answers["_justifications"] == {RULE: REASON}
    assert REASON in client.get(f"/applications/{application.id}/check").text


def test_reviewer_and_packet_see_the_flagged_exception(app, client, auth, session, make_user):
    application = _draft_over_half(client, auth, session, make_user)
    client.post(f"/applications/{application.id}/submit",
                data={"confirm": "y", f"justification-{RULE}": REASON,
                      "lock_version": _version(client, application)})
    auth.sign_out()
    session.refresh(application)
    officer, reviewer = make_user(Role.OFFICER), make_user(Role.REVIEWER)
    screening.accept(session, application, actor=officer, now=NOW)
    add_to_call(session, reviewer)
    assignment = assign.assign(session, application, reviewer, actor=officer, now=NOW)
    session.commit()

    auth.sign_in(officer)
    ranking = client.get(f"/manage/calls/{KEY}/ranking")
    assert ranking.status_code == 200
    row = ranking.text.split(application.reference + "</a>")[1].split("</td>")[0]
    assert 'class="finding-warning"' in row
    auth.sign_in(reviewer)
    page = client.get(f"/review/assignments/{assignment.id}")
    assert page.status_code == 200
    assert 'class="notice notice-warning exceptions"' in page.text and REASON in page.text
    with app.test_request_context():
        packet = review_packet_pdf(session, application, officer, officer_view=True, now=NOW)
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(packet.pdf)).pages)
    assert "原則に対する例外" in text and REASON in text.replace("\n", "")


def test_a_reason_typed_on_a_stale_check_page_is_refused(client, auth, session, make_user):
    application = _draft_over_half(client, auth, session, make_user)
    stale = _version(client, application)
    definition = definition_of(session.get(Program, KEY).current_version)
    first = definition.steps[0]  # saved meanwhile, in another tab
    step = f"/applications/{application.id}/steps/{first.id}"
    data = step_form(definition, first, lock_version(client.get(step).text), text="（別タブ）")
    assert client.post(step, data=data).status_code == 303

    response = client.post(f"/applications/{application.id}/submit",
                           data={"confirm": "y", f"justification-{RULE}": REASON,
                                 "lock_version": stale})

    assert response.status_code == 409
    assert "別のウィンドウまたはタブで保存されています。提出は行われておらず" in response.text
    assert REASON in response.text  # what was typed is still in the box
    session.refresh(application)
    assert application.state is State.DRAFT
    assert "_justifications" not in application.answers
    fresh = lock_version(response.text)
    assert fresh != stale
    done = client.post(f"/applications/{application.id}/submit",
                       data={"confirm": "y", f"justification-{RULE}": REASON,
                             "lock_version": fresh})
    assert done.status_code == 303, done.text[:2000]
    session.refresh(application)
    assert application.answers["_justifications"] == {RULE: REASON}


def test_a_missing_or_tampered_lock_version_saves_no_reason(client, auth, session, make_user):
    application = _draft_over_half(client, auth, session, make_user)
    for version in (None, "abc", "9" * 5000, "－１"):
        data = {"confirm": "y", f"justification-{RULE}": REASON}
        if version is not None:
            data["lock_version"] = version
        response = client.post(f"/applications/{application.id}/submit", data=data)
        assert response.status_code == 409
    session.refresh(application)
    assert "_justifications" not in application.answers
