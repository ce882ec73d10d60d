"""Valid answers for the program's form steps, one field of each carrying a unique marker."""

from __future__ import annotations

from typing import Any

from benchlib.client import JourneyFailed
from benchlib.common import PARTNER_CODES

TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def step_form(
    definition: Any, step: Any, version: int, marker: str
) -> tuple[str, str, dict[str, str], dict[str, tuple[str, bytes]]]:
    """Valid answers for one step; the marker goes into one field, which is returned."""
    data: dict[str, str] = {"lock_version": str(version), "action": "next"}
    files: dict[str, tuple[str, bytes]] = {}
    target: tuple[str, str] | None = None
    for item in step.fields:
        name = f"f_{item.id}"
        if item.kind == "partners":
            for i, code in enumerate(PARTNER_CODES):
                data[f"{name}-{i}-kind"] = "local_government"
                data[f"{name}-{i}-code"] = code
                data[f"{name}-{i}-role"] = "参加団体"
            if target is None:
                data[f"{name}-0-role"] = f"参加団体 {marker}"
                target = ("partner_role", item.id)
        elif item.kind == "budget_lines":
            data.update(_budget_rows(definition, name))
        elif item.kind == "file":
            if item.id == "project_plan" or (target is None and item.required):
                files[f"upload_{item.id}"] = (f"{marker}.pdf", TINY_PDF)
                if target is None:
                    target = ("attachment", item.id)
        elif item.kind in ("text", "long_text") and target is None:
            data[name] = f"{_field_value(definition, item)} {marker}"
            target = ("answer", item.id)
        else:
            data[name] = _field_value(definition, item)
    if target is None:
        raise JourneyFailed(f"step {step.id} has no field to carry a marker")
    return target[0], target[1], data, files


def _budget_rows(definition: Any, name: str) -> dict[str, str]:
    categories = definition.budget.categories
    ordinary = next(c for c in categories if not c.equipment)
    rows = {
        f"{name}-0-category": ordinary.id,
        f"{name}-0-description": "人材育成",
        f"{name}-0-acquisition": "none",
        f"{name}-0-amount_yen": "3,000,000",
    }
    equipment = next((c for c in categories if c.equipment), None)
    if equipment:
        rows.update(
            {
                f"{name}-1-category": equipment.id,
                f"{name}-1-description": "端末リース",
                f"{name}-1-acquisition": "lease",
                f"{name}-1-amount_yen": "1000000",
            }
        )
    return rows


def _field_value(definition: Any, item: Any) -> str:
    """A valid answer for one field (as tests/web/journey.py fills them)."""
    kind = item.kind
    values = {
        "text": "テスト事業",
        "long_text": "地域の課題を具体的に解決する計画です。",
        "number": "3",
        "yen": "1,000,000",
        "yes_no": "yes",
    }
    if kind in values:
        return values[kind]
    if kind == "date":
        return "2027-03-31" if "end" in item.id else "2026-12-01"
    if kind in ("choice", "multi_choice"):
        if item.choices_from == "tracks":
            return str(definition.tracks[0].id)
        if item.choices_from == "fields_of_use":
            return str(definition.fields_of_use[0].id)
        return str(item.choices[0].value)
    raise JourneyFailed(f"no bench value for a {kind} field")
