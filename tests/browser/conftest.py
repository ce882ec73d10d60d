"""A real Chromium against the app served on 127.0.0.1, with axe-core run on every page visited.

The browser is Debian's `chromium` (scripts/install-system-deps.sh), driven by Playwright through
`executable_path`: no downloaded browser build. The app runs in a thread with werkzeug's server on
its own fresh SQLite file database (migrated, programs loaded, demo accounts), CSRF on as in
production. The tests of one module share that server and run in file order: each role works on
what the one before left. A failing test leaves a screenshot whose path the report prints.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grants import clock, create_app
from grants.config import PACKAGE_ROOT
from tests.conftest import NOW

try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright import sync_api as playwright_api
except ImportError:
    Axe = playwright_api = None

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MISSING = (
    "chromium is not installed: run scripts/install-system-deps.sh" if not CHROMIUM else
    "playwright or axe-playwright-python is missing: pip install -e '.[test]'"
    if playwright_api is None else None
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip, saying why, where Debian's chromium is missing (never a downloaded browser)."""
    if not MISSING:
        return
    skip = pytest.mark.skip(reason=MISSING)
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, screenshot the page the test was on and say where the file is."""
    report = yield
    visitor = next((value for value in getattr(item, "funcargs", {}).values()
                    if isinstance(value, Visitor)), None)
    if report.when == "call" and report.failed and visitor is not None:
        page = visitor.page
        folder = Path(tempfile.mkdtemp(prefix="grants-screenshot-"))
        path = folder / f"{item.name}.png"
        try:
            page.screenshot(path=str(path), full_page=True, timeout=15_000)
        except playwright_api.Error as error:  # the test's own failure matters more
            report.sections.append(("screenshot", f"none: {error.message.splitlines()[0]}"))
        else:
            report.sections.append(("screenshot", str(path)))
    return report


class Server:
    """The app served by werkzeug in a thread, on a free port of 127.0.0.1."""

    def __init__(self, instance: Path) -> None:
        from werkzeug.serving import make_server

        self.app = create_app({
            "SECRET_KEY": "browser-tests-secret",
            "DATABASE_URL": f"sqlite:///{instance / 'grants.sqlite'}",
            "INSTANCE_DIR": str(instance),
            "PROGRAMS_DIR": str(PACKAGE_ROOT / "programs"),
            "RUBRICS_DIR": str(PACKAGE_ROOT / "rubrics"),
            "BATCH_RUNNER": "request",
        })
        # What `make run` does first: migrate, load the programs, create the demo accounts.
        result = self.app.test_cli_runner().invoke(args=["grants", "init"])
        assert result.exit_code == 0, result.output
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with pytest.MonkeyPatch.context() as patch:
        # Inside every demo call's window, as the other tests (tests/conftest.py NOW).
        patch.setattr(clock, "now", lambda: NOW)
        with Server(tmp_path_factory.mktemp("instance")) as server:
            yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        # Chromium refuses its sandbox as root (CI runs as root); the pages are our own app's.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


class Visitor:
    """A page that checks every page it lands on with axe-core, failing on any violation."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.axe = Axe()

    def go(self, path: str) -> Any:
        """Open a page of the app: it must answer 2xx and pass axe-core."""
        response = self.page.goto(self.base_url + path)
        assert response.ok, (path, response.status)
        self.check()
        return response

    def check(self) -> None:
        """axe-core on the page as it is now: 0 violations, else the rule ids and elements."""
        problems = self.violations()
        assert not problems, "\n".join(problems)

    def violations(self) -> list[str]:
        """axe-core's violations on this page, one line per element: rule, impact, where."""
        self.page.wait_for_load_state()
        found = self.axe.run(self.page).response["violations"]
        return [f"axe-core on {self.page.url}: {v['id']} ({v['impact']}): {node['target']} "
                f"{node['html'][:120]}" for v in found for node in v["nodes"]]

    def fetch(self, path: str) -> Any:
        """GET a download (PDF, ZIP) with the browser's cookies, as a click on its link would."""
        response = self.page.request.get(self.base_url + path)
        assert response.ok, (path, response.status)
        return response

    def sign_in(self, email: str, password: str) -> None:
        """Through the real form, sent with the Enter key as many people do."""
        self.go("/sign-in")
        self.page.get_by_label("メールアドレス").fill(email)
        self.page.get_by_label("パスワード").fill(password)
        self.page.get_by_label("パスワード").press("Enter")
        self.page.wait_for_load_state()
        self.check()


@pytest.fixture(scope="module")
def context(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context: Any) -> Iterator[Any]:
    context.clear_cookies()  # each test signs in as its own role
    page = context.new_page()
    yield page
    page.close()


@pytest.fixture
def visitor(page: Any, server: Server) -> Visitor:
    return Visitor(page, server.url)


@pytest.fixture
def phone(browser: Any, server: Server) -> Iterator[Visitor]:
    """A phone-sized page (390×844, iPhone 12-15), in its own context: signed out at first."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    yield Visitor(context.new_page(), server.url)
    context.close()
