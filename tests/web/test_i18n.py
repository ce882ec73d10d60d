"""Japanese by default, English on request, and a complete Japanese catalog.

The catalog is committed as ``grants/translations/ja/LC_MESSAGES/messages.po``; ``make test``
compiles it to ``messages.mo`` first (``pybabel compile -d grants/translations``). So that these
tests also pass from a clean checkout (plain ``pytest``), the ``app`` here reads a copy of the
catalog compiled into a temporary directory; ``test_compiled_catalog_*`` checks the compiled file
the real app reads, and is skipped when it has not been compiled.

Flask-Babel keeps loaded catalogs in one cache per process (on the shared ``babel`` extension's
domain), whatever app loaded them, so the apps here start and end with that cache empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask_babel import get_babel, get_domain, gettext
from sqlalchemy.orm import sessionmaker

from grants import create_app
from grants.domain.workflow import Role
from tests.conftest import ROOT

TRANSLATIONS = ROOT / "grants" / "translations"
JA_PO = TRANSLATIONS / "ja" / "LC_MESSAGES" / "messages.po"
JA_MO = JA_PO.with_suffix(".mo")
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}  # as `pybabel extract -k`
# %(name)s, %(n)d, %(n)5.2f ... (Python's named conversions)
PLACEHOLDER = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def read_catalog(path: Path = JA_PO):
    with path.open("rb") as handle:
        return read_po(handle)


def translated(msgid: str) -> str:
    return read_catalog()[msgid].string


def placeholders(text: str) -> set[str]:
    """The named conversions in ``text``, with their type: {"%(n)d", "%(name)s"}."""
    return set(PLACEHOLDER.findall(text))


def clear_translation_cache(app) -> None:
    """Forget the catalogs Flask-Babel loaded (one cache per process, shared by every app)."""
    with app.test_request_context():
        get_domain().cache.clear()


@pytest.fixture(scope="session")
def compiled_translations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Compile every committed catalog (never fuzzy entries) into a temporary directory."""
    directory = tmp_path_factory.mktemp("translations")
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        target = directory / po.relative_to(TRANSLATIONS).with_suffix(".mo")
        target.parent.mkdir(parents=True)
        with target.open("wb") as handle:
            write_mo(handle, read_catalog(po), use_fuzzy=False)
    return directory


@pytest.fixture
def app(app, compiled_translations: Path) -> Iterator:
    """The conftest app, reading the catalog compiled from the committed .po."""
    get_babel(app).translation_directories = [str(compiled_translations)]
    clear_translation_cache(app)
    yield app
    clear_translation_cache(app)


# --- the pages --------------------------------------------------------------------------------


def test_call_list_is_japanese_by_default(client):
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    for msgid in ("Calls for applications", "Sign in", "Create an account", "Open"):
        assert translated(msgid) in page.text, msgid
    assert "Calls for applications" not in page.text
    assert "Sign in" not in page.text


def test_form_errors_are_japanese(client):
    page = client.post("/sign-in", data={"email": "", "password": ""})
    assert page.status_code == 200
    assert translated("There is a problem") in page.text
    assert translated("E-mail address") in page.text
    assert "This field is required." not in page.text  # WTForms ships its own Japanese


def test_language_switch_to_english_and_back(client):
    response = client.post("/language", data={"locale": "en", "next": "/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    english = client.get("/")
    assert '<html lang="en">' in english.text
    assert "Calls for applications" in english.text
    assert translated("Calls for applications") not in english.text

    client.post("/language", data={"locale": "ja", "next": "/"})
    japanese = client.get("/")
    assert '<html lang="ja">' in japanese.text
    assert translated("Calls for applications") in japanese.text


def test_unknown_language_is_ignored(client):
    client.post("/language", data={"locale": "fr", "next": "/"})
    assert '<html lang="ja">' in client.get("/").text


def test_signed_in_choice_is_kept_for_the_next_sign_in(client, auth, session, make_user):
    user = make_user(Role.APPLICANT)
    auth.sign_in(user)
    client.post("/language", data={"locale": "en", "next": "/applications"})
    session.refresh(user)
    assert user.locale == "en"
    auth.sign_out()
    auth.sign_in(user)  # a fresh session: the locale comes from the account
    assert "Applications" in client.get("/applications").text
    assert '<html lang="en">' in client.get("/").text


# --- the catalog ------------------------------------------------------------------------------


def test_catalog_is_complete_and_keeps_placeholders():
    catalog = read_catalog()
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        if not all(strings):
            problems.append(f"untranslated: {msgid!r}")
            continue
        for string in strings:
            if placeholders(msgid) != placeholders(string):
                problems.append(f"placeholders differ: {msgid!r} -> {string!r}")
            # Jinja's newstyle gettext always applies `%` (even without variables): a stray
            # `%` in a translation breaks the page.
            dummy = {re.search(r"\((\w+)\)", p)[1]: 1 for p in placeholders(msgid)}
            try:
                string % dummy
            except (TypeError, ValueError, KeyError) as error:
                problems.append(f"bad % in {string!r}: {error}")
    assert problems == []


def _source_msgids() -> set[str]:
    """Every msgid in the code and templates, extracted as babel.cfg says.

    Unlike `pybabel extract`'s default, directories starting with "_" (templates/_macros) are
    searched too.
    """
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)

    def searched(path: str) -> bool:
        name = Path(path).name
        return not name.startswith(".") and name != "__pycache__"

    found = extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=searched
    )
    return {msgid if isinstance(msgid, str) else msgid[0] for _f, _n, msgid, _c, _x in found}


def test_catalog_has_every_message_of_the_code_and_templates():
    catalog = read_catalog()
    missing = sorted(m for m in _source_msgids() if m not in catalog)
    assert missing == [], (
        "not in the Japanese catalog: extract and update (see the header of messages.po), "
        f"then translate: {missing}"
    )


def test_compiled_catalog_is_current_and_used_by_the_app(app_config, connection):
    if not JA_MO.exists():
        pytest.skip(
            f"{JA_MO.relative_to(ROOT)} is not compiled: `make test` compiles it, or run "
            "`pybabel compile -d grants/translations`"
        )
    with JA_MO.open("rb") as handle:
        compiled = read_mo(handle)
    stale = [
        m.id
        for m in read_catalog()
        if m.id and (m.id not in compiled or compiled[m.id].string != m.string)
    ]
    assert stale == [], "messages.mo is older than messages.po: run `pybabel compile`"

    real_app = create_app(app_config)  # not redirected to the temporary catalog
    real_app.extensions["grants.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    assert get_babel(real_app).translation_directories == [str(TRANSLATIONS)]
    clear_translation_cache(real_app)
    try:
        with real_app.test_request_context("/"):
            assert gettext("Calls for applications") == translated("Calls for applications")
        assert translated("Calls for applications") in real_app.test_client().get("/").text
    finally:
        clear_translation_cache(real_app)
