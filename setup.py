"""Build hook: compile the translations into the build, so every wheel speaks Japanese.

The .mo files are build output (not committed); `make` compiles them for a checkout, and this
compiles them for a wheel or `pip install .` made from a clean checkout. Metadata is in setup.cfg.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
CATALOGS = "grants/translations/*/LC_MESSAGES/*.po"


class BuildWithTranslations(build_py):
    """Write grants/translations/<locale>/LC_MESSAGES/*.mo next to the built package."""

    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        # An editable install reads the checkout itself: compile there, as `make` does.
        target = HERE if getattr(self, "editable_mode", False) else Path(self.build_lib)
        for po in sorted(HERE.glob(CATALOGS)):
            relative = po.relative_to(HERE)
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=relative.parts[2])
            mo = target / relative.with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with mo.open("wb") as handle:
                write_mo(handle, catalog)  # fuzzy entries left out, as `pybabel compile` does


setup(cmdclass={"build_py": BuildWithTranslations})
