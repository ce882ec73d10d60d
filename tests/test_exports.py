"""Exports never carry a live formula: organization and reviewer names that look like formulas
reach the officer's CSV and workbook as plain text, and numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import load_workbook

from grants.domain.workflow import Role
from grants.exports import Table, to_csv, to_xlsx
from grants.services.reviewing import rubric_version_for
from tests.web.reviewflow import KEY, review_all, rubric_for, submit_application

HOSTILE_ORGANIZATION = '=HYPERLINK("http://x","y")'
HOSTILE_REVIEWERS = ("+1+1", "@SUM(A1)", "-2+3")


def _hostile_call(client, auth, session, make_user):
    """An application in review whose organization and three reviewers have formula names."""
    application = submit_application(client, auth, session, make_user)
    application.organization.name = HOSTILE_ORGANIZATION
    reviewers = [make_user(Role.REVIEWER) for _ in HOSTILE_REVIEWERS]
    for reviewer, name in zip(reviewers, HOSTILE_REVIEWERS, strict=True):
        reviewer.display_name = name
    officer = make_user(Role.OFFICER)
    auth.sign_in(officer)
    assert client.post(f"/manage/applications/{application.id}/accept").status_code == 303
    review_all(session, [application], reviewers, rubric_version_for(session, application).id,
               rubric_for(session, application))
    return application


def _csv(client, name):
    response = client.get(f"/manage/calls/{KEY}/{name}.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv_exports_neutralize_formula_names(client, auth, session, make_user):
    application = _hostile_call(client, auth, session, make_user)
    ranking = _csv(client, "ranking")
    [row] = [r for r in ranking[1:] if application.reference in r]
    assert f"'{HOSTILE_ORGANIZATION}" in row
    assert HOSTILE_ORGANIZATION not in row
    assert (row[6], row[10]) == ("3", "4000000")  # reviews and yen stay plain numbers
    scores = _csv(client, "scores")
    reviewers = {r[1] for r in scores[1:] if r[0] == application.reference}
    assert reviewers == {f"'{name}" for name in HOSTILE_REVIEWERS}


def test_workbook_stores_formula_names_as_text(client, auth, session, make_user):
    application = _hostile_call(client, auth, session, make_user)
    response = client.get(f"/manage/calls/{KEY}/export.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    ranking, scores = (workbook[name] for name in workbook.sheetnames)
    cells = [cell for sheet in (ranking, scores) for row in sheet.iter_rows() for cell in row]
    assert cells and not [cell.coordinate for cell in cells if cell.data_type == "f"]

    [row] = [r for r in ranking.iter_rows(min_row=2) if r[2].value == application.reference]
    applicant = row[3]
    assert (applicant.value, applicant.data_type) == (f"'{HOSTILE_ORGANIZATION}", "s")
    assert [(c.value, c.data_type) for c in (row[6], row[10])] == [(3, "n"), (4_000_000, "n")]
    names = [r[1] for r in scores.iter_rows(min_row=2) if r[0].value == application.reference]
    assert sorted(cell.value for cell in names) == sorted(f"'{n}" for n in HOSTILE_REVIEWERS)
    assert {cell.data_type for cell in names} == {"s"}


TRICKY = Table("Sheet", ("Text", "Number"), (
    ("-5", -5), ("\tTab", Decimal("-1.25")), ("\rReturn", 0), ("#N/A", None),
    ("bell\x07=1", 7), ("plain 名前", 3),
))


def test_csv_neutralizes_text_only():
    rows = list(csv.reader(io.StringIO(to_csv(TRICKY).decode("utf-8-sig"))))
    assert rows[1:] == [["'-5", "-5"], ["'\tTab", "-1.25"], ["'\rReturn", "0"],
                        ["#N/A", ""], ["bell\x07=1", "7"], ["plain 名前", "3"]]


def test_workbook_keeps_numbers_and_stores_all_text_as_text():
    sheet = load_workbook(io.BytesIO(to_xlsx([TRICKY])))["Sheet"]
    cells = [(cell.value, cell.data_type) for row in sheet.iter_rows(min_row=2) for cell in row]
    assert cells == [
        ("'-5", "s"), (-5, "n"), ("'\tTab", "s"), (-1.25, "n"), ("'\rReturn", "s"), (0, "n"),
        ("#N/A", "s"), (None, "n"), ("bell=1", "s"), (7, "n"), ("plain 名前", "s"), (3, "n"),
    ]
