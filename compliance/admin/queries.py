"""What the set-up pages read, limited to what the user may see (compliance/access.py)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import access
from ..extensions import db
from ..models import (
    Artisan,
    Invitation,
    Province,
    Region,
    RegisterUpload,
    Stall,
    User,
    Venue,
)


def regions(user: User) -> list[Region]:
    scope = access.region_scope(user)
    query = select(Region).order_by(Region.code)
    if scope is not None:
        query = query.where(Region.id == scope)
    return list(db.session.scalars(query))


def provinces(user: User) -> list[Province]:
    scope = access.region_scope(user)
    query = select(Province).join(Region).order_by(Region.code, Province.name_fr)
    if scope is not None:
        query = query.where(Province.region_id == scope)
    return list(db.session.scalars(query))


def venues(user: User) -> list[tuple[Venue, int, int]]:
    """Venues with their counts of open and closed stalls."""
    scope = access.region_scope(user)
    open_count = func.count(Stall.id).filter(Stall.closed_at.is_(None))
    closed_count = func.count(Stall.id).filter(Stall.closed_at.is_not(None))
    query = (
        select(Venue, open_count, closed_count)
        .join(Province, Venue.province_id == Province.id)
        .outerjoin(Stall, Stall.venue_id == Venue.id)
        .group_by(Venue.id)
        .order_by(Venue.code)
    )
    if scope is not None:
        query = query.where(Province.region_id == scope)
    return [tuple(row) for row in db.session.execute(query)]


def venue_stalls(venue: Venue) -> list[Stall]:
    return list(
        db.session.scalars(
            select(Stall)
            .where(Stall.venue_id == venue.id)
            .options(joinedload(Stall.artisan))
            .order_by(Stall.closed_at.is_not(None), Stall.code)
        )
    )


def stall_by_code(user: User, code: str) -> Stall | None:
    return db.session.scalar(access.scope_stalls(select(Stall), user).where(Stall.code == code))


def artisan_by_card(card_number: str) -> Artisan | None:
    return db.session.scalar(select(Artisan).where(Artisan.nia == card_number))


def province_in_scope(user: User, province_id: int) -> Province | None:
    province = db.session.get(Province, province_id)
    scope = access.region_scope(user)
    if province is None or (scope is not None and province.region_id != scope):
        return None
    return province


def region_in_scope(user: User, region_id: int | str | None) -> Region | None:
    try:
        region = db.session.get(Region, int(region_id)) if region_id else None
    except (TypeError, ValueError):
        return None
    scope = access.region_scope(user)
    if region is None or (scope is not None and region.id != scope):
        return None
    return region


def uploads(user: User, limit: int = 10) -> list[RegisterUpload]:
    return list(
        db.session.scalars(
            select(RegisterUpload)
            .where(RegisterUpload.user_id == user.id)
            .order_by(RegisterUpload.created_at.desc())
            .limit(limit)
        )
    )


def manageable_roles(user: User) -> tuple[str, ...]:
    return access.managed_roles(user)


def accounts(user: User) -> list[User]:
    roles = manageable_roles(user)
    query = select(User).where(User.role.in_(roles)).options(joinedload(User.region))
    scope = access.region_scope(user)
    if scope is not None:
        query = query.where(User.region_id == scope)
    return list(db.session.scalars(query.order_by(User.active.desc(), User.role, User.username)))


def username_taken(username: str) -> bool:
    return bool(
        db.session.scalar(
            select(func.count()).select_from(User).where(func.lower(User.username) == username)
        )
    )


def pending_invitation(account: User) -> Invitation | None:
    return db.session.scalar(
        select(Invitation)
        .where(
            Invitation.user_id == account.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .order_by(Invitation.created_at.desc())
        .limit(1)
    )
