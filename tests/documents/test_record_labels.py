"""The audit record's event table in words, and rubric titles quoted once."""

from __future__ import annotations

import io

import pypdf
import sqlalchemy as sa

from grants.documents.record import audit_record_pdf
from grants.models import AuditEvent
from grants.services import reviewing
from tests.conftest import NOW
from tests.web.reviewflow import rubric_for


def _lines(pdf: bytes) -> list[str]:
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return [line for page in pages for line in page.extract_text().splitlines()]


def test_events_are_labelled_and_tags_never_split(session, decided_application):
    application = decided_application.application
    lines = _lines(audit_record_pdf(session, application, now=NOW))
    text = "\n".join(lines)
    for label in ("申請の作成", "申請を提出しました", "審査への受理", "審査員の割当て",
                  "審査結果の提出", "評点の調整", "交付決定の記録"):
        assert label in text, label
    tags = set(session.scalars(sa.select(AuditEvent.tag).where(
        AuditEvent.subject_type == "application", AuditEvent.subject_id == application.id)))
    for tag in tags:  # each tag whole on one line, as stored
        assert any(tag in line for line in lines), tag
    assert "算定内容" in text and "理由: 両者の根拠を比較して調整した。" in text


def test_a_title_already_in_brackets_is_not_bracketed_twice(session, decided_application):
    application = decided_application.application
    quoted = next(c for c in rubric_for(session, application).criteria()
                  if c.title.ja.startswith("「") and c.title.ja.endswith("」"))
    reviewing.moderate(session, application, quoted.id, 2, "連携の幅を確認した。",
                       actor=decided_application.officer, now=NOW)
    session.commit()
    text = "".join(_lines(audit_record_pdf(session, application, now=NOW)))
    assert f"{quoted.title.ja}の調整後の評点：2" in text
    assert "「「" not in text.replace(quoted.title.ja, "")
