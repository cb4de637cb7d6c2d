"""The register import: reading chambers' files, refusing bad rows, storing all or nothing."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text

from compliance import register
from compliance.admin import importing
from compliance.extensions import db
from compliance.models import Artisan, AuditEvent, Stall
from compliance.search import artisan_search_text

from . import factories
from .registerfiles import HEADER_AR, HEADER_FR, csv_bytes, row, xlsx_bytes


@pytest.fixture
def rabat(region):
    return factories.venue(region, code="RBT-FZ1")


@pytest.fixture
def marrakech(other_region):
    return factories.venue(other_region, city="Marrakech", code="MRK-FZ1")


def preview(data: bytes, region_id: int | None) -> register.RegisterImport:
    job = register.RegisterImport(db.session, data, importing.vocabulary(), region_id)
    for _ in job.preview():
        pass
    return job


def store(data: bytes, region_id: int | None) -> register.RegisterImport:
    job = preview(data, region_id)
    assert job.summary.storable, job.summary.as_dict()
    for _ in job.apply("test", None):
        pass
    db.session.commit()
    return job


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def problems(job) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.code) for p in job.summary.problems]


# --- reading files as they come -------------------------------------------------------------


def test_utf8_csv_with_bom_and_semicolons_from_french_excel(region, rabat):
    data = csv_bytes([row()], header=HEADER_FR, sep=";", bom=True)
    job = store(data, region.id)
    assert job.summary.artisans["new"] == 1
    artisan = db.session.scalar(select(Artisan))
    assert artisan.name_latin == "Fatima El Amrani"
    assert artisan.nia == "A1234567"


def test_arabic_headers_are_read(region, rabat):
    job = preview(csv_bytes([row()], header=HEADER_AR), region.id)
    assert job.summary.storable
    assert job.summary.stalls["new"] == 1


@pytest.mark.parametrize("encoding", ["cp1256", "latin-1"])
def test_other_encodings_are_refused_with_a_message(region, rabat, encoding):
    name_ar = "فاطمة" if encoding == "cp1256" else "x"
    data = csv_bytes([row(name_latin="Hélène Benjelloun", name_ar=name_ar)], encoding=encoding)
    job = preview(data, region.id)
    assert job.summary.file_problem.code == "encoding"
    with force_locale("fr"):
        assert "UTF-8" in importing.file_problem_text(job.summary.as_dict()["file_problem"])
    assert count(Artisan) == 0


def test_xlsx_with_blank_trailing_rows_and_numeric_phone(region, rabat):
    data = xlsx_bytes([row(phone=612345678, card=12345678)], blank_rows=30)
    job = store(data, region.id)
    assert job.summary.rows == 1
    artisan = db.session.scalar(select(Artisan))
    assert artisan.phone == "0612345678"
    assert artisan.nia == "12345678"


def test_card_numbers_lose_their_spaces_and_phones_their_punctuation(region, rabat):
    store(csv_bytes([row(card="a 12 345 678", phone="+212 6-12.34.56.78")]), region.id)
    artisan = db.session.scalar(select(Artisan))
    assert (artisan.nia, artisan.phone) == ("A12345678", "0612345678")


def test_names_in_the_wrong_columns_are_swapped_back(region, rabat):
    data = csv_bytes([row(name_ar="Fatima El Amrani", name_latin="فاطمة العمراني")])
    job = store(data, region.id)
    artisan = db.session.scalar(select(Artisan))
    assert (artisan.name_ar, artisan.name_latin) == ("فاطمة العمراني", "Fatima El Amrani")
    assert job.summary.swapped_names == 1
    assert artisan.search_text == artisan_search_text(
        "فاطمة العمراني", "Fatima El Amrani", "A1234567"
    )


def test_craft_and_category_in_french_words(region, rabat):
    data = csv_bytes([row(craft="Poterie et céramique", category="Coopérative d'artisanat")])
    store(data, region.id)
    artisan = db.session.scalar(select(Artisan))
    assert (artisan.craft, artisan.category) == ("pottery", "cooperative")


def test_arabic_location_goes_to_the_arabic_field(region, rabat):
    store(csv_bytes([row(location="الممر ب")]), region.id)
    stall = db.session.scalar(select(Stall))
    assert (stall.location, stall.location_ar) == ("", "الممر ب")


def test_missing_columns_are_named(region, rabat):
    data = b"card_number,name_ar\r\nA1,x\r\n"
    job = preview(data, region.id)
    assert job.summary.file_problem.code == "missing_columns"
    assert "name_latin" in job.summary.file_problem.params["columns"]


def test_not_a_spreadsheet_is_refused(region):
    job = preview(b"PK\x03\x04garbage", region.id)
    assert job.summary.file_problem.code == "unreadable"


def test_header_only_file_is_empty(region):
    job = preview(csv_bytes([]), region.id)
    assert job.summary.file_problem.code == "empty"


# --- every kind of refused row --------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "column", "code"),
    [
        ({"name_latin": ""}, "name_latin", "missing"),
        ({"name_latin": "x" * 201}, "name_latin", "too_long"),
        ({"card": "A*1"}, "card_number", "card_number_invalid"),
        ({"name_ar": "Fatima"}, "name_ar", "name_ar_not_arabic"),
        ({"name_latin": "123"}, "name_latin", "name_latin_not_latin"),
        ({"craft": "astronautics"}, "craft", "craft_unknown"),
        ({"category": "king"}, "category", "category_unknown"),
        ({"phone": "12345"}, "phone", "phone_invalid"),
        ({"venue": "NOPE-1"}, "venue", "venue_unknown"),
        ({"venue": "MRK-FZ1"}, "venue", "venue_other_region"),
        ({"stall": "R#1"}, "stall_code", "stall_code_invalid"),
    ],
)
def test_refused_row(region, rabat, marrakech, values, column, code):
    data = csv_bytes([row(card="A0000001", stall="RBT-000"), row(**values)])
    job = preview(data, region.id)
    assert problems(job) == [(3, column, code)]
    assert not job.summary.storable
    with force_locale("fr"):
        message = importing.row_problem_text(job.summary.as_dict()["problems"][0])
    assert message and "%(" not in message


def test_stall_of_another_region_is_refused(region, rabat, marrakech):
    factories.stall(venue_row=marrakech, code="MRK-001")
    job = preview(csv_bytes([row(stall="MRK-001")]), region.id)
    assert problems(job) == [(2, "stall_code", "stall_other_region")]


def test_the_same_stall_twice_in_a_file(region, rabat):
    job = preview(csv_bytes([row(), row(card="B7654321")]), region.id)
    assert problems(job) == [(3, "stall_code", "stall_repeated")]
    assert job.summary.as_dict()["problems"][0]["params"]["row"] == 2


def test_the_same_card_with_other_details(region, rabat):
    job = preview(csv_bytes([row(), row(stall="RBT-002", craft="leather")]), region.id)
    assert problems(job) == [(3, "card_number", "card_number_conflict")]


def test_one_artisan_with_two_stalls(region, rabat):
    job = store(csv_bytes([row(), row(stall="RBT-002")]), region.id)
    assert job.summary.artisans["new"] == 1
    assert job.summary.stalls["new"] == 2


def test_rows_with_problems_messages_in_arabic(app, region, rabat):
    job = preview(csv_bytes([row(phone="12")]), region.id)
    with force_locale("ar"):
        text = importing.row_problem_text(job.summary.as_dict()["problems"][0])
        column = importing.column_text("phone")
    assert register.has_arabic(text) and register.has_arabic(column)


# --- comparing and storing ------------------------------------------------------------------


def test_preview_stores_nothing(region, rabat):
    job = preview(csv_bytes([row()]), region.id)
    db.session.commit()
    assert job.summary.artisans["new"] == 1
    assert count(Artisan) == count(Stall) == count(AuditEvent) == 0


def test_same_file_again_changes_nothing(region, rabat):
    data = csv_bytes([row(), row(card="B7654321", stall="RBT-002", phone="")])
    store(data, region.id)
    events = count(AuditEvent)
    job = store(data, region.id)
    assert job.summary.artisans == {"new": 0, "changed": 0, "unchanged": 2}
    assert job.summary.stalls == {"new": 0, "changed": 0, "unchanged": 2}
    assert count(AuditEvent) == events


def test_changes_are_counted_stored_and_audited(region, rabat):
    store(csv_bytes([row(), row(card="B7654321", stall="RBT-002")]), region.id)
    data = csv_bytes(
        [row(phone="0700000000"), row(card="B7654321", stall="RBT-002", location="Allée Z")]
    )
    job = store(data, region.id)
    assert job.summary.artisans == {"new": 0, "changed": 1, "unchanged": 1}
    assert job.summary.stalls == {"new": 0, "changed": 1, "unchanged": 1}
    artisan = db.session.scalar(select(Artisan).where(Artisan.nia == "A1234567"))
    assert artisan.phone == "0700000000"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "register.artisan.update")
    )
    assert event.before == {"phone": "0612345678"}
    assert event.after == {"phone": "0700000000", "nia": "A1234567"}


def test_moving_an_artisan_to_another_stall_and_reopening_a_closed_one(region, rabat):
    store(csv_bytes([row()]), region.id)
    stall = db.session.scalar(select(Stall))
    stall.closed_at = stall.artisan.created_at
    db.session.commit()
    job = store(csv_bytes([row()]), region.id)
    assert job.summary.stalls["changed"] == 1
    assert db.session.scalar(select(Stall)).closed_at is None


def test_confirm_stores_all_or_nothing(region, rabat, monkeypatch):
    data = csv_bytes([row(card=f"C{n:07d}", stall=f"RBT-{n:03d}") for n in range(1, 6)])
    job = preview(data, region.id)

    def disk_full(*_args, **_kwargs):
        raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError):
        for step in job.apply("test", None):
            if step.done >= 5:  # the artisans are in; storing the stalls fails
                monkeypatch.setattr(register, "insert", disk_full)
    db.session.rollback()
    assert count(Artisan) == count(Stall) == count(AuditEvent) == 0


# --- the command line -----------------------------------------------------------------------


def test_cli_dry_run_prints_the_summary_and_stores_nothing(runner, region, rabat, tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes(csv_bytes([row()]))
    result = runner.invoke(args=["register", "import", str(path), "--region", "MA-04", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Artisans: 1 new, 0 changed, 0 unchanged" in result.output
    assert count(Artisan) == 0


def test_cli_imports_and_exits_non_zero_on_refused_rows(runner, region, rabat, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(csv_bytes([row()]))
    bad.write_bytes(csv_bytes([row(card="B7654321", stall="RBT-002", phone="12")]))
    result = runner.invoke(args=["register", "import", str(good), "--region", "MA-04"])
    assert result.exit_code == 0, result.output
    assert count(Artisan) == 1
    result = runner.invoke(args=["register", "import", str(bad), "--region", "MA-04"])
    assert result.exit_code == 1
    assert "row 2, Phone:" in result.output
    assert count(Artisan) == 1


def test_cli_refuses_another_regions_venue(runner, region, rabat, marrakech, tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes(csv_bytes([row(venue="MRK-FZ1")]))
    result = runner.invoke(args=["register", "import", str(path), "--region", "MA-04"])
    assert result.exit_code == 1
    assert "belongs to another region" in result.output


def test_a_large_import_leaves_the_planner_statistics_fresh(runner, region, rabat, tmp_path):
    """After 1,000 rows PostgreSQL is told the tables' new size (ANALYZE): the next preview of
    a large file plans index look-ups, not scans of tables it believes empty (106 s instead of
    2 s for 50,000 rows in bench/register.py)."""
    rows = [row(card=f"C{n:07d}", stall=f"RBT-{n:04d}") for n in range(1, register.ANALYZE_AFTER)]
    path = tmp_path / "register.csv"
    path.write_bytes(csv_bytes(rows))
    result = runner.invoke(args=["register", "import", str(path), "--region", "MA-04"])
    assert result.exit_code == 0, result.output
    assert count(Artisan) == count(Stall) == register.ANALYZE_AFTER - 1
    if db.engine.dialect.name == "postgresql":
        estimated = db.session.execute(
            text("SELECT reltuples FROM pg_class WHERE relname IN ('artisan', 'stall')")
        ).scalars()
        assert [int(n) for n in estimated] == [register.ANALYZE_AFTER - 1] * 2
