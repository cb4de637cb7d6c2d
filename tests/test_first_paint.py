"""First paint from the HTML alone: the stylesheets are inline, allowed by their CSP hashes.

The checklist page and the coordinator home must paint after one round trip on a slow phone:
no render-blocking stylesheet, scripts deferred, and the inline CSS allowed by a sha256 source
in the Content-Security-Policy (never 'unsafe-inline').
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

import pytest

from compliance import inspections
from tests import factories
from tests.conftest import PHONE, ROOT, login


def inline_styles(html: str) -> list[str]:
    return re.findall(r"<style>(.*?)</style>", html, re.S)


def assert_paints_from_html(response) -> None:
    html = response.get_data(as_text=True)
    head = html.split("</head>")[0]
    policy = response.headers["Content-Security-Policy"]
    styles = inline_styles(head)

    assert styles, "critical CSS inline in <head>"
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy
    assert not re.search(r'<link[^>]+rel="stylesheet"', html), "no render-blocking stylesheet"
    for script in re.findall(r"<script[^>]*>", html):
        assert " defer" in script or " async" in script or 'type="module"' in script


@pytest.fixture
def draft(stall, inspector, checklist_version):
    return inspections.start(
        str(uuid.uuid4()), stall, inspector, factories.running_campaign(checklist_version)
    )


def test_the_checklist_page_paints_from_its_html(client, inspector, draft):
    assert_paints_from_html(login(client, inspector).get(f"/inspect/inspections/{draft.id}"))


def test_the_coordinator_home_paints_from_its_html(client, coordinator):
    assert_paints_from_html(login(client, coordinator).get("/chamber/"))


@pytest.mark.browser
def test_chromium_applies_the_inline_css_under_the_csp(browser, live_server, inspector, draft):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security" in message.text else None
        ),
    )
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", inspector.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url("**/inspect/round")
    page.goto(f"{live_server}/inspect/inspections/{draft.id}")
    bar = page.locator("header.bar").evaluate("e => getComputedStyle(e).backgroundColor")
    choice = page.locator(".choices label").first.evaluate("e => getComputedStyle(e).minHeight")
    context.close()

    assert bar == "rgb(11, 93, 59)"  # --brand, from the inline stylesheet
    assert choice == "52px"
    assert refused == []


def test_inlined_stylesheets_carry_no_comments_or_indentation(client):
    """Every page carries app.css inline: its comments are for us, not for the phone's 3G."""
    page = client.get("/login").get_data(as_text=True)
    styles = inline_styles(page)
    assert styles and all("/*" not in style and "\n  " not in style for style in styles)
    source = (ROOT / "compliance" / "static" / "app.css").read_text("utf-8")
    assert "/*" in source  # the file keeps them
    assert len(styles[0]) < len(source)
