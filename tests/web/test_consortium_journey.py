"""A consortium (連携主体) applies to ユビキタスタウン through the test client: an NPO (法人番号)
leads, a town (全国地方公共団体コード) is a member, typed with full-width digits. The members are
frozen in the snapshot and shown to the officer, to reviewers (a member's interest conflicts them
out), in the packet and in the record; a consortium without a local government is refused."""

from __future__ import annotations

import io
import json

import pypdf
import pytest
import sqlalchemy as sa

from grants.documents.packet import review_packet_pdf
from grants.documents.record import audit_record_pdf
from grants.domain.identifiers import normalize
from grants.domain.workflow import Role, State
from grants.models import Application, OrganizationKind, Program
from grants.services import assign, screening
from grants.services.programs import definition_of
from tests.conftest import NOW
from tests.web.journey import fill_application, lock_version, step_form
from tests.web.reviewflow import add_to_call

KEY = "ubiquitous-town-2009"
TOWN, TOWN_NAME = "072133", "福島県 伊達市"
COMPANY, COMPANY_NUMBER = "株式会社テスト情報センター", "6999901000002"  # see journey.py
MET = ("満たしています：コンソーシアムには地方公共団体（代表団体を含む）が1団体以上"
       "含まれている必要があります。")
MISSING = ("コンソーシアムには地方公共団体（代表団体を含む）が1団体以上含まれている必要があります"
           "（現在 0団体。同じ団体は1団体として数えます）")


def _members_url(application):
    return f"/applications/{application.id}/steps/partners"


def _npo_draft(client, auth, session, make_user):
    """An NPO signs in, is told it may apply only as a consortium's lead, starts and fills every
    step; the members (a town and a company) are typed with full-width digits."""
    definition = definition_of(session.get(Program, KEY).current_version)
    npo = make_user(Role.APPLICANT, kind=OrganizationKind.NPO, lg_code=None)
    assert npo.organization.corporate_number  # the lead is known by its 法人番号
    assert auth.sign_in(npo).status_code == 302
    call = client.get(f"/calls/{KEY}")
    assert "コンソーシアム（連携主体）として申請することもできます" in call.text
    assert f"{MISSING.split('（現在')[0]}。" in call.text
    answers = {f"q_{q.id}": "yes" for q in definition.eligibility_questions}
    precheck = client.post(f"/calls/{KEY}/eligibility", data=answers)
    assert "申請を始める" in precheck.text
    assert "NPO法人は、コンソーシアム（連携主体）の代表団体としてのみ申請できます。" in (
        precheck.text)
    assert client.post(f"/calls/{KEY}/start").status_code == 303
    application = session.scalars(sa.select(Application).order_by(Application.id.desc())).first()
    fill_application(client, definition, application.id)
    return definition, npo, application


def _post_members(client, definition, application, rows):
    """Save the members step with `rows` of (kind, code, name)."""
    step = next(s for s in definition.steps if s.id == "partners")
    data = step_form(definition, step, lock_version(client.get(_members_url(application)).text))
    data = {k: v for k, v in data.items() if not k.startswith("f_consortium-")}
    for i, (kind, code, name) in enumerate(rows):
        data.update({f"f_consortium-{i}-kind": kind, f"f_consortium-{i}-code": code,
                     f"f_consortium-{i}-name": name, f"f_consortium-{i}-role": ""})
    data["action"] = "save"
    return client.post(_members_url(application), data=data)


def _pdf_text(pdf: bytes) -> str:
    return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).replace(
        "\n", "")


def test_npo_leads_a_consortium_with_a_town_to_submission(app, client, auth, session, make_user):
    _definition, _npo, application = _npo_draft(client, auth, session, make_user)

    session.refresh(application)
    assert application.answers["consortium"] == [
        {"kind": "local_government", "code": TOWN, "name": "伊達市", "role": "構成員"},
        {"kind": "corporation", "code": COMPANY_NUMBER, "name": COMPANY, "role": "構成員"},
    ]
    members_page = client.get(_members_url(application))
    assert TOWN_NAME in members_page.text and f'value="{COMPANY_NUMBER}"' in members_page.text
    check = client.get(f"/applications/{application.id}/check")
    assert check.status_code == 200
    assert "finding-error" not in check.text, check.text
    assert "代表団体（申請者）と構成員2団体のコンソーシアムとして申請します。" in check.text
    assert MET in check.text
    assert COMPANY in check.text and COMPANY_NUMBER in check.text and TOWN_NAME in check.text

    submitted = client.post(f"/applications/{application.id}/submit", data={"confirm": "y"})
    assert submitted.status_code == 303, submitted.text[:2000]
    session.refresh(application)
    assert application.state is State.SUBMITTED
    snapshot = json.loads(application.submissions[-1].snapshot)
    assert snapshot["applicant"]["kind"] == "npo"
    assert snapshot["answers"]["consortium"] == application.answers["consortium"]
    auth.sign_out()

    officer = make_user(Role.OFFICER)
    auth.sign_in(officer)
    shown = client.get(f"/applications/{application.id}")
    assert shown.status_code == 200
    assert all(text in shown.text for text in (TOWN_NAME, TOWN, COMPANY, COMPANY_NUMBER))
    with app.test_request_context():
        packet = review_packet_pdf(session, application, officer, officer_view=True, now=NOW)
        record = audit_record_pdf(session, application, now=NOW)
    for text in (_pdf_text(packet.pdf), _pdf_text(record)):
        assert all(value in text for value in (TOWN, COMPANY, COMPANY_NUMBER)), text[:3000]
        assert "伊達市" in text and "コンソーシアムの構成員" in text


def test_a_reviewer_with_an_interest_in_a_member_is_conflicted(client, auth, session, make_user):
    _definition, _npo, application = _npo_draft(client, auth, session, make_user)
    client.post(f"/applications/{application.id}/submit", data={"confirm": "y"})
    auth.sign_out()
    session.refresh(application)
    officer = make_user(Role.OFFICER)
    screening.accept(session, application, actor=officer, now=NOW)
    by_code, by_name, free = (make_user(Role.REVIEWER) for _ in range(3))
    for reviewer in (by_code, by_name, free):
        add_to_call(session, reviewer, KEY)
    assign.declare(session, by_code, lg_code="０７２１３３", now=NOW)
    assign.declare(session, by_name, note=f"{COMPANY}の技術顧問", now=NOW)
    session.commit()

    for reviewer, reason in ((by_code, f"団体コード {TOWN}"), (by_name, COMPANY)):
        with pytest.raises(assign.Conflicted) as refused:
            assign.assign(session, application, reviewer, actor=officer, now=NOW)
        assert any(reason in text.ja for text in refused.value.reasons), refused.value.reasons
    assignment = assign.assign(session, application, free, actor=officer, now=NOW)
    session.commit()
    auth.sign_in(free)
    page = client.get(f"/review/assignments/{assignment.id}")
    assert page.status_code == 200
    assert COMPANY in page.text and COMPANY_NUMBER in page.text and TOWN_NAME in page.text


def test_npo_consortium_without_a_local_government_is_refused(client, auth, session, make_user):
    definition, _npo, application = _npo_draft(client, auth, session, make_user)
    saved = _post_members(client, definition, application,
                          [("corporation", "６９９９９０１０００００２", COMPANY)])
    assert saved.status_code == 303

    check = client.get(f"/applications/{application.id}/check")
    assert "満たしていません：" in check.text and MISSING in check.text
    refused = client.post(f"/applications/{application.id}/submit", data={"confirm": "y"})

    assert refused.status_code == 422
    summary = refused.text.split('class="error-summary"')[1].split("</div>")[0]
    assert MISSING in summary
    session.refresh(application)
    assert application.state is State.DRAFT and not application.submissions


def test_npo_alone_is_told_to_list_its_consortium(client, auth, session, make_user):
    definition, _npo, application = _npo_draft(client, auth, session, make_user)
    assert _post_members(client, definition, application, []).status_code == 303

    check = client.get(f"/applications/{application.id}/check")
    assert "コンソーシアムの構成員は入力されていません（単独での申請です）。" in check.text
    refused = client.post(f"/applications/{application.id}/submit", data={"confirm": "y"})

    assert refused.status_code == 422
    assert "NPO法人は単独では申請できません。" in refused.text
    session.refresh(application)
    assert application.state is State.DRAFT


@pytest.mark.parametrize(("row", "message"), [
    (("local_government", "０７２１３４", ""), "072134 は検査数字（6桁目）が合いません。"),
    (("corporation", "７９９９９０１０００００２", COMPANY),
     "7999901000002 は法人番号の検査数字（1桁目）が合いません。"),
    (("npo", "", "特定非営利活動法人 まち"), "法人番号（13桁）を入力してください。"),
    (("local_government", "011011", ""), "札幌市中央区は行政区のため参加団体になれません。"),
])
def test_a_wrong_identifier_is_refused_at_entry(client, auth, session, make_user, row, message):
    definition, _npo, application = _npo_draft(client, auth, session, make_user)
    session.refresh(application)
    before = application.answers["consortium"]

    response = _post_members(client, definition, application, [row])

    assert response.status_code == 422
    assert message in response.text
    assert f'value="{normalize(row[1])}"' in response.text  # kept (folded) for correction
    session.refresh(application)
    assert application.answers["consortium"] == before
