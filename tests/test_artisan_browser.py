"""An artisan of a Rabat fan-zone stall, on a phone (390×844) in Arabic, in a real Chromium:
from the slip's link to the result, a contest, the coordinator's acceptance, and the recomputed
result.

Set SOUKCHECK_SCREENSHOTS=/some/folder to keep screenshots of the pages (Arabic and French).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from compliance import checklist_store
from compliance.extensions import db
from compliance.models import Contest, Inspection

from . import factories, imagefactory
from .conftest import phone_context
from .test_artisan_helpers import fresh_limits, inspect, private_url  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("fresh_limits")]

FAILED = "price_on_every_product"  # critical, weight 3 of 31


def shot(page, name: str) -> None:
    folder = os.environ.get("SOUKCHECK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def rabat_stall(region, checklist_version):
    venue = factories.venue(region, kind="fan_zone", city="Rabat")
    venue.name_fr, venue.name_ar = "Fan zone OLM Souissi", "منطقة المشجعين السويسي"
    artisan = factories.artisan(
        name_latin="Youssef Berrada", name_ar="يوسف برادة", nia="NIA-04-00000042", craft="leather"
    )
    stall = factories.stall(venue_row=venue, artisan_row=artisan, code="RBT-A12")
    inspector = factories.user("inspector", region=region)
    items = checklist_store.definition(checklist_version).items()
    results = {item.key: "pass" for item in items}
    results[FAILED] = "fail"
    inspection = inspect(
        stall,
        inspector,
        checklist_version,
        results,
        comments={FAILED: "ثلاث زرابي بدون ثمن"},
        photos={
            "shop_clean": imagefactory.jpeg(800, 600),
            FAILED: imagefactory.jpeg(640, 480, color=(0, 255, 0)),
        },
    )
    # 28 of 31 weight points pass, but a critical item failed.
    assert (inspection.score, inspection.verdict) == (0.9032, "non_compliant")
    return stall, inspection


def test_artisan_contests_and_sees_the_recomputed_result(
    live_server, browser, rabat_stall, region, tmp_path
):
    stall, inspection = rabat_stall
    coordinator = factories.user("coordinator", region=region, language="ar")
    link = live_server + private_url(stall.artisan)
    proof = tmp_path / "prices.jpg"
    proof.write_bytes(imagefactory.jpeg(1200, 900, orientation=6))

    artisan_context = phone_context(browser)
    page = artisan_context.new_page()

    # From the slip's QR code straight to the result, in Arabic.
    page.goto(link)
    page.wait_for_url(re.compile(r"/a/me$"))
    assert page.locator("html[lang=ar][dir=rtl]").count() == 1
    assert page.locator(".badge.v-non_compliant").count() >= 1
    assert "ثلاث زرابي بدون ثمن" in page.locator(f"#item-{FAILED}").inner_text()
    assert page.locator(f"#item-{FAILED} img").count() == 1
    shot(page, "artisan-me-ar")

    # Contest the failed item, with a photo.
    page.locator(f"#item-{FAILED} a[href$='/items/{FAILED}/contest']").click()
    page.wait_for_url(re.compile(rf"/items/{FAILED}/contest$"))
    page.fill("textarea[name=message]", "كل المنتوجات عليها الثمن، انظروا الصورة")
    page.locator("input[name=photo]").set_input_files(str(proof))
    page.locator("form button[type=submit].primary").click()
    page.wait_for_url(re.compile(r"/a/me(#.*)?$"))
    assert page.locator(f"#item-{FAILED} .flash").count() >= 1
    contest = db.session.scalar(select(Contest))
    assert contest.status == "pending" and contest.photo_sha256
    shot(page, "artisan-contest-sent-ar")

    # The coordinator, on their own phone, accepts it.
    staff_context = phone_context(browser)
    staff = staff_context.new_page()
    staff.goto(f"{live_server}/login")
    staff.fill("input[name=username]", coordinator.username)
    staff.fill("input[name=password]", factories.PASSWORD)
    staff.locator("form:has(input[name=password]) button[type=submit]").click()
    # Logged in once the next page came: going on before would cancel the login.
    staff.wait_for_url(lambda url: not url.endswith("/login"))
    staff.goto(f"{live_server}/coordination/contests")
    assert staff.locator("html[dir=rtl]").count() == 1
    staff.locator(f"a[href$='/coordination/contests/{contest.id}']").click()
    staff.wait_for_url(re.compile(rf"/coordination/contests/{contest.id}$"))
    assert "كل المنتوجات عليها الثمن" in staff.content()
    assert staff.locator("img[alt]").count() >= 2  # the inspector's photo and the artisan's
    staff.fill("textarea[name=reason]", "الصورة واضحة")
    staff.locator("button[name=decision][value=accept]").click()
    staff.wait_for_url(re.compile(r"/coordination/contests$"))

    row = db.session.get(Inspection, inspection.id)
    db.session.refresh(row)
    assert (row.score, row.verdict, row.critical_failures) == (1.0, "compliant", 0)

    # The artisan sees the new result and the chamber's answer.
    page.goto(f"{live_server}/a/me")
    assert page.locator(".badge.v-compliant").count() >= 1
    # The same inspection, amended: no non-compliant verdict left anywhere on the page.
    assert page.locator(".badge.v-non_compliant").count() == 0
    shot(page, "artisan-after-accept-ar")
    assert "الصورة واضحة" in page.content()

    # Badge print page for the venue, on the coordinator's phone.
    staff.goto(f"{live_server}/coordination/venues/{stall.venue_id}/badges")
    assert staff.locator("article.cut").count() == 0  # never issued: offered, not printed
    shot(staff, "badges-to-issue-ar")
    with staff.expect_navigation():
        staff.locator("form[action$='/badges'] button[type=submit]").click()
    assert staff.locator("article.cut").count() == 1
    assert staff.locator("article.cut svg.qr").count() == 1
    shot(staff, "badges-print-ar")
    staff.locator("button[name=lang][value=fr]").click()
    expect(staff.locator("html[lang=fr]")).to_have_count(1)  # once the page came again
    shot(staff, "badges-print-fr")

    page.locator("button[name=lang][value=fr]").click()
    expect(page.locator("html[lang=fr][dir=ltr]")).to_have_count(1)
    shot(page, "artisan-me-fr")
    staff_context.close()
    artisan_context.close()
