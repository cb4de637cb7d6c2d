"""Reference data: Morocco's regions, chambers, prefectures and provinces from an empty database."""

from __future__ import annotations

import re

from flask_migrate import upgrade
from sqlalchemy import func, select

from compliance import create_app, reference
from compliance.config import TestingConfig
from compliance.extensions import db
from compliance.models import AuditEvent, Chamber, Province, Region

from .conftest import ROOT

ARABIC = re.compile(r"^[\u0621-\u064a\u0622\u0623\u0625 -]+$")
ISO_REGION = re.compile(r"^MA-(0[1-9]|1[0-2])$")
ISO_PROVINCE = re.compile(r"^MA-[A-Z]{3}$")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_upgrade_of_an_empty_database_loads_the_reference_data(tmp_path):
    class Fresh(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'fresh.db'}"
        UPLOAD_DIR = str(tmp_path / "uploads")

    fresh = create_app(Fresh)
    with fresh.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        assert (count(Region), count(Chamber), count(Province)) == (12, 12, 75)
        db.session.remove()
        db.engine.dispose()


def test_twelve_regions_and_seventy_five_prefectures_and_provinces(reference_data):
    assert count(Region) == 12
    assert count(Province) == 75
    kinds = db.session.execute(select(Province.kind, func.count()).group_by(Province.kind))
    assert dict(kinds.all()) == {"prefecture": 13, "province": 62}
    codes = db.session.scalars(select(Region.code).order_by(Region.code)).all()
    assert codes == [f"MA-{n:02d}" for n in range(1, 13)]
    assert all(ISO_PROVINCE.match(code) for code in db.session.scalars(select(Province.code)))


def test_every_region_has_its_chamber_and_provinces(reference_data):
    for region in db.session.scalars(select(Region)):
        assert ISO_REGION.match(region.code)
        assert region.chamber is not None
        assert region.chamber.name_fr.startswith("Chambre d'Artisanat de la Région ")
        assert region.chamber.name_ar.startswith("غرفة الصناعة التقليدية لجهة ")
        assert region.chamber.name_en.startswith("Chamber of Handicrafts of the ")
        assert region.provinces, region.code


def test_every_name_is_there_in_arabic_french_and_english(reference_data):
    rows = [
        *db.session.scalars(select(Region)),
        *db.session.scalars(select(Chamber)),
        *db.session.scalars(select(Province)),
    ]
    for row in rows:
        assert row.name_fr.strip() and row.name_en.strip(), row.name_fr
        assert re.search(r"[\u0621-\u064a]", row.name_ar), row.name_fr
        assert not re.search(r"[\u0621-\u064a]", row.name_fr + row.name_en), row.name_fr
    for province in db.session.scalars(select(Province)):
        assert ARABIC.match(province.name_ar), province.code
        assert province.name_en.isascii(), province.code


def test_the_host_cities_prefectures_are_in_their_regions(reference_data):
    expected = {
        "MA-RAB": "MA-04", "MA-SAL": "MA-04", "MA-SKH": "MA-04", "MA-CAS": "MA-06",
        "MA-MOH": "MA-06", "MA-TNG": "MA-01", "MA-FES": "MA-03", "MA-MAR": "MA-07",
        "MA-AGD": "MA-09", "MA-INE": "MA-09",
        # The decree's regions where the ISO listing differs.
        "MA-CHT": "MA-09", "MA-NOU": "MA-06",
    }  # fmt: skip
    rows = db.session.execute(
        select(Province.code, Region.code, Province.kind)
        .join(Region)
        .where(Province.code.in_(expected))
    ).all()
    assert {code: region for code, region, _kind in rows} == expected
    assert all(kind == "prefecture" for code, _r, kind in rows if code not in ("MA-CHT", "MA-NOU"))


def test_loading_twice_changes_nothing(reference_data):
    assert reference_data.added == {"region": 12, "chamber": 12, "province": 75}
    before = [
        (p.id, p.code, p.region_id, p.name_ar, p.name_fr, p.name_en)
        for p in db.session.scalars(select(Province).order_by(Province.id))
    ]
    again = reference.load(db.session.connection())
    db.session.commit()
    assert not again.changed
    after = [
        (p.id, p.code, p.region_id, p.name_ar, p.name_fr, p.name_en)
        for p in db.session.scalars(select(Province).order_by(Province.id))
    ]
    assert after == before


def test_load_corrects_a_changed_name_and_keeps_the_row(reference_data):
    rabat = db.session.scalar(select(Province).where(Province.code == "MA-RAB"))
    rabat_id, rabat.name_fr = rabat.id, "Rabbat"
    db.session.commit()
    loaded = reference.load(db.session.connection())
    db.session.commit()
    assert loaded.corrected == {"province": 1} and not loaded.added
    rabat = db.session.scalar(select(Province).where(Province.code == "MA-RAB"))
    assert (rabat.id, rabat.name_fr) == (rabat_id, "Rabat")


def test_reference_load_command_is_idempotent_and_audited(runner):
    first = runner.invoke(args=["reference", "load"])
    assert first.exit_code == 0, first.output
    assert "added 12 chambers, 75 provinces, 12 regions" in first.output
    second = runner.invoke(args=["reference", "load"])
    assert second.exit_code == 0, second.output
    assert "added nothing; corrected nothing" in second.output
    assert (count(Region), count(Province)) == (12, 75)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reference.load"))
    assert len(events.all()) == 1  # the second load changed nothing, so recorded nothing
