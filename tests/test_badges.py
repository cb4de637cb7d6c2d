"""Badges: the QR code, the SVG and PNG files, and the A4 print pages of a venue."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import xml.etree.ElementTree as ET

import pytest
import segno
from PIL import Image
from sqlalchemy import select

from compliance.artisan import badges, credentials, keys
from compliance.extensions import db
from compliance.models import Artisan

from . import factories
from .test_artisan_helpers import fresh_limits, secret  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_limits")

SVG = "{http://www.w3.org/2000/svg}"


def sample(**changes) -> badges.Badge:
    fields = dict(
        url="https://soukcheck.example/a/b/" + keys.badge_code("s", 1, 1),
        name_ar="فاطمة الزهراء العمراني",
        name_latin="Fatima Zahra El Amrani",
        card_number="NIA-04-00000042",
        craft_ar="الفخار والخزف",
        craft_fr="Poterie",
        stall_code="S-0012",
        venue_ar="القرية الحرفية",
        venue_fr="Village artisanal, Rabat",
        labels=badges.BadgeLabels(),
    )
    fields.update(changes)
    return badges.Badge(**fields)


# --- Drawing -----------------------------------------------------------------------------------


def test_qr_path_draws_exactly_the_dark_modules():
    code = badges.qr_code("https://soukcheck.example/a/b/abc")
    data, side = badges.qr_path(code)
    drawn = set()
    for x, y, run in re.findall(r"M(\d+) (\d+)h(\d+)", data):
        drawn |= {(int(x) + i, int(y)) for i in range(int(run))}
    expected = {
        (x, y)
        for y, row in enumerate(code.matrix_iter(border=0))
        for x, dark in enumerate(row)
        if dark
    }
    assert side == code.symbol_size(border=0)[0] and drawn == expected


def test_qr_code_carries_the_url_with_error_correction():
    url = "https://soukcheck.example/a/b/" + keys.badge_code("s", 1, 1)
    code = badges.qr_code(url)
    assert code.error in ("M", "Q", "H")
    assert code.matrix == segno.make_qr(url, error=code.error.lower(), boost_error=False).matrix


def test_badge_svg_is_well_formed_and_carries_everything():
    text = badges.badge_svg(sample())
    root = ET.fromstring(text.encode())
    assert root.tag == f"{SVG}svg" and root.get("width") == "86mm" and root.get("height") == "54mm"
    words = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for expected in (
        "فاطمة الزهراء العمراني",
        "Fatima Zahra El Amrani",
        "NIA-04-00000042",
        "S-0012",
        "Village artisanal, Rabat",
        "القرية الحرفية",
    ):
        assert expected in words
    arabic = next(t for t in root.iter(f"{SVG}text") if t.text == "فاطمة الزهراء العمراني")
    assert arabic.get("direction") == "rtl"


def test_badge_svg_has_no_style_attributes_or_scripts():
    text = badges.badge_svg(sample())
    assert "style=" not in text and "<style" not in text and "<script" not in text


def test_badge_svg_escapes_names():
    text = badges.badge_svg(sample(name_latin='A <b>&"co"'))
    ET.fromstring(text.encode())
    assert "<b>" not in text


def test_badge_png_is_a_300_dpi_card():
    image = Image.open(io.BytesIO(badges.badge_png(sample())))
    assert image.format == "PNG" and image.size == (1016, 638)
    assert round(image.info["dpi"][0]) == 300


def test_badge_png_without_raqm_keeps_the_latin_text(monkeypatch):
    monkeypatch.setattr(badges, "ARABIC_IN_PNG", False)
    image = Image.open(io.BytesIO(badges.badge_png(sample())))
    assert image.size == (1016, 638)


def test_long_names_are_wrapped_not_lost():
    long = sample(name_latin="Coopérative artisanale féminine de tissage traditionnel de Salé")
    lines = [t.text for t in ET.fromstring(badges.badge_svg(long).encode()).iter(f"{SVG}text")]
    assert "Coopérative artisanale féminine" in " ".join(lines)
    assert any("Salé" in (line or "") for line in lines)


# --- Served to coordinators ----------------------------------------------------------------


def test_badge_files_are_served_and_not_cached(as_coordinator, stall):
    as_coordinator.post(f"/coordination/stalls/{stall.id}/badge")
    svg = as_coordinator.get(f"/coordination/stalls/{stall.id}/badge.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert "no-store" in svg.headers["Cache-Control"]
    png = as_coordinator.get(f"/coordination/stalls/{stall.id}/badge.png")
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_issuing_the_badge(as_coordinator, stall):
    assert stall.artisan.badge_code_hash is None
    as_coordinator.get(f"/coordination/stalls/{stall.id}/badge.svg")
    assert db.session.get(Artisan, stall.artisan.id).badge_code_hash is None  # GET writes nothing
    as_coordinator.post(f"/coordination/stalls/{stall.id}/badge")
    artisan = db.session.get(Artisan, stall.artisan.id)
    db.session.refresh(artisan)
    code = keys.badge_code(secret(), artisan.id, artisan.badge_version)
    assert artisan.badge_code_hash == keys.code_hash(code)
    assert credentials.by_badge_code(code, secret()).id == artisan.id


def test_venue_print_page_has_eight_badges_per_a4_sheet(as_coordinator, region):
    venue = factories.venue(region)
    stalls = [factories.stall(venue_row=venue) for _ in range(9)]
    factories.stall(region=region)  # another venue: not printed here
    as_coordinator.post(f"/coordination/venues/{venue.id}/badges")
    response = as_coordinator.get(f"/coordination/venues/{venue.id}/badges")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count('<section class="sheet"') == 2
    assert html.count('<article class="cut">') == 9
    assert html.count('class="crop ') == 9 * 4
    assert "print.css" in html
    assert all(s.code in html for s in stalls)
    issued = db.session.scalars(select(Artisan.badge_code_hash)).all()
    assert sum(1 for value in issued if value) == 9


def test_print_pages_have_no_inline_style_or_script(as_coordinator, stall):
    badges_url = f"/coordination/venues/{stall.venue_id}/badges"
    slips_url = f"/coordination/venues/{stall.venue_id}/slips"
    pages = [as_coordinator.get(badges_url), as_coordinator.get(slips_url)]
    as_coordinator.post(badges_url)
    pages += [as_coordinator.get(badges_url), as_coordinator.post(slips_url)]
    pages.append(as_coordinator.get(slips_url))
    for page in pages:
        html = page.get_data(as_text=True)
        assert " style=" not in html
        # Only our own stylesheets are inline, each allowed by its hash in the CSP.
        for style in re.findall(r"<style>(.*?)</style>", html, re.S):
            digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in page.headers["Content-Security-Policy"]
        assert html.count("<style") == len(re.findall(r"<style>", html))
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_slips_carry_card_number_and_pin(as_coordinator, region):
    venue = factories.venue(region)
    stalls = [factories.stall(venue_row=venue) for _ in range(7)]
    html = as_coordinator.post(f"/coordination/venues/{venue.id}/slips").get_data(as_text=True)
    assert html.count('<section class="sheet slips"') == 2
    for stall in stalls:
        artisan = db.session.get(Artisan, stall.artisan.id)
        pin = keys.pin(secret(), artisan.id, artisan.private_version)
        assert artisan.nia in html and f"{pin[:3]} {pin[3:]}" in html


def test_one_slip_per_artisan_even_with_two_stalls(as_coordinator, region):
    venue = factories.venue(region)
    artisan = factories.artisan()
    factories.stall(venue_row=venue, artisan_row=artisan)
    factories.stall(venue_row=venue, artisan_row=artisan)
    html = as_coordinator.post(f"/coordination/venues/{venue.id}/slips").get_data(as_text=True)
    assert html.count('<article class="cut slip">') == 1
