"""Factories for domain objects: tests build what they need, never with raw SQL."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from compliance.extensions import db
from compliance.models import Artisan, Chamber, Province, Region, Stall, User, Venue
from compliance.search import artisan_search_text

PASSWORD = "correct horse battery"
_seq = itertools.count(1)

REGIONS = {
    "MA-04": ("Rabat-Salé-Kénitra", "الرباط - سلا - القنيطرة", "Rabat-Salé-Kénitra", "Rabat"),
    "MA-07": ("Marrakech-Safi", "مراكش - آسفي", "Marrakech-Safi", "Marrakech"),
    "MA-06": ("Casablanca-Settat", "الدار البيضاء - سطات", "Casablanca-Settat", "Casablanca"),
}


def region(code: str = "MA-04") -> Region:
    existing = db.session.scalar(select(Region).where(Region.code == code))
    if existing:
        return existing
    fr, ar, en, seat = REGIONS.get(code, (f"Région {code}", f"جهة {code}", f"Region {code}", "X"))
    row = Region(code=code, name_fr=fr, name_ar=ar, name_en=en, seat=seat)
    row.chamber = Chamber(
        name_fr=f"Chambre d'Artisanat de la Région {fr}",
        name_ar=f"غرفة الصناعة التقليدية لجهة {ar}",
        name_en=f"Chamber of Handicrafts of {en}",
    )
    db.session.add(row)
    db.session.commit()
    return row


def province(region_row: Region | None = None, code: str | None = None) -> Province:
    region_row = region_row or region()
    n = next(_seq)
    row = Province(
        region=region_row,
        code=code or f"P{n:03d}",
        name_fr=f"Préfecture {n}",
        name_ar=f"عمالة {n}",
        name_en=f"Prefecture {n}",
    )
    db.session.add(row)
    db.session.commit()
    return row


def venue(region: Region | None = None, kind: str = "fan_zone", city: str = "Rabat") -> Venue:
    n = next(_seq)
    row = Venue(
        code=f"TST-{n}",
        province=province(region),
        kind=kind,
        city=city,
        name_fr=f"Village artisanal {n}",
        name_ar=f"القرية الحرفية {n}",
        name_en=f"Craft village {n}",
    )
    db.session.add(row)
    db.session.commit()
    return row


def artisan(
    name_latin: str = "Fatima Zahra El Amrani",
    name_ar: str = "فاطمة الزهراء العمراني",
    nia: str | None = None,
    craft: str = "pottery",
    category: str = "artisan",
) -> Artisan:
    nia = nia or f"NIA{next(_seq):08d}"
    row = Artisan(
        nia=nia,
        name_latin=name_latin,
        name_ar=name_ar,
        craft=craft,
        category=category,
        search_text=artisan_search_text(name_ar, name_latin, nia),
    )
    db.session.add(row)
    db.session.commit()
    return row


def stall(
    region: Region | None = None,
    venue_row: Venue | None = None,
    artisan_row: Artisan | None = None,
    code: str | None = None,
) -> Stall:
    venue_row = venue_row or venue(region)
    row = Stall(
        venue=venue_row,
        code=code or f"S-{next(_seq):04d}",
        location="Allée A",
        artisan=artisan_row or artisan(),
    )
    db.session.add(row)
    db.session.commit()
    return row


def user(
    role: str,
    region: Region | None = None,
    username: str | None = None,
    language: str | None = None,
) -> User:
    row = User(
        username=username or f"{role}{next(_seq)}",
        name=f"{role.title()} Test",
        role=role,
        region=region if role != "admin" else None,
        language=language,
    )
    row.set_password(PASSWORD)
    db.session.add(row)
    db.session.commit()
    return row
