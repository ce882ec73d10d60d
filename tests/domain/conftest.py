"""Fixtures for the pure domain tests: small programs built from YAML strings, no app, no DB."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping

import pytest

from grants.domain.application_data import ApplicationData
from grants.domain.definitions import Program, parse_program

HEADER = """\
schema: 1
id: {id}
title: {{ja: テスト事業, en: Test program}}
summary: {{ja: 概要, en: Summary}}
fiscal_year: 2010
kind: grant
source: {{ja: "出典: テスト", en: "Source: test"}}
call:
  opens: "2010-11-01 09:00"
  closes: "2011-01-14 17:00"
"""

# Modelled on seed 003's ICT絆プロジェクト: two tracks, caps by case, equipment under half.
KIZUNA = """\
applicant_types: [local_government, third_sector, npo]
tracks:
  - id: general
    title: {ja: 一般案件, en: General}
    description: {ja: 一般, en: General projects}
  - id: education
    title: {ja: 教育情報化事業案件, en: Education}
    description: {ja: 教育, en: Education projects}
budget:
  categories:
    - id: human_resources
      title: {ja: 人材育成・確保, en: human resources}
    - id: equipment
      title: {ja: ICT機器・設備整備費, en: ICT equipment}
      equipment: true
steps:
  - id: overview
    title: {ja: 概要, en: Overview}
    fields:
      - id: track
        kind: choice
        label: {ja: 案件区分, en: Track}
        required: true
        choices_from: tracks
      - id: school_count
        kind: number
        label: {ja: 対象校数, en: Number of schools}
        required: true
        min: 1
        show_when: {field: track, equals: education}
      - id: partnership
        kind: yes_no
        label: {ja: 自治体連携, en: Partnership of local governments}
      - id: partners
        kind: partners
        label: {ja: 連携主体, en: Partners}
      - id: budget_lines
        kind: budget_lines
        label: {ja: 経費, en: Budget}
rules:
  - id: amount-cap
    kind: amount_cap
    cases:
      - when: {field: track, equals: education}
        per_unit_yen: 50000000
        unit_field: school_count
        unit_label: {ja: 校, en: school}
      - when:
          all:
            - {field: partnership, equals: true}
            - {local_governments_at_least: 2}
        amount_yen: 200000000
      - amount_yen: 100000000
  - id: equipment-under-half
    kind: category_share
    categories: [equipment]
    acquisition_types: [purchase, lease, rental]
    max_share: "1/2"
    strict: true
"""

# Modelled on seed 003's 地域ICT利活用広域連携事業: wide-area collaboration, no purchases.
WIDE_AREA = """\
applicant_types: [local_government, third_sector, npo]
budget:
  categories:
    - id: system
      title: {ja: システム構築, en: system construction}
    - id: equipment
      title: {ja: ICT機器, en: ICT equipment}
      equipment: true
eligibility_questions:
  - id: develops_people
    question: {ja: 地域ICT人材を育成しますか, en: "Does the project develop local ICT people?"}
    required_answer: true
    reason: {ja: 人材育成が前提です, en: Developing people is a precondition}
steps:
  - id: main
    title: {ja: 申請, en: Application}
    fields:
      - id: uses_people
        kind: yes_no
        label: {ja: 人材の育成・活用, en: Develops and uses ICT people}
        required: true
      - id: partners
        kind: partners
        label: {ja: 連携自治体, en: Partner local governments}
      - id: budget_lines
        kind: budget_lines
        label: {ja: 経費, en: Budget}
      - id: recommendation
        kind: file
        label: {ja: 地方公共団体の推薦書, en: Recommendation letter}
        accept: [pdf]
rules:
  - id: two-local-governments
    kind: min_local_governments
    min: 2
  - id: recommendation-letter
    kind: required_attachment
    when: {applicant_type: [third_sector, npo]}
    field: recommendation
  - id: people
    kind: required_answer
    field: uses_people
    equals: true
  - id: no-purchase
    kind: forbidden_acquisition
    categories: [equipment]
    acquisition_types: [purchase]
"""


def program_yaml(body: str, program_id: str = "test") -> str:
    """Return a whole program file: the common header, then `body` (top-level keys)."""
    return HEADER.format(id=program_id) + textwrap.dedent(body)


@pytest.fixture
def program_text() -> Callable[[str], str]:
    """Return `program_yaml`: a whole program file from a body of top-level keys."""
    return program_yaml


@pytest.fixture
def parse() -> Callable[[str], Program]:
    """Parse a program body (after the common header) as `programs/test.yaml`."""

    def _parse(body: str) -> Program:
        return parse_program(program_yaml(body), "programs/test.yaml")

    return _parse


@pytest.fixture
def kizuna(parse: Callable[[str], Program]) -> Program:
    return parse(KIZUNA)


@pytest.fixture
def wide_area(parse: Callable[[str], Program]) -> Program:
    return parse(WIDE_AREA)


@pytest.fixture
def application() -> Callable[..., ApplicationData]:
    """Build ApplicationData; keyword arguments are answers."""

    def _make(
        applicant_type: str = "local_government",
        lead: str | None = "011002",
        attachments: Mapping[str, int] | None = None,
        **answers: object,
    ) -> ApplicationData:
        return ApplicationData(applicant_type, lead, answers, dict(attachments or {}))

    return _make


@pytest.fixture
def line() -> Callable[..., dict[str, object]]:
    """Build one budget_lines row as stored in the answers."""

    def _line(category: str, amount_yen: int, acquisition: str = "none") -> dict[str, object]:
        return {
            "category": category,
            "description": f"{category} {acquisition}",
            "acquisition": acquisition,
            "amount_yen": amount_yen,
        }

    return _line


@pytest.fixture
def partner() -> Callable[..., dict[str, object]]:
    """Build one partners row; a local government has a 6-digit code."""

    def _partner(code: str | None, kind: str = "local_government") -> dict[str, object]:
        return {"code": code, "name": f"団体{code}", "kind": kind, "role": "member"}

    return _partner
