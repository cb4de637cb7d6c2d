"""Offline, in a real Chromium at phone size: the network goes, the inspector keeps working.

The service worker, IndexedDB and the sync run as on a phone; the network is cut with
``context.set_offline`` and failures are made with ``page.route``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from compliance import checklist_store
from compliance.extensions import db
from compliance.models import AuditEvent, Inspection, Photo

from . import factories, imagefactory
from .conftest import wait_until

pytestmark = pytest.mark.browser

# A price missing (critical) fails: a photo is required for it; shop_clean always takes one.
FAILED = "price_on_every_product"
PHOTOS = ("shop_clean", FAILED)


@pytest.fixture
def field(request, live_server, phone, region, checklist_version, tmp_path):
    """An inspector logged in on the phone, with the app kept for offline use."""
    lang = getattr(request, "param", "fr")
    stall = factories.stall(
        region=region,
        artisan_row=factories.artisan(name_latin="Hassan Tazi", name_ar="حسن التازي"),
    )
    inspector = factories.user("inspector", region=region, language=lang)
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    phone.goto(f"{live_server}/login")
    phone.fill("input[name=username]", inspector.username)
    phone.fill("input[name=password]", factories.PASSWORD)
    phone.locator("form:has(input[name=password]) button[type=submit]").click()
    phone.wait_for_url(re.compile(r"/inspect/round$"))  # today's round first
    # The worker controls the page and the shell and the region's stalls are kept.
    wait_until(phone, "navigator.serviceWorker.controller !== null")
    wait_until(
        phone,
        "caches.match('/inspect/api/bundle').then(b => b && caches.match('/inspect/offline'))"
        ".then(Boolean)",
    )
    files = []
    for n, color in enumerate([(200, 30, 30), (30, 30, 200)]):
        path = tmp_path / f"photo{n}.jpg"
        path.write_bytes(imagefactory.jpeg(2400, 1800, color=color, orientation=6))
        files.append(str(path))
    yield {
        "stall": stall,
        "inspector": inspector,
        "page": phone,
        "photos": files,
        "errors": errors,
        "lang": lang,
    }
    assert not errors, errors


def inspect_offline(page, base, stall, photos, version):
    """Open the app with no network, find the stall, run the whole checklist, submit."""
    page.context.set_offline(True)
    page.goto(f"{base}/inspect/")
    page.fill("#q", "tazi")
    page.locator(f"#results a[href$='/inspect/stalls/{stall.id}']").click()
    page.wait_for_url(re.compile(rf"/inspect/stalls/{stall.id}$"))
    page.locator("button[data-start]").click()
    page.wait_for_url(re.compile(r"/inspect/inspections/[0-9a-f-]{36}$"))
    inspection_id = page.url.rsplit("/", 1)[1]
    for item in checklist_store.definition(version).items():
        result = "fail" if item.key == FAILED else "pass"
        page.locator(f"#item-{item.key} label.r-{result}").click()
    for key, path in zip(PHOTOS, photos, strict=True):
        page.locator(f"input[name='p-{key}']").set_input_files(path)
        page.locator(f"#item-{key} .photo-row img").wait_for()
    return inspection_id


def wait_count(page, value: int) -> None:
    """Wait for the "n waiting to send" counter to say ``value``."""
    page.locator(f"#outbox[data-count='{value}']").wait_for(state="attached")


def shot(page, name: str) -> None:
    """SOUKCHECK_SCREENSHOTS=/some/folder keeps what the inspector saw."""
    folder = os.environ.get("SOUKCHECK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def counter(page) -> str:
    return page.locator("#outbox").get_attribute("data-count") or ""


@pytest.mark.parametrize("field", ["ar", "fr"], indirect=True)
def test_whole_inspection_offline_then_sent_once(field, live_server, checklist_version):
    page, stall, lang = field["page"], field["stall"], field["lang"]
    total = len(checklist_store.definition(checklist_version).items())
    inspection_id = inspect_offline(page, live_server, stall, field["photos"], checklist_version)
    page.locator(f"#item-{FAILED}").scroll_into_view_if_needed()
    shot(page, f"offline-checklist-photo-{lang}")

    # Reloaded with still no network: every answer and both photos are still there.
    page.reload()
    page.locator("#local-checklist").wait_for()
    assert page.locator("input[type=radio]:checked").count() == total
    assert page.locator(".photo-row img").count() == 2
    page.locator("#local-checklist button[type=submit]").click()
    page.locator("[data-state=queued]").wait_for()
    wait_count(page, 1)
    assert page.locator("#outbox").is_visible()
    shot(page, f"offline-queued-{lang}")
    page.reload()
    wait_count(page, 1)
    page.goto(f"{live_server}/inspect/")  # the app opened again, still without network
    page.locator("#on-phone li").wait_for()
    shot(page, f"offline-home-{lang}")
    assert db.session.get(Inspection, inspection_id) is None  # nothing reached the server

    page.context.set_offline(False)  # the "online" event sends the queue
    wait_count(page, 0)
    db.session.expire_all()
    inspection = db.session.get(Inspection, inspection_id)
    assert inspection.status == "submitted" and inspection.photos_pending == 0
    assert inspection.verdict == "non_compliant"  # a critical item failed
    photos = db.session.scalars(select(Photo).where(Photo.inspection_id == inspection_id)).all()
    assert sorted(p.item_key for p in photos) == sorted(PHOTOS)
    # Shrunk on the phone: longest side 1600, turned upright (EXIF orientation 6).
    assert all((p.width, p.height) == (1200, 1600) for p in photos)
    assert db.session.scalar(select(func.count(Inspection.id))) == 1
    assert page.locator("#outbox").is_hidden()
    page.goto(f"{live_server}/inspect/inspections/{inspection_id}")
    page.wait_for_url(re.compile(r"/result$"))  # the server has it: its result page
    shot(page, f"offline-sent-result-{lang}")


def test_failed_photo_is_retried_alone(field, live_server, checklist_version):
    page, stall = field["page"], field["stall"]
    inspection_id = inspect_offline(page, live_server, stall, field["photos"], checklist_version)
    page.locator("#local-checklist button[type=submit]").click()
    page.locator("[data-state=queued]").wait_for()
    # The phone tried to send at once, offline; that attempt never reached the server. Wait for
    # it to end before watching, or its doomed PUT may be counted as a sending of the answers.
    page.evaluate("SoukCheck.sync()")

    sent: list[str] = []
    page.on("request", lambda r: sent.append(f"{r.method} {r.url}") if "/api/" in r.url else None)
    # The first photo's connection is cut, every time, until the test lets it through: however
    # many attempts the phone makes meanwhile (the "online" event, its backoff timer, the test's
    # own call), what the server holds is the same when the test looks.
    cut: list[str] = []

    def cut_first_photo(route):
        if not cut:
            cut.append(route.request.url)
        if route.request.url == cut[0] and len(cut) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r"/api/inspections/.+/photos/"), cut_first_photo)
    page.context.set_offline(False)
    page.evaluate("SoukCheck.sync()")
    db.session.expire_all()
    assert db.session.get(Inspection, inspection_id).photos_pending == 1
    assert counter(page) == "1"  # not sent until the server has every photo

    cut.append("let it through")
    # The retry (a timer or the next opening does the same); after any attempt still under way.
    page.evaluate("SoukCheck.sync().then(() => SoukCheck.sync())")
    wait_count(page, 0)
    answers_sent = [r for r in sent if re.search(r"PUT .*/api/inspections/[0-9a-f-]{36}$", r)]
    photo_puts = [r.split(" ", 1)[1] for r in sent if "/photos/" in r]
    assert len(answers_sent) == 1  # the inspection went once; the photo alone went again
    # The photo that got through went once; the one cut went again until it got through.
    others = [url for url in photo_puts if url != cut[0]]
    assert len(others) == 1 and photo_puts.count(cut[0]) >= 2 and photo_puts[-1] == cut[0]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Photo.id))) == 2
    events = select(func.count(AuditEvent.id)).where(AuditEvent.action == "inspection.submit")
    assert db.session.scalar(events) == 1


REPLAY = """async (copy) => {
  const S = window.SoukCheck;
  if (!copy) {  // take a copy of the queue, blobs included
    const records = await S.store.all("inspections");
    const photos = await S.store.all("photos");
    return {records, photos: await Promise.all(photos.map(async p =>
      ({...p, bytes: Array.from(new Uint8Array(await p.blob.arrayBuffer()))})))};
  }
  for (const r of copy.records) await S.store.put("inspections", r);
  for (const p of copy.photos) {
    const {bytes, ...photo} = p;
    const blob = new Blob([new Uint8Array(bytes)], {type: "image/jpeg"});
    await S.store.put("photos", {...photo, blob});
  }
  return await S.count();  // what the counter says, at once: the queue is back
}"""


def test_same_queue_replayed_twice_gives_one_inspection(field, live_server, checklist_version):
    page, stall = field["page"], field["stall"]
    inspection_id = inspect_offline(page, live_server, stall, field["photos"], checklist_version)
    page.locator("#local-checklist button[type=submit]").click()
    page.locator("[data-state=queued]").wait_for()
    copy = page.evaluate(REPLAY, None)
    assert len(copy["records"]) == 1 and len(copy["photos"]) == 2

    # A second tab of the same app: both send when the network comes back.
    other = page.context.new_page()
    other.goto(f"{live_server}/inspect/")
    page.context.set_offline(False)
    page.evaluate("Promise.all([SoukCheck.sync(), SoukCheck.sync()])")
    other.evaluate("SoukCheck.sync()")
    wait_count(page, 0)

    for _replay in range(2):  # the same queue, put back and sent again, twice
        assert page.evaluate(REPLAY, copy) == 1
        page.evaluate("SoukCheck.sync()")
        wait_count(page, 0)

    db.session.expire_all()
    assert db.session.scalar(select(func.count(Inspection.id))) == 1
    assert db.session.scalar(select(func.count(Photo.id))) == 2
    assert db.session.get(Inspection, inspection_id).photos_pending == 0
    events = select(func.count(AuditEvent.id)).where(AuditEvent.action == "inspection.submit")
    assert db.session.scalar(events) == 1
    other.close()


def test_network_lost_on_the_server_checklist_keeps_everything(
    field, live_server, checklist_version
):
    """Started with network; it goes mid-checklist: the phone takes over, nothing is lost."""
    page, stall = field["page"], field["stall"]
    page.goto(f"{live_server}/inspect/stalls/{stall.id}")
    page.locator("form[action$='/start'] button").click()
    page.wait_for_url(re.compile(r"/inspect/inspections/[0-9a-f-]{36}$"))
    inspection_id = page.url.rsplit("/", 1)[1]
    items = checklist_store.definition(checklist_version).items()
    with page.expect_response(re.compile(r"/items/greeting$")):
        page.locator("#item-greeting label.r-pass").click()
    page.context.set_offline(True)
    page.locator("#item-visitor_info label.r-pass").click()  # cannot be saved: the phone keeps it
    page.locator("#local-checklist").wait_for()
    for item in items:
        if item.key not in ("greeting", "visitor_info"):
            page.locator(f"#item-{item.key} label.r-pass").click()
    page.locator("input[name='p-shop_clean']").set_input_files(field["photos"][0])
    page.locator("#item-shop_clean .photo-row img").wait_for()
    page.reload()
    page.locator("#local-checklist").wait_for()
    assert page.locator("input[type=radio]:checked").count() == len(items)
    page.locator("#local-checklist button[type=submit]").click()
    page.locator("[data-state=queued]").wait_for()
    page.context.set_offline(False)
    wait_count(page, 0)
    db.session.expire_all()
    inspection = db.session.get(Inspection, inspection_id)
    assert inspection.status == "submitted" and len(inspection.photos) == 1
    assert inspection.verdict == "compliant"


def test_the_app_is_installable(field):
    """Chromium finds the manifest, its icons and a service worker that answers offline."""
    page = field["page"]
    cdp = page.context.new_cdp_session(page)
    errors = [
        e["errorId"]
        for e in cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        if e["errorId"] != "in-incognito"  # a test browser's context is one; a phone's is not
    ]
    assert errors == [], errors
    manifest = cdp.send("Page.getAppManifest")
    assert not manifest["errors"] and manifest["url"].split("?")[0].endswith("/manifest.json")


def test_logged_out_phone_keeps_its_queue(field, live_server, checklist_version):
    """The session ended while the phone was offline: nothing is sent, nothing is lost."""
    page, stall = field["page"], field["stall"]
    inspection_id = inspect_offline(page, live_server, stall, field["photos"], checklist_version)
    page.locator("#local-checklist button[type=submit]").click()
    page.locator("[data-state=queued]").wait_for()
    page.context.clear_cookies()
    page.context.set_offline(False)
    page.evaluate("SoukCheck.sync()")
    wait_until(page, "document.querySelector('#outbox').hasAttribute('data-login')")
    assert counter(page) == "1" and page.locator("#outbox").get_attribute("href").endswith("/login")
    assert db.session.get(Inspection, inspection_id) is None
    # Logged in again, the app sends it at once.
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", field["inspector"].username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/inspect/round$"))
    wait_count(page, 0)
    db.session.expire_all()
    assert db.session.get(Inspection, inspection_id).photos_pending == 0


def test_forms_sent_without_network_are_kept(field, live_server, checklist_version):
    """The server's own forms, sent as the network drops: the service worker keeps them."""
    page, stall = field["page"], field["stall"]
    items = checklist_store.definition(checklist_version).items()
    # Starting: the stall page came from the server, the start does not reach it.
    page.goto(f"{live_server}/inspect/stalls/{stall.id}")
    page.context.set_offline(True)
    page.locator("form[action$='/start'] button").click()
    page.locator("#local-checklist").wait_for()
    assert re.search(r"/inspect/inspections/[0-9a-f-]{36}$", page.url)

    # Submitting: every answer saved online, then the submit itself has no network.
    page.context.set_offline(False)
    page.goto(f"{live_server}/inspect/stalls/{stall.id}")
    page.locator("form[action$='/start'] button").click()
    page.wait_for_url(re.compile(r"/inspect/inspections/[0-9a-f-]{36}$"))
    inspection_id = page.url.rsplit("/", 1)[1]
    for item in items:
        with page.expect_response(re.compile(rf"/items/{item.key}$")):
            page.locator(f"#item-{item.key} label.r-pass").click()
    with page.expect_response(re.compile(r"/items/shop_clean/photos$")):
        page.locator("input[name='p-shop_clean']").set_input_files(field["photos"][0])
    page.locator("#item-shop_clean img").wait_for()
    page.context.set_offline(True)
    page.locator("button[name=action][value=submit]").click()
    page.locator("[data-state=queued]").wait_for()
    page.context.set_offline(False)
    page.evaluate("SoukCheck.sync()")
    wait_count(page, 0)
    db.session.expire_all()
    inspection = db.session.get(Inspection, inspection_id)
    assert inspection.status == "submitted" and inspection.verdict == "compliant"
    photo = inspection.photos[0]
    assert len(inspection.photos) == 1 and (photo.width, photo.height) == (1200, 1600)


def test_the_no_network_banner_follows_the_network(field, live_server):
    """It appears when the network drops with a page open, and goes when it comes back."""
    page, stall = field["page"], field["stall"]
    page.goto(f"{live_server}/inspect/stalls/{stall.id}")
    banner = page.locator("#offline-note")
    assert not banner.is_visible()
    page.context.set_offline(True)
    banner.wait_for(state="visible")
    page.context.set_offline(False)
    banner.wait_for(state="hidden")
    # The same in the views the phone draws without network.
    page.context.set_offline(True)
    page.goto(f"{live_server}/inspect/?q=tazi")
    page.locator("#results a").first.wait_for()
    assert banner.is_visible()
    page.context.set_offline(False)
    banner.wait_for(state="hidden")


@pytest.mark.parametrize("field", ["ar", "fr"], indirect=True)
def test_the_waiting_counter_keeps_the_header_on_two_lines_at_360_px(
    field, live_server, checklist_version
):
    page, stall = field["page"], field["stall"]
    page.set_viewport_size({"width": 360, "height": 780})
    inspect_offline(page, live_server, stall, field["photos"], checklist_version)
    page.locator("#local-checklist button[type=submit]").click()
    page.locator("[data-state=queued]").wait_for()
    wait_count(page, 1)
    assert page.locator("#outbox").is_visible()
    # Lines of the header: the tops of its items, those less than 20 px apart on one line.
    rows = page.evaluate(
        """() => Array.from(document.querySelectorAll('.bar .brand, .bar nav > *'))
             .map(e => e.getBoundingClientRect()).filter(r => r.height > 0)
             .map(r => r.top).sort((a, b) => a - b)
             .filter((top, n, tops) => n === 0 || top - tops[n - 1] > 20).length"""
    )
    assert rows <= 2, rows
    shot(page, f"header-360-{field['lang']}")
