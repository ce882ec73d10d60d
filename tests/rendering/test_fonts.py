"""require_japanese_font: a PDF of empty boxes is never produced; the error names the fix."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from grants.rendering import MissingJapaneseFont, render_pdf, require_japanese_font
from grants.rendering import fonts as fonts_module
from tests.rendering.helpers import needs_fontconfig

INSTALL = "sudo apt-get install fonts-noto-cjk"


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    fonts_module._japanese_families.cache_clear()
    yield
    fonts_module._japanese_families.cache_clear()


class FakeFcList:
    """Stands in for ``subprocess.run(["fc-list", ...])``: answers ``lines``, records calls."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.calls: list[list[str]] = []

    def __call__(self, args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        return subprocess.CompletedProcess(args, 0, stdout="".join(f"{x}\n" for x in self.lines))


@pytest.fixture
def fc_list(monkeypatch: pytest.MonkeyPatch) -> FakeFcList:
    fake = FakeFcList()
    monkeypatch.setattr(fonts_module.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(fonts_module.subprocess, "run", fake)
    return fake


def test_no_japanese_font_raises_with_the_package_to_install(fc_list):
    with pytest.raises(MissingJapaneseFont, match=INSTALL):
        require_japanese_font()


def test_a_missing_fc_list_raises_with_the_package_to_install(monkeypatch):
    monkeypatch.setattr(fonts_module.shutil, "which", lambda name: None)

    with pytest.raises(MissingJapaneseFont, match=INSTALL):
        require_japanese_font()


def test_a_failing_fc_list_raises_with_the_package_to_install(fc_list, monkeypatch):
    def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        raise subprocess.TimeoutExpired(args, 10)

    monkeypatch.setattr(fonts_module.subprocess, "run", run)

    with pytest.raises(MissingJapaneseFont, match=INSTALL):
        require_japanese_font()


def test_the_families_are_returned_and_the_answer_cached(fc_list):
    fc_list.lines += ["Noto Sans CJK JP,Noto Sans CJK JP Regular", "IPAGothic", ""]

    assert require_japanese_font() == ("IPAGothic", "Noto Sans CJK JP,Noto Sans CJK JP Regular")
    require_japanese_font()

    assert fc_list.calls == [["/usr/bin/fc-list", ":lang=ja", "family"]]


def test_installing_a_font_later_needs_no_restart(fc_list):
    with pytest.raises(MissingJapaneseFont):
        require_japanese_font()

    fc_list.lines.append("Noto Sans CJK JP")

    assert require_japanese_font() == ("Noto Sans CJK JP",)


def test_render_pdf_checks_before_starting_a_renderer(fc_list, tmp_path, monkeypatch):
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a renderer was started")

    monkeypatch.setattr("grants.rendering.render.run_limited", never)

    with pytest.raises(MissingJapaneseFont, match=INSTALL):
        render_pdf("<p>日本語</p>", static_dir=tmp_path)


@needs_fontconfig
def test_this_machine_has_a_japanese_font():
    assert any("CJK JP" in family for family in require_japanese_font())
