"""Why an upload is refused: the stable codes, the exception, and its Japanese and English texts.

Every refusal is built by `refused` from a message id here, so the two languages stay together.
"""

from __future__ import annotations

from enum import StrEnum

_MiB = 1024 * 1024


class RefusalCode(StrEnum):
    """Why an upload was refused: `UploadRefused.code`, stable (logged, matched by callers)."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    UNKNOWN_TYPE = "unknown_type"
    NOT_ACCEPTED = "not_accepted"
    EXTENSION_MISMATCH = "extension_mismatch"
    ENCRYPTED = "encrypted"
    MACROS = "macros"
    ARCHIVE_LIMITS = "archive_limits"
    DAMAGED = "damaged"


class UploadRefused(Exception):
    """The file cannot be attached; the reasons are shown to the applicant as they are."""

    def __init__(self, reason_ja: str, reason_en: str, code: str) -> None:
        super().__init__(reason_en)
        self.reason_ja = reason_ja
        self.reason_en = reason_en
        self.code = code

    def reason(self, locale: str) -> str:
        """Return the reason in `locale`, falling back to Japanese like LocalizedText."""
        return self.reason_en if locale.startswith("en") else self.reason_ja


LABELS = {  # (ja, en) as they read inside a sentence
    "pdf": ("PDF", "a PDF"),
    "png": ("PNG画像", "a PNG image"),
    "jpeg": ("JPEG画像", "a JPEG image"),
    "gif": ("GIF画像", "a GIF image"),
    "webp": ("WebP画像", "a WebP image"),
    "tiff": ("TIFF画像", "a TIFF image"),
    "docx": ("Word文書（.docx）", "a Word document (.docx)"),
    "xlsx": ("Excelブック（.xlsx）", "an Excel workbook (.xlsx)"),
    "pptx": ("PowerPointファイル（.pptx）", "a PowerPoint file (.pptx)"),
    "docm": ("マクロ付きWord文書（.docm）", "a macro-enabled Word document (.docm)"),
    "xlsm": ("マクロ付きExcelブック（.xlsm）", "a macro-enabled Excel workbook (.xlsm)"),
    "pptm": ("マクロ付きPowerPointファイル（.pptm）", "a macro-enabled PowerPoint file (.pptm)"),
    "odt": ("ODFテキスト（.odt）", "an ODF text document (.odt)"),
    "ods": ("ODFスプレッドシート（.ods）", "an ODF spreadsheet (.ods)"),
    "odp": ("ODFプレゼンテーション（.odp）", "an ODF presentation (.odp)"),
    "doc": ("Word 97-2003文書（.doc）", "a Word 97-2003 document (.doc)"),
    "xls": ("Excel 97-2003ブック（.xls）", "an Excel 97-2003 workbook (.xls)"),
    "ppt": ("PowerPoint 97-2003ファイル（.ppt）", "a PowerPoint 97-2003 file (.ppt)"),
    "csv": ("CSVファイル", "a CSV file"),
    "txt": ("テキストファイル", "a text file"),
    None: ("ファイル", "a file"),
}
TYPE_NAMES = {  # (ja, en) of a type in the list of what a field accepts
    "pdf": ("PDF", "PDF"),
    "png": ("PNG", "PNG"),
    "jpeg": ("JPEG", "JPEG"),
    "gif": ("GIF", "GIF"),
    "webp": ("WebP", "WebP"),
    "tiff": ("TIFF", "TIFF"),
    "docx": ("Word", "Word"),
    "doc": ("Word", "Word"),
    "xlsx": ("Excel", "Excel"),
    "xls": ("Excel", "Excel"),
    "pptx": ("PowerPoint", "PowerPoint"),
    "ppt": ("PowerPoint", "PowerPoint"),
    "docm": ("マクロ付きWord", "macro-enabled Word"),
    "xlsm": ("マクロ付きExcel", "macro-enabled Excel"),
    "pptm": ("マクロ付きPowerPoint", "macro-enabled PowerPoint"),
    "odt": ("ODFテキスト", "ODF text"),
    "ods": ("ODFスプレッドシート", "ODF spreadsheet"),
    "odp": ("ODFプレゼンテーション", "ODF presentation"),
    "csv": ("CSV", "CSV"),
    "txt": ("テキスト", "text"),
}
_MESSAGES = {  # message id (its code before the dot) -> (ja, en) templates
    "empty": (
        "ファイルが空です（0バイト）。内容のあるファイルを選んでください。",
        "The file is empty (0 bytes). Please choose a file with content.",
    ),
    "too_large": (
        "ファイルが大きすぎます（{size}）。1ファイルの上限は{limit}です。",
        "The file is too large ({size}). The limit is {limit} per file.",
    ),
    "unknown_type": (
        "このファイルの形式を確認できませんでした。添付できる形式: {accepted}",
        "The type of this file could not be recognised. Accepted: {accepted}.",
    ),
    "extension_mismatch": (
        "ファイル名は「.{ext}」ですが、中身は{actual}です。"
        "正しい形式で保存し直してから、アップロードしてください。",
        "The file name ends in “.{ext}”, but the content is {actual}. "
        "Please save it in the right format and upload it again.",
    ),
    "extension_mismatch.unknown": (
        "ファイル名は「.{ext}」ですが、中身は{claimed}ではありません。"
        "ファイルが壊れているか、別の形式の可能性があります。",
        "The file name ends in “.{ext}”, but the content is not {claimed}. "
        "The file may be damaged or in another format.",
    ),
    "not_accepted": (
        "この欄には{kind}は添付できません。添付できる形式: {accepted}",
        "{kind} cannot be attached here. Accepted: {accepted}.",
    ),
    "not_accepted.extension": (
        "ファイル名が「.{ext}」で終わるファイルは添付できません。添付できる形式: {accepted}",
        "Files whose name ends in “.{ext}” cannot be attached. Accepted: {accepted}.",
    ),
    "not_accepted.no_extension": (
        "ファイル名に拡張子（.pdf など）がないため、添付できません。"
        "形式に合った拡張子を付けてください。添付できる形式: {accepted}",
        "The file name has no extension (such as .pdf), so it cannot be attached. "
        "Please name it with the extension of its type. Accepted: {accepted}.",
    ),
    "encrypted": (
        "パスワードで保護された（暗号化された）{kind}は、審査担当者が開けないため受け付けられません。"
        "パスワードを解除して保存し直してから、アップロードしてください。",
        "This is {kind} protected by a password (encrypted): it cannot be accepted because "
        "reviewers could not open it. Please remove the password, save it again and upload it.",
    ),
    "macros": (
        "マクロを含むファイルは、安全のため受け付けられません。マクロを含まない形式"
        "（.docx・.xlsx・.pptx など）で保存し直してから、アップロードしてください。",
        "Files containing macros cannot be accepted, for safety. Please save the file without "
        "macros (for example as .docx, .xlsx or .pptx) and upload it again.",
    ),
    "archive_limits.entries": (
        "このファイルは受け付けられません。内部の部品が多すぎます（{count:,}個、上限{limit:,}個）。",
        "This file cannot be accepted: it has too many parts ({count:,}; the limit is {limit:,}).",
    ),
    "archive_limits.size": (
        "このファイルは受け付けられません。展開後の大きさが上限（{limit}）を超えます。",
        "This file cannot be accepted: unpacked, it would exceed {limit}.",
    ),
    "archive_limits.part": (
        "このファイルは受け付けられません。内部の部品が大きすぎます。",
        "This file cannot be accepted: one of its parts is too large.",
    ),
    "damaged": (
        "ファイルが壊れているため読み取れません。保存し直してから、アップロードしてください。",
        "The file is damaged and cannot be read. Please save it again and upload it.",
    ),
}


def refused(message_id: str, **params: object) -> UploadRefused:
    """Build the refusal; params are (ja, en) pairs or values shared by both languages."""
    ja, en = _MESSAGES[message_id]
    ja_params = {k: v[0] if isinstance(v, tuple) else v for k, v in params.items()}
    en_params = {k: v[1] if isinstance(v, tuple) else v for k, v in params.items()}
    en = en.format(**en_params)
    code = RefusalCode(message_id.split(".")[0])
    return UploadRefused(ja.format(**ja_params), en[:1].upper() + en[1:], code.value)


def mb(n_bytes: int) -> str:
    """Format a size the way the config states it (MAX_UPLOAD_MB counts 1024 × 1024 bytes)."""
    return f"{n_bytes / _MiB:.1f}".removesuffix(".0") + " MB"
