"""Jinja filters and globals: Japan time, yen, localized definition texts."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from functools import cache
from typing import Any

from flask import Flask
from flask_babel import get_locale

from grants.domain.describe import describe_condition
from grants.domain.localgov import load_registry
from grants.domain.org_names import local_government_label
from grants.domain.workflow import DECIDED_STATES, FUNDED_STATES
from grants.forms.answers import ACQUISITION_LABELS, MEMBER_KIND_LABELS
from grants.forms.builder import field_choices, text_in
from grants.i18n import to_jst


def localized(text: Any) -> str:
    """Pick the current language from a {ja, en} text of a definition (Japanese as fallback)."""
    if text is None:
        return ""
    locale = str(get_locale() or "ja")
    if isinstance(text, dict):
        return text.get(locale) or text.get("ja") or ""
    return getattr(text, locale, None) or getattr(text, "ja", "")


def yen(amount: int | None) -> str:
    """Format integer yen as ¥1,234,567."""
    if amount is None:
        return ""
    return f"¥{int(amount):,}"


def jst(moment: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a stored (UTC) or Japan-time datetime in Japan time, labelled."""
    if moment is None:
        return ""
    return to_jst(moment).strftime(fmt) + " JST"


def registry_name(code: str | None) -> str:
    """The prefecture and name of a local government code, or "" when it is not one."""
    government = load_registry().get(code or "")
    return government.display_name if government else ""


def lg_label(code: str | None) -> str:
    """A local government as 「伊達市（北海道）」 in the current language; "" if unknown."""
    label = local_government_label(code or "")
    return label.get(str(get_locale() or "ja")) if label else ""


def choice_labels(definition: Any, field: Any, value: Any) -> str:
    """Show a choice answer by its label in the current language."""
    labels = dict(field_choices(definition, field, str(get_locale() or "ja")))
    values = value if isinstance(value, list) else [value]
    return "、".join(labels.get(str(v), str(v)) for v in values)


def condition_text(definition: Any, condition: Any) -> Any:
    """When a conditional question applies, in words (forms work without JavaScript)."""
    return describe_condition(definition, condition)


def answer_labels(definition: Any) -> dict[str, Any]:
    """Labels to show saved budget lines and consortium members in the current language (pages
    and PDFs alike)."""
    locale = str(get_locale() or "ja")
    return {
        "category_titles": {c.id: text_in(c.title, locale) for c in definition.budget.categories},
        "acquisition_labels": ACQUISITION_LABELS,
        "member_kind_labels": MEMBER_KIND_LABELS,
    }


def static_versions(app: Flask) -> None:
    """Add ``?v=<hash of the file>`` to every static URL, so a proxy may cache /static/ for a
    year (docs/deployment.md) and an upgrade that changes a file still reaches every browser."""

    @app.url_defaults
    def add_file_hash(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or "filename" not in values or "v" in values:
            return
        path = os.path.join(app.static_folder or "", values["filename"])
        try:
            status = os.stat(path)
        except OSError:
            return
        values["v"] = _file_hash(path, status.st_mtime_ns, status.st_size)


@cache
def _file_hash(path: str, _mtime_ns: int, _size: int) -> str:
    """The file's hash, computed again only when it changed (the key has its time and size)."""
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:12]


def init_app(app: Flask) -> None:
    static_versions(app)
    app.jinja_env.filters.update(loc=localized, yen=yen, jst=jst)
    app.jinja_env.tests.update(decided=lambda state: state in DECIDED_STATES,
                               funded=lambda state: state in FUNDED_STATES)
    app.jinja_env.globals.update(
        current_locale=lambda: str(get_locale() or "ja"),
        registry_name=registry_name,
        lg_label=lg_label,
        choice_labels=choice_labels,
        condition_text=condition_text,
    )
