"""The asset register (財産管理台帳): the grantee's, the officer's and the auditor's pages.

The grantee asks to dispose of or repurpose an asset inside its restriction (and may withdraw
the request until it is decided), or records the disposal after it; the officer decides the
requests; the auditor reads the register. A register exists once the final amount is fixed
(COMPLETED): before, its pages do not. A request decided or withdrawn in the meantime (another
tab, a double click) is refused with 409 and says so.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from grants import clock
from grants.db import get_session
from grants.domain.assets import BeforeAcquisition, needs_approval
from grants.domain.workflow import State
from grants.forms.assets import (
    DISPOSAL_STATE_LABELS,
    KIND_LABELS,
    STATE_LABELS,
    DisposalDecisionForm,
    DisposalRecordForm,
    DisposalRequestForm,
    day_of,
)
from grants.models import Application, Asset, DisposalKind
from grants.services import assets, auditing
from grants.services.followups import japan_day
from grants.services.programs import definition_of
from grants.templating import yen
from grants.web.access import Permission, load_application, require

bp = Blueprint("assets", __name__)

DAY_MESSAGES = {
    "no_approval_needed": lambda until: _(
        "The disposal restriction ends on %(day)s: from the day after, no approval is needed. "
        "Record the disposal here once it is done.", day=until.isoformat()),
    "in_the_past": lambda _until: _("Choose a day from today on."),
    "approval_needed": lambda until: _(
        "The disposal restriction runs until %(day)s: inside it, ask for the officer's "
        "approval first.", day=until.isoformat()),
    "in_the_future": lambda _until: _("Record a disposal once it is done: the day cannot be "
                                      "after today."),
}

# The endpoint each form posts to (a refused form is shown again as it was sent).
FORM_ACTIONS = {DisposalRequestForm: "assets.request_disposal",
                DisposalRecordForm: "assets.record_disposal",
                DisposalDecisionForm: "assets.decide"}


def _completed(application: Application) -> Application:
    if application.state is not State.COMPLETED:
        abort(404)  # the register is made when the final amount is fixed
    return application


def _asset(application: Application, asset_id: int) -> Asset:
    found = assets.asset_of(get_session(), application, asset_id)
    if found is None:
        abort(404)
    return found


def _labels(application: Application) -> dict[str, Any]:
    """The words a register page needs: the program's asset kinds, states, disposal kinds."""
    definition = definition_of(application.program_version)
    return {"definition": definition, "kind_labels": KIND_LABELS, "state_labels": STATE_LABELS,
            "disposal_state_labels": DISPOSAL_STATE_LABELS,
            "kinds": {life.kind: life.title for life in definition.post_award.useful_lives}}


def _register(application: Application, side: str) -> str:
    return render_template(
        "assets/register.html", application=application, side=side,
        assets=assets.register(get_session(), application), today=japan_day(clock.now()),
        **_labels(application))


def _asset_page(application: Application, asset: Asset, side: str, *,
                form: Any = None, status: int = 200) -> tuple[str, int]:
    today = japan_day(clock.now())
    restricted = needs_approval(asset.restricted_until, today)
    if form is None and side == "applicant":
        form = DisposalRequestForm() if restricted else DisposalRecordForm()
    pending = assets.pending(asset)
    if form is None:
        form = DisposalDecisionForm(formdata=None, disposal=pending.id if pending else "")
    return render_template(
        "assets/asset.html", application=application, asset=asset, side=side, form=form,
        action=FORM_ACTIONS[type(form)], today=today, restricted=restricted, pending=pending,
        today_working=assets.working(asset, today).to_dict()
        if restricted and today >= asset.acquired_on else None,
        **_labels(application)), status


# --- the grantee -----------------------------------------------------------------------------


@bp.get("/applications/<int:application_id>/assets")
@require(Permission.APPLICATION_READ_OWN)
def register(application_id: int) -> str:
    return _register(_completed(load_application(application_id)), "applicant")


@bp.get("/applications/<int:application_id>/assets/<int:asset_id>")
@require(Permission.APPLICATION_READ_OWN)
def show(application_id: int, asset_id: int) -> tuple[str, int]:
    application = _completed(load_application(application_id))
    return _asset_page(application, _asset(application, asset_id), "applicant")


@bp.post("/applications/<int:application_id>/assets/<int:asset_id>/disposal-request")
@require(Permission.APPLICATION_WRITE)
def request_disposal(application_id: int, asset_id: int) -> Response | tuple[str, int]:
    application = _completed(load_application(application_id, for_writing=True))
    asset = _asset(application, asset_id)
    form = DisposalRequestForm()
    if not form.validate():
        return _asset_page(application, asset, "applicant", form=form, status=422)
    return _act(application, asset, form, form.planned_on, lambda db: assets.request_disposal(
        db, asset, kind=DisposalKind(form.kind.data), planned_on=day_of(form.planned_on),
        reason=form.reason.data, actor=current_user, now=clock.now()),
        _("Your request is sent to the program office."))


@bp.post("/applications/<int:application_id>/assets/<int:asset_id>/disposal-record")
@require(Permission.APPLICATION_WRITE)
def record_disposal(application_id: int, asset_id: int) -> Response | tuple[str, int]:
    application = _completed(load_application(application_id, for_writing=True))
    asset = _asset(application, asset_id)
    form = DisposalRecordForm()
    if not form.validate():
        return _asset_page(application, asset, "applicant", form=form, status=422)
    return _act(application, asset, form, form.disposed_on, lambda db: assets.record_disposal(
        db, asset, kind=DisposalKind(form.kind.data), disposed_on=day_of(form.disposed_on),
        reason=form.reason.data, actor=current_user, now=clock.now()),
        _("The disposal is recorded in the register."))


def _act(application: Application, asset: Asset, form: Any, day_field: Any, act: Any,
         done: str) -> Response | tuple[str, int]:
    """Run the grantee's request or record; a refusal shows the form again with the answers."""
    db = get_session()
    try:
        act(db)
    except assets.DayRefused as refused:
        day_field.errors = [DAY_MESSAGES[str(refused)](refused.until)]
    except BeforeAcquisition:
        day_field.errors = [_("Choose a day from the day the asset was acquired on.")]
    except (assets.NotHeld, assets.AlreadyPending):
        form.kind.errors = [_("This asset was disposed of already, or a request about it "
                              "awaits the officer's decision.")]
    else:
        db.commit()
        flash(done, "success")
        return redirect(url_for(".show", application_id=application.id, asset_id=asset.id),
                        code=303)
    db.rollback()
    return _asset_page(application, asset, "applicant", form=form, status=409)


@bp.post("/applications/<int:application_id>/assets/<int:asset_id>/disposals/<int:disposal_id>"
         "/withdraw")
@require(Permission.APPLICATION_WRITE)
def withdraw(application_id: int, asset_id: int, disposal_id: int) -> Response | tuple[str, int]:
    application = _completed(load_application(application_id, for_writing=True))
    asset = _asset(application, asset_id)
    disposal = next((d for d in asset.disposals if d.id == disposal_id), None)
    if disposal is None:
        abort(404)
    db = get_session()
    try:
        assets.withdraw(db, disposal, actor=current_user, now=clock.now())
    except (assets.NotPending, assets.NotHeld) as refused:
        return _no_longer_pending(application, asset, "applicant", refused)
    db.commit()
    flash(_("Your request is withdrawn."), "success")
    return redirect(url_for(".show", application_id=application.id, asset_id=asset.id), code=303)


def _no_longer_pending(application: Application, asset: Asset, side: str,
                       refused: Exception | None = None) -> tuple[str, int]:
    """409: the request was decided or withdrawn meanwhile, or the asset disposed of."""
    get_session().rollback()
    flash(_("This asset was disposed of or repurposed already.")
          if isinstance(refused, assets.NotHeld)
          else _("This request has been decided or withdrawn already."), "error")
    return _asset_page(application, asset, side, status=409)


# --- the officer -----------------------------------------------------------------------------


@bp.get("/manage/applications/<int:application_id>/assets")
@require(Permission.CALL_READ)
def manage_register(application_id: int) -> str:
    return _register(_completed(load_application(application_id)), "officer")


@bp.get("/manage/applications/<int:application_id>/assets/<int:asset_id>")
@require(Permission.CALL_READ)
def manage_asset(application_id: int, asset_id: int) -> tuple[str, int]:
    application = _completed(load_application(application_id))
    return _asset_page(application, _asset(application, asset_id), "officer")


@bp.post("/manage/applications/<int:application_id>/assets/<int:asset_id>/decision")
@require(Permission.CALL_MANAGE)
def decide(application_id: int, asset_id: int) -> Response | tuple[str, int]:
    application = _completed(load_application(application_id))
    asset = _asset(application, asset_id)
    disposal = assets.pending(asset)
    if disposal is None:
        return _no_longer_pending(application, asset, "officer")
    form = DisposalDecisionForm()
    if not form.validate():
        return _asset_page(application, asset, "officer", form=form, status=422)
    if form.disposal.data != str(disposal.id):  # the one shown was withdrawn, asked again
        return _no_longer_pending(application, asset, "officer")
    db = get_session()
    approve = form.outcome.data == "approve"
    try:
        assets.decide(db, disposal, approve=approve, reason=form.reason.data or "",
                      actor=current_user, now=clock.now())
    except (assets.NotPending, assets.NotHeld) as refused:
        return _no_longer_pending(application, asset, "officer", refused)
    db.commit()
    flash(_("The request is approved: the repayment of %(amount)s is due.",
            amount=yen(disposal.repayment_yen)) if approve
          else _("The request is refused."), "success")
    return redirect(url_for(".manage_asset", application_id=application.id, asset_id=asset.id),
                    code=303)


# --- the auditor -----------------------------------------------------------------------------


@bp.get("/audit/applications/<int:application_id>/assets")
@require(Permission.AUDIT_READ)
def audit_register(application_id: int) -> str:
    found = auditing.load_funded(get_session(), application_id)
    if found is None:
        abort(404)
    return _register(_completed(found.application), "auditor")
