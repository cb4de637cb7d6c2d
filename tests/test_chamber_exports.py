"""Exports: CSV (UTF-8 with BOM) and XLSX, streamed, with the page's scope and filters."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from compliance.chamber import exports
from tests import factories
from tests.chamber_helpers import ALL_PASS, answers, inspect, small_checklist

DAY1 = datetime(2025, 12, 22, 10)
DAY2 = datetime(2026, 1, 3, 16)
ARABIC_NAME = "فاطمة الزهراء العمراني"
ARABIC_COMMENT = "لا يوجد سعر على الزرابي"


@pytest.fixture
def data(region, other_region, inspector):
    version = small_checklist()
    weaver = factories.artisan(
        name_ar=ARABIC_NAME, name_latin="Fatima Zahra El Amrani", craft="carpets", nia="NIA-777"
    )
    good = factories.stall(region=region, code="RBT-001", artisan_row=weaver)
    bad = factories.stall(region=region, venue_row=good.venue, code="RBT-002")
    factories.stall(region=region, venue_row=good.venue, code="RBT-003")
    inspect(good, inspector, version, answers(corridor="na"), DAY1)
    inspect(
        bad,
        inspector,
        version,
        answers(price_shown="fail"),
        DAY1,
        comments={"price_shown": ARABIC_COMMENT},
    )
    inspect(
        bad,
        inspector,
        version,
        answers(badge_worn="fail"),
        DAY2,
        comments={"badge_worn": '=HYPERLINK("http://evil")'},
    )
    elsewhere = factories.user("inspector", region=other_region)
    inspect(
        factories.stall(region=other_region, code="MRK-001"), elsewhere, version, answers(), DAY1
    )
    return {"good": good, "bad": bad}


def read_csv(response) -> list[dict]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark first"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_stalls_csv_has_every_stall_with_its_latest_result(as_coordinator, data):
    response = as_coordinator.get("/chamber/export/stalls.csv")
    assert response.status_code == 200 and response.is_streamed
    rows = read_csv(response)

    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert list(rows[0])[:7] == [
        "region",
        "province",
        "venue",
        "venue_kind",
        "city",
        "stall",
        "location",
    ]
    by_code = {row["stall"]: row for row in rows}
    assert set(by_code) == {"RBT-001", "RBT-002", "RBT-003"}  # not Marrakech's
    assert by_code["RBT-002"]["verdict"] == "needs_follow_up"  # the latest, 6/8
    assert by_code["RBT-002"]["latest_inspection_day"] == "2026-01-03"
    # price_shown failed, then passed (closed); badge_worn failed on the second visit.
    assert by_code["RBT-002"]["open_corrective_actions"] == "1"
    assert by_code["RBT-003"]["verdict"] == "" and by_code["RBT-003"]["score"] == ""
    assert by_code["RBT-001"]["artisan_name_ar"] == ARABIC_NAME  # Arabic round trip
    assert by_code["RBT-001"]["score"] == "1.0000"


def test_stalls_xlsx_opens_with_openpyxl(as_coordinator, data):
    response = as_coordinator.get("/chamber/export/stalls.xlsx?verdict=compliant")
    rows = read_xlsx(response)

    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    assert rows[0][5] == "Stall"
    assert [row[5] for row in rows[1:]] == ["RBT-001"]
    assert rows[1][8] == ARABIC_NAME


def test_inspections_export_follows_the_filters(as_coordinator, data):
    every = read_csv(as_coordinator.get("/chamber/export/inspections.csv"))
    december = read_csv(
        as_coordinator.get(
            "/chamber/export/inspections.csv?date_from=2025-12-01&date_to=2025-12-31"
        )
    )
    failing = read_csv(as_coordinator.get("/chamber/export/inspections.csv?verdict=non_compliant"))

    assert len(every) == 3
    assert {row["stall"] for row in december} == {"RBT-001", "RBT-002"}
    assert [row["day"] for row in every] == ["2025-12-22", "2025-12-22", "2026-01-03"]
    assert every[2]["submitted_at_morocco"] == "2026-01-03 17:00"
    assert every[0]["inspector"] == "Inspector Test"
    assert [row["stall"] for row in failing] == ["RBT-002"]


def test_answers_export_keeps_arabic_and_neutralises_formulas(as_coordinator, data):
    rows = read_csv(as_coordinator.get(f"/chamber/export/answers.csv?venue={data['bad'].venue_id}"))
    sheet = read_xlsx(as_coordinator.get("/chamber/export/answers.xlsx?craft=carpets"))

    assert len(rows) == 3 * 4
    failed = [row for row in rows if row["result"] == "fail"]
    assert {(row["rule"], row["item"]) for row in failed} == {
        ("prices", "price_shown"),
        ("badge", "badge_worn"),
    }
    assert ARABIC_COMMENT in {row["comment"] for row in rows}
    formula = next(row for row in rows if row["item"] == "badge_worn" and row["comment"])
    assert formula["comment"].startswith("'=")
    assert {row["item_text"] for row in failed} == {
        "Every product has a price",
        "Seller wears the badge",
    }
    assert sheet[0][:3] == ["Inspection number", "Day", "Region"]
    assert {row[4] for row in sheet[1:]} == {"RBT-001"}
    assert '=HYPERLINK("http://evil")' not in {row[10] for row in sheet[1:]}


def test_open_data_has_region_and_rule_figures_and_no_personal_data(as_admin, data):
    response = as_admin.get("/chamber/export/open-data.csv")
    body = response.get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))

    rabat = next(row for row in rows if row["scope"] == "MA-04" and not row["rule"])
    assert (rabat["stalls"], rabat["inspected_stalls"], rabat["compliant_stalls"]) == (
        "3",
        "2",
        "1",
    )
    assert rabat["compliance_rate"] == "0.5000"
    assert rabat["name_ar"] == "الرباط - سلا - القنيطرة"
    prices = next(row for row in rows if row["scope"] == "MA-04" and row["rule"] == "prices")
    assert (prices["answers_passed"], prices["answers_failed"]) == ("4", "0")
    country = next(row for row in rows if row["scope"] == "MA" and not row["rule"])
    assert country["stalls"] == "4"
    for personal in ("RBT-00", "MRK-001", ARABIC_NAME, "NIA-777", "Inspector", ARABIC_COMMENT):
        assert personal not in body


def test_coordinator_open_data_is_their_region_only(as_coordinator, data):
    rows = read_csv(as_coordinator.get("/chamber/export/open-data.csv"))

    assert {row["scope"] for row in rows} == {"MA-04"}


def test_unknown_exports_are_not_found(as_coordinator, data):
    assert as_coordinator.get("/chamber/export/secrets.csv").status_code == 404
    assert as_coordinator.get("/chamber/export/stalls.pdf").status_code == 404
    assert as_coordinator.get("/chamber/export/open-data.xlsx").status_code == 404
    assert as_coordinator.get("/chamber/export/stalls.fr.pdf").status_code == 404


def test_formula_like_text_stays_text():
    assert exports.cell("=1+1") == "'=1+1"
    assert exports.cell("+212600000000") == "'+212600000000"
    assert exports.cell("bell\x07") == "bell"
    assert exports.cell(-3) == -3


def test_answers_come_by_inspection_in_the_order_given_whatever_the_batch(
    as_admin, data, monkeypatch
):
    whole = as_admin.get("/chamber/export/answers.csv").get_data()
    monkeypatch.setattr(exports, "BATCH", 1)  # each inspection's answers fetched on their own
    batched = as_admin.get("/chamber/export/answers.csv")
    rows = read_csv(batched)

    assert batched.get_data() == whole
    assert len(rows) == 4 * 4  # the four inspections of both regions, four answers each
    assert [row["day"] for row in rows] == sorted(row["day"] for row in rows)
    numbers = [row["inspection_id"] for row in rows]
    assert [numbers[n] for n in range(0, 16, 4)] == list(dict.fromkeys(numbers))
    assert [row["item"] for row in rows[:4]] == list(ALL_PASS)
