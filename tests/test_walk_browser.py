"""The inspector's walk in a real Chromium at phone size (390×844), in each language."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from compliance import checklist_store
from compliance.extensions import db
from compliance.models import Answer, Inspection, Photo

from . import factories, imagefactory

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("lang", "direction", "query"),
    [("ar", "rtl", "يوسف"), ("fr", "ltr", "berrada"), ("en", "ltr", "BERRADA")],
)
def test_inspector_walk(
    live_server, phone, region, checklist_version, tmp_path, lang, direction, query
):
    stall = factories.stall(
        region=region,
        artisan_row=factories.artisan(
            name_latin="Youssef Berrada", name_ar="يوسف برادة", nia="NIA-04-00000042"
        ),
    )
    inspector = factories.user("inspector", region=region, username="inspecteur.test")
    photo = tmp_path / "stall.jpg"
    photo.write_bytes(imagefactory.jpeg(1200, 900, orientation=6))
    page = phone

    page.goto(f"{live_server}/login")
    page.locator(f"button[name=lang][value={lang}]").click()
    expect(page.locator(f"html[lang={lang}][dir={direction}]")).to_have_count(1)
    page.fill("input[name=username]", inspector.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/inspect/round$"))  # today's round first, then the search
    page.goto(page.url.removesuffix("round"))

    # Search as you type (htmx), by the artisan's Arabic or Latin name, any case.
    page.fill("input[name=q]", query)
    page.locator(f"#results a[href$='/inspect/stalls/{stall.id}']").click()
    page.wait_for_url(re.compile(rf"/inspect/stalls/{stall.id}$"))
    assert "NIA-04-00000042" in page.content()
    page.locator("form[action$='/start'] button").click()
    page.wait_for_url(re.compile(r"/inspect/inspections/[0-9a-f-]{36}$"))
    inspection_id = page.url.rsplit("/", 1)[1]

    items = checklist_store.definition(checklist_version).items()
    for item in items:
        with page.expect_response(re.compile(rf"/items/{item.key}$")):
            page.locator(f"label:has(input[name='r-{item.key}'][value=pass])").click()
    with page.expect_response(re.compile(r"/items/shop_clean/photos$")):
        page.locator("input[name='p-shop_clean']").set_input_files(str(photo))
    # app.js sends the photo shrunk and swaps the item in once the answer is read: wait for it.
    page.locator("#item-shop_clean img").wait_for()
    assert page.locator("#item-shop_clean img").count() == 1
    total = len(items)
    assert re.search(rf"\b{total}\b.*\b{total}\b", page.locator("#progress").inner_text())

    # Every answer was saved as it was tapped: a reload loses nothing.
    page.reload()
    assert page.locator("input[type=radio]:checked").count() == total
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_url(re.compile(rf"/inspect/inspections/{inspection_id}/result$"))
    assert "100" in page.locator(".result-score").inner_text()
    assert page.locator(f"html[lang={lang}]").count() == 1
    page.screenshot(path=str(tmp_path / f"result-{lang}.png"))

    db.session.expire_all()
    inspection = db.session.get(Inspection, inspection_id)
    assert inspection.status == "submitted" and inspection.verdict == "compliant"
    assert db.session.scalar(select(func.count(Answer.id))) == total
    assert db.session.scalar(select(func.count(Photo.id))) == 1
