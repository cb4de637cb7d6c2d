"""What the campaign pages read (compliance/admin/campaign_routes.py).

Campaigns are national; the counts shown beside them are limited to what the user sees
(their region's venues and inspections for a coordinator, the country for an admin).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from .. import access
from ..extensions import db
from ..models import (
    RUNNING,
    SUBMITTED,
    Campaign,
    CampaignVenue,
    ChecklistVersion,
    Inspection,
    Province,
    Region,
    Stall,
    User,
    Venue,
)


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    venues: int
    inspections: int


@dataclass(frozen=True)
class VenueRow:
    venue: Venue
    region_code: str
    taking_part: bool
    inspections: int  # submitted inspections of the venue's stalls in this campaign


def _venues_in_scope(user: User):
    query = select(Venue.id).join(Province, Venue.province_id == Province.id)
    scope = access.region_scope(user)
    if scope is not None:
        query = query.where(Province.region_id == scope)
    return query


def campaigns(user: User) -> list[CampaignRow]:
    """Every campaign, the running one first, then the latest; counts within the user's scope."""
    seen = _venues_in_scope(user).scalar_subquery()
    venue_count = (
        select(func.count())
        .select_from(CampaignVenue)
        .where(CampaignVenue.campaign_id == Campaign.id, CampaignVenue.venue_id.in_(seen))
        .scalar_subquery()
    )
    inspection_count = (
        select(func.count())
        .select_from(Inspection)
        .join(Stall, Stall.id == Inspection.stall_id)
        .where(
            Inspection.campaign_id == Campaign.id,
            Inspection.status == SUBMITTED,
            Stall.venue_id.in_(seen),
        )
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Campaign, venue_count, inspection_count).order_by(
            (Campaign.state == RUNNING).desc(), Campaign.first_day.desc(), Campaign.id.desc()
        )
    )
    return [CampaignRow(*row) for row in rows]


def campaign_venues(campaign: Campaign, user: User) -> list[VenueRow]:
    """The venues the user may add or remove, those taking part first, by code."""
    inspections = (
        select(Stall.venue_id, func.count(Inspection.id).label("n"))
        .join(Inspection, Inspection.stall_id == Stall.id)
        .where(Inspection.campaign_id == campaign.id, Inspection.status == SUBMITTED)
        .group_by(Stall.venue_id)
        .subquery()
    )
    taking_part = (
        select(CampaignVenue.venue_id).where(CampaignVenue.campaign_id == campaign.id).subquery()
    )
    query = (
        select(
            Venue,
            Region.code,
            taking_part.c.venue_id.is_not(None),
            func.coalesce(inspections.c.n, 0),
        )
        .join(Province, Venue.province_id == Province.id)
        .join(Region, Province.region_id == Region.id)
        .outerjoin(taking_part, taking_part.c.venue_id == Venue.id)
        .outerjoin(inspections, inspections.c.venue_id == Venue.id)
        .order_by(taking_part.c.venue_id.is_(None), Region.code, Venue.code)
    )
    scope = access.region_scope(user)
    if scope is not None:
        query = query.where(Province.region_id == scope)
    return [
        VenueRow(venue, region_code, bool(part), int(count))
        for venue, region_code, part, count in db.session.execute(query)
    ]


def checklist_versions() -> list[ChecklistVersion]:
    return list(
        db.session.scalars(
            select(ChecklistVersion).order_by(ChecklistVersion.key, ChecklistVersion.version.desc())
        )
    )
