"""The notice of the final amount (額の確定通知書), read back as text: who, the grant decision, the
report it was fixed on, the final amount, the amount to return with the advance payment said,
and the working the officer confirmed; in English for an English reader; none before it is
fixed."""

from __future__ import annotations

import io
import re

import pypdf
import pytest
from flask_babel import force_locale

from grants.documents.final_amount_letter import final_amount_letter_pdf
from grants.services import final_amounts
from tests.conftest import NOW
from tests.post_award_helpers import accepted_report, granted


def _text(pdf: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"[ \t]+", " ", "\n".join(page.extract_text() for page in pages))


def _line(category: str, amount: int, acquisition: str = "none") -> dict[str, object]:
    return {"category": category, "description": "実績", "acquisition": acquisition,
            "amount_yen": amount}


@pytest.fixture
def project(client, auth, session, make_user):
    funded = granted(client, auth, session, make_user)
    accepted_report(session, funded, [_line("human_resources", 2_500_000),
                                      _line("equipment", 1_134_567, "lease")])
    return funded


def test_the_letter_states_the_final_amount_and_its_working(session, project):
    with pytest.raises(LookupError):
        final_amount_letter_pdf(session, project.application)
    final_amounts.confirm(session, project.application, actor=project.officer, now=NOW)
    session.commit()

    text = _text(final_amount_letter_pdf(session, project.application))

    assert "額の確定通知書" in text
    assert project.application.reference in text
    assert project.application.organization.name in text
    assert "¥4,000,000" in text  # the grant decision
    assert "実績報告 第1号" in text
    assert "¥3,634,000" in text  # ¥3,634,567 eligible, rounded down to ¥1,000
    assert "¥366,000" in text and "概算払" in text  # to be returned
    assert "③ ICT機器・設備整備費 ¥1,000,000 ¥1,200,000 ¥1,134,567" in text  # the working
    assert "補助対象経費の実績額 ¥3,634,567" in text


def test_the_letter_reads_in_english(session, project):
    final_amounts.confirm(session, project.application, actor=project.officer, now=NOW)
    session.commit()

    with force_locale("en"):
        text = _text(final_amount_letter_pdf(session, project.application))

    assert "Notice of the final amount" in text and "To be returned" in text
    assert "¥3,634,000" in text
