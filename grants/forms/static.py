"""Forms that do not depend on a program definition."""

from __future__ import annotations

from wtforms.fields.choices import SelectChoice

from grants.forms.answers import ORGANIZATION_KIND_LABELS, options


def organization_kind_choices() -> list[SelectChoice]:
    return options(ORGANIZATION_KIND_LABELS.items())
