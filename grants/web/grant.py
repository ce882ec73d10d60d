"""The grant decision (交付決定) and the plan changes (計画変更): the grantee's pages, the
officer's decision on a change request, and the letter.

The grant decision, the plan history and the letter are read by the applicant organization's
members, the program office and auditors (a funded application's, as part of its record); the
answers and the change requests are the grantee's, the decision on a change the officer's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import BooleanField, HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from grants import clock
from grants.db import get_session
from grants.documents.grant_letter import grant_letter_pdf
from grants.domain import workflow
from grants.domain.budget import share_ja, yen
from grants.domain.definitions import JST
from grants.domain.plan_changes import ChangeRefused, Problem, Proposal, latest_end
from grants.domain.workflow import Action
from grants.forms.answers import DateAnswerField, IntegerAnswerField, options
from grants.forms.review import VisibleText
from grants.models import Application, ChangeRequest, PlanVersion
from grants.services import grant_decisions, plan_changes
from grants.services.plans import plan_in_force
from grants.services.programs import definition_of
from grants.web.access import Permission, load_application, load_readable, require

bp = Blueprint("grant", __name__)

READERS = (Permission.APPLICATION_READ_OWN, Permission.APPLICATION_READ_ANY,
           Permission.AUDIT_READ)


class AcceptForm(FlaskForm):
    accept_conditions = BooleanField(
        _l("On behalf of the organization, I accept the grant decision and its conditions."),
        validators=[DataRequired(message=_l("Confirm that you accept the conditions."))])


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why the organization declines"),
                           validators=[DataRequired(), VisibleText(), Length(max=4000)])
    understood = BooleanField(
        _l("I understand that declining cannot be undone: the award's money goes to other "
           "applications."),
        validators=[DataRequired(message=_l("Confirm that you understand what declining "
                                            "means."))])


class DecideChangeForm(FlaskForm):
    outcome = RadioField(_l("Approve or refuse"), choices=options(
        [("approve", _l("Approve: the plan changes as requested")),
         ("refuse", _l("Refuse: the plan in force stays"))]), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason, shown to the grantee (required to refuse)"),
                           validators=[Optional(), Length(max=4000)])


class ChangeForm(FlaskForm):
    """The fields every change request has; `change_form` adds one amount per category."""

    plan_version = HiddenField(validators=[InputRequired()])  # the plan the form showed

    project_end = DateAnswerField(_l("End of the project"),
                                  description=_l("Leave it as it is to keep the end in force."))
    scope = TextAreaField(_l("What the project does (scope)"),
                          validators=[Optional(), Length(max=8000)])
    reason = TextAreaField(_l("Why the plan must change"),
                           validators=[DataRequired(), VisibleText(), Length(max=8000)])


def change_form(application: Application, amounts: dict[str, int], **data: Any) -> ChangeForm:
    """The change request form, one amount field per category of the plan, in its order."""
    titles = category_titles(application)
    locale = str(get_locale() or "ja")
    fields = {f"amount_{key}": IntegerAnswerField(
        titles[key].get(locale) if key in titles else key, yen=True,
        validators=[InputRequired()]) for key in amounts}
    form_class = type("CategoryChangeForm", (ChangeForm,), fields)
    return form_class(data={**{f"amount_{k}": v for k, v in amounts.items()}, **data})


def category_titles(application: Application) -> dict[str, Any]:
    definition = definition_of(application.program_version)
    return {category.id: category.title for category in definition.budget.categories}


# --- the grant decision -------------------------------------------------------------------------


def _grant_page(application: Application, **forms: Any) -> str:
    grant = grant_decisions.grant_of(get_session(), application)
    if grant is None:
        abort(404)
    context = {"accept_form": AcceptForm(formdata=None), "decline_form": DeclineForm(formdata=None),
               **forms}
    return render_template("grant/show.html", application=application, grant=grant,
                           titles=category_titles(application), **context)


@bp.get("/applications/<int:application_id>/grant-decision")
@require(*READERS)
def show(application_id: int) -> str:
    return _grant_page(load_readable(application_id))


@bp.get("/applications/<int:application_id>/grant-decision.pdf")
@require(*READERS)
def letter(application_id: int) -> Response:
    application = load_readable(application_id)
    try:
        pdf = grant_letter_pdf(get_session(), application)
    except LookupError:  # no grant decision
        abort(404)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition":
            f'attachment; filename="{application.reference}-grant-decision.pdf"',
        "Cache-Control": "no-store"})


@bp.post("/applications/<int:application_id>/grant-decision/accept")
@require(Permission.APPLICATION_WRITE)
def accept(application_id: int) -> BaseResponse | tuple[str, int]:
    application = load_application(application_id, for_writing=True)
    form = AcceptForm()
    if not form.validate():
        return _grant_page(application, accept_form=form), 422
    db = get_session()
    try:
        grant_decisions.accept(db, application, actor=current_user, now=clock.now())
    except grant_decisions.NotAwaitingAnswer:
        return _answered(application)
    db.commit()
    flash(_("The grant decision is accepted: the project runs under plan version 1."), "success")
    return redirect(url_for(".plan", application_id=application.id), code=303)


@bp.post("/applications/<int:application_id>/grant-decision/decline")
@require(Permission.APPLICATION_WRITE)
def decline(application_id: int) -> BaseResponse | tuple[str, int]:
    application = load_application(application_id, for_writing=True)
    form = DeclineForm()
    if not form.validate():
        return _grant_page(application, decline_form=form), 422
    db = get_session()
    try:
        grant_decisions.decline(db, application, form.reason.data, actor=current_user,
                                now=clock.now())
    except grant_decisions.NotAwaitingAnswer:
        return _answered(application)
    db.commit()
    flash(_("The grant decision is declined. The program office is told."), "success")
    return redirect(url_for(".show", application_id=application.id), code=303)


def _answered(application: Application) -> tuple[str, int]:
    get_session().rollback()
    flash(_("This grant decision has been answered already."), "error")
    return _grant_page(application), 409


# --- the plan and its changes -------------------------------------------------------------------


def _plan_page(application: Application, status: int = 200,
               **forms: Any) -> tuple[str, int]:
    db = get_session()
    plan = plan_in_force(db, application)
    if plan is None:
        abort(404)
    waiting = plan_changes.pending(db, application)
    context = {"decide_form": DecideChangeForm(formdata=None), **forms}
    return render_template(
        "grant/plan.html", application=application, plan=plan,
        grant=grant_decisions.grant_of(db, application), pending=waiting,
        proposed=plan_changes.proposed(application, plan, waiting) if waiting else None,
        history=plan_changes.history(db, application),
        requests=plan_changes.requests(db, application),
        titles=category_titles(application), **context), status


@bp.get("/applications/<int:application_id>/plan")
@require(*READERS)
def plan(application_id: int) -> tuple[str, int]:
    return _plan_page(load_readable(application_id))


def _change_page(application: Application, form: ChangeForm, extra: list[str],
                 status: int) -> tuple[str, int]:
    rules = definition_of(application.program_version).post_award
    return render_template("grant/change.html", application=application, form=form,
                           extra=extra, tolerance=share_ja(rules.change_tolerance),
                           grant=grant_decisions.grant_of(get_session(), application),
                           amount_fields=[f for f in form if f.name.startswith("amount_")]), status


def _plan_to_change(application: Application) -> PlanVersion | None:
    """The plan in force the grantee may ask to change; None while a request is pending."""
    db = get_session()
    plan = plan_in_force(db, application)
    if plan is None:
        abort(404)
    workflow.fire(application.state, Action.REQUEST_CHANGE, current_user.role)  # or 409
    if plan_changes.pending(db, application) is not None:
        flash(_("A change request waits for the program office's decision: one at a time. "
                "Withdraw it to ask for another change."), "error")
        return None
    return plan


@bp.get("/applications/<int:application_id>/plan/change")
@require(Permission.APPLICATION_WRITE)
def change(application_id: int) -> BaseResponse | tuple[str, int]:
    application = load_application(application_id, for_writing=True)
    plan = _plan_to_change(application)
    if plan is None:
        return redirect(url_for(".plan", application_id=application.id), code=303)
    form = change_form(application, dict(plan.category_amounts), plan_version=plan.number,
                       project_end=plan.project_end.isoformat(), scope=plan.scope)
    return _change_page(application, form, [], 200)


@bp.post("/applications/<int:application_id>/plan/change")
@require(Permission.APPLICATION_WRITE)
def request_change(application_id: int) -> BaseResponse | tuple[str, int]:
    application = load_application(application_id, for_writing=True)
    plan = _plan_to_change(application)
    if plan is None:
        return _plan_page(application, 409)
    form = change_form(application, dict(plan.category_amounts))
    if not form.validate():
        return _change_page(application, form, [], 422)
    proposal = Proposal(
        {key: form[f"amount_{key}"].data for key in plan.category_amounts},
        dt.date.fromisoformat(form.project_end.data) if form.project_end.data else None,
        form.scope.data)
    db = get_session()
    try:
        request = plan_changes.request_change(
            db, application, proposal, form.reason.data,
            based_on=int(form.plan_version.data) if form.plan_version.data.isdigit() else 0,
            actor=current_user, now=clock.now())
    except plan_changes.StalePlan:
        db.rollback()
        form.plan_version.data = str(plan.number)
        return _change_page(application, form, [_(
            "The plan in force changed (it is now version %(n)d) since this form was opened: "
            "check the amounts, end and scope below against it, then send the request again.",
            n=plan.number)], 409)
    except ChangeRefused as refused:
        db.rollback()
        return _change_page(application, form, _problems(application, form, refused), 422)
    db.commit()
    flash(_("Change request %(n)d is sent to the program office. You will be told its "
            "decision by e-mail.", n=request.number), "success")
    return redirect(url_for(".plan", application_id=application.id), code=303)


def _problems(application: Application, form: ChangeForm, refused: ChangeRefused) -> list[str]:
    """Put each problem on its field; return those that concern the request as a whole."""
    rules = definition_of(application.program_version).post_award
    grant = grant_decisions.grant_of(get_session(), application)
    today = clock.now().astimezone(JST).date()
    on_end = {
        Problem.END_BEFORE_START: _("The end cannot be before the project starts (%(start)s).",
                                    start=grant.project_start.isoformat()),
        Problem.END_IN_PAST: _("The end cannot be before today (%(today)s).",
                               today=today.isoformat()),
        Problem.END_TOO_LATE: _(
            "The project can be carried at most to %(latest)s (the end of the fiscal year the "
            "program allows after the grant decision's).", latest=latest_end(
                grant.project_end, rules.max_extension_fiscal_years).isoformat()),
    }
    whole = {
        Problem.NOTHING_CHANGED: _("The request changes nothing in the plan in force."),
        Problem.PROJECT_ENDED: _(
            "The project in force has ended: its plan no longer changes. Explain the "
            "differences in the completion report."),
        Problem.WITHIN_TOLERANCE: _(
            "Every amount moves by at most %(share)s of its category's planned amount: that "
            "needs no approval. Spend within the plan and explain the differences in the "
            "completion report.", share=share_ja(rules.change_tolerance)),
        Problem.UNKNOWN_CATEGORY: _("The amounts must be those of the plan's categories."),
        Problem.NEGATIVE_AMOUNT: _("An amount cannot be negative."),
        Problem.OVER_GRANT: _("The amounts add up to more than the grant decision's %(amount)s.",
                              amount=yen(grant.amount_yen)),
    }
    form.project_end.errors = [on_end[p] for p in refused.problems if p in on_end]
    return [whole[p] for p in refused.problems if p in whole]


def _change_request(application: Application, number: int) -> ChangeRequest:
    found = next((r for r in plan_changes.requests(get_session(), application)
                  if r.number == number), None)
    if found is None:
        abort(404)
    return found


@bp.post("/applications/<int:application_id>/plan/changes/<int:number>/withdraw")
@require(Permission.APPLICATION_WRITE)
def withdraw_change(application_id: int, number: int) -> BaseResponse | tuple[str, int]:
    application = load_application(application_id, for_writing=True)
    request = _change_request(application, number)
    db = get_session()
    try:
        plan_changes.withdraw(db, request, actor=current_user, now=clock.now())
    except plan_changes.NotPending:
        db.rollback()
        flash(_("This change request has been decided or withdrawn already."), "error")
        return _plan_page(application, 409)
    db.commit()
    flash(_("Change request %(n)d is withdrawn.", n=number), "success")
    return redirect(url_for(".plan", application_id=application.id), code=303)


@bp.post("/manage/applications/<int:application_id>/plan/changes/<int:number>/decide")
@require(Permission.CALL_MANAGE)
def decide_change(application_id: int, number: int) -> BaseResponse | tuple[str, int]:
    application = load_application(application_id)
    request = _change_request(application, number)
    form = DecideChangeForm()
    if not form.validate():
        return _plan_page(application, 422, decide_form=form)
    db = get_session()
    try:
        if form.outcome.data == "approve":
            plan_changes.approve(db, request, actor=current_user, now=clock.now())
        else:
            plan_changes.refuse(db, request, form.reason.data or "", actor=current_user,
                                now=clock.now())
    except plan_changes.ReasonRequired:
        db.rollback()
        form.reason.errors = [_("Give the reason for refusing: the grantee reads it.")]
        return _plan_page(application, 422, decide_form=form)
    except plan_changes.NotPending:
        db.rollback()
        flash(_("This change request has been decided or withdrawn already."), "error")
        return _plan_page(application, 409)
    except ChangeRefused:
        db.rollback()
        form.outcome.errors = [_("The requested end has passed: refuse this request, and the "
                                 "grantee may ask again.")]
        return _plan_page(application, 409, decide_form=form)
    db.commit()
    flash(_("The decision on change request %(n)d is recorded and the grantee is notified.",
            n=number), "success")
    return redirect(url_for(".plan", application_id=application.id), code=303)
