"""The completion report (実績報告) and the final amount (額の確定): the grantee's report page,
the officer's (which auditors read too), the final amount's working and its letter (PDF).

The grantee drafts the report while the project runs, with evidence files, and files it; the
officer returns it for correction or accepts it, then confirms the final amount the domain
works out. Everyone reads only what their role and organization allow: the grantee's members
their own project, officers and admins any, auditors funded projects; anyone else gets 404.
A filing, an answer or a confirmation that another request (a double click, another tab) did
first is refused with 409 and a message.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from grants import clock
from grants.db import get_session
from grants.documents.final_amount_letter import final_amount_letter_pdf
from grants.domain.file_types import DEFAULT_FILE_TYPES
from grants.domain.text import has_visible_text
from grants.domain.workflow import POST_AWARD_STATES, State
from grants.forms.answers import options
from grants.forms.completion_report import ReportForm, form_data, report_form
from grants.models import Application, CompletionReport, ReportState
from grants.services import completion_reports as reports
from grants.services import final_amounts, grant_decisions
from grants.services.completion_reports import Contents, Problem
from grants.services.plans import plan_in_force
from grants.services.programs import definition_of
from grants.templating import answer_labels, yen
from grants.uploads import (
    UploadRefused,
    describe_types,
    extensions_of,
    safe_filename,
    validate_upload,
)
from grants.web import limits
from grants.web.access import Permission, has_permission, load_application, load_readable, require
from grants.web.apply import expected_version, locale, storage
from grants.web.files import send_stored

bp = Blueprint("report", __name__)

BLANK_LINES, BLANK_ITEMS = 2, 1
EVIDENCE_TYPES = DEFAULT_FILE_TYPES
MIB = 1024 * 1024


class DecisionForm(FlaskForm):
    outcome = RadioField(_l("Answer to the report"), choices=options(
        [("accept", _l("Accept the report: the final amount is worked out from it")),
         ("return", _l("Return it for correction"))]), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason for returning it, shown to the grantee"),
                           validators=[Optional(), Length(max=8000)])

    def validate_reason(self, field: TextAreaField) -> None:
        if self.outcome.data == "return" and not has_visible_text(field.data):
            raise ValidationError(_("Say what the grantee must correct."))


class ConfirmForm(FlaskForm):
    pass


# --- the grantee ---------------------------------------------------------------------------


def _post_award(application: Application) -> Application:
    """Only a project whose grant decision was accepted has a report (else 404)."""
    if application.state not in POST_AWARD_STATES:
        abort(404)
    return application


def _form_class(application: Application) -> type[ReportForm]:
    return report_form(definition_of(application.program_version),
                       application.program_version.sha256, locale())


def _editable(application: Application) -> bool:
    return (application.state is State.GRANTED
            and has_permission(current_user, Permission.APPLICATION_WRITE))


def _add_blank_rows(form: ReportForm) -> None:
    extra = limits.int_arg("rows", 0, low=0, high=10)
    for name, blank in (("lines", BLANK_LINES), ("equipment", BLANK_ITEMS)):
        rows = form[name]
        saved = sum(1 for row in rows if not row.form.is_blank())
        while len(rows) < min(saved + blank + extra, rows.max_rows):
            rows.append_entry()


def _targets(application: Application) -> dict[str, Any]:
    """The targets the application stated, from its frozen submission."""
    definition = definition_of(application.program_version)
    answers = json.loads(application.submissions[-1].snapshot)["answers"]
    post_award = definition.post_award
    jobs = post_award.jobs_target_field
    return {"kpi_targets": [(definition.field(field_id), answers.get(field_id))
                            for field_id in post_award.kpi_fields],
            "jobs_target": (definition.field(jobs), answers.get(jobs)) if jobs else None}


def _common(application: Application, report: CompletionReport | None, *,
            in_force: bool = False) -> dict[str, Any]:
    """What every report page shows; `in_force` reads the report against the plan in force
    (the grantee's draft, or the returned report it starts from)."""
    db = get_session()
    definition = definition_of(application.program_version)
    due = reports.due_on(db, application)
    return {"application": application, "definition": definition, "report": report,
            "plan": plan_in_force(db, application) if in_force
            else reports.plan_for(db, application, report),
            "filings": [r for r in reports.reports(db, application)
                        if r.state is not ReportState.DRAFT],
            "variance": reports.variance_of(db, application, report, in_force=in_force),
            "evidence": reports.evidence(application, report), "due": due,
            "overdue": application.state is State.GRANTED and reports.is_overdue(due, clock.now()),
            "final": final_amounts.fixed(db, application),
            "kind_titles": {life.kind: life for life in definition.post_award.useful_lives},
            "rule_messages": {rule.id: rule.message for rule in definition.rules
                              if rule.message is not None},
            **_targets(application), **answer_labels(definition)}


def _chosen(application: Application) -> CompletionReport | None:
    """The filing asked for by `?number=`, else None (404 for a number with no filing)."""
    number = limits.int_arg("number", 0, low=0, high=10_000)
    if not number:
        return None
    found = next((r for r in reports.reports(get_session(), application)
                  if r.number == number), None)
    if found is None:
        abort(404)
    return found


def _render(application: Application, form: ReportForm | None = None, status: int = 200,
            **extra: Any) -> tuple[str, int]:
    db = get_session()
    chosen = _chosen(application)
    editing = chosen is None and _editable(application)
    draft = reports.draft_of(db, application)
    if editing:
        report = draft or reports.latest(db, application)  # or a returned one to start from
        if form is None:
            form = _form_class(application)(data=form_data(Contents.of(report)),
                                            lock_version=draft.lock_version if draft else 0)
        _add_blank_rows(form)
    else:
        report = chosen or next((r for r in reversed(reports.reports(db, application))
                                 if r.state is not ReportState.DRAFT), None)
        form = None
    hints = describe_types(EVIDENCE_TYPES)
    return render_template(
        "report/applicant.html", form=form, editing=editing, draft=draft,
        evidence_types=hints[1 if locale().startswith("en") else 0],
        evidence_accept=",".join(extensions_of(EVIDENCE_TYPES)),
        evidence_mb=current_app.config["MAX_UPLOAD_MB"],
        **_common(application, report, in_force=editing), **extra), status


@bp.get("/applications/<int:application_id>/completion-report")
@require(Permission.APPLICATION_READ_OWN)
def show(application_id: int) -> tuple[str, int]:
    return _render(_post_award(load_application(application_id)))


@bp.post("/applications/<int:application_id>/completion-report")
@require(Permission.APPLICATION_WRITE)
def save(application_id: int) -> Response | tuple[str, int]:
    application = load_application(application_id, for_writing=True)
    if application.state is not State.GRANTED:
        flash(_("The completion report can be changed only while the project runs and the "
                "report is not filed."), "error")
        return redirect(url_for(".show", application_id=application.id), code=303)
    form = _form_class(application)()
    if not form.validate():
        return _render(application, form, 422)
    action = request.form.get("action", "save")
    db = get_session()
    try:
        report = reports.save_draft(db, application, form.contents(),
                                    expected_version=expected_version(form.lock_version),
                                    actor=current_user, now=clock.now())
        refused = _evidence(application, report, action)
        db.commit()
    except (reports.EditConflict, StaleDataError):
        db.rollback()
        return _render(_reloaded(application_id, form), form, 409, conflict=True)
    form.lock_version.data = report.lock_version
    if refused:
        return _render(application, form, 422, upload_errors=refused)
    if action == "submit":
        return _submit(application, report, form)
    args = {"rows": BLANK_LINES} if action == "more_rows" else {}
    if action != "more_rows":
        flash(_("Saved."), "success")
    return redirect(url_for(".show", application_id=application.id, **args) + "#main", code=303)


def _reloaded(application_id: int, form: ReportForm) -> Application:
    application = load_application(application_id, for_writing=True)
    draft = reports.draft_of(get_session(), application)
    form.lock_version.data = draft.lock_version if draft else 0
    return application


def _submit(application: Application, report: CompletionReport,
            form: ReportForm) -> Response | tuple[str, int]:
    db = get_session()
    try:  # the draft is saved already: a refusal keeps everything the grantee wrote
        reports.submit(db, application, report, actor=current_user, now=clock.now())
    except reports.SubmissionRefused as refusal:
        return _render(application, form, 422, problems=_problem_texts(application, refusal))
    except reports.NotRunning:
        db.rollback()
        flash(_("The completion report is filed already."), "error")
        return _render(application, status=409)
    db.commit()
    flash(_("The completion report is filed. The program office is told, and you will be "
            "told by e-mail when it is accepted or returned."), "success")
    return redirect(url_for(".show", application_id=application.id), code=303)


def _problem_texts(application: Application,
                   refusal: reports.SubmissionRefused) -> list[str]:
    titles = answer_labels(definition_of(application.program_version))["category_titles"]
    texts = []
    for problem in refusal.problems:
        if problem.problem is Problem.NO_LINES:
            texts.append(_("Enter at least one actual cost line."))
        elif problem.problem is Problem.JOBS_MISSING:
            texts.append(_("Enter the number of jobs created: this program requires it."))
        elif problem.problem is Problem.CHANGE_PENDING:
            texts.append(_("A plan change request is waiting for the program office: the "
                           "report is filed against the plan once it is decided (or withdraw "
                           "the request)."))
        elif problem.problem is Problem.EQUIPMENT_OVER_PURCHASES:
            texts.append(_("The equipment acquired costs %(items)s in all, more than the "
                           "%(purchased)s of the equipment cost lines bought outright "
                           "(purchase): every item must be paid for by those lines. Correct the "
                           "items' costs or the lines.",
                           items=yen(problem.equipment.items_yen),
                           purchased=yen(problem.equipment.purchased_yen)))
        elif problem.problem is Problem.EQUIPMENT_OUTSIDE_PERIOD:
            texts.append(_("%(item)s: acquired on %(day)s, outside the project period "
                           "(%(start)s to %(end)s). Only what was acquired during the project "
                           "counts.", item=problem.item["name"],
                           day=problem.item["acquired_on"],
                           start=problem.equipment.period_start.isoformat(),
                           end=problem.equipment.period_end.isoformat()))
        else:
            texts.append(_("%(category)s: the actual cost differs from the plan by more than "
                           "the program allows without a reason. Give the reason.",
                           category=titles.get(problem.category, problem.category)))
    return texts


def _evidence(application: Application, report: CompletionReport, action: str) -> list[str]:
    """Remove or add evidence files of the draft; return why any upload was refused."""
    db = get_session()
    if action.startswith("remove:") and action.removeprefix("remove:").isdigit():
        reports.remove_evidence(db, application, report, int(action.removeprefix("remove:")),
                                actor=current_user, now=clock.now())
    refused = []
    max_bytes = current_app.config["MAX_UPLOAD_MB"] * MIB
    for upload in request.files.getlist("evidence"):
        if not upload or not upload.filename:
            continue
        data = upload.read(max_bytes + 1)
        upload.close()
        try:
            detected = validate_upload(data, upload.filename, accept=EVIDENCE_TYPES,
                                       max_bytes=max_bytes)
        except UploadRefused as refusal:
            refused.append(f"{safe_filename(upload.filename)}: {refusal.reason(locale())}")
            continue
        reports.add_evidence(db, application, report, stored_sha256=storage().put(data),
                             filename=safe_filename(upload.filename),
                             mime_type=detected.mime_type, size_bytes=len(data),
                             actor=current_user, now=clock.now())
    return refused


@bp.get("/applications/<int:application_id>/completion-report/evidence/<int:attachment_id>")
@require(Permission.APPLICATION_READ_OWN, Permission.CALL_READ, Permission.AUDIT_READ)
def evidence_file(application_id: int, attachment_id: int) -> Response:
    """An evidence file: the grantee's members any of theirs, staff those of filed reports."""
    application = _post_award(load_readable(application_id))
    own = has_permission(current_user, Permission.APPLICATION_READ_OWN)
    shown = reports.reports(get_session(), application)
    found = next((a for r in shown if own or r.state is not ReportState.DRAFT
                  for a in reports.evidence(application, r) if a.id == attachment_id), None)
    if found is None:
        abort(404)
    return send_stored(found.sha256, found.mime_type, found.filename)


# --- the officer (auditors read) -----------------------------------------------------------


def _staff_page(application: Application, form: DecisionForm | None = None,
                status: int = 200) -> tuple[str, int]:
    report = _chosen(application) or reports.latest(get_session(), application)
    if report is not None and report.state is ReportState.DRAFT:
        report = next((r for r in reversed(reports.reports(get_session(), application))
                       if r.state is not ReportState.DRAFT), None)
    return render_template("report/manage.html", form=form or DecisionForm(),
                           **_common(application, report)), status


@bp.get("/manage/applications/<int:application_id>/completion-report")
@require(Permission.CALL_READ, Permission.AUDIT_READ)
def manage(application_id: int) -> tuple[str, int]:
    return _staff_page(_post_award(load_readable(application_id)))


@bp.post("/manage/applications/<int:application_id>/completion-report")
@require(Permission.CALL_MANAGE)
def decide(application_id: int) -> Response | tuple[str, int]:
    application = _post_award(load_application(application_id))
    db = get_session()
    if reports.filed(db, application) is None:
        return _not_waiting(application)
    form = DecisionForm()
    if not form.validate():
        return _staff_page(application, form, 422)
    try:
        if form.outcome.data == "return":
            reports.return_report(db, application, form.reason.data, actor=current_user,
                                  now=clock.now())
            message = _("The report is returned for correction and the grantee is told.")
        else:
            reports.accept_report(db, application, actor=current_user, now=clock.now())
            message = _("The report is accepted and the grantee is told. Confirm the final "
                        "amount next.")
    except reports.NotFiled:
        return _not_waiting(application)
    db.commit()
    flash(message, "success")
    return redirect(url_for(".manage", application_id=application.id), code=303)


def _not_waiting(application: Application) -> tuple[str, int]:
    """No filed report waits for an answer: another request answered it (or none was filed)."""
    get_session().rollback()
    flash(_("No completion report waits for an answer: it was accepted or returned already, "
            "or none is filed."), "error")
    return _staff_page(application, status=409)


@bp.get("/manage/applications/<int:application_id>/final-amount")
@require(Permission.CALL_READ, Permission.AUDIT_READ)
def final_amount(application_id: int) -> str:
    return _final_page(load_readable(application_id))


def _final_page(application: Application) -> str:
    db = get_session()
    final = final_amounts.fixed(db, application)
    if final is not None:
        computation = final.computation
    elif application.state is State.REPORT_ACCEPTED:
        computation = final_amounts.working_for(db, application).as_dict()
    else:
        abort(404)
    report = reports.accepted(db, application)
    return render_template("report/final_amount.html", computation=computation, form=ConfirmForm(),
                           grant=grant_decisions.grant_of(db, application),
                           **_common(application, report))


@bp.post("/manage/applications/<int:application_id>/final-amount")
@require(Permission.CALL_MANAGE)
def confirm_amount(application_id: int) -> Response | tuple[str, int]:
    application = load_application(application_id)
    db = get_session()
    if reports.accepted(db, application) is None:
        abort(404)
    try:
        final = final_amounts.confirm(db, application, actor=current_user, now=clock.now())
    except final_amounts.AlreadyFixed:
        db.rollback()
        flash(_("The final amount is fixed already."), "error")
        return _final_page(application), 409
    db.commit()
    flash(_("The final amount of %(amount)s is fixed; the grantee is told, and the equipment "
            "is entered in the asset register.", amount=yen(final.amount_yen)), "success")
    return redirect(url_for(".final_amount", application_id=application.id), code=303)


@bp.get("/applications/<int:application_id>/final-amount-letter.pdf")
@require(Permission.APPLICATION_READ_OWN, Permission.APPLICATION_READ_ANY, Permission.AUDIT_READ)
def letter(application_id: int) -> Response:
    """The notice of the final amount (額の確定通知書), once it is fixed."""
    application = load_readable(application_id)
    try:
        pdf = final_amount_letter_pdf(get_session(), application)
    except LookupError:
        abort(404)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition":
            f'attachment; filename="{application.reference}-final-amount.pdf"',
        "Cache-Control": "no-store"})
