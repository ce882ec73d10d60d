"""The applicant's form: one step per page, check your answers, submit, receipt."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

from grants import clock
from grants.db import get_session
from grants.domain import workflow
from grants.domain.consortia import consortium_summary
from grants.domain.identifiers import normalize
from grants.domain.localgov import load_registry
from grants.forms.builder import (
    BLANK_ROWS,
    answers_from_form,
    build_step_form,
    form_data,
)
from grants.models import Application, Organization
from grants.services import apply, decide
from grants.services.programs import definition_of
from grants.storage import Storage, stores_of
from grants.templating import answer_labels
from grants.web import kept, limits, uploads
from grants.web.access import Permission, has_permission, load_application, require

bp = Blueprint("apply", __name__)

SEARCH_CHARS = 50  # a local government's name or code is far shorter
ROW_KINDS = ("partners", "consortium", "budget_lines")
LG_LIST_KINDS = ("partners", "consortium")  # lists a local government found by search joins
JUSTIFICATION_PREFIX = "justification-"  # + rule id, the text boxes beside in-principle findings


class SubmitForm(FlaskForm):
    confirm = BooleanField(
        _l(
            "I confirm that these answers are correct and complete. "
            "After submission they cannot be changed."
        ),
        validators=[DataRequired(message=_l("Confirm that the answers are correct."))],
    )
    lock_version = HiddenField()  # the draft as shown: reasons typed on a stale copy are refused


def expected_version(field: HiddenField) -> int:
    """The lock version a form was loaded with; anything but a plain number matches nothing."""
    text = field.data or ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else -1


def storage() -> Storage:
    return stores_of(current_app).files


def locale() -> str:
    return str(get_locale() or "ja")


@bp.get("/applications")
@require(Permission.APPLICATION_READ_OWN, Permission.APPLICATION_READ_ANY)
def dashboard() -> str:
    query = (
        sa.select(Application)
        .options(
            sa.orm.joinedload(Application.program_version),
            sa.orm.joinedload(Application.organization),
        )
        .order_by(Application.updated_at.desc())
    )
    if has_permission(current_user, Permission.APPLICATION_READ_OWN):
        query = query.where(Application.organization_id == current_user.organization_id)
    else:
        query = query.where(Application.state != workflow.State.DRAFT)
    applications = get_session().scalars(query).all()
    rows = [(a, definition_of(a.program_version)) for a in applications]
    return render_template("apply/dashboard.html", rows=rows)


def _context(application: Application) -> dict[str, Any]:
    definition = definition_of(application.program_version)
    return {
        "application": application,
        "definition": definition,
        "steps": definition.steps,
        "findings": apply.findings_for(application),
        **answer_labels(definition),
        "step_urls": {
            field.id: url_for(".step", application_id=application.id, step_id=step.id)
            for step in definition.steps
            for field in step.fields
        },
        "attachment_dicts": [
            {"field": a.field_id, "filename": a.filename, "sha256": a.sha256}
            for a in application.attachments
        ],
    }


@bp.get("/applications/<int:application_id>/start")
@require(Permission.APPLICATION_WRITE)
def first_step(application_id: int) -> Response:
    application = load_application(application_id, for_writing=True)
    first = definition_of(application.program_version).steps[0].id
    return redirect(url_for(".step", application_id=application.id, step_id=first))


def _step_or_404(definition: Any, step_id: str) -> tuple[int, Any]:
    for index, step in enumerate(definition.steps):
        if step.id == step_id:
            return index, step
    abort(404)


def _add_blank_rows(form: FlaskForm, step: Any) -> None:
    """Offer blank rows to fill in (more after "Add more rows"), never beyond the field's limit."""
    for field in step.fields:
        if field.kind in ROW_KINDS:
            rows = form[f"f_{field.id}"]
            saved = sum(1 for row in rows if not row.form.is_blank())
            extra = limits.int_arg("rows", 0, low=0, high=field.max_rows)
            while len(rows) < min(saved + BLANK_ROWS + extra, field.max_rows):
                rows.append_entry()


def render_step(
    application: Application, step_id: str, form: FlaskForm | None = None, **extra: Any
) -> str:
    context = _context(application)
    definition = context["definition"]
    index, step = _step_or_404(definition, step_id)
    if form is None:
        form_class = build_step_form(
            definition, application.program_version.sha256, step.id, locale()
        )
        form = form_class(
            data=form_data(step, application.answers), lock_version=application.lock_version
        )
    _add_blank_rows(form, step)
    step_fields = {f.id for f in step.fields}
    budget_field = definition.budget_field
    on_budget_step = budget_field is not None and budget_field.id in step_fields
    summary = apply.budget_summary(application) if on_budget_step else None
    query = request.args.get("q", "").strip()[:SEARCH_CHARS]
    return render_template(
        "apply/step.html",
        step=step,
        index=index,
        form=form,
        summary=summary,
        step_findings=_step_findings(application, step, context["findings"]),
        attachments=[a for a in application.attachments if a.field_id in step_fields],
        file_hints=uploads.file_hints(step),
        search_results=load_registry().search(query, limit=15) if query else [],
        query=query,
        **context,
        **extra,
    )


def _step_findings(application: Application, step: Any, findings: list) -> list:
    """Findings about this step's fields, once the step has been saved (not on a first visit)."""
    answered = [f for f in step.fields if f.kind != "file"]
    if answered and not any(f.id in application.answers for f in answered):
        return []
    step_fields = {f.id for f in step.fields}
    return [finding for finding in findings if finding.field in step_fields]


@bp.get("/applications/<int:application_id>/steps/<step_id>")
@require(Permission.APPLICATION_WRITE)
def step(application_id: int, step_id: str) -> str | Response:
    application = load_application(application_id, for_writing=True)
    if application.state not in workflow.EDITABLE_STATES:
        return redirect(url_for(".show", application_id=application.id))
    restored = kept.restore(application, step_id)
    if restored is not None:
        definition = definition_of(application.program_version)
        form_class = build_step_form(
            definition, application.program_version.sha256, step_id, locale()
        )
        form = form_class(formdata=restored)
        form.lock_version.data = application.lock_version
        flash(_("Your unsaved answers were kept. Check them, then save."), "warning")
        return render_step(application, step_id, form)
    return render_step(application, step_id)


@bp.post("/applications/<int:application_id>/steps/<step_id>")
@require(Permission.APPLICATION_WRITE)
def save_step(application_id: int, step_id: str) -> str | Response:
    application = load_application(application_id, for_writing=True)
    if application.state not in workflow.EDITABLE_STATES:
        flash(_("This application has been submitted and can no longer be changed."), "error")
        return redirect(url_for(".show", application_id=application.id), code=303)
    definition = definition_of(application.program_version)
    index, step_def = _step_or_404(definition, step_id)
    form = build_step_form(definition, application.program_version.sha256, step_id, locale())()
    action = request.form.get("action", "save")
    if not form.validate():
        return render_step(application, step_id, form), 422
    try:
        values = _apply_row_actions(step_def, answers_from_form(step_def, form), action)
    except _ListFull as full:
        form[f"f_{full.field.id}"].errors.append(
            _("This list holds at most %(limit)d rows and is full, so nothing on this page was "
              "saved. Remove a row before adding another.", limit=full.field.max_rows)
        )
        return render_step(application, step_id, form), 422
    db = get_session()
    try:
        apply.save_answers(
            db,
            application,
            values,
            expected_version=expected_version(form.lock_version),
            actor=current_user,
            now=clock.now(),
        )
        upload_errors = uploads.handle(
            db, application, step_def, action, actor=current_user, storage=storage()
        )
        db.commit()
    except (apply.EditConflict, StaleDataError):
        db.rollback()
        application = load_application(application_id, for_writing=True)
        form.lock_version.data = application.lock_version
        return render_step(application, step_id, form, conflict=True), 409
    if upload_errors:  # the answers were saved: the next save must not look like a conflict
        form.lock_version.data = application.lock_version
        return render_step(application, step_id, form, upload_errors=upload_errors), 422
    return _after_save(application, definition, index, action)


class _ListFull(Exception):
    """A row was to be added to a list already at its `max_rows`."""

    def __init__(self, field: Any) -> None:
        super().__init__(field.id)
        self.field = field


def _apply_row_actions(step_def: Any, values: dict[str, Any], action: str) -> dict[str, Any]:
    """Add a local government picked from the search results to the step's partners or
    consortium list."""
    if action.startswith("add_partner:"):
        government = load_registry().get(normalize(action.removeprefix("add_partner:")))
        field = next((f for f in step_def.fields if f.kind in LG_LIST_KINDS), None)
        if government and field:
            rows = list(values.get(field.id) or [])
            if len(rows) >= field.max_rows:
                raise _ListFull(field)
            rows.append(
                {"code": government.code, "name": government.name, "kind": "local_government",
                 "role": ""}
            )
            values[field.id] = rows
    return values


def _after_save(application: Application, definition: Any, index: int, action: str) -> Response:
    steps = definition.steps
    if action == "next":
        if index + 1 < len(steps):
            return redirect(
                url_for(".step", application_id=application.id, step_id=steps[index + 1].id),
                code=303,
            )
        return redirect(url_for(".check", application_id=application.id), code=303)
    if action == "back" and index > 0:
        return redirect(
            url_for(".step", application_id=application.id, step_id=steps[index - 1].id), code=303
        )
    args: dict[str, Any] = {}
    if action == "more_rows":
        args["rows"] = BLANK_ROWS
    if action == "search":
        args["q"] = request.form.get("partner_query", "")[:SEARCH_CHARS]
    if action in ("save", "recalculate", "upload"):
        flash(_("Saved."), "success")
    return redirect(
        url_for(".step", application_id=application.id, step_id=steps[index].id, **args) + "#main",
        code=303,
    )


@bp.get("/applications/<int:application_id>/check")
@require(Permission.APPLICATION_WRITE)
def check(application_id: int) -> str | Response:
    application = load_application(application_id, for_writing=True)
    if application.state not in workflow.EDITABLE_STATES:
        return redirect(url_for(".show", application_id=application.id))
    return _render_check(application, SubmitForm())


def _render_check(application: Application, form: SubmitForm, **extra: Any) -> str:
    context = _context(application)
    definition = context["definition"]
    summary = apply.budget_summary(application)
    blocking = [f for f in context["findings"] if f.blocking]
    form.lock_version.data = application.lock_version  # the page shows the draft as saved now
    return render_template(
        "apply/check.html",
        form=form,
        summary=summary,
        consortium=consortium_summary(definition, apply.application_data(application)),
        blocking=blocking,
        open=apply.is_open(definition, clock.now()),
        **context,
        **extra,
    )


@bp.post("/applications/<int:application_id>/submit")
@require(Permission.APPLICATION_WRITE)
def submit(application_id: int) -> str | Response:
    application = load_application(application_id, for_writing=True)
    form = SubmitForm()
    if application.state is workflow.State.SUBMITTED:
        return redirect(url_for(".show", application_id=application.id), code=303)
    db = get_session()
    try:
        _keep_justifications(db, application, form)
    except (apply.EditConflict, StaleDataError):
        db.rollback()
        application = load_application(application_id, for_writing=True)
        return _render_check(application, form, conflict=True), 409
    if not form.validate():
        return _render_check(application, form), 422
    try:
        receipt = apply.submit(
            db, application, actor=current_user, storage=storage(), now=clock.now()
        )
    except apply.SubmissionRefused as refused:
        db.rollback()
        return _render_check(application, form, refused=refused.findings), 422
    except apply.CallClosed:
        db.rollback()
        return _render_check(application, form, closed=True), 409
    db.commit()
    return redirect(
        url_for(".receipt", application_id=application.id, number=receipt.number), code=303
    )


def _keep_justifications(db: Any, application: Application, form: SubmitForm) -> None:
    """Save the reasons typed beside in-principle findings, even if the submission then fails;
    raise `apply.EditConflict` when the draft was saved since the page was loaded."""
    texts = {
        key.removeprefix(JUSTIFICATION_PREFIX): value
        for key, value in request.form.items()
        if key.startswith(JUSTIFICATION_PREFIX)
    }
    if texts and application.state in workflow.EDITABLE_STATES:
        apply.justify(db, application, texts, expected_version=expected_version(form.lock_version),
                      actor=current_user, now=clock.now())
        db.commit()


@bp.get("/applications/<int:application_id>/receipt/<int:number>")
@require(Permission.APPLICATION_READ_OWN)
def receipt(application_id: int, number: int) -> str:
    application = load_application(application_id)
    submission = next((s for s in application.submissions if s.number == number), None)
    if submission is None:
        abort(404)
    return render_template(
        "apply/receipt.html",
        application=application,
        submission=submission,
        definition=definition_of(application.program_version),
    )


@bp.get("/applications/<int:application_id>")
@require(Permission.APPLICATION_READ_OWN, Permission.APPLICATION_READ_ANY)
def show(application_id: int) -> str | Response:
    application = load_application(application_id)
    if application.state in workflow.EDITABLE_STATES and has_permission(
        current_user, Permission.APPLICATION_WRITE
    ):
        return redirect(url_for(".check", application_id=application.id))
    submission = application.submissions[-1] if application.submissions else None
    snapshot = json.loads(submission.snapshot) if submission else None
    organization = get_session().get(Organization, application.organization_id)
    definition = definition_of(application.program_version)
    return render_template(
        "apply/show.html",
        application=application,
        submission=submission,
        snapshot=snapshot,
        organization=organization,
        definition=definition,
        outcome=decide.published_outcome(get_session(), application),
        **answer_labels(definition),
    )
