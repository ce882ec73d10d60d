"""Audit records: PDF/A-3u with its output intent and embedded fonts covering Japanese, the
originals embedded so each printed hash can be recomputed from the PDF alone."""

from __future__ import annotations

import hashlib
import io
import json

import pikepdf
import pypdf
import sqlalchemy as sa
from flask_babel import gettext

from grants.documents.record import audit_record_pdf
from grants.domain.records import canonical_json
from grants.domain.workflow import Role
from grants.models import AuditEvent
from tests.conftest import NOW
from tests.rendering.helpers import embedded_fonts, to_unicode


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_record_is_pdfa3_with_fonts_covering_japanese(session, decided_application):
    pdf = pikepdf.open(io.BytesIO(audit_record_pdf(session, decided_application.application,
                                                   now=NOW)))
    with pdf.open_metadata() as meta:
        assert meta.get("pdfaid:part") == "3"
        assert meta.get("pdfaid:conformance") == "U"
    assert len(pdf.Root.OutputIntents) >= 1
    assert "/DestOutputProfile" in pdf.Root.OutputIntents[0]
    fonts = embedded_fonts(pdf)
    cjk = [name for name in fonts if "CJK" in name]
    assert cjk, fonts
    for descriptor in fonts.values():
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert {"地", "域", "採", "択"} <= set().union(*(to_unicode(pdf, name) for name in cjk))


def test_record_prints_everything_and_embeds_the_originals(session, decided_application):
    d = decided_application
    application = d.application
    data = audit_record_pdf(session, application, now=NOW)
    text = _text(data).replace("\n", "")
    submission = application.submissions[-1]
    assert "地域雇用創造ICT絆プロジェクト" in text
    assert "¥3,500,000" in text and "¥4,000,000" in text  # awarded; requested
    assert "地域課題に即した計画として採択する。" in text
    for reviewer in d.reviewers:
        assert d.comments[reviewer.id] in text
    assert "両者の根拠を比較して調整した。" in text
    assert "manage:application:decide" in text

    pdf = pikepdf.open(io.BytesIO(data))
    files = {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}
    # awarded: the grant decision issued with the award, waiting for the grantee's answer
    assert set(files) == {"snapshot.json", "program.yaml", "rubric.yaml", "events.json",
                          "grant_decision.json"}
    snapshot_hash = hashlib.sha256(files["snapshot.json"]).hexdigest()
    assert snapshot_hash == submission.snapshot_sha256
    assert snapshot_hash in text  # the printed hash is the embedded file's
    program_hash = hashlib.sha256(files["program.yaml"]).hexdigest()
    assert program_hash == application.program_version.sha256 and program_hash in text
    rubric_hash = hashlib.sha256(files["rubric.yaml"]).hexdigest()
    assert rubric_hash in text

    events = json.loads(files["events.json"])["events"]
    stored = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.subject_type == "application", AuditEvent.subject_id == application.id)
        .order_by(AuditEvent.id)).all()
    assert [e["hash"] for e in events] == [e.hash for e in stored]
    for event in events:  # every event re-checked from the PDF alone
        recomputed = hashlib.sha256(
            event["prev_hash"].encode() + b"\n" + canonical_json(event["body"])).hexdigest()
        assert recomputed == event["hash"]
        assert event["hash"] in text


def test_cli_writes_the_record_and_audits_it(app, session, decided_application, tmp_path):
    d = decided_application
    output = tmp_path / "record.pdf"
    result = app.test_cli_runner().invoke(
        args=["grants", "record", d.application.reference, "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_bytes().startswith(b"%PDF")
    assert session.scalar(sa.select(AuditEvent).where(
        AuditEvent.tag == "audit:record:download",
        AuditEvent.subject_id == d.application.id)) is not None


def test_record_prints_the_whole_chains_head_when_it_was_made(session, decided_application,
                                                               make_user):
    make_user(Role.AUDITOR)  # an event of no application: the head is the chain's, not the record's
    events = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    head = events[-1]
    assert head.subject_type != "application"
    data = audit_record_pdf(session, decided_application.application, now=NOW)
    make_user(Role.AUDITOR)  # later events do not change a record already made
    text = _text(data).replace("\n", "")
    assert gettext("Audit chain head when this record was made") in text
    assert head.hash in text
    counted = gettext("%(count)d events; the last, event %(id)d, at %(at)s",
                      count=len(events), id=head.id, at="@")
    assert counted.split("@")[0] in text
    assert session.scalars(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc())).first() \
        not in text
