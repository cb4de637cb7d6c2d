"""The coordinator's home in a real Chromium at phone size: htmx filters, Arabic charts."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from compliance import static_version
from compliance.extensions import db
from tests import factories
from tests.chamber_helpers import answers, inspect, small_checklist

pytestmark = pytest.mark.browser


@pytest.fixture
def coordinator_phone(live_server, phone, region, inspector, coordinator):
    version = small_checklist()
    inspect(factories.stall(region=region), inspector, version, answers(), datetime(2025, 12, 22))
    inspect(
        factories.stall(region=region),
        inspector,
        version,
        answers(price_shown="fail"),
        datetime(2025, 12, 23),
    )

    def log_in(language: str = "fr"):
        coordinator.language = language
        db.session.commit()
        phone.goto(f"{live_server}/login")
        phone.fill("input[name=username]", coordinator.username)
        phone.fill("input[name=password]", factories.PASSWORD)
        phone.locator("form:has(input[name=password]) button[type=submit]").click()
        phone.wait_for_url(re.compile(r"/chamber/$"))
        return phone

    return log_in


def test_filter_swaps_the_figures_and_keeps_the_url(coordinator_phone):
    assert static_version("vendor/htmx.min.js") != "0", "htmx is not installed: run make htmx"
    page = coordinator_phone()
    page.evaluate("window.notReloaded = true")
    rate = page.locator(".tiles .tile .big").first
    assert rate.inner_text() == "50\u00a0%"

    page.locator(".filters summary").click()
    page.select_option("#verdict", "compliant")
    page.wait_for_url(re.compile(r"/chamber/\?verdict=compliant$"))

    expect(rate).to_have_text("100\u00a0%")
    assert page.evaluate("window.notReloaded") is True  # a swap, not a new page
    page.go_back()  # htmx asks the server for the whole page again (no history cache)
    page.wait_for_url(re.compile(r"/chamber/$"))
    expect(page.locator(".tiles .tile .big").first).to_have_text("50\u00a0%")


def test_arabic_charts_are_mirrored(coordinator_phone):
    page = coordinator_phone("ar")

    chart = page.locator("svg.chart.bars").first
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert chart.get_attribute("direction") == "rtl"
    # Bars grow from the right edge: the chart's first bar ends at the right of the chart.
    box = chart.bounding_box()
    bar = chart.locator("rect").nth(1).bounding_box()
    assert abs((bar["x"] + bar["width"]) - (box["x"] + box["width"])) < 2
