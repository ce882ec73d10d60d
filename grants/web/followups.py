"""Follow-up reports (状況報告): the grantee files one per fiscal year after completion; the
officer and the auditor read them; the officer sees every overdue one across calls."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from grants import clock
from grants.db import get_session
from grants.domain.followups import PAYERS
from grants.domain.workflow import State
from grants.forms.followups import OPERATING_LABELS, followup_form
from grants.models import Application, Operating
from grants.services import auditing, followups
from grants.services.programs import current_programs, definition_of
from grants.templating import localized
from grants.web.access import Permission, load_application, require

bp = Blueprint("followups", __name__)

STATUS_LABELS = {
    "upcoming": lambda row: _("may be filed from %(day)s", day=row.followup.opens_on.isoformat()),
    "open": lambda row: _("due by %(day)s", day=row.followup.due_on.isoformat()),
    "overdue": lambda row: _("overdue: it was due by %(day)s",
                             day=row.followup.due_on.isoformat()),
    "filed": lambda row: _("filed on %(day)s",
                           day=followups.japan_day(row.report.submitted_at).isoformat()),
}


def _completed(application: Application) -> Application:
    if application.state is not State.COMPLETED:
        abort(404)  # follow-ups are owed once the final amount is fixed
    return application


def _kpis(application: Application) -> list[dict[str, Any]]:
    """The program's KPI fields with the targets the application stated."""
    definition = definition_of(application.program_version)
    snapshot = json.loads(application.submissions[-1].snapshot) if application.submissions else {}
    answers = snapshot.get("answers") or {}
    return [{"id": field_id, "field": definition.field(field_id), "target": answers.get(field_id)}
            for field_id in definition.post_award.kpi_fields]


def _words(application: Application) -> dict[str, Any]:
    return {"application": application, "definition": definition_of(application.program_version),
            "kpis": _kpis(application), "payers": PAYERS, "operating_labels": OPERATING_LABELS,
            "status_labels": STATUS_LABELS}


def _list(application: Application, side: str) -> str:
    today = followups.japan_day(clock.now())
    return render_template("followups/list.html", side=side, today=today,
                           rows=followups.rows(get_session(), application, today),
                           **_words(application))


def _row(application: Application, fiscal_year: int) -> followups.Row:
    today = followups.japan_day(clock.now())
    row = next((r for r in followups.rows(get_session(), application, today)
                if r.followup.fiscal_year == fiscal_year), None)
    if row is None:
        abort(404)
    return row


def _form(application: Application, **kwargs: Any) -> Any:
    kpis = [(k["id"], _("Result against “%(kpi)s”", kpi=localized(k["field"].label)))
            for k in _kpis(application)]
    return followup_form(kpis, **kwargs)


@bp.get("/applications/<int:application_id>/followups")
@require(Permission.APPLICATION_READ_OWN)
def show(application_id: int) -> str:
    return _list(_completed(load_application(application_id)), "applicant")


@bp.get("/applications/<int:application_id>/followups/<int:fiscal_year>")
@require(Permission.APPLICATION_READ_OWN)
def form(application_id: int, fiscal_year: int) -> Response | str:
    application = _completed(load_application(application_id))
    row = _row(application, fiscal_year)
    if row.report is not None:
        return redirect(url_for(".show", application_id=application.id,
                                _anchor=f"fy-{fiscal_year}"), code=303)
    return render_template("followups/file.html", row=row, form=_form(application),
                           **_words(application))


@bp.post("/applications/<int:application_id>/followups/<int:fiscal_year>")
@require(Permission.APPLICATION_WRITE)
def file_report(application_id: int, fiscal_year: int) -> Response | tuple[str, int]:
    application = _completed(load_application(application_id, for_writing=True))
    row = _row(application, fiscal_year)
    form = _form(application)
    status = 422
    if form.validate():
        db = get_session()
        answers = followups.Answers(
            operating=Operating(form.operating.data), stop_reason=form.stop_reason.data,
            users=form.users.data, costs=form.costs(),
            kpi_results=form.kpi_results([k["id"] for k in _kpis(application)]),
            note=form.note.data or "")
        try:
            followups.file_report(db, application, fiscal_year, answers, actor=current_user,
                                  now=clock.now())
        except followups.TooEarly as early:
            status = 409
            form.operating.errors = [_("The report on FY%(year)d may be filed once that fiscal "
                                       "year has ended, from %(day)s.", year=fiscal_year,
                                       day=early.opens_on.isoformat())]
        except followups.AlreadyFiled:
            status = 409
            form.operating.errors = [_("The report on FY%(year)d was filed already: one a "
                                       "year.", year=fiscal_year)]
        else:
            db.commit()
            flash(_("Your follow-up report on FY%(year)d is filed.", year=fiscal_year), "success")
            return redirect(url_for(".show", application_id=application.id,
                                    _anchor=f"fy-{fiscal_year}"), code=303)
        db.rollback()
    return render_template("followups/file.html", row=row, form=form,
                           **_words(application)), status


@bp.get("/manage/applications/<int:application_id>/followups")
@require(Permission.CALL_READ)
def manage(application_id: int) -> str:
    return _list(_completed(load_application(application_id)), "officer")


@bp.get("/manage/followups/overdue")
@require(Permission.CALL_READ)
def overdue() -> str:
    """Every overdue follow-up report, across calls or of the call chosen."""
    calls = current_programs(get_session())
    chosen = request.args.get("call") or None
    if chosen is not None and chosen not in {program.key for program, _definition in calls}:
        abort(404)
    today = followups.japan_day(clock.now())
    found = followups.overdue(get_session(), today, chosen)
    titles = {o.application.program_version_id: definition_of(o.application.program_version).title
              for o in found}
    return render_template("followups/overdue.html", calls=calls, chosen=chosen, today=today,
                           overdue=found, titles=titles)


@bp.get("/audit/applications/<int:application_id>/followups")
@require(Permission.AUDIT_READ)
def audit_show(application_id: int) -> str:
    found = auditing.load_funded(get_session(), application_id)
    if found is None:
        abort(404)
    return _list(_completed(found.application), "auditor")
