"""Venues and stalls as the chambers manage them: short codes, opening, closing, moving.

No Flask here: the admin views and the demo seed call these with the database session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import Artisan, Stall, Venue, audit, utcnow
from .search import fold

# Three letters for the host cities, as the chambers abbreviate them on their lists.
CITIES = {
    "rabat": "RBT", "sale": "SLE", "casablanca": "CAS", "marrakech": "MRK", "tanger": "TNG",
    "tangier": "TNG", "fes": "FES", "fez": "FES", "agadir": "AGA", "meknes": "MKN",
    "oujda": "OUJ", "kenitra": "KNT", "tetouan": "TTN", "el jadida": "JDD", "safi": "SAF",
    "essaouira": "ESS", "laayoune": "LAA", "dakhla": "DKH", "ouarzazate": "OZT",
}  # fmt: skip
KINDS = {"fan_zone": "FZ", "medina_market": "MM", "fair": "FR", "stadium": "ST"}
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")
STALL_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9./_-]{0,31}$")


class VenueError(Exception):
    """A change the rules refuse; ``code`` names the message shown (see admin/routes.py)."""

    def __init__(self, problem: str, **params: object) -> None:
        super().__init__(problem)
        self.code = problem
        self.params = params


def city_code(city: str) -> str:
    folded = fold(city)
    if folded in CITIES:
        return CITIES[folded]
    letters = re.sub(r"[^A-Z]", "", folded.upper())
    return (letters[:3] or "VEN").ljust(3, "X")


def normalize_code(code: str) -> str:
    return re.sub(r"\s+", "", code or "").upper()


def next_code(session: Session, city: str, kind: str) -> str:
    """``RBT-FZ1``: the city, the kind, the first free number."""
    stem = f"{city_code(city)}-{KINDS.get(kind, 'XX')}"
    taken = set(session.scalars(select(Venue.code).where(Venue.code.like(f"{stem}%"))))
    n = 1
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def code_taken(session: Session, code: str, venue_id: int | None = None) -> bool:
    query = select(func.count()).select_from(Venue).where(Venue.code == code)
    if venue_id is not None:
        query = query.where(Venue.id != venue_id)
    return bool(session.scalar(query))


def stall_code_taken(session: Session, code: str, stall_id: int | None = None) -> bool:
    query = select(func.count()).select_from(Stall).where(Stall.code == code)
    if stall_id is not None:
        query = query.where(Stall.id != stall_id)
    return bool(session.scalar(query))


def venue_state(venue: Venue) -> dict:
    return {
        "code": venue.code,
        "kind": venue.kind,
        "city": venue.city,
        "province_id": venue.province_id,
        "name_ar": venue.name_ar,
        "name_fr": venue.name_fr,
        "name_en": venue.name_en,
    }


def stall_state(stall: Stall) -> dict:
    return {
        "code": stall.code,
        "venue_id": stall.venue_id,
        "location": stall.location,
        "location_ar": stall.location_ar,
        "artisan_id": stall.artisan_id,
        "closed_at": stall.closed_at.isoformat() if stall.closed_at else None,
    }


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the audit trail writes it."""

    label: str  # "user:7", "cli"
    user_id: int | None = None


def close_stall(stall: Stall, actor: Actor) -> None:
    """Close a stall: off the inspectors' lists and phones; its history stays."""
    if stall.closed_at is not None:
        return
    before = stall_state(stall)
    stall.closed_at = utcnow()
    stall.followup_requested_at = None
    audit(actor.label, "stall.close", "stall", stall.id, before=before,
          after=stall_state(stall), actor_id=actor.user_id)  # fmt: skip


def reopen_stall(stall: Stall, actor: Actor) -> None:
    if stall.closed_at is None:
        return
    before = stall_state(stall)
    stall.closed_at = None
    audit(actor.label, "stall.reopen", "stall", stall.id, before=before,
          after=stall_state(stall), actor_id=actor.user_id)  # fmt: skip


def move_artisan(session: Session, artisan: Artisan, source: Stall, target: Stall, actor: Actor):
    """The artisan of ``source`` takes ``target``; ``source`` is left without an artisan.

    A target that already has another artisan is refused: the coordinator frees it first, so
    nobody is dropped from a stall without a decision.
    """
    if target.id == source.id:
        raise VenueError("same_stall")
    if target.closed_at is not None:
        raise VenueError("stall_closed", code=target.code)
    if target.artisan_id not in (None, artisan.id):
        raise VenueError("stall_taken", code=target.code)
    from .chamber import tallies  # imported late: the chamber package imports this one

    # Each stall's inspections count for its artisan's craft: counted again once moved.
    tallies.uncount_stalls([source.id, target.id])
    for stall in (source, target):
        before = stall_state(stall)
        stall.artisan_id = artisan.id if stall is target else None
        session.flush()
        audit(actor.label, "stall.move_artisan", "stall", stall.id, before=before,
              after=stall_state(stall), actor_id=actor.user_id)  # fmt: skip
    tallies.count_stalls([source.id, target.id])
