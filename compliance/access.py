"""Who may see what. Coordinators and inspectors see their own region; admins see all.

Every view that loads a stall, an inspection or a photo by id goes through these helpers, so
a hand-typed id from another region gives 404, never the data.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, select

from .extensions import db
from .models import ADMIN, Inspection, Province, Stall, User, Venue


def region_scope(user: User) -> int | None:
    """The region a user is limited to, or None for a national (admin) account."""
    return None if user.role == ADMIN else user.region_id


def scope_stalls(query: Select, user: User) -> Select:
    """Limit a query that selects from Stall to the stalls the user may see."""
    region_id = region_scope(user)
    if region_id is None:
        return query
    return (
        query.join(Venue, Stall.venue_id == Venue.id)
        .join(Province, Venue.province_id == Province.id)
        .where(Province.region_id == region_id)
    )


def stall_region_id(stall: Stall) -> int:
    return stall.venue.province.region_id


def can_see_stall(user: User, stall: Stall) -> bool:
    scope = region_scope(user)
    return scope is None or stall_region_id(stall) == scope


def stall_or_404(user: User, stall_id: int) -> Stall:
    stall = db.session.get(Stall, stall_id)
    if stall is None or not can_see_stall(user, stall):
        abort(404)
    return stall


def inspection_or_404(user: User, inspection_id: str) -> Inspection:
    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None or not can_see_stall(user, inspection.stall):
        abort(404)
    return inspection


def visible_stalls(user: User) -> Select:
    return scope_stalls(select(Stall), user)
