"""What an application says, as the rules see it: answers, the applicant, attachments.

Also the stored vocabularies answers use (organization types, acquisition types).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from grants.domain import localgov
from grants.domain.findings import LocalizedText


class _RowsField(Protocol):
    @property
    def id(self) -> str: ...


class FormLayout(Protocol):
    """Which fields hold the partners, consortium and budget rows: all this module needs of a
    program.

    A protocol rather than `definitions.Program`, so these plain types import nothing above them.
    """

    @property
    def partners_field(self) -> _RowsField | None: ...

    @property
    def consortium_field(self) -> _RowsField | None: ...

    @property
    def budget_field(self) -> _RowsField | None: ...


class OrgType(StrEnum):
    """Organization (applicant and partner) types; stored by value."""

    LOCAL_GOVERNMENT = "local_government"
    THIRD_SECTOR = "third_sector"
    NPO = "npo"
    OTHER = "other"


ORG_TYPE_LABELS: Mapping[str, LocalizedText] = {
    OrgType.LOCAL_GOVERNMENT: LocalizedText("地方公共団体", "local governments"),
    OrgType.THIRD_SECTOR: LocalizedText("第3セクター", "third-sector companies"),
    OrgType.NPO: LocalizedText("NPO法人", "NPOs"),
    OrgType.OTHER: LocalizedText("その他の団体", "other organizations"),
}


class MemberKind(StrEnum):
    """Kinds of consortium (連携主体) members; stored by value. A local government is named by
    its 全国地方公共団体コード, a corporation or an NPO by its 法人番号, another body (任意団体 …)
    by its 法人番号 when it has one."""

    LOCAL_GOVERNMENT = "local_government"
    CORPORATION = "corporation"
    NPO = "npo"
    OTHER = "other"


MEMBER_KIND_LABELS: Mapping[str, LocalizedText] = {
    MemberKind.LOCAL_GOVERNMENT: LocalizedText("地方公共団体", "local governments"),
    MemberKind.CORPORATION: LocalizedText("法人（企業・第3セクター等）", "corporations"),
    MemberKind.NPO: LocalizedText("NPO法人", "NPOs"),
    MemberKind.OTHER: LocalizedText("その他の団体", "other organizations"),
}


class Acquisition(StrEnum):
    """How a budget line's item is obtained; matters in `equipment` categories."""

    PURCHASE = "purchase"
    LEASE = "lease"
    RENTAL = "rental"
    NONE = "none"


ACQUISITION_LABELS: Mapping[str, LocalizedText] = {
    Acquisition.PURCHASE: LocalizedText("購入", "purchase"),
    Acquisition.LEASE: LocalizedText("リース", "lease"),
    Acquisition.RENTAL: LocalizedText("レンタル", "rental"),
    Acquisition.NONE: LocalizedText("取得なし", "no acquisition"),
}


@dataclass(frozen=True)
class Partner:
    """One participant listed in the partners or the consortium field: `code` is a local
    government's 全国地方公共団体コード, or a consortium member's 法人番号 (`kind` says
    which)."""

    code: str | None
    name: str
    kind: str
    role: str

    @classmethod
    def from_answer(cls, row: Mapping[str, object]) -> Partner:
        """Read one partners row as stored in the answers."""
        code = row.get("code")
        return cls(
            code=str(code) if code else None,
            name=str(row.get("name") or ""),
            kind=str(row.get("kind") or ""),
            role=str(row.get("role") or ""),
        )


@dataclass(frozen=True)
class BudgetLine:
    """One budget line; a line still without an amount counts as ¥0 (drafts are checked live)."""

    category: str
    description: str
    acquisition: str
    amount_yen: int

    @classmethod
    def from_answer(cls, row: Mapping[str, object]) -> BudgetLine:
        """Read one budget row as stored in the answers.

        Raises:
            TypeError: the amount is not whole yen (a float or text would hide rounding).
        """
        amount = row.get("amount_yen")
        if amount is None:
            amount = 0
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError(f"budget line amount_yen must be int yen, got {amount!r}")
        return cls(
            category=str(row.get("category") or ""),
            description=str(row.get("description") or ""),
            acquisition=str(row.get("acquisition") or Acquisition.NONE),
            amount_yen=amount,
        )


def _rows(value: object) -> list[Mapping[str, object]]:
    if not isinstance(value, list | tuple):
        return []
    return [row for row in value if isinstance(row, Mapping)]


@dataclass(frozen=True)
class ApplicationData:
    """The facts rules are evaluated on; built by the app from a draft or a frozen snapshot.

    `lead_local_government` is the lead's 全国地方公共団体コード when the lead is a local
    government; `attachments` maps a file field id to the number of files uploaded in it.
    """

    applicant_type: str
    lead_local_government: str | None
    answers: Mapping[str, object]
    attachments: Mapping[str, int] = field(default_factory=dict)

    def partners(self, program: FormLayout) -> list[Partner]:
        """Return the rows of the program's partners field (empty when it has none)."""
        partners_field = program.partners_field
        if partners_field is None:
            return []
        return [Partner.from_answer(row) for row in _rows(self.answers.get(partners_field.id))]

    def consortium_members(self, program: FormLayout) -> list[Partner]:
        """Return the rows of the program's consortium field (empty when it has none): an
        application listing members is made by its lead on behalf of a consortium."""
        consortium_field = program.consortium_field
        if consortium_field is None:
            return []
        return [Partner.from_answer(row) for row in _rows(self.answers.get(consortium_field.id))]

    def budget_lines(self, program: FormLayout) -> list[BudgetLine]:
        """Return the rows of the program's budget_lines field (empty when it has none)."""
        budget_field = program.budget_field
        if budget_field is None:
            return []
        return [BudgetLine.from_answer(row) for row in _rows(self.answers.get(budget_field.id))]

    def local_government_codes(self, program: FormLayout) -> frozenset[str]:
        """Return the distinct registry codes of the lead, the local-government partners and
        the local-government consortium members.

        Only a code that is exactly a local government's registry code counts (an exact key
        lookup, so ``"011002\\n"``, a ward, an unknown code or a wrong check digit never do),
        and only on a local-government row: a code left on an NPO's row names nobody. Codes
        are canonical when stored (the forms normalize them); the same one twice counts once.
        """
        rows = [*self.partners(program), *self.consortium_members(program)]
        return _registry_codes(self.lead_local_government, rows)

    def consortium_local_government_codes(self, program: FormLayout) -> frozenset[str]:
        """Return the distinct registry codes of the lead and the consortium's local
        governments, counted as `local_government_codes` counts (partners left out)."""
        return _registry_codes(self.lead_local_government, self.consortium_members(program))

    def attachment_count(self, field_id: str) -> int:
        """Return how many files were uploaded in a file field."""
        return int(self.attachments.get(field_id, 0) or 0)


def _registry_codes(lead: str | None, rows: Iterable[Partner]) -> frozenset[str]:
    codes = [lead, *(row.code for row in rows if row.kind == OrgType.LOCAL_GOVERNMENT)]
    return frozenset(c for c in codes if c and localgov.get(c) is not None)
