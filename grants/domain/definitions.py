"""Program definitions: the YAML schema (version 1) as frozen pydantic models.

The schema is documented in docs/program-schema.md. `parse_program` and `load_program_file` at the
end load a file with the checks of the modules below this one: `yaml_documents` (YAML, lines,
limits), `program_references` (cross references), `conditions` and `application_data` (types).
"""

from __future__ import annotations

import hashlib
import sys
from datetime import datetime
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from annotated_types import Ge, Le
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from grants.domain.application_data import Acquisition, OrgType
from grants.domain.conditions import Condition, FieldId, Scalar
from grants.domain.file_types import DEFAULT_FILE_TYPES, FileType, expand
from grants.domain.findings import Finding, LocalizedText, Severity
from grants.domain.program_references import program_references
from grants.domain.yaml_documents import parse_document, read_utf8, schema_keys

JST = ZoneInfo("Asia/Tokyo")

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$")]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$")]
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Yen = Annotated[int, Strict(), Ge(0)]
Count = Annotated[int, Strict(), Ge(1)]
MaxRows = Annotated[int, Strict(), Ge(1), Le(500)]  # a bound on what one form post must carry
StrictInt = Annotated[int, Strict()]
StrictBool = Annotated[bool, Strict()]
StrictStr = Annotated[str, Strict()]


def _ratio(value: object) -> Fraction:
    """Parse a share written as "n/d" (never a float, so 1/3 stays exact)."""
    text = value if isinstance(value, str) and len(value) <= 40 else ""  # no 5000-digit int()
    num, sep, den = text.partition("/")
    if not (sep and num.strip().isdigit() and den.strip().isdigit() and int(den) > 0):
        raise PydanticCustomError("ratio", 'expected a share written as a fraction like "1/2"')
    ratio = Fraction(int(num), int(den))
    if not 0 < ratio <= 1:
        raise PydanticCustomError("ratio", "a share must be more than 0 and at most 1")
    return ratio


def _jst(value: object) -> datetime:
    """Parse "YYYY-MM-DD HH:MM" as Japan time (Asia/Tokyo)."""
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M").replace(tzinfo=JST)
    except ValueError:
        raise PydanticCustomError(
            "jst_datetime", 'expected Japan time written as "YYYY-MM-DD HH:MM"'
        ) from None


Ratio = Annotated[Fraction, PlainValidator(_ratio)]
JstDatetime = Annotated[datetime, PlainValidator(_jst)]
Text = LocalizedText  # validated as {ja, en}, both non-empty (str_min_length), no other keys


class _Model(BaseModel):
    """Base of every schema model: immutable, unknown keys are errors, no empty strings."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_min_length=1)


class Choice(_Model):
    value: StrictStr
    label: Text


class _FieldBase(_Model):
    id: FieldId
    label: Text
    help: Text | None = None
    required: StrictBool = False
    show_when: Condition | None = None


class TextField(_FieldBase):
    kind: Literal["text", "long_text"]
    max_length: Count

    @model_validator(mode="before")
    @classmethod
    def _default_max_length(cls, data: Any) -> Any:
        if isinstance(data, dict) and "max_length" not in data:
            return {**data, "max_length": 4000 if data.get("kind") == "long_text" else 200}
        return data


class NumberField(_FieldBase):
    kind: Literal["number", "yen"]
    min: StrictInt | None = None
    max: StrictInt | None = None

    @model_validator(mode="after")
    def _bounds(self) -> NumberField:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.kind == "yen" and self.min is not None and self.min < 0:
            raise ValueError("a yen field cannot have a negative min")
        return self


class DateField(_FieldBase):
    kind: Literal["date"]


class ChoiceField(_FieldBase):
    kind: Literal["choice", "multi_choice"]
    choices: tuple[Choice, ...] | None = Field(None, min_length=1)
    choices_from: Literal["tracks", "fields_of_use"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ChoiceField:
        if (self.choices is None) == (self.choices_from is None):
            raise ValueError("give exactly one of `choices` or `choices_from`")
        return self


class YesNoField(_FieldBase):
    kind: Literal["yes_no"]


class FileField(_FieldBase):
    kind: Literal["file"]
    accept: tuple[FileType, ...] = Field(DEFAULT_FILE_TYPES, min_length=1)

    @property
    def file_types(self) -> tuple[str, ...]:
        """The accepted types (`grants.uploads.TYPES` keys), with the shorthands spelled out."""
        return expand(self.accept)


class PartnersField(_FieldBase):
    kind: Literal["partners"]
    max_rows: MaxRows = 50


class ConsortiumField(_FieldBase):
    """The members of the consortium (連携主体) the lead applies for; see `Program.consortium`."""

    kind: Literal["consortium"]
    max_rows: MaxRows = 30


class BudgetLinesField(_FieldBase):
    kind: Literal["budget_lines"]
    max_rows: MaxRows = 100


FormField = Annotated[
    TextField
    | NumberField
    | DateField
    | ChoiceField
    | YesNoField
    | FileField
    | PartnersField
    | ConsortiumField
    | BudgetLinesField,
    Discriminator("kind"),
]
FIELD_KINDS = ("text", "long_text", "number", "yen", "date", "choice", "multi_choice", "yes_no",
               "file", "partners", "consortium", "budget_lines")  # fmt: skip


class Step(_Model):
    id: Key
    title: Text
    help: Text | None = None
    fields: tuple[FormField, ...] = Field(min_length=1)


class _RuleBase(_Model):
    id: RuleId  # defaults to "<kind>-<index>" (filled in by Program before validation)
    severity: Severity = Severity.ERROR
    when: Condition | None = None
    message: Text | None = None
    justification: Text | None = None  # with severity "principle": what the exception must explain

    @model_validator(mode="after")
    def _justification_with_principle(self) -> _RuleBase:
        """A rule "in principle" must say what the applicant's justification is to explain."""
        if self.severity is Severity.PRINCIPLE and self.justification is None:
            raise ValueError('severity "principle" needs `justification`: what the reason asks')
        if self.severity is not Severity.PRINCIPLE and self.justification is not None:
            raise ValueError('`justification` goes with severity "principle" only')
        return self

    def finding(self, generated: LocalizedText, field: str | None) -> Finding:
        """Build this rule's finding: the `message` override wins over the generated text."""
        kind = getattr(self, "kind", "")
        message = self.message or generated
        return Finding(self.id, kind, self.severity, message, field, prompt=self.justification)


class MinLocalGovernmentsRule(_RuleBase):
    kind: Literal["min_local_governments"]
    min: Count


class ConsortiumLocalGovernmentsRule(_RuleBase):
    """A consortium must include at least `min` distinct local governments, the lead included."""

    kind: Literal["consortium_local_governments"]
    min: Count


class RequiredAttachmentRule(_RuleBase):
    kind: Literal["required_attachment"]
    field: FieldId


class RequiredAnswerRule(_RuleBase):
    kind: Literal["required_answer"]
    field: FieldId
    equals: Scalar


class CapCase(_Model):
    """One case of an amount cap: a fixed amount, or an amount per unit (e.g. per school)."""

    when: Condition | None = None
    amount_yen: Yen | None = None
    per_unit_yen: Yen | None = None
    unit_field: FieldId | None = None
    unit_label: Text | None = None

    @model_validator(mode="after")
    def _one_amount(self) -> CapCase:
        if (self.amount_yen is None) == (self.per_unit_yen is None):
            raise ValueError("give exactly one of `amount_yen` or `per_unit_yen`")
        per_unit = (self.unit_field, self.unit_label)
        if self.per_unit_yen is not None and None in per_unit:
            raise ValueError("`per_unit_yen` needs `unit_field` and `unit_label`")
        if self.amount_yen is not None and per_unit != (None, None):
            raise ValueError("`unit_field` and `unit_label` go with `per_unit_yen` only")
        return self


class AmountCapRule(_RuleBase):
    kind: Literal["amount_cap"]
    cases: tuple[CapCase, ...] = Field(min_length=1)


class CategoryShareRule(_RuleBase):
    kind: Literal["category_share"]
    categories: tuple[Key, ...] = Field(min_length=1)
    acquisition_types: tuple[Acquisition, ...] | None = Field(None, min_length=1)
    max_share: Ratio
    strict: StrictBool = False


class ForbiddenAcquisitionRule(_RuleBase):
    kind: Literal["forbidden_acquisition"]
    categories: tuple[Key, ...] | None = Field(None, min_length=1)  # None: every budget line
    acquisition_types: tuple[Acquisition, ...] = Field(min_length=1)


Rule = Annotated[
    MinLocalGovernmentsRule
    | ConsortiumLocalGovernmentsRule
    | RequiredAttachmentRule
    | RequiredAnswerRule
    | AmountCapRule
    | CategoryShareRule
    | ForbiddenAcquisitionRule,
    Discriminator("kind"),
]
RULE_KINDS = ("min_local_governments", "consortium_local_governments", "required_attachment",
              "required_answer", "amount_cap", "category_share",
              "forbidden_acquisition")  # fmt: skip


class Quota(_Model):
    """`reserved`: a pot of its own for the track; `target`: a share the officer weighs."""

    track: Key
    share: Ratio
    mode: Literal["target", "reserved"] = "reserved"


class Call(_Model):
    opens: JstDatetime
    closes: JstDatetime
    budget_yen: Yen | None = None
    quotas: tuple[Quota, ...] = ()
    # Days after the decision an applicant may ask for an evaluation review (domain.redress).
    redress_window_days: Annotated[int, Strict(), Ge(1), Le(365)] = 30

    @field_validator("closes")
    @classmethod
    def _after_opens(cls, closes: datetime, info: ValidationInfo) -> datetime:
        opens = info.data.get("opens")
        if opens is not None and closes <= opens:
            raise ValueError("closes must be after opens")
        return closes


class FieldOfUse(_Model):
    id: Key
    title: Text


class Track(_Model):
    id: Key
    title: Text
    description: Text


class EligibilityQuestion(_Model):
    id: Key
    question: Text
    help: Text | None = None
    required_answer: StrictBool = True
    reason: Text


class Category(_Model):
    id: Key
    title: Text
    help: Text | None = None
    equipment: StrictBool = False


class Budget(_Model):
    categories: tuple[Category, ...] = ()
    award_rounding_yen: Count = 1000


class Consortium(_Model):
    """Consortium applications (連携主体): who may apply as a consortium's lead, listing its
    members in the program's `consortium` field."""

    leads: tuple[OrgType, ...] = Field(min_length=1)


MonthDay = Annotated[str, StringConstraints(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]


class UsefulLife(_Model):
    """How long an acquired asset's disposal is restricted (処分制限期間), by kind of asset."""

    kind: Key
    title: Text
    years: Annotated[int, Strict(), Ge(1), Le(50)]


# The useful lives of 減価償却資産の耐用年数等に関する省令 (別表第一・第三) for what ICT
# projects buy; a program lists its own to replace them.
DEFAULT_USEFUL_LIVES = (
    UsefulLife(kind="pc", title=LocalizedText("パーソナルコンピュータ", "Personal computer"),
               years=4),
    UsefulLife(kind="computer", title=LocalizedText("電子計算機（パソコン以外）",
                                                    "Computer (other than a PC)"), years=5),
    UsefulLife(kind="network", title=LocalizedText("通信機器", "Communication equipment"),
               years=10),
    UsefulLife(kind="software", title=LocalizedText("ソフトウエア", "Software"), years=5),
    UsefulLife(kind="other", title=LocalizedText("その他の器具及び備品", "Other equipment"),
               years=5),
)


class PostAward(_Model):
    """What differs between programs after the award (交付決定 to 書類保存); every key has a
    default, so a program without this section gets the usual subsidy administration."""

    # The share of the award the final amount pays of eligible actual costs: 1 for 定額 (a fixed
    # amount up to the cap, as every program here), e.g. "1/2" for a 補助率 of one half.
    funding_rate: Ratio = Fraction(1)
    # Money moved into or out of a category beyond this share of its planned amount needs a
    # change request (計画変更) approved by the officer.
    change_tolerance: Ratio = Fraction(1, 5)
    # A change may carry the project this many fiscal years past the one its grant decision
    # ends in (繰越: into the next fiscal year by default), never further.
    max_extension_fiscal_years: Annotated[int, Strict(), Ge(0), Le(5)] = 1
    report_due_days: Annotated[int, Strict(), Ge(1), Le(365)] = 30  # after the project ends
    # A category whose actual cost differs from the plan by more than this share needs a reason.
    variance_reason_share: Ratio = Fraction(1, 10)
    asset_threshold_yen: Yen = 500_000  # acquired items at or above this go in the register
    useful_lives: tuple[UsefulLife, ...] = Field(DEFAULT_USEFUL_LIVES, min_length=1)
    followup_years: Annotated[int, Strict(), Ge(0), Le(20)] = 5  # 状況報告 after completion
    # Each follow-up is due by this day of the fiscal year (April to March): "MM-DD".
    followup_due: MonthDay = "06-30"
    jobs_required: StrictBool = False  # the completion report must state the jobs created
    jobs_target_field: FieldId | None = None  # the application's number field with the target
    kpi_fields: tuple[FieldId, ...] = ()  # the application's fields that state KPI targets

    @field_validator("followup_due")
    @classmethod
    def _a_real_day(cls, value: str) -> str:
        month, day = (int(part) for part in value.split("-"))
        try:
            datetime(2000, month, day)  # a leap year: "02-29" is a day, "02-30" is not
        except ValueError:
            raise ValueError(f"{value} is not a day of the year") from None
        return value

    @field_validator("useful_lives")
    @classmethod
    def _kinds_once(cls, lives: tuple[UsefulLife, ...]) -> tuple[UsefulLife, ...]:
        kinds = [life.kind for life in lives]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each asset kind may be listed once")
        return lives

    def useful_life(self, kind: str) -> UsefulLife:
        """Return the useful life for this kind of asset; raise KeyError when there is none."""
        for life in self.useful_lives:
            if life.kind == kind:
                return life
        raise KeyError(kind)


class Program(_Model):
    """A funding program: who may apply, the form, and the rules an application must meet."""

    schema_version: Literal[1] = Field(alias="schema")
    id: Slug
    title: Text
    summary: Text
    fiscal_year: Annotated[int, Strict(), Ge(1900)]
    kind: Literal["grant", "contract", "subsidy"]
    source: Text
    example_settings: StrictBool = False
    example_note: Text | None = None
    call: Call
    applicant_types: tuple[OrgType, ...] = Field(min_length=1)
    consortium: Consortium | None = None
    fields_of_use: tuple[FieldOfUse, ...] = ()
    tracks: tuple[Track, ...] = ()
    eligibility_questions: tuple[EligibilityQuestion, ...] = ()
    budget: Budget = Budget()
    rubric: Slug | None = None
    steps: tuple[Step, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = ()
    post_award: PostAward = PostAward()

    @model_validator(mode="before")
    @classmethod
    def _default_rule_ids(cls, data: Any) -> Any:
        """Give each rule without an `id` the stable default "<kind>-<index>"."""
        if not (isinstance(data, dict) and isinstance(data.get("rules"), list)):
            return data
        rules = [
            {**rule, "id": f"{rule.get('kind')}-{index}"}
            if isinstance(rule, dict) and "id" not in rule
            else rule
            for index, rule in enumerate(data["rules"])
        ]
        return {**data, "rules": rules}

    @cached_property
    def _fields_by_id(self) -> dict[str, FormField]:
        return {field.id: field for field in self.all_fields()}

    def all_fields(self) -> tuple[FormField, ...]:
        """Return every form field, in form order."""
        return tuple(field for step in self.steps for field in step.fields)

    def field(self, field_id: str) -> FormField:
        """Return the field with this id; raise KeyError when there is none."""
        return self._fields_by_id[field_id]

    @property
    def partners_field(self) -> PartnersField | None:
        """Return the program's partners field, if it has one."""
        return next((f for f in self.all_fields() if isinstance(f, PartnersField)), None)

    @property
    def consortium_field(self) -> ConsortiumField | None:
        """Return the program's consortium field, if it has one."""
        return next((f for f in self.all_fields() if isinstance(f, ConsortiumField)), None)

    @property
    def budget_field(self) -> BudgetLinesField | None:
        """Return the program's budget_lines field, if it has one."""
        return next((f for f in self.all_fields() if isinstance(f, BudgetLinesField)), None)

    def category(self, category_id: str) -> Category:
        """Return the budget category with this id; raise KeyError when there is none."""
        for category in self.budget.categories:
            if category.id == category_id:
                return category
        raise KeyError(category_id)

    def choices(self, field: ChoiceField) -> tuple[Choice, ...]:
        """Return a choice field's options, resolving `choices_from` to tracks or fields of use."""
        if field.choices is not None:
            return field.choices
        source = self.tracks if field.choices_from == "tracks" else self.fields_of_use
        return tuple(Choice(value=item.id, label=item.title) for item in source)


def definition_sha256(text: str) -> str:
    """Return the SHA-256 (hex) of a definition's UTF-8 bytes: the identity of a stored version."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_program_file(path: str | Path) -> Program:
    """Load and validate `programs/<id>.yaml` (or `.yml`); the id must equal the file-name stem.

    Raises:
        DefinitionErrors: every problem in the file, each with file, line and field.
    """
    path = Path(path)
    return parse_program(read_utf8(path), str(path), expected_id=path.stem)


def parse_program(text: str, filename: str, *, expected_id: str | None = None) -> Program:
    """Validate a program given as text; `filename` (e.g. "programs/x.yaml") names it in errors.

    Raises:
        DefinitionErrors: every problem (YAML, schema, cross references), in one pass.
    """
    return parse_document(
        text, filename, Program, expected_id=expected_id, known_keys=_KNOWN_KEYS,
        kinds_by_list=_KINDS_BY_LIST, references=program_references,
    )


_KINDS_BY_LIST = {"fields": FIELD_KINDS, "rules": RULE_KINDS}
_KNOWN_KEYS = schema_keys(sys.modules[__name__])
