"""Fill a whole application for any program through the test client, as an applicant would."""

from __future__ import annotations

import re
from typing import Any

from grants.domain.definitions import Program


def _blank_pdf() -> bytes:
    """A one-page PDF that readers (and the packet's appendix) accept: made by pypdf."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


TINY_PDF = _blank_pdf()
PARTNER_CODES = ("012131", "072133")  # 北海道 苫小牧市, 福島県 伊達市
# A town and a corporation (法人番号), typed with full-width digits as Japanese keyboards do.
CONSORTIUM_MEMBERS = (("local_government", "０７２１３３", ""),
                      ("corporation", "６９９９９０１０００００２", "株式会社テスト情報センター"))


def lock_version(html: str) -> str:
    match = re.search(r'id="lock_version" name="lock_version" type="hidden" value="(\d+)"', html)
    assert match, "no lock_version in the step page"
    return match.group(1)


def field_value(definition: Program, field: Any, text: str = "") -> Any:
    """A valid answer for one field of any encoded program (`text` is added to free text)."""
    kind = field.kind
    if kind == "text":
        return f"テスト事業{text}"[: getattr(field, "max_length", None) or None]
    if kind == "long_text":
        return f"地域の課題を具体的に解決する計画です。{text}"
    if kind == "number":
        return "3"
    if kind == "yen":
        return "1,000,000"
    if kind == "date":
        return "2027-03-31" if "end" in field.id else "2026-12-01"
    if kind in ("choice", "multi_choice"):
        if field.choices_from == "tracks":
            return definition.tracks[0].id
        if field.choices_from == "fields_of_use":
            return definition.fields_of_use[0].id
        return str(field.choices[0].value)
    if kind == "yes_no":
        return "yes"
    raise AssertionError(kind)


def step_form(definition: Program, step: Any, version: str, text: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {"lock_version": version, "action": "next"}
    for field in step.fields:
        name = f"f_{field.id}"
        if field.kind == "partners":
            for i, code in enumerate(PARTNER_CODES):
                data[f"{name}-{i}-kind"] = "local_government"
                data[f"{name}-{i}-code"] = code
                data[f"{name}-{i}-role"] = f"参加団体{text}"
        elif field.kind == "consortium":
            for i, (kind, code, member) in enumerate(CONSORTIUM_MEMBERS):
                data.update({f"{name}-{i}-kind": kind, f"{name}-{i}-code": code,
                             f"{name}-{i}-name": member, f"{name}-{i}-role": f"構成員{text}"})
        elif field.kind == "budget_lines":
            categories = definition.budget.categories
            ordinary = next(c for c in categories if not c.equipment)
            data.update(
                {
                    f"{name}-0-category": ordinary.id,
                    f"{name}-0-description": f"人材育成{text}",
                    f"{name}-0-acquisition": "none",
                    f"{name}-0-amount_yen": "3,000,000",
                }
            )
            equipment = next((c for c in categories if c.equipment), None)
            if equipment:
                data.update(
                    {
                        f"{name}-1-category": equipment.id,
                        f"{name}-1-description": "端末リース",
                        f"{name}-1-acquisition": "lease",
                        f"{name}-1-amount_yen": "1000000",
                    }
                )
        elif field.kind == "file":
            # A browser sends " in a file name as %22; the test client would end the name there,
            # and a name must end in its type's extension.
            data[f"upload_{field.id}"] = (_pdf(), f"{field.id}{text}.pdf".replace('"', "%22"))
        else:
            data[name] = field_value(definition, field, text)
    return data


def _pdf() -> Any:
    import io

    return io.BytesIO(TINY_PDF)


def fill_application(client: Any, definition: Program, application_id: int,
                     text: str = "") -> None:
    """Walk every step with valid answers, saving each; `text` goes into every free text."""
    for step in definition.steps:
        url = f"/applications/{application_id}/steps/{step.id}"
        page = client.get(url)
        assert page.status_code == 200, (step.id, page.status_code)
        response = client.post(
            url,
            data=step_form(definition, step, lock_version(page.text), text),
            content_type="multipart/form-data",
        )
        assert response.status_code == 303, (step.id, response.status_code, response.text[:3000])


def step_url(application: Any, step: str = "overview") -> str:
    return f"/applications/{application.id}/steps/{step}"
