"""The set-up pages: register upload, preview and confirm; venues and stalls."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from compliance.extensions import db
from compliance.models import Artisan, AuditEvent, RegisterUpload, Stall, Venue

from . import factories
from .conftest import login
from .registerfiles import csv_bytes, row, xlsx_bytes


@pytest.fixture
def rabat(region):
    return factories.venue(region, code="RBT-FZ1")


@pytest.fixture
def marrakech(other_region):
    return factories.venue(other_region, city="Marrakech", code="MRK-FZ1")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def upload(client, data: bytes, name: str = "register.csv", **extra):
    return client.post(
        "/admin/register",
        data={"file": (io.BytesIO(data), name), **extra},
        content_type="multipart/form-data",
        buffered=True,  # the page is streamed: read it all inside the request
    )


def upload_id(page: str) -> str:
    return re.search(r"/admin/register/([0-9a-f-]{36})/confirm", page).group(1)


def test_preview_then_confirm_stores_the_file(as_coordinator, client, rabat):
    response = upload(client, csv_bytes([row(), row(card="B7654321", stall="RBT-002")]))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="steps"' in page  # the progress lines, streamed
    assert count(Artisan) == 0  # nothing before the confirmation
    confirm = client.post(f"/admin/register/{upload_id(page)}/confirm", data={}, buffered=True)
    result = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert count(Artisan) == 2 and count(Stall) == 2
    assert db.session.scalar(select(RegisterUpload)).state == "committed"
    assert db.session.scalar(select(RegisterUpload)).data is None  # the file is not kept
    assert "/admin/register/" in result


def test_double_confirm_stores_once(as_coordinator, client, rabat):
    page = upload(client, csv_bytes([row()])).get_data(as_text=True)
    first = client.post(f"/admin/register/{upload_id(page)}/confirm", data={}, buffered=True)
    second = client.post(f"/admin/register/{upload_id(page)}/confirm", data={}, buffered=True)
    assert first.status_code == 200 and second.status_code == 302
    assert count(Artisan) == 1
    creates = select(func.count()).where(AuditEvent.action == "register.artisan.create")
    assert db.session.scalar(creates) == 1


def test_refused_rows_are_listed_with_row_column_and_reason_and_no_confirm(
    as_coordinator, client, rabat
):
    page = upload(client, csv_bytes([row(), row(card="B1", stall="RBT-002", phone="123")]))
    text = page.get_data(as_text=True)
    assert "/confirm" not in text
    assert "<td>3</td>" in text
    assert "is not a Moroccan phone number" in text or "numéro marocain" in text


def test_refused_rows_in_french(client, region, rabat):
    coordinator = factories.user("coordinator", region=region, language="fr")
    login(client, coordinator)
    text = upload(client, csv_bytes([row(phone="123")])).get_data(as_text=True)
    assert "n'est pas un numéro marocain" in text.replace("&#39;", "'")
    assert "Téléphone" in text


def test_wrong_encoding_is_refused_with_a_message(as_coordinator, client, rabat):
    data = csv_bytes([row(name_latin="Hélène", name_ar="x")], encoding="latin-1")
    text = upload(client, data).get_data(as_text=True)
    assert "UTF-8" in text and "/confirm" not in text


def test_xlsx_upload(as_coordinator, client, rabat):
    data = xlsx_bytes([row(phone=612345678)], blank_rows=20)
    page = upload(client, data, name="register.xlsx").get_data(as_text=True)
    client.post(f"/admin/register/{upload_id(page)}/confirm", data={}, buffered=True)
    assert db.session.scalar(select(Artisan)).phone == "0612345678"


def test_coordinator_cannot_import_into_another_region(as_coordinator, client, rabat, marrakech):
    text = upload(client, csv_bytes([row(venue="MRK-FZ1")])).get_data(as_text=True)
    assert "/confirm" not in text
    assert count(Stall) == 0


def test_coordinator_cannot_see_another_regions_upload(app, region, other_region, rabat):
    one, two = (
        factories.user("coordinator", region=region),
        factories.user("coordinator", region=other_region),
    )
    first = app.test_client()
    login(first, one)
    page = upload(first, csv_bytes([row()])).get_data(as_text=True)
    other = app.test_client()
    login(other, two)
    assert other.get(f"/admin/register/{upload_id(page)}").status_code == 404
    assert (
        other.post(f"/admin/register/{upload_id(page)}/confirm", data={}, buffered=True).status_code
        == 404
    )
    assert count(Artisan) == 0


def test_inspector_cannot_import(as_inspector, client, rabat):
    assert client.get("/admin/register").status_code == 403
    assert upload(client, csv_bytes([row()])).status_code == 403


def test_template_has_headers_in_the_users_language_and_drop_downs(client, region):
    coordinator = factories.user("coordinator", region=region, language="ar")
    login(client, coordinator)
    response = client.get("/admin/register/template.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.worksheets[0]
    assert sheet["A1"].value == "رقم البطاقة المهنية"
    filled = [r for r in sheet.iter_rows(values_only=True) if any(r)]
    assert len(filled) == 3  # the headers and two examples
    ranges = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert set(ranges) == {"D2:D5000", "E2:E5000"}


def test_template_file_imports_as_is(as_coordinator, client, region):
    venue = factories.venue(region)
    venue.code = "RBT-FZ1"
    db.session.commit()
    data = client.get("/admin/register/template.xlsx").data
    page = upload(client, data, name="template.xlsx").get_data(as_text=True)
    client.post(f"/admin/register/{upload_id(page)}/confirm", data={}, buffered=True)
    assert count(Artisan) == 2
    assert db.session.scalar(select(Stall).where(Stall.code == "RBT-002")).location_ar


# --- venues and stalls ----------------------------------------------------------------------


def test_venue_is_created_with_a_code(as_coordinator, client, region):
    province = factories.province(region)
    response = client.post(
        "/admin/venues/new",
        data={"kind": "fan_zone", "province": province.id, "city": "Rabat",
              "name_fr": "Village OLM Souissi", "name_ar": "قرية السويسي", "name_en": ""},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    venue = db.session.scalar(select(Venue))
    assert venue.code == "RBT-FZ1"
    assert "RBT-FZ1" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_coordinator_cannot_put_a_venue_in_another_region(as_coordinator, client, other_region):
    province = factories.province(other_region)
    response = client.post(
        "/admin/venues/new",
        data={"kind": "fan_zone", "province": province.id, "city": "Marrakech",
              "name_fr": "X", "name_ar": "س"},
    )  # fmt: skip
    assert response.status_code == 400
    assert count(Venue) == 0


def test_coordinator_cannot_see_another_regions_venue(as_coordinator, client, marrakech):
    assert client.get(f"/admin/venues/{marrakech.id}").status_code == 404
    assert "MRK-FZ1" not in client.get("/admin/venues").get_data(as_text=True)


def test_closed_stall_leaves_the_inspectors_lists(
    app, region, coordinator, inspector, checklist_version
):
    # checklist_version: a running campaign that every venue takes part in (tests/conftest.py)
    stall = factories.stall(region=region, code="RBT-050")
    chamber = app.test_client()
    login(chamber, coordinator)
    field = app.test_client()
    login(field, inspector)
    link = f"/inspect/stalls/{stall.id}"
    assert link in field.get("/inspect/?q=RBT-050").get_data(as_text=True)
    chamber.post(f"/admin/stalls/{stall.id}/close", data={"action": "close"})
    db.session.refresh(stall)
    assert stall.closed_at is not None
    assert link not in field.get("/inspect/?q=RBT-050").get_data(as_text=True)
    assert '"RBT-050"' not in field.get("/inspect/api/bundle").get_data(as_text=True)
    chamber.post(f"/admin/stalls/{stall.id}/close", data={"action": "reopen"})
    assert link in field.get("/inspect/?q=RBT-050").get_data(as_text=True)
    assert '"RBT-050"' in field.get("/inspect/api/bundle").get_data(as_text=True)


def test_move_an_artisan_to_another_stall(as_coordinator, client, region):
    venue = factories.venue(region)
    source = factories.stall(venue_row=venue, code="RBT-001")
    target = factories.stall(venue_row=venue, code="RBT-002")
    target.artisan = None
    db.session.commit()
    artisan_id = source.artisan_id
    response = client.post(f"/admin/stalls/{source.id}/move", data={"target": "rbt-002"})
    assert response.status_code == 302
    db.session.refresh(source)
    db.session.refresh(target)
    assert (source.artisan_id, target.artisan_id) == (None, artisan_id)
    moves = select(func.count()).where(AuditEvent.action == "stall.move_artisan")
    assert db.session.scalar(moves) == 2


def test_move_to_a_taken_stall_is_refused(as_coordinator, client, region):
    venue = factories.venue(region)
    source = factories.stall(venue_row=venue, code="RBT-001")
    target = factories.stall(venue_row=venue, code="RBT-002")
    before = (source.artisan_id, target.artisan_id)
    client.post(f"/admin/stalls/{source.id}/move", data={"target": "RBT-002"})
    db.session.refresh(source)
    db.session.refresh(target)
    assert (source.artisan_id, target.artisan_id) == before


def test_stall_is_created_and_edited(as_coordinator, client, region):
    venue = factories.venue(region)
    artisan = factories.artisan(nia="A7777777")
    response = client.post(
        f"/admin/venues/{venue.id}/stalls/new",
        data={"code": "rbt-099", "location": "Allée C", "location_ar": "الممر ج",
              "card_number": "a7777777"},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    stall = db.session.scalar(select(Stall))
    assert (stall.code, stall.artisan_id, stall.location_ar) == ("RBT-099", artisan.id, "الممر ج")
    response = client.post(f"/admin/stalls/{stall.id}", data={"code": "RBT-099", "card_number": ""})
    db.session.refresh(stall)
    assert stall.artisan_id is None
