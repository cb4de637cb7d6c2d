"""Campaigns: the events the chambers follow up, one at a time.

A campaign has names in three languages, a first and a last day, the checklist version its
inspections use, the venues that take part and a state that only moves forward:
planned -> running -> closed.

The rules, kept here and nowhere else:

- the days of two campaigns never overlap, and at most one campaign runs at a time, so "the
  running campaign" is the one new inspections go to and the one pages show by default;
- an inspection is taken only for a stall whose venue takes part in the running campaign;
- a closed campaign is read-only: no inspection, contest or fix report is taken for it any
  more (its figures, lists and photos stay readable);
- admins create, edit, start and close campaigns; coordinators add and remove their region's
  venues (a venue with inspections in the campaign stays in it).

Every change is audited. Functions raise :class:`CampaignError` with an English source string
(``N_``) that views translate; nothing is changed when they do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import get_locale
from sqlalchemy import and_, exists, func, or_, select

from .extensions import db
from .models import (
    CLOSED,
    PLANNED,
    RUNNING,
    Campaign,
    CampaignVenue,
    ChecklistVersion,
    Inspection,
    Stall,
    User,
    Venue,
    audit,
)
from .photos import N_

CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
MAX_DAYS = 366
MAX_NAME = 200


class CampaignError(Exception):
    """A change the campaign rules refuse; ``message`` is an English source string (N_)."""

    code = "campaign"

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class NoCampaign(CampaignError):
    """No running campaign takes this stall's venue: nothing can be inspected there now."""

    code = "no_campaign"


class CampaignClosed(CampaignError):
    """The campaign of this inspection is closed: it is read-only."""

    code = "campaign_closed"


class _Name:
    """A campaign's name in the language of the page that shows the message (French without)."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign

    def __str__(self) -> str:
        locale = get_locale()
        return self.campaign.name(locale.language if locale else "fr")


# -- reading ------------------------------------------------------------------------------------


def running() -> Campaign | None:
    """The campaign that takes new inspections, if one runs."""
    return db.session.scalar(select(Campaign).where(Campaign.state == RUNNING).limit(1))


def all_campaigns() -> list[Campaign]:
    """Every campaign, the latest first (the selector's order)."""
    return list(
        db.session.scalars(select(Campaign).order_by(Campaign.first_day.desc(), Campaign.id.desc()))
    )


def default() -> Campaign | None:
    """What pages show when no campaign is asked for: the running one, else the latest begun."""
    return running() or db.session.scalar(
        select(Campaign)
        .order_by((Campaign.state == PLANNED).asc(), Campaign.first_day.desc(), Campaign.id.desc())
        .limit(1)
    )


def by_code(code: str | None) -> Campaign | None:
    if not code or not CODE_RE.fullmatch(code):
        return None
    return db.session.scalar(select(Campaign).where(Campaign.code == code))


def chosen(code: str | None) -> Campaign | None:
    """The campaign a page shows: ``?campaign=<code>`` if it names one, else the default."""
    return by_code(code) or default()


def takes_part(campaign_id: int, venue_id: int) -> bool:
    return (
        db.session.scalar(
            select(CampaignVenue.venue_id).where(
                CampaignVenue.campaign_id == campaign_id, CampaignVenue.venue_id == venue_id
            )
        )
        is not None
    )


def venue_ids(campaign: Campaign):
    """A subquery of the ids of the venues taking part (for ``Venue.id.in_(...)``)."""
    return select(CampaignVenue.venue_id).where(CampaignVenue.campaign_id == campaign.id)


def for_stall(stall: Stall) -> Campaign:
    """The running campaign a new inspection of ``stall`` belongs to, or NoCampaign.

    Read from ``stall.venue.running_campaign`` (loaded with the stall by
    access.stall_or_404, so usually no query).
    """
    campaign = stall.venue.running_campaign
    if campaign is None:
        raise NoCampaign(N_("No campaign is running for this sale space: it cannot be inspected."))
    return campaign


def require_open(campaign: Campaign) -> None:
    """Refuse a change (an answer, a contest, a fix report) to a closed campaign's data."""
    if campaign.state == CLOSED:
        raise CampaignClosed(N_("This campaign is closed: its results can no longer change."))


def is_latest(campaign: Campaign) -> bool:
    """Whether no later campaign has inspections, so stalls' latest results may be this one's.

    The dashboards read a stall's current result from the stall row for such a campaign, and
    from the campaign's own inspections for an older one.
    """
    # Later campaigns first (a handful of rows), then one index seek on the inspections of
    # each: asked the other way round, an empty list of later campaigns made the databases
    # scan every inspection (35 ms at 200,000 on SQLite) on every chamber page.
    later_with_inspections = select(Campaign.id).where(
        or_(
            Campaign.first_day > campaign.first_day,
            and_(Campaign.first_day == campaign.first_day, Campaign.id > campaign.id),
        ),
        exists().where(Inspection.campaign_id == Campaign.id),
    )
    return not db.session.scalar(select(exists(later_with_inspections)))


# -- changing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignData:
    """What a form or a file gives for a campaign."""

    code: str
    name_ar: str
    name_fr: str
    name_en: str
    first_day: date
    last_day: date
    checklist_version_id: int


def _check(data: CampaignData, campaign: Campaign | None) -> None:
    if not CODE_RE.fullmatch(data.code or ""):
        raise CampaignError(
            N_("The short code uses 2 to 40 small letters, digits and dashes (e.g. afcon-2025).")
        )
    for name in (data.name_ar, data.name_fr, data.name_en):
        if not (name or "").strip():
            raise CampaignError(N_("Give the campaign's name in Arabic, French and English."))
        if len(name) > MAX_NAME:
            raise CampaignError(
                N_("A name is too long (%(max)s characters at most)."), max=MAX_NAME
            )
    if data.last_day < data.first_day:
        raise CampaignError(N_("The last day comes before the first day."))
    if (data.last_day - data.first_day).days >= MAX_DAYS:
        raise CampaignError(N_("A campaign lasts a year at most."))
    if db.session.get(ChecklistVersion, data.checklist_version_id) is None:
        raise CampaignError(N_("Choose a checklist."))
    same_code = db.session.scalar(select(Campaign).where(Campaign.code == data.code))
    if same_code is not None and same_code is not campaign:
        raise CampaignError(N_("Another campaign already has this short code."))
    overlapping = db.session.scalar(
        select(Campaign)
        .where(
            Campaign.first_day <= data.last_day,
            Campaign.last_day >= data.first_day,
            *([Campaign.id != campaign.id] if campaign is not None else []),
        )
        .limit(1)
    )
    if overlapping is not None:
        raise CampaignError(
            N_("These days overlap the campaign “%(name)s”: campaigns follow one another."),
            name=_Name(overlapping),
        )


def _record(campaign: Campaign) -> dict:
    return {
        "code": campaign.code,
        "name_fr": campaign.name_fr,
        "first_day": campaign.first_day.isoformat(),
        "last_day": campaign.last_day.isoformat(),
        "checklist_version_id": campaign.checklist_version_id,
        "state": campaign.state,
    }


def _actor(user: User | None) -> tuple[str, int | None]:
    return (f"user:{user.id}", user.id) if user is not None else ("cli", None)


def create(data: CampaignData, actor: User | None) -> Campaign:
    """A new, planned campaign (admins). Committed."""
    data = _clean(data)
    _check(data, None)
    campaign = Campaign(**data.__dict__, state=PLANNED)
    db.session.add(campaign)
    db.session.flush()
    who, who_id = _actor(actor)
    audit(who, "campaign.create", "campaign", campaign.id, after=_record(campaign), actor_id=who_id)
    db.session.commit()
    return campaign


def update(campaign: Campaign, data: CampaignData, actor: User | None) -> Campaign:
    """Change names and days; the checklist only while planned (its inspections use it)."""
    require_open(campaign)
    data = _clean(data)
    if campaign.state != PLANNED and data.checklist_version_id != campaign.checklist_version_id:
        raise CampaignError(N_("The checklist of a campaign that has begun cannot change."))
    if campaign.state != PLANNED and data.first_day != campaign.first_day:
        first_inspection = db.session.scalar(
            select(func.min(Inspection.submitted_day)).where(Inspection.campaign_id == campaign.id)
        )
        if first_inspection is not None and data.first_day > first_inspection:
            raise CampaignError(N_("The first day cannot come after the campaign's inspections."))
    _check(data, campaign)
    before = _record(campaign)
    for name, value in data.__dict__.items():
        setattr(campaign, name, value)
    who, who_id = _actor(actor)
    audit(
        who,
        "campaign.update",
        "campaign",
        campaign.id,
        before=before,
        after=_record(campaign),
        actor_id=who_id,
    )
    db.session.commit()
    return campaign


def _clean(data: CampaignData) -> CampaignData:
    return CampaignData(
        code=(data.code or "").strip().lower(),
        name_ar=(data.name_ar or "").strip(),
        name_fr=(data.name_fr or "").strip(),
        name_en=(data.name_en or "").strip(),
        first_day=data.first_day,
        last_day=data.last_day,
        checklist_version_id=data.checklist_version_id,
    )


def start(campaign: Campaign, actor: User | None) -> None:
    """planned -> running: inspectors can now inspect its venues' stalls. Committed."""
    if campaign.state != PLANNED:
        raise CampaignError(N_("Only a planned campaign can start."))
    other = running()
    if other is not None:
        raise CampaignError(
            N_("The campaign “%(name)s” is running: close it first."), name=_Name(other)
        )
    _move(campaign, RUNNING, actor)


def close(campaign: Campaign, actor: User | None) -> None:
    """running -> closed: read-only from now on. Committed."""
    if campaign.state != RUNNING:
        raise CampaignError(N_("Only a running campaign can be closed."))
    _move(campaign, CLOSED, actor)


def _move(campaign: Campaign, state: str, actor: User | None) -> None:
    before = campaign.state
    campaign.state = state
    who, who_id = _actor(actor)
    audit(
        who,
        f"campaign.{'start' if state == RUNNING else 'close'}",
        "campaign",
        campaign.id,
        before={"state": before},
        after={"state": state},
        actor_id=who_id,
    )
    db.session.commit()


def add_venue(campaign: Campaign, venue: Venue, actor: User | None) -> bool:
    """Make ``venue`` take part; False if it already does. Committed."""
    require_open(campaign)
    if takes_part(campaign.id, venue.id):
        return False
    who, who_id = _actor(actor)
    db.session.add(CampaignVenue(campaign_id=campaign.id, venue_id=venue.id, added_by_id=who_id))
    audit(
        who,
        "campaign.venue_add",
        "campaign",
        campaign.id,
        after={"venue": venue.code},
        actor_id=who_id,
    )
    db.session.commit()
    return True


def remove_venue(campaign: Campaign, venue: Venue, actor: User | None) -> bool:
    """Take ``venue`` out, unless it has inspections in the campaign. Committed."""
    require_open(campaign)
    link = db.session.get(CampaignVenue, (campaign.id, venue.id))
    if link is None:
        return False
    inspected = db.session.scalar(
        select(Inspection.id)
        .join(Stall, Stall.id == Inspection.stall_id)
        .where(Inspection.campaign_id == campaign.id, Stall.venue_id == venue.id)
        .limit(1)
    )
    if inspected is not None:
        raise CampaignError(N_("This sale space has inspections in the campaign: it stays in it."))
    db.session.delete(link)
    who, who_id = _actor(actor)
    audit(
        who,
        "campaign.venue_remove",
        "campaign",
        campaign.id,
        before={"venue": venue.code},
        actor_id=who_id,
    )
    db.session.commit()
    return True
