"""Exports a chamber can open: headers and words in the user's language, real dates, percents.

XLSX for people, "CSV (Excel, France)" with ``;`` and decimal commas, and the standard CSV
that keeps its documented columns whatever the language. Also: sheets past Excel's row limit,
gzipped CSV, and an export cut short never left where it would be offered.
"""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date, datetime

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from compliance import xlsx
from compliance.chamber import exports, figures
from tests import factories
from tests.chamber_helpers import answers, inspect, small_checklist
from tests.conftest import login

DAY1 = datetime(2025, 12, 22, 10)  # 11:00 in Rabat
DAY2 = datetime(2026, 1, 3, 23, 30)  # 4 January, 00:30 in Rabat


@pytest.fixture
def data(region, inspector):
    version = small_checklist()
    weaver = factories.artisan(craft="carpets", category="master")
    stall = factories.stall(region=region, code="RBT-001", artisan_row=weaver)
    inspect(stall, inspector, version, answers(price_arabic="fail"), DAY1)
    inspect(stall, inspector, version, answers(badge_worn="fail"), DAY2)
    return stall


def sheet_rows(response) -> list[list]:
    book = load_workbook(io.BytesIO(response.get_data()))
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def as_user(client, region, language):
    return login(client, factories.user("coordinator", region=region, language=language))


def test_xlsx_speaks_french_with_words_percents_and_real_dates(client, region, data):
    rows = sheet_rows(as_user(client, region, "fr").get("/chamber/export/inspections.xlsx"))
    header, first, second = rows
    book = load_workbook(
        io.BytesIO(as_user(client, region, "fr").get("/chamber/export/stalls.xlsx").get_data())
    )

    assert header[:3] == ["Numéro du contrôle", "Jour", "Envoyé à (heure du Maroc)"]
    assert first[1] == datetime(2025, 12, 22)  # a real date, not text
    assert second[2] == datetime(2026, 1, 4, 0, 30)  # Morocco time, a real date and time
    assert first[10] == "Conforme" and second[10] == "À suivre"
    assert first[9] == 0.875
    stall_row = [cell for cell in next(book.active.iter_rows(min_row=2))]
    score = stall_row[13]
    assert score.number_format.endswith("%")
    assert stall_row[10].value == "Tapis et tissage" and stall_row[11].value.startswith("Maître")


def test_xlsx_speaks_arabic(client, region, data):
    rows = sheet_rows(as_user(client, region, "ar").get("/chamber/export/answers.xlsx"))

    assert rows[0][0] == "رقم المراقبة"
    assert {row[5] for row in rows[1:]} >= {"عرض الأسعار"}  # the rule's title, not its key
    assert "السعر بالعربية" in {row[7] for row in rows[1:]}
    assert {row[9] for row in rows[1:]} <= {"مطابق", "غير مطابق", "لا ينطبق"}


def test_french_excel_csv_has_semicolons_decimal_commas_and_french_dates(client, region, data):
    response = as_user(client, region, "fr").get("/chamber/export/inspections.fr.csv")
    body = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))

    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].endswith(".fr.csv")
    assert rows[0][0] == "Numéro du contrôle"
    assert rows[1][1] == "22/12/2025" and rows[2][2] == "04/01/2026 00:30"
    assert rows[1][9] == "87,5%"
    assert rows[1][10] == "Conforme"


def test_standard_csv_keeps_its_columns_in_every_language(client, region, data):
    french = as_user(client, region, "fr").get("/chamber/export/inspections.csv")
    rows = list(csv.DictReader(io.StringIO(french.get_data().decode("utf-8-sig"))))

    assert list(rows[0]) == [
        "inspection_id",
        "day",
        "submitted_at_morocco",
        "region",
        "province",
        "venue",
        "city",
        "stall",
        "inspector",
        "score",
        "verdict",
        "critical_failures",
    ]
    assert (rows[0]["day"], rows[0]["verdict"], rows[0]["score"]) == (
        "2025-12-22",
        "compliant",
        "0.8750",
    )
    assert rows[1]["submitted_at_morocco"] == "2026-01-04 00:30"


def test_gzipped_csv_is_the_standard_csv(as_coordinator, data):
    plain = as_coordinator.get("/chamber/export/answers.csv").get_data()
    packed = as_coordinator.get("/chamber/export/answers.csv.gz")

    assert packed.mimetype == "application/gzip"
    assert gzip.decompress(packed.get_data()) == plain


def test_xlsx_goes_on_in_a_new_sheet_past_the_row_limit(app, data):
    app.config["EXPORT_XLSX_MAX_ROWS"] = 3  # Excel's is 1,048,576: the same code path
    try:
        out = io.BytesIO()
        dataset = exports.answers(figures.Scope(), figures.Filters(), figures.checklists())
        with force_locale("en"):
            written = exports.write(dataset, "xlsx", out)
    finally:
        del app.config["EXPORT_XLSX_MAX_ROWS"]
    book = load_workbook(out)

    assert written == 8
    assert book.sheetnames == ["Answers", "Answers 2", "Answers 3", "Answers 4"]
    sheets = [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]
    assert [len(rows) for rows in sheets] == [3, 3, 3, 3]  # header + 2 rows, 4 times
    assert all(rows[0][0] == "Inspection number" for rows in sheets)


def test_xlsx_writer_keeps_text_numbers_and_dates_apart():
    out = io.BytesIO()
    book = xlsx.Workbook(out, "Test: a/b", ["text", "n", "day", "moment", "rate"])
    book.write_rows(
        [
            xlsx.text_cell('=1+1 <b> & "x"')
            + xlsx.number_cell(3)
            + xlsx.date_cell(date(2026, 1, 18))
            + xlsx.date_cell(datetime(2026, 1, 18, 21, 45))
            + xlsx.number_cell(0.5, xlsx.PERCENT)
        ]
    )
    book.close()
    sheet = load_workbook(out).active

    assert sheet.title == "Test  a b"
    row = [cell.value for cell in sheet[2]]
    assert row == ['=1+1 <b> & "x"', 3, datetime(2026, 1, 18), datetime(2026, 1, 18, 21, 45), 0.5]
    assert sheet["A2"].data_type == "s"  # text, never a formula


def test_an_export_cut_short_leaves_no_file(app, data):
    dataset = exports.answers(figures.Scope(), figures.Filters(), figures.checklists())

    def breaking():
        with force_locale("en"):
            rows = list(dataset.rows())
        yield from rows[:3]
        raise ConnectionError("database went away")

    broken = exports.Dataset("answers", "Answers", dataset.columns, breaking)

    with pytest.raises(ConnectionError):
        exports.write_file(broken, "xlsx", "cut-test", "en")

    assert list(exports.folder().glob("cut-test*")) == []


def test_a_finished_export_is_renamed_into_place_whole(app, data):
    dataset = exports.inspections(figures.Scope(), figures.Filters())

    path, count = exports.write_file(dataset, "csv", "whole-test", "en")

    assert path.name == "whole-test.csv" and count == 2
    assert path.read_bytes().count(b"\r\n") == 3
    assert not path.with_name("whole-test.csv.part").exists()
