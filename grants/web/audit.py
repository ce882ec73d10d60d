"""Auditors: search funded applications, open one, download its record or a whole batch.

Read-only. The only things an auditor may POST here are batch requests, which change no
record: one queues a ZIP of the search's records (built inline, or by RQ workers when
REDIS_URL is set, see grants.jobs), the other queues a failed or expired batch of theirs
again. Every download, of one record or of a batch, is an audit event. Officers hold the same
permission (they answer the Board of Audit's requests for documents); applicants and reviewers
do not.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from grants import clock, jobs
from grants.db import begin_write, get_session
from grants.domain.identifiers import normalize
from grants.domain.localgov import load_registry
from grants.forms.answers import IntegerAnswerField, options
from grants.i18n import to_jst
from grants.models import Application, BatchJob, BatchState
from grants.models.batches import DocumentKind
from grants.services import auditing, batches
from grants.services.auditing import Criteria, FollowupFilter
from grants.storage import stores_of
from grants.templating import localized
from grants.web import documents, limits
from grants.web.access import Permission, require

bp = Blueprint("audit", __name__, url_prefix="/audit")

MAX_PAGE = 100_000  # past the last page shows the last page (see auditing.search_funded)


FOLLOWUP_LABELS = {
    FollowupFilter.OPERATING: _l("Operating, at the latest report"),
    FollowupFilter.PARTLY: _l("Partly operating, at the latest report"),
    FollowupFilter.STOPPED: _l("Stopped, at the latest report"),
    FollowupFilter.OVERDUE: _l("A report past its due date, not filed"),
}


def _printable(_form: Any, field: Any) -> None:
    if field.data and any(ord(ch) < 32 or ord(ch) == 127 for ch in field.data):
        raise ValidationError(_l("Remove the control characters."))


def _local_government(_form: Any, field: Any) -> None:
    if field.data:
        found = load_registry().lookup(field.data)
        if not found.ok:
            raise ValidationError(localized(found.message))
        field.data = found.code


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search; the batch POST is covered by the app-wide CSRF check

    call = SelectField(_l("Call"), default="")
    fiscal_year = SelectField(_l("Fiscal year"), default="")
    prefecture = SelectField(_l("Prefecture (of the applicant)"), default="")
    lg_code = StringField(
        _l("Local government taking part"), filters=[normalize],
        validators=[Optional(), Length(max=20), _printable, _local_government],
        description=_l("Its 6-digit code (全国地方公共団体コード): the lead or a partner."))
    organization = StringField(
        _l("Organization name contains"), filters=[lambda text: text.strip() if text else text],
        validators=[Optional(), Length(max=200), _printable])
    min_yen = IntegerAnswerField(_l("Awarded at least (yen)"), validators=[Optional()], yen=True)
    max_yen = IntegerAnswerField(_l("Awarded at most (yen)"), validators=[Optional()], yen=True)
    followup = SelectField(_l("Follow-up reports"), default="", description=_l(
        "After completion: what the latest yearly follow-up report said, or a report not filed "
        "by its due date."))
    restricted_assets = BooleanField(  # "0" from a hand-made link is off, as "" is
        _l("Only projects holding an asset still under its disposal restriction"),
        false_values=("false", "", "0"))

    def validate_max_yen(self, field: Any) -> None:
        if field.data is not None and self.min_yen.data is not None \
                and field.data < self.min_yen.data:
            raise ValidationError(_("Enter an amount no smaller than the minimum."))


def _search_form(formdata: MultiDict[str, str],
                 versions: dict[int, auditing.VersionInfo]) -> SearchForm:
    form = SearchForm(formdata=formdata)
    any_ = ("", _("Any"))
    calls = {v.program_key: v for v in sorted(versions.values(), key=lambda v: v.id)}
    form.call.choices = options([any_, *sorted(
        ((key, localized(v.title)) for key, v in calls.items()), key=lambda pair: pair[1])])
    years = sorted({v.fiscal_year for v in versions.values()}, reverse=True)
    form.fiscal_year.choices = options(
        [any_, *((str(year), _("FY%(year)d", year=year)) for year in years)])
    form.prefecture.choices = options([any_, *auditing.prefectures().items()])
    form.followup.choices = options([any_, *FOLLOWUP_LABELS.items()])
    return form



def _criteria(form: SearchForm) -> Criteria:
    return Criteria(
        program_key=form.call.data or None,
        fiscal_year=int(form.fiscal_year.data) if form.fiscal_year.data else None,
        prefecture_code=form.prefecture.data or None,
        lg_code=form.lg_code.data or None,
        organization=form.organization.data or None,
        min_yen=form.min_yen.data,
        max_yen=form.max_yen.data,
        followup=form.followup.data or None,
        restricted_assets=form.restricted_assets.data or None,
    )


def _query(form: SearchForm) -> dict[str, str]:
    """The search as query arguments (for page links and the batch form), empty ones left out
    (a ticked box as "y")."""
    return {field.name: "y" if field.data is True else str(field.data)
            for field in form if field.data not in (None, "") and field.data is not False}


def _search_page(form: SearchForm, status: int = 200, **extra: Any) -> tuple[str, int]:
    page = None
    if not form.errors:
        page = auditing.search_funded(get_session(), _criteria(form),
                                      today=to_jst(clock.now()).date(),
                                      page=limits.int_arg("page", 1, low=1, high=MAX_PAGE))
    return render_template("audit/search.html", form=form, page=page, query=_query(form),
                           batch_limit=batches.LIMIT, **extra), status


@bp.get("/")
@require(Permission.AUDIT_READ)
def search_funded() -> tuple[str, int]:
    form = _search_form(request.args, auditing.program_versions(get_session()))
    return _search_page(form, 200 if form.validate() else 422)


@bp.get("/applications/<int:application_id>")
@require(Permission.AUDIT_READ)
def show_application(application_id: int) -> str:
    found = auditing.load_funded(get_session(), application_id)
    if found is None:
        abort(404)
    return render_template("audit/application.html", record=found,
                           prefecture=auditing.prefecture_of(found.application.organization.lg_code))


@bp.get("/applications/<int:application_id>/record.pdf")
@require(Permission.AUDIT_READ)
def download_record(application_id: int) -> Response:
    application = _funded(application_id)
    return documents.send_or_queue(
        lambda: jobs.render_record(get_session(), application),
        lambda pdf: _send_record(application, pdf),
        DocumentKind.RECORD, application, ".record_job", application_id=application_id)


@bp.get("/applications/<int:application_id>/record/<int:job_id>")
@require(Permission.AUDIT_READ)
def record_job(application_id: int, job_id: int) -> Response:
    """A record too slow for its request, being built in the background (grants.web.documents)."""
    application = _funded(application_id)
    return documents.job_page(
        documents.own_job(job_id, DocumentKind.RECORD, application), application,
        back=url_for(".show_application", application_id=application_id),
        download=url_for(".record_job_file", application_id=application_id, job_id=job_id))


@bp.get("/applications/<int:application_id>/record/<int:job_id>.pdf")
@require(Permission.AUDIT_READ)
def record_job_file(application_id: int, job_id: int) -> Response:
    application = _funded(application_id)
    job = documents.own_job(job_id, DocumentKind.RECORD, application)
    return _send_record(application, documents.kept_pdf(job))


def _funded(application_id: int) -> Application:
    found = auditing.load_funded(get_session(), application_id)
    if found is None:
        abort(404)
    return found.application


def _send_record(application: Application, pdf: bytes) -> Response:
    db = get_session()
    begin_write(db)  # rendered in the read transaction; the event takes the write lock
    auditing.record_download(db, application, pdf, actor=current_user, now=clock.now())
    db.commit()
    return _attachment(Response(pdf, mimetype="application/pdf"),
                       batches.file_name(application.reference))


@bp.post("/batches")
@require(Permission.AUDIT_READ)
def request_batch() -> Response | tuple[str, int]:
    db = get_session()
    form = _search_form(request.form, auditing.program_versions(db))
    if not form.validate():
        return _search_page(form, 422)
    try:
        job = batches.request_batch(db, _criteria(form), actor=current_user, now=clock.now())
    except batches.BatchRefused as refused:
        message = (_("There is nothing to download: the search finds no funded application.")
                   if str(refused) == "empty" else
                   _("A batch holds at most %(n)d records. Narrow the search down first.",
                     n=batches.LIMIT))
        db.rollback()
        return _search_page(form, 422, batch_error=message)
    db.commit()
    jobs.start_batch(job.id)  # inline: done when this returns; with RQ: queued
    return redirect(url_for(".show_batch", batch_id=job.id), code=303)


@bp.get("/batches")
@require(Permission.AUDIT_READ)
def list_batches() -> str:
    return render_template("audit/batches.html",
                           jobs=batches.batches_of(get_session(), current_user))


def _own_batch(batch_id: int) -> BatchJob:
    job = batches.load_batch(get_session(), batch_id, current_user)
    if job is None:
        abort(404)  # someone else's batch does not exist for you
    return job


@bp.get("/batches/<int:batch_id>")
@require(Permission.AUDIT_READ)
def show_batch(batch_id: int) -> Response:
    job = documents.settle(_own_batch(batch_id))
    running = job.state in (BatchState.QUEUED, BatchState.RUNNING)
    response = make_response(render_template(  # an HTML page (werkzeug's Response is text/plain)
        "audit/batch.html", job=job, running=running,
        criteria=_describe(Criteria.from_dict(job.criteria)),
        failure=documents.failure_sentence(job),
        retention_days=current_app.config["BATCH_RETENTION_DAYS"]))
    if running:
        response.headers["Refresh"] = "3"  # the page reloads itself, no JavaScript needed
    return response


@bp.post("/batches/<int:batch_id>/again")
@require(Permission.AUDIT_READ)
def rerun_batch(batch_id: int) -> Response:
    """Queue a failed or expired batch's records again, as a new batch."""
    db = get_session()
    job = _own_batch(batch_id)
    try:
        again = batches.rerun(db, job, actor=current_user, now=clock.now())
    except batches.BatchRefused:
        db.rollback()
        flash(_("This batch is still being prepared, or its ZIP is ready: there is nothing to "
                "run again."), "info")
        return redirect(url_for(".show_batch", batch_id=batch_id), code=303)
    db.commit()
    jobs.start_batch(again.id)
    return redirect(url_for(".show_batch", batch_id=again.id), code=303)


@bp.get("/batches/<int:batch_id>/download")
@require(Permission.AUDIT_READ)
def download_batch(batch_id: int) -> Response:
    db = get_session()
    job = _own_batch(batch_id)
    name = batches.result_name(job)
    if name is None:
        abort(404)
    folder = stores_of(current_app).batches
    try:
        size = folder.size(name)
    except FileNotFoundError:
        abort(404)
    begin_write(db)
    batches.record_batch_download(db, job, actor=current_user, now=clock.now())
    db.commit()
    response = send_file(folder.open(name), mimetype="application/zip", max_age=0)
    response.content_length = size  # streamed from the folder, whose size it knows
    return _attachment(response, f"audit-records-{job.id}.zip")


def _attachment(response: Response, filename: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _describe(criteria: Criteria) -> list[tuple[str, str]]:
    """The batch's search in words, as (label, value) pairs."""
    described: list[tuple[str, str]] = []
    if criteria.program_key:
        titles = {v.program_key: v.title
                  for v in auditing.program_versions(get_session()).values()}
        title = titles.get(criteria.program_key)
        described.append((_("Call"), localized(title) if title else criteria.program_key))
    if criteria.fiscal_year:
        described.append((_("Fiscal year"), _("FY%(year)d", year=criteria.fiscal_year)))
    if criteria.prefecture_code:
        described.append((_("Prefecture (of the applicant)"),
                          auditing.prefectures().get(criteria.prefecture_code, "")))
    if criteria.lg_code:
        government = load_registry().get(criteria.lg_code)
        described.append((_("Local government taking part"), f"{criteria.lg_code} "
                           f"{government.display_name if government else ''}".strip()))
    if criteria.organization:
        described.append((_("Organization name contains"), criteria.organization))
    if criteria.min_yen is not None:
        described.append((_("Awarded at least (yen)"), f"¥{criteria.min_yen:,}"))
    if criteria.max_yen is not None:
        described.append((_("Awarded at most (yen)"), f"¥{criteria.max_yen:,}"))
    if criteria.followup:
        described.append((_("Follow-up reports"), str(FOLLOWUP_LABELS[criteria.followup])))
    if criteria.restricted_assets:
        described.append((_("Assets"), _("Still under their disposal restriction")))
    return described
