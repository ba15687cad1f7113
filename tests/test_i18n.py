"""French by default, English on request; the French catalogue is complete and compiled.

The catalogue tests fail as soon as the code or a template gains a message that
`sharing/translations/fr/LC_MESSAGES/messages.po` does not translate: the README section
"Translations" says how to update, translate and compile it.
"""

import io
import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "sharing" / "translations" / "fr" / "LC_MESSAGES"
# The code's lazy aliases (`from flask_babel import lazy_gettext as _l`), beside babel's own.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
# printf-style conversions: %(name)s, %d, %.2f…; `%%` is a literal percent sign.
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.\d+)?(?P<type>[a-zA-Z%])")


# -- the language a page speaks ----------------------------------------------------------

def test_french_is_the_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "Se connecter" in page.text
    assert "Mot de passe oublié" in page.text
    assert "Log in" not in page.text


def test_the_browser_may_ask_for_english(client):
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in page.text
    assert "Log in" in page.text and "Forgot your password?" in page.text
    assert "Se connecter" not in page.text


def test_an_unoffered_language_falls_back_to_french(client):
    page = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="fr">' in page.text and "Se connecter" in page.text


@pytest.mark.parametrize(("locale", "spoken", "unspoken"), [
    ("en", "Log out", "Se déconnecter"),
    ("fr", "Se déconnecter", "Log out"),
])
def test_a_signed_in_user_reads_their_own_language(client, login, create_user, locale,
                                                   spoken, unspoken):
    login(create_user(locale=locale))
    # The account's choice wins over the browser's.
    other = "fr" if locale == "en" else "en"
    page = client.get("/", headers={"Accept-Language": other})
    assert page.status_code == 200
    assert f'<html lang="{locale}">' in page.text
    assert spoken in page.text and unspoken not in page.text


def test_a_form_error_is_translated(client):
    page = client.post("/login", data={"email": "personne@example.org", "password": "faux"})
    assert "Adresse e-mail ou mot de passe incorrect." in page.text


# -- the catalogue -----------------------------------------------------------------------

def source_messages() -> Catalog:
    """The messages of the code and templates now, as `pybabel extract -F babel.cfg` sees them."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    catalog = Catalog()
    for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS):
        catalog.add(message, locations=[(filename, lineno)], context=context)
    return catalog


def french_po() -> Catalog:
    with open(CATALOGUE / "messages.po", "rb") as f:
        return read_po(f, locale="fr")


def translations(catalog: Catalog) -> dict:
    """{(id, context): translation}; plural ids and forms as tuples (read_mo gives lists)."""

    def frozen(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {(frozen(m.id), m.context): frozen(m.string) for m in catalog if m.id}


@pytest.fixture(scope="module")
def source():
    return source_messages()


@pytest.fixture(scope="module")
def french():
    return french_po()


def forms(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_babel_cfg_finds_the_code_and_the_templates(source):
    files = {filename for m in source for filename, _line in m.locations}
    assert any(name.startswith("sharing/") and name.endswith(".py") for name in files)
    assert any(name.startswith("templates/") and name.endswith(".html") for name in files)
    assert any(name.startswith("templates/mail/") for name in files)  # e-mails are translated
    assert len(source) > 100


def test_every_message_has_a_french_translation(source, french):
    missing = []
    for message in source:
        if not message.id:
            continue
        entry = french.get(message.id, message.context)
        if entry is None or entry.fuzzy or not all(s.strip() for s in forms(entry)):
            where = ", ".join(f"{f}:{n}" for f, n in message.locations)
            missing.append(f"{message.id!r} ({where})")
    assert not missing, (
        f"{len(missing)} message(s) without a French translation in "
        "sharing/translations/fr/LC_MESSAGES/messages.po (README, 'Translations'):\n"
        + "\n".join(missing))


def test_the_catalogue_has_no_fuzzy_entry(french):
    assert not french.fuzzy, "the catalogue's header is marked fuzzy"
    assert [m.id for m in french if m.id and m.fuzzy] == []


def test_plurals_follow_french_rules(french):
    assert french.num_plurals == 2 and french.plural_expr == "(n > 1)"
    for message in french:
        if message.pluralizable:
            assert len(message.string) == 2, message.id


def placeholders(text: str) -> list[tuple[str | None, str]]:
    return sorted(((m["name"], m["type"]) for m in PLACEHOLDER.finditer(text)
                   if m["type"] != "%"), key=str)


def test_translations_keep_the_placeholders(french):
    wrong = []
    for message in french:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        # Each French form has the placeholders of the English singular or plural.
        allowed = [placeholders(i) for i in ids]
        for string in forms(message):
            if placeholders(string) not in allowed:
                wrong.append(f"{message.id!r} -> {string!r}: {placeholders(string)} "
                             f"instead of {allowed[-1]}")
    assert not wrong, "\n".join(wrong)


def test_translations_format_like_the_english(french):
    """Formatting each translation with the English message's own values must work."""
    for message in french:
        if not message.id or "python-format" not in message.flags:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        values = {name: 2 for name, _type in placeholders(ids[-1]) if name is not None}
        for string in forms(message):
            string % values  # raises on a malformed or unknown placeholder


def test_the_compiled_catalogue_is_the_po_file(french):
    with open(CATALOGUE / "messages.mo", "rb") as f:
        committed = read_mo(f)
    compiled = io.BytesIO()
    write_mo(compiled, french)
    compiled.seek(0)
    expected = read_mo(compiled)
    have, want = translations(committed), translations(expected)
    differing = sorted({key[0] for key in have.keys() | want.keys()
                        if have.get(key) != want.get(key)}, key=str)
    assert not differing, (
        "messages.mo is not compiled from messages.po: run `pybabel compile -d "
        f"sharing/translations` (README, 'Translations'). Differing: {differing[:10]}")
    assert committed.plural_expr == expected.plural_expr


def test_the_catalogue_ships_with_the_package():
    with open(ROOT / "pyproject.toml", "rb") as f:
        package_data = tomllib.load(f)["tool"]["setuptools"]["package-data"]["sharing"]
    assert {"translations/*/LC_MESSAGES/*.mo", "translations/*/LC_MESSAGES/*.po"} <= set(
        package_data)
