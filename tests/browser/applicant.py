"""Fill an application in the browser as an applicant does: typing, choosing, pressing buttons."""

from __future__ import annotations

from typing import Any

from grants.config import PACKAGE_ROOT
from grants.domain.definitions import Program, load_program_file
from tests.web.journey import TINY_PDF, field_value

KEY = "ict-kizuna-2010"
DEFINITION: Program = load_program_file(PACKAGE_ROOT / "programs" / f"{KEY}.yaml")
PARTNER = ("072133", "伊達市")  # found by name in the partner search: 伊達 has two


def answer(page: Any, field: Any) -> None:
    """Answer one plain field (not rows, not files) with a valid value, as a person would."""
    name = f"f_{field.id}"
    value = field_value(DEFINITION, field)
    if field.kind in ("choice", "multi_choice", "yes_no"):
        page.locator(f'[name="{name}"][value="{value}"]').check()
    elif field.kind == "text":
        box = page.locator(f'[name="{name}"]')
        box.fill("")
        box.press_sequentially(value)  # real key presses, IME-free
    else:
        page.locator(f'[name="{name}"]').fill(value)


def answer_plain_fields(page: Any, step_id: str) -> None:
    step = next(s for s in DEFINITION.steps if s.id == step_id)
    for field in step.fields:
        if field.kind not in ("partners", "budget_lines", "file"):
            answer(page, field)


def fill_budget(page: Any) -> None:
    """Two lines: people, then leased equipment under half the request."""
    ordinary = next(c for c in DEFINITION.budget.categories if not c.equipment)
    equipment = next(c for c in DEFINITION.budget.categories if c.equipment)
    rows = page.locator("#f_budget_lines tbody tr")
    for n, (category, text, acquisition, amount) in enumerate((
        (ordinary.id, "人材育成", "none", "3,000,000"),
        (equipment.id, "端末リース", "lease", "1000000"),
    )):
        row = rows.nth(n)
        row.locator("select").first.select_option(category)
        row.locator("input").first.fill(text)
        row.locator("select").nth(1).select_option(acquisition)
        row.locator("input.number").fill(amount)


def pdf_upload(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": TINY_PDF}
