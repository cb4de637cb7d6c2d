"""The coordinator's print flow in a real Chromium, on a phone (390×844) and a desktop, in
Arabic and French: issue a slip from the venue page, print it with its PIN from the page the
POST answered, and find it later without the PIN.

Set SOUKCHECK_SCREENSHOTS=/some/folder to keep screenshots of the pages.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from compliance.artisan import keys
from compliance.extensions import db
from compliance.models import Artisan

from . import factories
from .conftest import BROWSER_TIMEOUT_MS, PHONE
from .test_artisan_helpers import fresh_limits, secret  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("fresh_limits")]

DESKTOP = {"width": 1280, "height": 900}


def shot(page, name: str) -> None:
    folder = os.environ.get("SOUKCHECK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(
    ("lang", "size"), [("ar", "phone"), ("fr", "phone"), ("ar", "desktop"), ("fr", "desktop")]
)
def test_issue_a_slip_print_it_with_its_pin_then_without(live_server, browser, region, lang, size):
    venue = factories.venue(region)
    venue.name_fr, venue.name_ar = "Fan zone OLM Souissi", "منطقة المشجعين السويسي"
    stall = factories.stall(
        venue_row=venue,
        code="RBT-A12",
        artisan_row=factories.artisan(name_latin="Youssef Berrada", name_ar="يوسف برادة"),
    )
    coordinator = factories.user("coordinator", region=region, language=lang)
    options = (
        {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
        if size == "phone"
        else {"viewport": DESKTOP}
    )
    context = browser.new_context(**options)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)  # a bound: busy machines are slow
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=username]", coordinator.username)
        page.fill("input[name=password]", factories.PASSWORD)
        with page.expect_navigation():
            page.locator("form:has(input[name=password]) button[type=submit]").click()

        page.goto(f"{live_server}/coordination/venues/{venue.id}")
        assert page.locator(f"html[lang={lang}]").count() == 1
        shot(page, f"venue-{lang}-{size}")
        issue = page.locator(f"form[action$='/stalls/{stall.id}/slip'] button")
        box = issue.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44
        with page.expect_navigation():
            issue.click()

        # The POST answered with the slip to print, PIN included.
        artisan = db.session.get(Artisan, stall.artisan_id)
        pin = keys.pin(secret(), artisan.id, artisan.private_version)
        assert page.locator("article.cut.slip").count() == 1
        assert page.locator(".ppin").inner_text().replace(" ", "") == pin
        assert page.locator("button[data-print]").is_visible()
        shot(page, f"slip-issued-{lang}-{size}")

        # Later, from the venue page: the same slip, without its PIN, and the page says why.
        page.goto(f"{live_server}/coordination/venues/{venue.id}")
        page.locator(f"a[href$='/stalls/{stall.id}/slip']").click()
        page.wait_for_url(re.compile(rf"/stalls/{stall.id}/slip$"))
        assert page.locator("article.cut.slip").count() == 1
        assert page.locator(".ppin").count() == 0
        assert pin not in page.content().replace(" ", "")
        shot(page, f"slip-later-{lang}-{size}")

        # Badges: offered, issued by the button, then printed.
        page.goto(f"{live_server}/coordination/venues/{venue.id}/badges")
        assert page.locator("article.cut").count() == 0
        shot(page, f"badges-to-issue-{lang}-{size}")
        with page.expect_navigation():
            page.locator("form[action$='/badges'] button[type=submit]").click()
        assert page.locator("article.cut").count() == 1
        shot(page, f"badges-issued-{lang}-{size}")
    finally:
        context.close()
