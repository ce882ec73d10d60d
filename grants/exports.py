"""Officers' exports: the ranking and every review's scores as CSV and as an Excel workbook.

Tables are built once (headers in the reader's language, money as integer yen, scores as
decimals) and written by `to_csv` or `to_xlsx`, so the two formats never disagree. Every text
cell goes through `neutralize` on the way out, so no name in it runs as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from grants.domain.ranking import Ranking
from grants.domain.spreadsheets import neutralize
from grants.services.ranking import Scored
from grants.templating import localized

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | Decimal | None


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def ranking_table(ranking: Ranking, scored: Mapping[int, Scored]) -> Table:
    """One row per application, per group, in ranking order; with target shares, whether each
    would fit if they were reserved pots (the officer weighs both); last, a tie on score and the
    rule that ordered it (new columns go last: readers rely on the positions)."""
    as_reserved = ranking.fits_as_reserved()
    reserved_header = (_("Within budget as a reserved pot"),) if as_reserved else ()
    headers = (_("Budget group"), _("Rank"), _("Reference"), _("Applicant"), _("Track"),
               _("Score (0–100)"), _("Reviews"), _("Spread"), _("Flagged"), _("Knockout"),
               _("Requested (yen)"), _("Cumulative (yen)"), _("Within budget"), *reserved_header,
               _("Decision"), _("Awarded (yen)"), _("Minimum scores not reached"),
               _("Tie on score"))
    rows = []
    for group in ranking.groups:
        group_name = " / ".join(track or "-" for track in group.tracks)
        for row in group.rows:
            s = scored[row.entry.application_id]
            decision = s.decision
            rows.append((
                group_name, row.rank, row.entry.reference, s.application.organization.name,
                row.entry.track, row.entry.score, s.scores.aggregate.count,
                s.scores.aggregate.spread, _yes_no(s.scores.flag == "flagged"),
                _yes_no(row.entry.knockout), row.entry.requested_yen, row.cumulative_yen,
                _yes_no(row.fits),
                *((_yes_no(as_reserved[row.entry.application_id]),) if as_reserved else ()),
                str(decision.outcome) if decision else None,
                decision.amount_yen if decision else None,
                " / ".join(localized(reason) for reason in row.entry.unmet),
                localized(row.tie.note) if row.tie else None,
            ))
    return Table(_("Ranking"), headers, tuple(rows))


def scores_table(scored: Sequence[Scored]) -> Table:
    """One row per submitted review: every criterion's score, the total and the knockouts."""
    criteria = scored[0].scores.rubric.criteria() if scored else ()
    headers = (_("Reference"), _("Reviewer"), *(f"{localized(c.title)} [{c.id}]" for c in criteria),
               _("Total (0–100)"), _("Knockouts"))
    rows = [
        (s.application.reference, review.assignment.reviewer.display_name,
         *(review.ratings.get(c.id) for c in criteria), card.total, " ".join(card.knockouts))
        for s in scored
        for review, card in s.scores.reviews
    ]
    return Table(_("Scores"), headers, tuple(rows))


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Japanese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([_csv_cell(cell) for cell in row] for row in (table.headers, *table.rows))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(cell: Cell) -> str | int | Decimal:
    """Text neutralized; numbers (a negative one included) as they are."""
    if cell is None:
        return ""
    return neutralize(cell) if isinstance(cell, str) else cell


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """One worksheet per table; numbers stay numbers, yen columns formatted with separators,
    text is always stored as text (never as a formula)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(title=table.title[:31])
        for row in (table.headers, *table.rows):
            sheet.append([_xlsx_cell(cell) for cell in row])
        _store_text_as_text(sheet)
        for index, header in enumerate(table.headers, start=1):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = max(10, min(40, len(header) * 2))
            if "(yen)" in header or "円" in header:
                for cell in sheet[letter][1:]:
                    cell.number_format = "#,##0"
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(cell: Cell) -> str | int | float | None:
    # openpyxl writes Decimal as text in some versions; scores are two-decimal numbers.
    if isinstance(cell, Decimal):
        return float(cell)
    if isinstance(cell, str):
        # Control characters cannot be stored in a workbook: dropped rather than refused.
        return neutralize(ILLEGAL_CHARACTERS_RE.sub("", cell))
    return cell


def _store_text_as_text(sheet: Worksheet) -> None:
    """openpyxl types a string by its content ("=..." a formula, "#N/A" an error): not here."""
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"
