"""Refuse to render when no installed font covers Japanese.

Without one, WeasyPrint still succeeds and produces a PDF of empty boxes (tofu) that looks
fine to a program and useless to a person; failing loudly names the fix instead.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

from grants.rendering.errors import MissingJapaneseFont

INSTALL = "sudo apt-get install fonts-noto-cjk"
FC_LIST_TIMEOUT_S = 10


def require_japanese_font() -> tuple[str, ...]:
    """Return the font families fontconfig offers for Japanese, or raise MissingJapaneseFont.

    A positive answer is cached for the life of the process; a negative one is not, so that
    installing the package fixes a running server without a restart.
    """
    families = _japanese_families()
    if not families:
        _japanese_families.cache_clear()
        raise MissingJapaneseFont(f"no font covering Japanese is installed; run: {INSTALL}")
    return families


@functools.cache
def _japanese_families() -> tuple[str, ...]:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        raise MissingJapaneseFont(
            f"fontconfig's fc-list is missing, so Japanese fonts cannot be checked; run: {INSTALL}"
        )
    try:
        # A fixed argument list and a resolved executable path: no shell, no user input.
        completed = subprocess.run(  # noqa: S603
            [fc_list, ":lang=ja", "family"],
            capture_output=True,
            text=True,
            timeout=FC_LIST_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise MissingJapaneseFont(f"fc-list failed ({exc}); run: {INSTALL}") from exc
    lines = {line.strip() for line in completed.stdout.splitlines()}
    return tuple(sorted(line for line in lines if line))
