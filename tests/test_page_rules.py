"""Rules every page keeps, checked on a walk through the pages of each audience.

Inspector, coordinator and artisan pages, in Arabic, French and English, with CSRF on (so
every form carries its hidden token, as in production):

- ids are unique on a page (a label's ``for`` finds its own field; two forms never repeat
  ``id="csrf_token"``);
- French pages put a space before ":" (a no-break one);
- Latin text in an Arabic page, and Arabic text in a French or English page, is isolated
  (``<bdi>`` or ``dir``), so its punctuation stays where it belongs.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from contextlib import contextmanager
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from compliance import checklist_store, inspections
from compliance.extensions import db
from compliance.models import CorrectiveAction

from . import factories, imagefactory
from .conftest import login
from .test_artisan_helpers import (  # noqa: F401
    forget_request_user,
    fresh_limits,
    inspect,
    signed_in,
)

FAILED = "price_on_every_product"
LANGUAGES = ("ar", "fr", "en")


@contextmanager
def csrf_on(app):
    """Forms render their CSRF field while reading pages (the test config turns CSRF off so
    that tests can post without a token)."""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def world(region, checklist_version):
    venue = factories.venue(region, kind="fan_zone", city="Rabat")
    stall = factories.stall(
        venue_row=venue,
        code="RBT-042",
        artisan_row=factories.artisan(name_latin="Youssef Berrada", name_ar="يوسف برادة"),
    )
    inspector = factories.user("inspector", region=region)
    coordinator = factories.user("coordinator", region=region)
    results = {item.key: "pass" for item in checklist_store.definition(checklist_version).items()}
    results[FAILED] = "fail"
    done = inspect(
        stall,
        inspector,
        checklist_version,
        results,
        comments={FAILED: "Trois tapis sans prix."},
        photos={"shop_clean": imagefactory.jpeg(400, 300), FAILED: imagefactory.jpeg(300, 200)},
    )
    draft = inspections.start(
        str(uuid.uuid4()), stall, inspector, factories.running_campaign(checklist_version)
    )
    action = db.session.scalar(select(CorrectiveAction))
    return {
        "stall": stall,
        "inspector": inspector,
        "coordinator": coordinator,
        "inspection": done,
        "draft": draft,
        "action": action,
    }


def staff_pages(world) -> dict[str, list[str]]:
    stall, inspection = world["stall"], world["inspection"]
    return {
        "inspector": [
            "/inspect/",
            f"/inspect/?q={stall.code[:3]}",
            f"/inspect/stalls/{stall.id}",
            f"/inspect/inspections/{world['draft'].id}",
            f"/inspect/inspections/{inspection.id}/result",
        ],
        "coordinator": [
            "/chamber/",
            "/chamber/stalls",
            f"/chamber/stalls/{stall.id}",
            f"/chamber/inspections/{inspection.id}",
            f"/chamber/venues/{stall.venue_id}",
            "/chamber/actions?state=open",
            f"/chamber/actions/{world['action'].id}",
            "/coordination/",
            "/coordination/contests",
            f"/coordination/venues/{stall.venue_id}",
        ],
    }


def artisan_pages(world) -> list[str]:
    inspection = world["inspection"]
    return [
        "/a/me",
        f"/a/me/inspections/{inspection.id}",
        f"/a/me/inspections/{inspection.id}/items/{FAILED}/contest",
        f"/a/me/actions/{world['action'].id}/fixed",
    ]


def walk(app, client, world, lang: str) -> dict[str, str]:
    """Every page of the three audiences in ``lang``: {path: html}."""
    found: dict[str, str] = {}
    client = app.test_client()  # a fresh one per language: no cookie or login carried over
    for role, paths in staff_pages(world).items():
        user = world[role]
        user.language = lang
        db.session.commit()
        forget_request_user()  # Flask-Login keeps the user of the last request in g
        login(client, user)
        for path in paths:
            with csrf_on(app):
                response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            found[f"{role} {path}"] = response.get_data(as_text=True)
        client.post("/logout")
    artisan = signed_in(app, world["stall"].artisan)
    artisan.set_cookie("lang", lang)
    for path in artisan_pages(world):
        with csrf_on(app):
            response = artisan.get(path)
        assert response.status_code == 200, (path, response.status_code)
        found[f"artisan {path}"] = response.get_data(as_text=True)
    return found


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html.replace("&nbsp;", "\u00a0"))


@pytest.mark.parametrize("lang", ["fr"])
def test_ids_are_unique_on_every_page(app, client, world, lang):
    problems = []
    for page, html in walk(app, client, world, lang).items():
        assert 'name="csrf_token"' in html or page.startswith("artisan /a/me/inspections/")
        ids = Counter(re.findall(r"\sid=\"([^\"]+)\"", html))
        repeated = sorted(i for i, n in ids.items() if n > 1)
        if repeated:
            problems.append(f"{page}: {repeated}")
        for target in re.findall(r"<label[^>]*\sfor=\"([^\"]+)\"", html):
            if ids[target] != 1:
                problems.append(f"{page}: label for {target!r} finds {ids[target]} elements")
    assert not problems, "\n".join(problems)


# A colon that follows a letter, a digit or a closing mark directly (times like 23:20 and
# addresses like https:// are not typography).
TIGHT_COLON = re.compile(r"(?<![\s\u00a0\u202f\d]):(?!//|\d)")


def test_french_pages_set_a_space_before_colons(app, client, world):
    problems = []
    for page, html in walk(app, client, world, "fr").items():
        text = visible_text(html)
        for found in TIGHT_COLON.finditer(text):
            problems.append(f"{page}: …{text[max(0, found.start() - 30) : found.end() + 10]}…")
    assert not problems, "\n".join(problems)


def test_french_catalogue_sets_a_no_break_space_before_colons():
    from babel.messages.pofile import read_po

    from .test_i18n import CATALOGUES

    with open(CATALOGUES / "fr" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalogue = read_po(handle)
    wrong = []
    for message in catalogue:
        if not message.id:
            continue
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            if TIGHT_COLON.search(text or "") or re.search(r" :", text or ""):
                wrong.append(text)
    assert not wrong, wrong[:10]


class _Isolation(HTMLParser):
    """Finds each text node holding ``needle`` and whether an element around it isolates it
    (``<bdi>`` or an element with ``dir``; the page's own ``<html dir>`` does not count)."""

    def __init__(self, needle: str):
        super().__init__()
        self.needle, self.stack, self.found = needle, [], []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append(tag != "html" and (tag == "bdi" or "dir" in dict(attrs)))

    def handle_endtag(self, tag):
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self.needle in data:
            self.found.append(any(self.stack))


VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr", "col", "area", "base"}


def isolated(html: str, needle: str) -> list[bool]:
    parser = _Isolation(needle)
    parser.feed(re.sub(r"<(script|style|title|svg)\b.*?</\1>", " ", html, flags=re.S))
    return parser.found


def test_text_of_the_other_script_is_isolated(app, client, world):
    """On Arabic pages the French comment, the stall code, the inspector's Latin name; on French
    pages the artisan's Arabic name: each set apart (<bdi> or dir) from the sentence around."""
    problems = []
    for lang, needles in (
        ("ar", ["Trois tapis sans prix.", world["stall"].code, world["inspector"].name]),
        ("fr", ["يوسف برادة"]),
    ):
        for page, html in walk(app, client, world, lang).items():
            for needle in needles:
                if not all(isolated(html, needle)):
                    problems.append(f"{lang} {page}: {needle!r} not isolated")
    assert not problems, "\n".join(problems)


def test_the_stall_location_is_in_the_pages_language(app, world):
    stall = world["stall"]
    stall.location, stall.location_ar = "Allée B, n° 4", "الممر ب، رقم 4"
    db.session.commit()
    shown, other = (
        {"ar": "الممر ب، رقم 4", "fr": "Allée B, n° 4"},
        {"ar": "Allée B", "fr": "الممر ب"},
    )
    for lang in ("ar", "fr"):
        for role, path in (("inspector", "/inspect/stalls/"), ("coordinator", "/chamber/stalls/")):
            world[role].language = lang
            db.session.commit()
            forget_request_user()
            html = login(app.test_client(), world[role]).get(f"{path}{stall.id}").text
            assert f'lang="{lang}"' in html and shown[lang] in html and other[lang] not in html
