"""The file types a program's file field may accept (its `accept` list), named as the upload
checks know them (`grants.uploads.TYPES`).

Every type is checked by content, and a file's name must carry one of its type's extensions. The
default is what applicants and reviewers use: PDF, Word, Excel, PowerPoint, JPEG and PNG.
`image` and `office` are shorthands that program files written before the list existed use.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

FileType = Literal[
    "pdf", "docx", "doc", "xlsx", "xls", "pptx", "ppt", "jpeg", "png",
    "gif", "webp", "tiff", "odt", "ods", "odp", "csv", "txt",
    "image", "office",
]  # fmt: skip
SHORTHANDS: dict[str, tuple[str, ...]] = {
    "image": ("jpeg", "png"),
    "office": ("docx", "doc", "xlsx", "xls", "pptx", "ppt"),
}
DEFAULT_FILE_TYPES: tuple[FileType, ...] = (
    "pdf", "docx", "doc", "xlsx", "xls", "pptx", "ppt", "jpeg", "png",
)  # fmt: skip


def expand(names: Iterable[str]) -> tuple[str, ...]:
    """Spell the shorthands out: the types, each once, in the order written."""
    return tuple(dict.fromkeys(t for name in names for t in SHORTHANDS.get(name, (name,))))
