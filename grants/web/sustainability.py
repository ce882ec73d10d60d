"""The sustainability dashboard: did a call's funded projects keep going once the money ended?

Officers and site admins (CALL_READ) read it for each call; so do auditors (AUDIT_READ): the
Board of Audit asks whether what a subsidy paid for is still used (有効性), and every number
here comes from funded projects whose records auditors already read in full, review scores
and follow-up reports included. The drill-down opens each project on the reader's own page
(the officer's, or the auditor's record of a funded application). Read-only: GET only.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField

from grants import clock, exports
from grants.db import get_session
from grants.domain.rounding import to_decimal
from grants.domain.sustainability import REPORTED, Standing, latest_standing, percent
from grants.forms.answers import options
from grants.i18n import to_jst
from grants.models import Program
from grants.services.programs import current_programs
from grants.services.sustainability import CallSustainability, call_sustainability
from grants.templating import localized
from grants.web.access import Permission, has_permission, require

bp = Blueprint("sustainability", __name__, url_prefix="/sustainability")

STANDING_LABELS = {
    Standing.YES: _l("Operating"),
    Standing.PARTLY: _l("Partly operating"),
    Standing.STOPPED: _l("Stopped"),
    Standing.NO_REPORT: _l("No report"),
}


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter that changes nothing

    completion_year = SelectField(_l("Completed in fiscal year"), default="")


def _program(program_key: str) -> Program:
    program = get_session().get(Program, program_key)
    if program is None:
        abort(404)
    return program


def _load(program: Program) -> tuple[FilterForm, CallSustainability | None]:
    """The filter as asked, and the call's dashboard for it (None when the filter is wrong)."""
    form = FilterForm(formdata=request.args)
    asked = form.completion_year.data or ""
    data = call_sustainability(
        get_session(), program, today=to_jst(clock.now()).date(),
        completion_year=int(asked) if asked.isascii() and asked.isdigit() and len(asked) <= 4
        else None)
    form.completion_year.choices = options([("", _("Every year")), *(
        (str(year), _("FY%(year)d", year=year)) for year in reversed(data.completion_years))])
    return (form, data) if form.validate() else (form, None)


def _project_url(application_id: int) -> str:
    """The project on the reader's own page: the officer's, else the auditor's."""
    if has_permission(current_user, Permission.CALL_READ):
        return url_for("manage_application.show", application_id=application_id)
    return url_for("audit.show_application", application_id=application_id)


def _context(program: Program, form: FilterForm, data: CallSustainability | None) -> dict[str, Any]:
    query = {"completion_year": form.completion_year.data} if data and \
        form.completion_year.data else {}
    return {"program": program, "form": form, "data": data, "query": query,
            "labels": STANDING_LABELS, "reported": REPORTED, "standings": tuple(Standing),
            "percent": percent, "to_decimal": to_decimal, "latest_standing": latest_standing,
            "project_url": _project_url}


@bp.get("/")
@require(Permission.CALL_READ, Permission.AUDIT_READ)
def list_calls() -> str:
    return render_template("sustainability/calls.html", calls=current_programs(get_session()))


@bp.get("/calls/<program_key>")
@require(Permission.CALL_READ, Permission.AUDIT_READ)
def show_call(program_key: str) -> tuple[str, int]:
    program = _program(program_key)
    form, data = _load(program)
    return (render_template("sustainability/call.html", **_context(program, form, data)),
            200 if data else 422)


@bp.get("/calls/<program_key>/projects")
@require(Permission.CALL_READ, Permission.AUDIT_READ)
def projects(program_key: str) -> tuple[str, int]:
    """The projects behind one number of the dashboard (links carry the selection)."""
    program = _program(program_key)
    form, data = _load(program)
    context = _context(program, form, data)
    if data is None:
        return render_template("sustainability/projects.html", **context), 422
    selection = _selection(data)
    context.update(selection=selection, ids=data.dashboard.behind(**selection))
    return render_template("sustainability/projects.html", **context), 200


def _selection(data: CallSustainability) -> dict[str, Any]:
    """The year, standing and payer asked for; an edited link's stray value is left out."""
    text = request.args.get("year", "")
    year = int(text) if text.isascii() and text.isdigit() and len(text) <= 2 else None
    if year not in range(1, len(data.dashboard.years) + 1):
        year = None
    standing = request.args.get("standing")
    payer = request.args.get("payer")
    return {"year": year,
            "standing": Standing(standing) if standing in set(Standing) else None,
            "payer": payer if year and payer in data.dashboard.payers else None}


@bp.get("/calls/<program_key>/sustainability.csv")
@require(Permission.CALL_READ, Permission.AUDIT_READ)
def export_csv(program_key: str) -> Response | tuple[str, int]:
    """One row per project and year after completion (a project not a year past it: one row
    without a year), with the costs by payer and the project's score per criterion."""
    program = _program(program_key)
    form, data = _load(program)
    if data is None:
        return render_template("sustainability/call.html", **_context(program, form, data)), 422
    suffix = f"-fy{form.completion_year.data}" if form.completion_year.data else ""
    return Response(exports.to_csv(_table(data)), mimetype="text/csv", headers={
        "Content-Disposition":
            f'attachment; filename="{program.key}-sustainability{suffix}.csv"'})


def _table(data: CallSustainability) -> exports.Table:
    board = data.dashboard
    headers = (_("Reference"), _("Applicant"), _("Completed in fiscal year"),
               _("Year after completion"), _("Fiscal year"), _("Standing"), _("Report filed"),
               _("Operating cost (yen)"),
               *(_("%(payer)s [%(key)s] (yen)", payer=localized(data.payer_label(p)), key=p)
                 for p in board.payers),
               *(f"{localized(c.title)} [{c.id}]" for c in data.criteria))
    rows = []
    for application_id, info in data.projects.items():
        facts = (info.application.reference, info.application.organization.name,
                 info.completion_year)
        scores = tuple(None if (score := info.scores.get(c.id)) is None else to_decimal(score)
                       for c in data.criteria)
        years = board.timelines[application_id]
        rows.extend((*facts, row.year, row.fiscal_year, str(STANDING_LABELS[row.standing]),
                     _("yes") if row.reported else _("no"),
                     sum(row.costs.values()) if row.reported else None,
                     *(row.costs.get(p) for p in board.payers), *scores) for row in years)
        if not years:
            rows.append((*facts, *[None] * (5 + len(board.payers)), *scores))
    return exports.Table(_("Sustainability"), headers, tuple(rows))
