"""Text bound for a spreadsheet: what a spreadsheet would run as a formula is made plain text.

Applicants choose their organization's name and reviewers their own; exported as they are, a
name such as ``=HYPERLINK(...)`` would run in the officer's spreadsheet. Following OWASP's "CSV
injection" advice, text starting with a formula character is prefixed with a single quote.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(text: str) -> str:
    """``text`` as a spreadsheet shows it but never evaluates it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
