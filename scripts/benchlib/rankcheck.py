"""Whether an answer of the ranking scenario really holds the seeded call, not an error page or
an empty table: every seeded reference in the ranking, one CSV/Excel row per application or
per review, every reviewer in the calibration chart.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

from benchlib.client import Response
from benchlib.seed import Seeded

REFERENCE_RE = re.compile(r"G26-[0-9A-Z]{4}-[0-9A-Z]{4}")
Check = Callable[[Response, Seeded], tuple[str, list[str]]]


def ranking_page(response: Response, seeded: Seeded) -> tuple[str, list[str]]:
    found = set(REFERENCE_RE.findall(response.text)) & seeded.references
    rows = response.text.count('<tr class="fits"') + response.text.count('<tr class="over"')
    problems = []
    if len(found) != len(seeded.references):
        problems.append(f"ranking page lists {len(found)} of {len(seeded.references)} references")
    if rows != seeded.applications:
        problems.append(f"ranking page has {rows} rows for {seeded.applications} applications")
    return f"{rows} rows, {len(found)} refs", problems


def _csv_rows(text: str, column: int, seeded: Seeded) -> int:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    next(reader, None)  # the header
    return sum(1 for row in reader if len(row) > column and row[column] in seeded.references)


def ranking_csv(response: Response, seeded: Seeded) -> tuple[str, list[str]]:
    rows = _csv_rows(response.text, 2, seeded)  # Budget group, Rank, Reference, ...
    problems = [] if rows == seeded.applications else [f"ranking.csv has {rows} seeded rows"]
    return f"{rows} rows", problems


def scores_csv(response: Response, seeded: Seeded) -> tuple[str, list[str]]:
    rows = _csv_rows(response.text, 0, seeded)  # Reference, Reviewer, ...
    problems = [] if rows == seeded.reviews else [f"scores.csv has {rows} rows for the reviews"]
    return f"{rows} rows", problems


def workbook(response: Response, seeded: Seeded) -> tuple[str, list[str]]:
    """Sheet 1 the ranking (one row per application), sheet 2 the scores (one per review)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(response.content), read_only=True)
    except Exception as exc:  # a broken file is a finding, not a crash
        return "unreadable", [f"export.xlsx does not open: {type(exc).__name__}: {exc}"]
    counts = []
    for sheet, column in zip(book.worksheets, (2, 0), strict=False):
        counts.append(
            sum(1 for row in sheet.iter_rows(min_row=2, values_only=True)
                if len(row) > column and row[column] in seeded.references)
        )  # fmt: skip
    book.close()
    expected = [seeded.applications, seeded.reviews]
    problems = [] if counts == expected else [f"export.xlsx rows {counts}, expected {expected}"]
    return " + ".join(f"{c} rows" for c in counts), problems


def calibration(response: Response, seeded: Seeded) -> tuple[str, list[str]]:
    dots = response.text.count("<circle")
    named = sum(1 for name in seeded.reviewer_names if name in response.text)
    problems = []
    if dots != seeded.reviews:
        problems.append(f"calibration chart has {dots} dots for {seeded.reviews} reviews")
    if named != len(seeded.reviewer_names):
        problems.append(f"calibration names {named} of {len(seeded.reviewer_names)} reviewers")
    return f"{dots} dots, {named} reviewers", problems


CHECKS: dict[str, Check] = {
    "ranking": ranking_page,
    "ranking.csv": ranking_csv,
    "scores.csv": scores_csv,
    "export.xlsx": workbook,
    "calibration": calibration,
}
