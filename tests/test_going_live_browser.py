"""Issue 8, done when: from an empty database to a real campaign, in Chromium, in French and in
Arabic, with nothing made by Python but the reference data, the checklist and the first admin.

The admin creates and starts a campaign and invites a coordinator; the coordinator accepts the
invitation, opens a venue, imports a register file (one bad row, fixed and imported again),
adds the venue to the campaign and invites an inspector; the inspector accepts on a phone and
inspects a stall from the register; the coordinator sees it, under the campaign.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from compliance import dates
from compliance.extensions import db
from compliance.models import Campaign, Inspection, Region, Stall, User

from . import imagefactory, registerfiles
from .conftest import BROWSER_TIMEOUT_MS, phone_context

pytestmark = pytest.mark.browser

PASSWORD = "a long walk through the medina"
WORDS = {
    "fr": {"add": "Ajouter les lieux cochés", "one_inspection": "1 contrôle"},
    "ar": {"add": "إضافة الفضاءات المحددة", "one_inspection": "مراقبة واحدة"},
}


def laptop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    context.set_default_navigation_timeout(BROWSER_TIMEOUT_MS)
    return context


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/chamber/$"))


def invite(page, base: str, name: str, username: str, role: str, region_id: int) -> str:
    """Create an account from the accounts page; the one-time link shown once."""
    page.goto(f"{base}/admin/accounts/new")
    page.fill("input[name=name]", name)
    page.fill("input[name=username]", username)
    page.select_option("select[name=role]", role)
    page.select_option("select[name=region]", str(region_id))
    page.locator("main form button[type=submit]").click()
    link = page.locator("a.invite-link")
    link.wait_for()
    return link.get_attribute("href")


def accept(page, link: str, home: str) -> None:
    page.goto(link)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(home))


def send_register(page, base: str, path) -> None:
    page.goto(f"{base}/admin/register")
    page.locator("input[name=file]").set_input_files(str(path))
    page.locator("main form[enctype] button[type=submit]").click()


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_from_an_empty_database_to_an_inspection_in_a_campaign(
    live_server, browser, runner, reference_data, tmp_path, lang
):
    base = str(live_server)
    assert runner.invoke(args=["checklist", "load"]).exit_code == 0
    made = runner.invoke(
        args=["users", "create", "secretariat", "--name", "Secrétariat d'État", "--role",
              "admin", "--language", lang, "--password", PASSWORD],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    today = dates.today()
    rabat = db.session.scalar(select(Region.id).where(Region.code == "MA-04"))
    direction = "rtl" if lang == "ar" else "ltr"

    # --- the admin: a campaign, started; a coordinator invited -------------------------------
    desk = laptop(browser)
    admin = desk.new_page()
    log_in(admin, base, "secretariat")
    expect(admin.locator(f"html[lang={lang}][dir={direction}]")).to_have_count(1)
    admin.goto(f"{base}/admin/campaigns/new")
    admin.fill("input[name=name_ar]", "معرض الصناعة التقليدية بالرباط")
    admin.fill("input[name=name_fr]", "Salon de l'artisanat de Rabat")
    admin.fill("input[name=name_en]", "Rabat crafts fair")
    admin.fill("input[name=first_day]", today.isoformat())
    admin.fill("input[name=last_day]", (today + timedelta(days=30)).isoformat())
    admin.fill("input[name=code]", f"rabat-fair-{lang}")
    admin.locator("main form button.primary").click()
    admin.wait_for_url(re.compile(r"/admin/campaigns/\d+$"))
    campaign_url = admin.url
    admin.locator("form[action$='/start'] button").click()
    expect(admin.locator("h1 .badge.state-running")).to_have_count(1)
    coordinator_link = invite(admin, base, "Khadija Bennani", "k.bennani", "coordinator", rabat)
    desk.close()

    # --- the coordinator: a venue, the register (one bad row, then fixed), the campaign ------
    chamber = laptop(browser)
    coordinator = chamber.new_page()
    accept(coordinator, coordinator_link, r"/chamber/$")
    expect(coordinator.locator(f"html[lang={lang}]")).to_have_count(1)
    coordinator.goto(f"{base}/admin/venues/new")
    coordinator.select_option("select[name=kind]", "fan_zone")
    coordinator.select_option("select[name=province]", index=0)
    coordinator.fill("input[name=city]", "Rabat")
    coordinator.fill("input[name=name_fr]", "Village de l'artisanat OLM Souissi")
    coordinator.fill("input[name=name_ar]", "القرية الحرفية السويسي")
    coordinator.fill("input[name=code]", "RBT-FZ1")
    coordinator.locator("main form button.primary").click()
    coordinator.wait_for_url(re.compile(r"/admin/venues/\d+$"))
    venue_id = int(coordinator.url.rsplit("/", 1)[1])

    good = registerfiles.row(card="A1234567", stall="RBT-001", venue="RBT-FZ1")
    bad = registerfiles.row(
        card="B7654321", name_ar="يوسف برادة", name_latin="Youssef Berrada",
        phone="12345", stall="RBT-002", venue="RBT-FZ1",
    )  # fmt: skip
    register = tmp_path / "registre.csv"
    register.write_bytes(registerfiles.csv_bytes([good, bad], header=registerfiles.HEADER_FR))
    send_register(coordinator, base, register)
    expect(coordinator.locator("table.problems tbody tr")).to_have_count(1)
    expect(coordinator.locator("table.problems tbody tr td").first).to_have_text("3")
    # Refused as a whole: the page, written to its end, offers nothing to confirm.
    coordinator.locator("main p.muted a[href*='/admin/register/']").wait_for()
    expect(coordinator.locator("form[action$='/confirm']")).to_have_count(0)
    bad[5] = "0612345678"
    register.write_bytes(registerfiles.csv_bytes([good, bad], header=registerfiles.HEADER_FR))
    send_register(coordinator, base, register)
    coordinator.locator("form[action$='/confirm'] button").click()
    expect(coordinator.locator("p.flash.success")).to_have_count(1)

    coordinator.goto(campaign_url)
    coordinator.locator(f"input[name=venue][value='{venue_id}']").check()
    coordinator.get_by_role("button", name=WORDS[lang]["add"]).click()
    expect(coordinator.locator(".venues-in .code", has_text="RBT-FZ1")).to_have_count(1)
    inspector_link = invite(coordinator, base, "Youssef Alaoui", "y.alaoui", "inspector", rabat)

    # --- the inspector, on a phone: accept, find a stall of the register, inspect it --------
    handset = phone_context(browser)
    inspector = handset.new_page()
    accept(inspector, inspector_link, r"/inspect/round$")  # today's round first, then search
    inspector.goto(inspector.url.removesuffix("round"))
    expect(inspector.locator(f"html[lang={lang}][dir={direction}]")).to_have_count(1)
    db.session.expire_all()
    stall = db.session.scalar(select(Stall).where(Stall.code == "RBT-002"))
    inspector.fill("input[name=q]", "Berrada")
    inspector.locator(f"#results a[href$='/inspect/stalls/{stall.id}']").click()
    inspector.wait_for_url(re.compile(rf"/inspect/stalls/{stall.id}$"))
    inspector.locator("form[action$='/start'] button").click()
    inspector.wait_for_url(re.compile(r"/inspect/inspections/[0-9a-f-]{36}$"))
    inspection_id = inspector.url.rsplit("/", 1)[1]
    radios = inspector.locator("input[type=radio][value=pass]").all()
    for key in [radio.get_attribute("name")[2:] for radio in radios]:
        with inspector.expect_response(re.compile(rf"/items/{key}$")):
            inspector.locator(f"label:has(input[name='r-{key}'][value=pass])").click()
    photo = tmp_path / "stall.jpg"
    photo.write_bytes(imagefactory.jpeg(1200, 900))
    with inspector.expect_response(re.compile(r"/items/shop_clean/photos$")):
        inspector.locator("input[name='p-shop_clean']").set_input_files(str(photo))
    inspector.locator("#item-shop_clean img").wait_for()
    inspector.locator("button[name=action][value=submit]").click()
    inspector.wait_for_url(re.compile(rf"/inspect/inspections/{inspection_id}/result$"))
    handset.close()

    # --- the coordinator sees it: under the campaign, and on the dashboard ------------------
    coordinator.goto(f"{base}/admin/campaigns")
    expect(coordinator.locator("ul.campaigns li").first).to_contain_text(
        WORDS[lang]["one_inspection"]
    )
    coordinator.goto(f"{base}/chamber/stalls?state=all")
    expect(coordinator.locator(f"main a[href$='/chamber/stalls/{stall.id}']")).to_contain_text(
        "RBT-002"
    )
    chamber.close()

    db.session.expire_all()
    inspection = db.session.get(Inspection, inspection_id)
    campaign = db.session.scalar(select(Campaign).where(Campaign.code == f"rabat-fair-{lang}"))
    assert inspection.status == "submitted" and inspection.campaign_id == campaign.id
    inspector_row = db.session.scalar(select(User).where(User.username == "y.alaoui"))
    assert inspection.inspector_id == inspector_row.id
