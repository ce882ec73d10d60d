"""Findings: what a rule says about an application, in both languages, JSON-safe."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a finding matters; stored by value, so the values never change."""

    ERROR = "error"  # blocks submission
    WARNING = "warning"  # shown, does not block
    PRINCIPLE = "principle"  # 原則: blocks until the applicant justifies the exception


@dataclass(frozen=True)
class LocalizedText:
    """A user-visible text in Japanese and English."""

    ja: str
    en: str

    def get(self, locale: str | None) -> str:
        """Return the text for `locale` ("en", "en-US", "ja"...); any other locale gets ja."""
        if locale and locale.replace("_", "-").split("-")[0].lower() == "en":
            return self.en
        return self.ja

    def to_dict(self) -> dict[str, str]:
        """Return `{"ja": ..., "en": ...}`."""
        return {"ja": self.ja, "en": self.en}


@dataclass(frozen=True)
class Finding:
    """One problem (or warning) a rule found; `field` is the form field it concerns, if any."""

    rule_id: str
    kind: str
    severity: Severity
    message: LocalizedText
    field: str | None
    prompt: LocalizedText | None = None  # what the justification of an exception must say
    justification: str | None = None  # the applicant's written reason for the exception

    @property
    def blocking(self) -> bool:
        """True when the finding prevents submission: an error, or an unjustified exception."""
        if self.severity is Severity.PRINCIPLE:
            return not self.justification
        return self.severity is Severity.ERROR

    def justified_by(self, justifications: Mapping[str, object]) -> Finding:
        """Attach the applicant's justification (keyed by rule id) to an in-principle finding."""
        text = justifications.get(self.rule_id)
        if self.severity is not Severity.PRINCIPLE or not isinstance(text, str):
            return self
        return replace(self, justification=text.strip() or None)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (for snapshots and the live form API); the prompt and the
        justification appear only on in-principle findings, so other snapshots keep their shape."""
        data: dict[str, Any] = {
            "rule_id": self.rule_id,
            "kind": self.kind,
            "severity": self.severity.value,
            "message": self.message.to_dict(),
            "field": self.field,
        }
        if self.severity is Severity.PRINCIPLE:
            data["prompt"] = None if self.prompt is None else self.prompt.to_dict()
            data["justification"] = self.justification
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Rebuild a finding from `to_dict()` output."""
        message, prompt = data["message"], data.get("prompt")
        return cls(
            rule_id=str(data["rule_id"]),
            kind=str(data["kind"]),
            severity=Severity(data["severity"]),
            message=LocalizedText(ja=str(message["ja"]), en=str(message["en"])),
            field=None if data.get("field") is None else str(data["field"]),
            prompt=None if prompt is None else LocalizedText(ja=prompt["ja"], en=prompt["en"]),
            justification=data.get("justification"),
        )


NESTED_QUOTES = str.maketrans("「」", "『』")


def quoted_ja(text: str) -> str:
    """Quote ``text`` in 「」 for a Japanese sentence, unless it already is one quoted phrase;
    quotes inside become 『』, as Japanese nests them."""
    if text.startswith("「") and text.endswith("」") and text.count("「") == 1:
        return text
    return "「" + text.translate(NESTED_QUOTES) + "」"

