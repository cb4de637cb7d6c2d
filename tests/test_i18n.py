"""Languages: every string on screen is translated; Arabic is right-to-left."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from .conftest import login

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "compliance" / "translations"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "N_": None,
    "plural_forms": (1, 2),  # compliance/inspect/offline.py: plurals for the phone script
}


def source_messages() -> set[str]:
    """Every message the code and the templates can show, extracted as `make messages` does."""
    found: set[str] = set()
    method_map = [("compliance/**.py", "python"), ("templates/**.html", "jinja2")]
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalogue(lang: str):
    with open(CATALOGUES / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_every_message_is_translated(lang):
    messages = source_messages()
    po = catalogue(lang)
    missing = sorted(
        m
        for m in messages
        if not (entry := po.get(m))
        or entry.fuzzy
        or not (all(entry.string) if isinstance(entry.string, tuple) else entry.string)
    )
    assert not missing, (
        f"{len(missing)} untranslated in {lang} (run `make messages`): {missing[:10]}"
    )


def test_arabic_page_is_right_to_left(client):
    page = client.get("/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page


def test_french_is_chosen_from_the_browser(client):
    page = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="fr" dir="ltr">' in page and "Connexion" in page


def test_language_switch_is_remembered_before_login(client):
    response = client.post("/language", data={"lang": "ar", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'dir="rtl"' in page


def test_language_switch_is_remembered_on_the_account(client, inspector):
    login(client, inspector)
    client.post("/language", data={"lang": "ar", "next": "/inspect/"})
    assert inspector.language == "ar"
    client.delete_cookie("lang")
    page = client.get("/inspect/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'dir="rtl"' in page


def test_language_switch_ignores_unknown_language_and_outside_next(client):
    response = client.post("/language", data={"lang": "xx", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"
    assert "lang=" not in response.headers.get("Set-Cookie", "")
