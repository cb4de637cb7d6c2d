"""Factories for domain objects: tests build what they need, never with raw SQL."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from compliance.extensions import db
from compliance.models import (
    RUNNING,
    Artisan,
    Campaign,
    CampaignVenue,
    Chamber,
    ChecklistVersion,
    Province,
    Region,
    Stall,
    User,
    Venue,
)
from compliance.search import artisan_search_text

PASSWORD = "correct horse battery"
# Every account made here has that password, hashed once with scrypt at a low cost: a login
# checks it in 3 ms instead of 110 (about a fifth of the suite's time went to hashing). The
# app's own hashing (User.set_password, the dummy hash) keeps its cost and has its own tests.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")
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


def venue(
    region: Region | None = None,
    kind: str = "fan_zone",
    city: str = "Rabat",
    code: str | None = None,
) -> Venue:
    n = next(_seq)
    row = Venue(
        code=code or f"TST-{n}",
        province=province(region),
        kind=kind,
        city=city,
        name_fr=f"Village artisanal {n}",
        name_ar=f"القرية الحرفية {n}",
        name_en=f"Craft village {n}",
    )
    db.session.add(row)
    running = db.session.scalar(select(Campaign).where(Campaign.state == RUNNING))
    if running is not None:  # a new venue takes part in the test's running campaign
        db.session.flush()
        db.session.add(CampaignVenue(campaign_id=running.id, venue_id=row.id))
    db.session.commit()
    return row


def campaign(
    version: ChecklistVersion,
    *,
    code: str | None = None,
    state: str = RUNNING,
    first_day: date = date(2025, 12, 21),
    last_day: date = date(2026, 1, 18),
    every_venue: bool = True,
) -> Campaign:
    """A campaign using ``version``; with ``every_venue``, every venue so far takes part."""
    n = next(_seq)
    row = Campaign(
        code=code or f"campaign-{n}",
        name_ar=f"حملة {n}",
        name_fr=f"Campagne {n}",
        name_en=f"Campaign {n}",
        first_day=first_day,
        last_day=last_day,
        checklist_version_id=version.id,
        state=state,
    )
    db.session.add(row)
    db.session.flush()
    if every_venue:
        for venue_id in db.session.scalars(select(Venue.id)):
            db.session.add(CampaignVenue(campaign_id=row.id, venue_id=venue_id))
    db.session.commit()
    return row


def running_campaign(version: ChecklistVersion) -> Campaign:
    """The running campaign, made for ``version`` (every venue taking part) if none runs.

    If it runs with another checklist, it is switched to ``version``: a test that loads its
    own checklist means new inspections to use it.
    """
    row = db.session.scalar(select(Campaign).where(Campaign.state == RUNNING))
    if row is None:
        return campaign(version)
    if row.checklist_version_id != version.id:
        row.checklist_version_id = version.id
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
    row.password_hash = PASSWORD_HASH
    row.end_sessions()
    db.session.add(row)
    db.session.commit()
    return row
