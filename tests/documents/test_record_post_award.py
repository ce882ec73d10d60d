"""The audit record after the award: every post-award section printed, each embedded as a JSON
file whose printed SHA-256 is recomputed from the PDF alone, and the variance table computed
from the report's lines and the plan it was filed against. Sections that have nothing yet say
so in one line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json

import pikepdf
import sqlalchemy as sa
from flask_babel import gettext

from grants.documents.record import POST_AWARD_FILES, audit_record_pdf
from grants.domain.final_amount import FinalAmountWorking
from grants.domain.followups import PAYERS
from grants.models import (
    Asset,
    AssetDisposal,
    AssetState,
    ChangeRequest,
    ChangeState,
    CompletionReport,
    DisposalKind,
    FollowupReport,
    Operating,
    PlanVersion,
)
from grants.services import final_amounts
from grants.templating import localized
from tests.conftest import NOW
from tests.documents.test_record import _text
from tests.post_award_helpers import (
    PROJECT_END,
    Funded,
    accepted_report,
    awarded,
    completed,
    granted,
)

BASE_FILES = {"snapshot.json", "program.yaml", "rubric.yaml", "events.json"}


@dataclasses.dataclass
class Completed:
    funded: Funded
    plan: PlanVersion  # version 2, the plan in force
    planned: dict[str, int]
    actual: dict[str, int]
    working: FinalAmountWorking


def _completed(client, auth, session, make_user) -> Completed:
    """A COMPLETED project with an approved and a refused change, a report off plan in two
    categories, an asset with a disposal and two follow-ups (one stopped)."""
    funded = granted(client, auth, session, make_user)
    application, applicant, officer = funded.application, funded.applicant, funded.officer
    first = session.scalar(sa.select(PlanVersion).filter_by(application_id=application.id))
    planned = dict(first.category_amounts)
    planned["human_resources"] -= 200_000
    planned["system"] += 200_000
    approved = ChangeRequest(
        application_id=application.id, number=1, category_amounts=planned,
        reason="システム改修のため人材育成費から移す。", state=ChangeState.APPROVED,
        requested_at=NOW, requested_by_id=applicant.id, decided_at=NOW,
        decided_by_id=officer.id)
    refused = ChangeRequest(
        application_id=application.id, number=2, project_end=PROJECT_END + dt.timedelta(days=90),
        reason="機器の納期が遅れるため延長したい。", state=ChangeState.REFUSED, requested_at=NOW,
        requested_by_id=applicant.id, decided_at=NOW, decided_by_id=officer.id,
        decision_reason="年度内に完了できる代替機器がある。")
    session.add_all([approved, refused])
    session.flush()
    plan = PlanVersion(application_id=application.id, number=2, category_amounts=planned,
                       project_end=PROJECT_END, scope="研修を拡充した事業計画",
                       change_request_id=approved.id, created_at=NOW)
    session.add(plan)
    session.commit()
    actual = {**planned, "system": planned["system"] - 150_000}
    lines = [{"category": category, "description": f"{category}の実績", "acquisition": "none",
              "amount_yen": amount} for category, amount in actual.items()]
    report = accepted_report(session, funded, lines, equipment=[
        {"name": "映像配信サーバー", "kind": "computer", "acquired_on": "2025-06-02",
         "cost_yen": 800_000}])
    report.variance_reasons = {"system": "競争入札で開発費が下がった。"}
    report.kpi_results = {"kpi": "研修修了者 48人（目標 40人）"}
    session.commit()
    working = final_amounts.working_for(session, application)
    completed(session, funded, report, working.final_yen)
    asset = Asset(application_id=application.id, report_id=report.id, name="映像配信サーバー",
                  kind="computer", acquired_on=dt.date(2025, 6, 2), cost_yen=800_000,
                  subsidized_yen=800_000, useful_life_years=5,
                  restricted_until=dt.date(2030, 6, 1), state=AssetState.REPURPOSED)
    session.add(asset)
    session.flush()
    session.add_all([
        AssetDisposal(asset_id=asset.id, kind=DisposalKind.REPURPOSE,
                      planned_on=dt.date(2028, 4, 1), reason="公民館の予約システムに転用する。",
                      repayment_yen=346_666, computation={"remaining_days": 794},
                      state=ChangeState.APPROVED, requested_at=NOW,
                      requested_by_id=applicant.id, decided_at=NOW, decided_by_id=officer.id),
        FollowupReport(application_id=application.id, fiscal_year=2026, year_number=1,
                       operating=Operating.YES, users=1_200,
                       operating_costs={"local_government": 1_500_000}, note="順調に稼働。",
                       submitted_at=NOW, submitted_by_id=applicant.id),
        FollowupReport(application_id=application.id, fiscal_year=2027, year_number=2,
                       operating=Operating.STOPPED, stop_reason="運営費を負担する団体が撤退した。",
                       users=0, operating_costs={}, submitted_at=NOW,
                       submitted_by_id=applicant.id),
    ])
    session.commit()
    return Completed(funded, plan, planned, actual, working)


def _files(pdf: bytes) -> dict[str, bytes]:
    document = pikepdf.open(io.BytesIO(pdf))
    return {name: spec.get_file().read_bytes() for name, spec in document.attachments.items()}


def test_record_of_a_completed_project_prints_and_embeds_every_section(
        client, auth, session, make_user):
    made = _completed(client, auth, session, make_user)
    application = made.funded.application
    data = audit_record_pdf(session, application, now=NOW)
    text = _text(data).replace("\n", "")
    files = _files(data)

    assert set(files) == BASE_FILES | set(POST_AWARD_FILES)
    for name in POST_AWARD_FILES:  # each printed hash is the embedded file's, from the PDF alone
        assert hashlib.sha256(files[name]).hexdigest() in text, name

    grant = json.loads(files["grant_decision.json"])
    assert grant["format"] == "grants-grant-decision/1"
    assert grant["grant_decision"]["answer"] == "accepted"
    assert grant["grant_decision"]["application_id"] == application.id
    assert grant["grant_decision"]["conditions"].splitlines()[0] in text
    assert gettext("Accepted by %(name)s, %(at)s", name=made.funded.applicant.display_name,
                   at="@").split("@")[0] in text

    plans = json.loads(files["plans.json"])
    assert [p["number"] for p in plans["plan_versions"]] == [1, 2]
    assert plans["plan_versions"][1]["category_amounts"] == made.planned
    assert [(c["number"], c["state"]) for c in plans["change_requests"]] == [
        (1, "approved"), (2, "refused")]
    assert "システム改修のため人材育成費から移す。" in text
    assert "年度内に完了できる代替機器がある。" in text and "研修を拡充した事業計画" in text

    report = json.loads(files["completion_reports.json"])["completion_reports"][0]
    assert report["plan_version_id"] == made.plan.id
    assert report["variance_reasons"] == {"system": "競争入札で開発費が下がった。"}
    variance = {row["category"]: row for row in report["variance"]["rows"]}
    assert (variance["system"]["planned_yen"], variance["system"]["actual_yen"],
            variance["system"]["difference_yen"]) == (
        made.planned["system"], made.actual["system"], -150_000)
    assert variance["human_resources"]["difference_yen"] == 0
    assert "−¥150,000" in text and "競争入札で開発費が下がった。" in text
    assert "研修修了者 48人（目標 40人）" in text and "映像配信サーバー" in text

    final = json.loads(files["final_amount.json"])["final_amount"]
    assert final["computation"] == made.working.as_dict()
    assert final["amount_yen"] == made.working.final_yen
    assert f"¥{made.working.final_yen:,}" in text and "eligible_total_yen" in text
    assert f"¥{made.working.eligible_yen:,}" in text

    assets = json.loads(files["assets.json"])["assets"]
    assert [(a["name"], a["restricted_until"], a["state"]) for a in assets] == [
        ("映像配信サーバー", "2030-06-01", "repurposed")]
    assert assets[0]["disposals"][0]["repayment_yen"] == 346_666
    assert "公民館の予約システムに転用する。" in text and "¥346,666" in text
    assert "2030-06-01" in text

    followups = json.loads(files["followups.json"])["followup_reports"]
    assert [(f["fiscal_year"], f["operating"]) for f in followups] == [
        (2026, "yes"), (2027, "stopped")]
    assert "運営費を負担する団体が撤退した。" in text and "¥1,500,000" in text
    assert "1,200" in text and localized(PAYERS["local_government"]) in text

    for absent in ("No completion report filed yet.", "No final amount fixed yet.",
                   "No asset registered.", "No follow-up report filed yet.",
                   "No report has been filed for this application."):
        assert gettext(absent) not in text


def test_record_before_the_answer_says_what_is_not_there_yet(client, auth, session, make_user):
    funded = awarded(client, auth, session, make_user)
    data = audit_record_pdf(session, funded.application, now=NOW)
    text = _text(data).replace("\n", "")
    files = _files(data)
    assert set(files) == BASE_FILES | {"grant_decision.json"}
    assert json.loads(files["grant_decision.json"])["grant_decision"]["answer"] is None
    for line in ("No answer yet.", "No plan yet: the grant decision has not been accepted.",
                 "No change requested.", "No completion report filed yet.",
                 "No final amount fixed yet.", "No asset registered.",
                 "No follow-up report filed yet."):
        assert gettext(line) in text, line


def test_a_draft_report_is_not_in_the_record(client, auth, session, make_user):
    funded = granted(client, auth, session, make_user)
    plan = session.scalar(sa.select(PlanVersion).filter_by(application_id=funded.application.id))
    session.add(CompletionReport(application_id=funded.application.id, number=1,
                                 plan_version_id=plan.id, lines=[], updated_at=NOW))
    session.commit()
    data = audit_record_pdf(session, funded.application, now=NOW)
    assert "completion_reports.json" not in _files(data)
    assert gettext("No completion report filed yet.") in _text(data).replace("\n", "")


def test_the_embedded_files_are_the_same_bytes_when_made_again(client, auth, session, make_user):
    made = _completed(client, auth, session, make_user)
    first = _files(audit_record_pdf(session, made.funded.application, now=NOW))
    session.expire_all()
    again = _files(audit_record_pdf(session, made.funded.application,
                                    now=NOW + dt.timedelta(days=1)))
    assert {name: first[name] for name in POST_AWARD_FILES} == {
        name: again[name] for name in POST_AWARD_FILES}
