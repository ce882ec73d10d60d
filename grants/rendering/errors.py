"""Why a PDF could not be made, as exceptions the web app, the CLI and jobs can each report."""

from __future__ import annotations


class RenderError(Exception):
    """Base class of every error the rendering package raises on purpose."""


class RenderTimeout(RenderError):
    """The renderer did not finish in time and was killed; the document is too large or slow."""


class RenderFailed(RenderError):
    """The renderer raised, ran out of memory or died; ``detail`` holds the child's traceback."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class MissingJapaneseFont(RenderError):
    """No installed font covers Japanese: every character would print as an empty box."""
