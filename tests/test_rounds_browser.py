"""Rounds in a real Chromium: an inspector's round on a phone, online and offline, in Arabic
and French; a coordinator's printable grid.

Screenshots go to ``$SCREENSHOT_DIR`` when set (to look at them), else to the test's tmp dir.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from compliance import dates, rounds
from compliance.extensions import db
from compliance.models import CorrectiveAction, Inspection

from . import factories
from .conftest import phone_context, wait_until
from .test_artisan_helpers import inspect, tiny_checklist

pytestmark = pytest.mark.browser

TODAY = dates.today()
COUNTER = {"fr": "{done} faits · {todo} à faire", "ar": "أُنجز {done} · المتبقي {todo}"}


def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def world(region):
    """A running campaign around today; V10 due again (fix date passed), V1 and V2 never seen."""
    version = tiny_checklist()
    campaign = factories.campaign(
        version, first_day=TODAY - timedelta(days=3), last_day=TODAY + timedelta(days=10)
    )
    venue = factories.venue(region)
    v1, v2, v10 = (factories.stall(venue_row=venue, code=code) for code in ("V1", "V2", "V10"))
    coordinator = factories.user("coordinator", region=region)
    seen_by = factories.user("inspector", region=region)
    inspect(v10, seen_by, version, {"welcome": "pass", "prices": "fail", "clean": "pass"})
    v10.latest_inspection.submitted_day = v10.current_day = TODAY - timedelta(days=3)
    action = db.session.scalar(select(CorrectiveAction).where(CorrectiveAction.stall_id == v10.id))
    action.due_date = TODAY - timedelta(days=1)
    db.session.commit()
    return {
        "campaign": campaign,
        "venue": venue,
        "stalls": (v1, v2, v10),
        "coordinator": coordinator,
    }


def login(page, base, user, landing):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(landing))


def codes(page) -> list[str]:
    return page.locator("#round .round-list li strong").all_inner_texts()


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_an_inspectors_round_on_a_phone_online_then_offline(
    live_server, browser, region, world, lang, tmp_path
):
    inspector = factories.user("inspector", region=region, language=lang)
    rounds.assign(world["campaign"], world["venue"], TODAY, inspector, world["coordinator"])
    v1 = world["stalls"][0]
    context = phone_context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        login(page, live_server, inspector, r"/inspect/round$")
        expect(page.locator(f"html[lang={lang}]")).to_have_count(1)
        # Due again first, then never inspected, each in the stall codes' natural order.
        assert codes(page) == ["V10", "V1", "V2"]
        counter = page.locator("#round .counter")
        expect(counter).to_contain_text(COUNTER[lang].format(done=0, todo=3))
        expect(page.locator("#q")).to_be_visible()  # a stall outside the round: search stays
        page.screenshot(path=str(shots(tmp_path) / f"round-online-{lang}.png"), full_page=True)

        # Kept for offline: the shell and the bundle, with the round in it.
        wait_until(page, "navigator.serviceWorker.controller !== null")
        wait_until(
            page,
            "caches.match('/inspect/api/bundle').then(r => r && r.json())"
            ".then(b => Boolean(b && b.round && b.round.venues.length))"
            ".then(ok => ok && caches.match('/inspect/offline')).then(Boolean)",
        )
        context.set_offline(True)
        page.goto(f"{live_server}/inspect/round")
        expect(page.locator("#round .round-list li")).to_have_count(3)
        assert codes(page) == ["V10", "V1", "V2"]
        expect(page.locator("#round .counter")).to_contain_text(
            COUNTER[lang].format(done=0, todo=3)
        )
        page.screenshot(path=str(shots(tmp_path) / f"round-offline-{lang}.png"), full_page=True)

        # Inspect V1 without network: kept on the phone, it counts as done on the round.
        page.locator(f"#round a[href$='/inspect/stalls/{v1.id}']").click()
        page.wait_for_url(re.compile(rf"/inspect/stalls/{v1.id}$"))
        page.locator("button[data-start]").click()
        page.wait_for_url(re.compile(r"/inspect/inspections/[0-9a-f-]{36}$"))
        for key in ("welcome", "prices", "clean"):
            page.locator(f"#item-{key} input[value=pass]").check()
        page.locator("#local-checklist button[type=submit]").click()
        expect(page.locator("[data-state=queued]")).to_have_count(1)
        page.goto(f"{live_server}/inspect/round")
        expect(page.locator("#round .counter")).to_contain_text(
            COUNTER[lang].format(done=1, todo=2)
        )
        assert codes(page) == ["V10", "V2"]

        # The network is back: the inspection is sent, and the server's round agrees.
        context.set_offline(False)
        wait_until(
            page, "SoukCheck.store.all('inspections').then(rs => rs.every(r => r.state === 'sent'))"
        )
        db.session.expire_all()
        assert db.session.scalar(select(Inspection).where(Inspection.stall_id == v1.id))
        page.goto(f"{live_server}/inspect/round")
        expect(page.locator("#round .counter")).to_contain_text(
            COUNTER[lang].format(done=1, todo=2)
        )
        assert codes(page) == ["V10", "V2"]
    finally:
        context.close()
    assert not errors, errors


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_the_venue_grid_prints_on_one_a4_page(live_server, browser, region, world, lang, tmp_path):
    coordinator = world["coordinator"]
    coordinator.language = lang
    db.session.commit()
    venue = world["venue"]
    for n in range(1, 118):  # a real fan zone's worth of stalls
        factories.stall(venue_row=venue, code=f"W{n}")
    context = browser.new_context(viewport={"width": 794, "height": 1123})  # A4 at 96 dpi
    page = context.new_page()
    try:
        login(page, live_server, coordinator, r"/chamber/")
        page.goto(f"{live_server}/rounds/venues/{venue.id}/grid")
        expect(page.locator(".stall-grid li")).to_have_count(120)
        expect(page.locator(".stall-grid li.st-due_again")).to_contain_text("↻")
        page.emulate_media(media="print")
        expect(page.locator("header.bar")).to_be_hidden()
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= 1123, height  # 297 mm at 96 dpi
        page.screenshot(path=str(shots(tmp_path) / f"grid-print-{lang}.png"), full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1  # one A4 page
    finally:
        context.close()
