"""The chambers' figures: compliance of a region (or the country, a province, a venue).

Every figure is aggregated in SQL over the stalls in a :class:`Scope` narrowed by
:class:`Filters`; each function runs one query whatever the size of the data, and Python only
combines the few aggregated rows that come back (one per venue, per day, per item). Current
results (per venue), inspections per day and a period's figures come from the running tallies
of :mod:`.tallies`. Lists (paged) are read along an index in their own order, so that a page
costs about the same at any size: stalls worst first one verdict after the other
(:func:`worst_stalls`), never-inspected stalls by code, actions by due date or latest closed
(:func:`actions_query`); the filters are copied where the walk can test them (an action's
craft and opening verdict, a stall's current verdict).

Definitions (DESIGN.md):

- a stall's *current result* is its latest submitted inspection (``Stall.latest_inspection_id``);
- with a date range the overview describes the *inspections made in that period* instead
  (:func:`period_counts`): how many, their verdicts, their average score, each item's fails
  and N/As over them; the verdict filter is then the inspection's own verdict. A stall's
  latest result within an arbitrary range cannot be summed from day tallies, and a period's
  figures must not depend on how many stalls there are: they are read from the day tallies
  (``DayTally``, O(days x venues), or regions), never from the inspections. Lists of stalls
  (paged) still show each stall's latest inspection within the range;
- the *compliance rate* is the share of inspected stalls whose current result is compliant;
  stalls never inspected count as not inspected, never as failing;
- the *pass rate of a rule* (a checklist section) is passed answers over pass and fail answers
  of the current results; N/A answers are left out;
- averages over *all* inspections (not only current results) are separate, labelled figures;
- a corrective action is *overdue* when it is open and its due date is before today in Morocco.

Campaigns (DESIGN.md, issue 8): with ``Filters.campaign`` every figure is the campaign's. Its
stalls are those of the venues taking part; a stall's current result is its latest inspection
*of the campaign*. For the latest campaign (no later one has inspections) that is the result
copied on the stall row when ``Stall.current_campaign_id`` is the campaign's, so the national
page still reads the stall table alone; for an older campaign it is read from the campaign's
own inspections, as with a date range. Inspections, inspections per day and corrective actions
(those opened by the campaign's inspections) are the campaign's; the per-day chart spans the
campaign's days. Without a campaign (``None``) figures cover every inspection.

No Flask request here: views build a Scope and Filters and call these functions.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta

from sqlalchemy import (
    ARRAY,
    Date,
    Float,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from .. import campaigns, checklist_store, dates, scoring
from ..checklist import Checklist, Item, Section
from ..extensions import db
from ..models import (
    CLOSED,
    OPEN,
    SUBMITTED,
    Answer,
    Artisan,
    Campaign,
    CampaignVenue,
    ChecklistVersion,
    CorrectiveAction,
    Inspection,
    Localized,
    Province,
    Region,
    Stall,
    Venue,
)
from .tallies import (
    REGION_ROW,
    VENUE_ROW,
    ActionCurrentTally,
    ActionDayTally,
    ActionTally,
    CurrentTally,
    DayTally,
)

MAX_TREND_DAYS = 120  # days drawn without a campaign (the latest ones)
MAX_CAMPAIGN_DAYS = 400  # a campaign lasts a year at most; its chart may stretch a little
NOT_INSPECTED = "not_inspected"  # the verdict filter's value for stalls with no result


def today() -> date:
    """Today in Morocco: what "overdue" is measured against."""
    return dates.today()


@dataclass(frozen=True)
class CampaignView:
    """The campaign a page shows, as the figures need it.

    ``first_day``/``last_day`` are the days its chart spans (:func:`campaign_view`);
    ``latest`` says no later campaign has inspections, so the stall rows hold its results;
    ``asked`` says the URL named it (links then keep ``campaign=<code>``).
    """

    id: int
    code: str
    first_day: date
    last_day: date
    latest: bool
    asked: bool = False


def campaign_view(campaign: Campaign, *, asked: bool = False) -> CampaignView:
    """What the figures need of ``campaign`` (two queries).

    Its chart spans its days stretched to any day it has inspections on (a running campaign
    takes inspections after its planned last day; the chart never hides them), read from the
    per-day tally: two index seeks on its key, where the inspections would be a scan.
    """
    # Two subqueries: SQLite optimises a lone min() or max(), not both at once.
    days = [
        select(edge(DayTally.day))
        .where(
            DayTally.campaign_id == campaign.id,
            DayTally.venue_id == REGION_ROW,
            DayTally.item_key == literal_column("''"),  # the partial index: inspections only
        )
        .scalar_subquery()
        for edge in (func.min, func.max)
    ]
    first, last = db.session.execute(select(*days)).one()
    return CampaignView(
        campaign.id,
        campaign.code,
        min(campaign.first_day, first or campaign.first_day),
        max(campaign.last_day, last or campaign.last_day),
        campaigns.is_latest(campaign),
        asked,
    )


@dataclass(frozen=True)
class Scope:
    """Where the figures are taken: the country (all None), a region, a province or a venue.

    Views fill it only after checking that the user may see it (``access.region_scope``).
    """

    region_id: int | None = None
    province_id: int | None = None
    venue_id: int | None = None

    @property
    def national(self) -> bool:
        return self.region_id is None and self.province_id is None and self.venue_id is None


@dataclass(frozen=True)
class Filters:
    """What a coordinator narrows the figures to; every field is optional.

    ``verdict`` is a current verdict for stalls (or ``"not_inspected"``) and an inspection's own
    verdict for lists of inspections; the date range is on the day an inspection counts for.
    """

    date_from: date | None = None
    date_to: date | None = None
    kind: str | None = None
    city: str | None = None
    craft: str | None = None
    verdict: str | None = None
    campaign: CampaignView | None = None

    @property
    def dated(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    @property
    def reads_inspections(self) -> bool:
        """Whether current results come from the inspections rather than the stall rows."""
        return self.dated or (self.campaign is not None and not self.campaign.latest)

    @property
    def active(self) -> int:
        """How many filters are set (shown next to the filter form)."""
        return sum(
            value is not None
            for value in (
                self.date_from,
                self.date_to,
                self.kind,
                self.city,
                self.craft,
                self.verdict,
            )
        )

    @property
    def narrows_places(self) -> bool:
        return self.kind is not None or self.city is not None

    def on_days(self, day_column) -> list[ColumnElement[bool]]:
        conditions = []
        if self.date_from:
            conditions.append(day_column >= self.date_from)
        if self.date_to:
            conditions.append(day_column <= self.date_to)
        return conditions


# -- the stalls in scope and their current result ---------------------------------------------


def _joins_places(scope: Scope, filters: Filters) -> bool:
    return scope.region_id is not None or scope.province_id is not None or filters.narrows_places


def _stalls_in_scope(
    query: Select,
    scope: Scope,
    filters: Filters,
    *,
    with_places: bool = False,
    taking_part: bool = True,
    by_stall: bool = False,
) -> Select:
    """Add the joins and conditions that keep only the stalls in scope that match the filters.

    ``query`` must already select from Stall. Joins are added only where a condition needs
    them (the national page with no filter reads the stall table alone), or always with
    ``with_places``, which joins Venue and Province for the caller's own use. With a
    campaign (and ``taking_part``), only the stalls of the venues taking part in it.
    ``by_stall``: the caller walks rows in its own order and looks each stall's place up
    (SQLite must not start from the venues in scope).
    """
    venue_of = Stall.venue_id
    if by_stall and db.engine.dialect.name == "sqlite":
        venue_of = _unindexed(Stall.venue_id, Integer)
    if taking_part and filters.campaign is not None:
        query = query.where(
            Stall.venue_id.in_(
                select(CampaignVenue.venue_id).where(
                    CampaignVenue.campaign_id == filters.campaign.id
                )
            )
        )
    if with_places or _joins_places(scope, filters):
        query = query.join(Venue, Venue.id == venue_of)
        if with_places or scope.region_id is not None:
            query = query.join(Province, Province.id == Venue.province_id)
        if scope.region_id is not None:
            query = query.where(Province.region_id == scope.region_id)
        if scope.province_id is not None:
            query = query.where(Venue.province_id == scope.province_id)
        if filters.kind:
            query = query.where(Venue.kind == filters.kind)
        if filters.city:
            query = query.where(Venue.city == filters.city)
    if scope.venue_id is not None:
        query = query.where(Stall.venue_id == scope.venue_id)
    if filters.craft:
        query = query.join(Artisan, Artisan.id == Stall.artisan_id).where(
            Artisan.craft == filters.craft
        )
    return query


def _latest_in_range(filters: Filters):
    """The id of the stall's latest inspection submitted within the date range.

    A correlated subquery, run once per stall in scope: each is a short walk down the
    (stall, status, day) index, far cheaper than ranking every inspection in the range.
    """
    latest = aliased(Inspection)
    of_campaign = (
        [latest.campaign_id == filters.campaign.id] if filters.campaign is not None else []
    )
    return (
        select(latest.id)
        .where(
            latest.stall_id == Stall.id,
            latest.status == SUBMITTED,
            *of_campaign,
            *filters.on_days(latest.submitted_day),
        )
        .order_by(latest.submitted_day.desc(), latest.submitted_at.desc(), latest.id.desc())
        .limit(1)
        .correlate(Stall)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class Current:
    """The columns that hold a stall's current result, wherever they are read from."""

    inspection_id: ColumnElement
    version_id: ColumnElement
    verdict: ColumnElement
    score: ColumnElement
    critical: ColumnElement
    day: ColumnElement


# The latest inspection's outcome, copied on the stall row by .tallies.
LATEST = Current(
    Stall.latest_inspection_id,
    Stall.current_version_id,
    Stall.current_verdict,
    Stall.current_score,
    Stall.current_critical,
    Stall.current_day,
)
# With a date range: the inspection joined by :func:`current_stalls`.
IN_RANGE = Current(
    Inspection.id,
    Inspection.checklist_version_id,
    Inspection.verdict,
    Inspection.score,
    Inspection.critical_failures,
    Inspection.submitted_day,
)


def _latest_of(campaign_id: int) -> Current:
    """The stall row's result, only where it is the campaign's (else: not inspected in it)."""

    # The id written in the SQL, not bound: PostgreSQL must see the SELECT's CASE and the
    # GROUP BY's as the same expression.
    ours = Stall.current_campaign_id == literal_column(str(int(campaign_id)))

    def of_campaign(column):
        return case((ours, column))

    return Current(*(of_campaign(getattr(LATEST, name.name)) for name in fields(Current)))


@functools.lru_cache(maxsize=256)
def _latest_lateral(filters: Filters):
    """PostgreSQL: the stall's latest inspection within the range, as a LATERAL subquery.

    Joined on a scalar subquery (:func:`_latest_in_range`), PostgreSQL hashes every
    inspection and runs the subquery twice per stall (300 ms for the national page at
    200,000 inspections); a lateral row is one backward walk of ix_inspection_campaign_latest
    per stall, from the index alone. Cached per filters so that the columns of
    :func:`current_of` and the join of :func:`current_stalls` are the same object.
    """
    return (
        select(
            Inspection.id,
            Inspection.checklist_version_id,
            Inspection.verdict,
            Inspection.score,
            Inspection.critical_failures,
            Inspection.submitted_day,
        )
        .where(
            Inspection.stall_id == Stall.id,
            Inspection.status == SUBMITTED,
            *_of_campaign(Inspection.campaign_id, filters),
            *filters.on_days(Inspection.submitted_day),
        )
        .order_by(
            Inspection.submitted_day.desc(), Inspection.submitted_at.desc(), Inspection.id.desc()
        )
        .limit(1)
        .lateral("in_range")
    )


def _lateral(filters: Filters):
    """The lateral subquery of :func:`_latest_lateral` where the database has LATERAL."""
    return _latest_lateral(filters) if db.engine.dialect.name == "postgresql" else None


def current_of(filters: Filters) -> Current:
    if filters.reads_inspections:
        lateral = _lateral(filters)
        if lateral is None:
            return IN_RANGE
        c = lateral.c
        return Current(
            c.id, c.checklist_version_id, c.verdict, c.score, c.critical_failures, c.submitted_day
        )
    if filters.campaign is not None:
        return _latest_of(filters.campaign.id)
    return LATEST


def current_stalls(scope: Scope, filters: Filters, *columns, with_places: bool = False) -> Select:
    """Stalls in scope with their current result (the columns of :func:`current_of`).

    Selects ``columns`` (Stall, Venue, Province and current-result columns; Venue and Province
    are joined when ``with_places``); the verdict filter applies to the current result.
    Callers add grouping, ordering and limits.
    """
    query = select(*columns).select_from(Stall)
    query = _stalls_in_scope(query, scope, filters, with_places=with_places)
    current = current_of(filters)
    if filters.reads_inspections:
        lateral = _lateral(filters)
        if lateral is None:
            query = query.outerjoin(Inspection, Inspection.id == _latest_in_range(filters))
        else:
            query = query.outerjoin(lateral, true())
    if filters.verdict == NOT_INSPECTED:
        query = query.where(current.inspection_id.is_(None))
    elif filters.verdict:
        query = query.where(current.verdict == filters.verdict)
    return query


def _among(column, ids: list[int]) -> ColumnElement[bool]:
    """``column IN ids`` (nothing if there are none).

    On PostgreSQL one array parameter (``= ANY``), whatever the number of ids: the statement's
    text, and so its compiled and parsed forms, stay the same from one page to the next,
    where a list of 200 venues made 200 parameters, expanded and parsed again at each request
    (the same plan either way: PostgreSQL turns an IN list into the same array test).
    """
    if not ids:
        return literal(False)
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


def _count_if(condition) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# -- places --------------------------------------------------------------------------------------


class PlaceRow(Localized):
    """A venue, province or region as :func:`places` reads it: its table's columns as plain
    attributes and ``name(locale)``, without an ORM instance (and so without relationships).
    The national page reads its 216 venues with their provinces and regions: 2.6 ms of CPU as
    ORM entities, 0.2 ms as rows."""

    def __init__(self, columns) -> None:
        self.__dict__.update(columns)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__dict__.get('code')!r}>"


class VenueRow(PlaceRow):
    pass


class ProvinceRow(PlaceRow):
    pass


class RegionRow(PlaceRow):
    pass


@dataclass(frozen=True)
class Place:
    """A venue with its province and region, for names, drill-down links and roll-ups."""

    venue_id: int
    venue: VenueRow
    province: ProvinceRow
    region: RegionRow


_PLACE_TABLES = (("v", Venue.__table__), ("p", Province.__table__), ("r", Region.__table__))


def places(scope: Scope, campaign: CampaignView | None = None) -> dict[int, Place]:
    """Every venue in scope (filters aside), with its province and region, in one query.

    With a campaign, the venues taking part in it. Venues, provinces and regions come as
    :class:`PlaceRow` (one per province and region, shared by their venues).
    """
    names = [[column.name for column in table.c] for _prefix, table in _PLACE_TABLES]
    query = (
        select(
            *(
                column.label(f"{prefix}_{column.name}")
                for prefix, table in _PLACE_TABLES
                for column in table.c
            )
        )
        .select_from(Venue)
        .join(Province, Province.id == Venue.province_id)
        .join(Region, Region.id == Province.region_id)
        .order_by(Region.code, Province.code, Venue.id)
    )
    if scope.region_id is not None:
        query = query.where(Province.region_id == scope.region_id)
    if scope.province_id is not None:
        query = query.where(Venue.province_id == scope.province_id)
    if scope.venue_id is not None:
        query = query.where(Venue.id == scope.venue_id)
    if campaign is not None:
        query = query.where(
            Venue.id.in_(
                select(CampaignVenue.venue_id).where(CampaignVenue.campaign_id == campaign.id)
            )
        )
    venue_end = len(names[0])
    province_end = venue_end + len(names[1])
    province_id = venue_end + names[1].index("id")
    region_id = province_end + names[2].index("id")
    provinces: dict[int, PlaceRow] = {}
    regions: dict[int, PlaceRow] = {}
    found: dict[int, Place] = {}
    for row in db.session.connection().execute(query):
        venue = VenueRow(zip(names[0], row[:venue_end], strict=True))
        province = provinces.get(row[province_id])
        if province is None:
            province = provinces[row[province_id]] = ProvinceRow(
                zip(names[1], row[venue_end:province_end], strict=True)
            )
        region = regions.get(row[region_id])
        if region is None:
            region = regions[row[region_id]] = RegionRow(
                zip(names[2], row[province_end:], strict=True)
            )
        found[venue.id] = Place(venue.id, venue, province, region)
    return found


def cities(found: dict[int, Place]) -> list[str]:
    return sorted({place.venue.city for place in found.values()})


# -- stall counts and compliance ------------------------------------------------------------


@dataclass
class Tally:
    """Stall-level figures of one group (a venue, a province, a region or the whole scope)."""

    stalls: int = 0
    inspected: int = 0
    compliant: int = 0
    follow_up: int = 0
    non_compliant: int = 0
    score_sum: float = 0.0
    open_actions: int = 0
    overdue_actions: int = 0

    def add(self, other: Tally) -> None:
        # Field by field, spelled out: the national page adds ~900 tallies a request, and a
        # loop over the dataclass fields with getattr/setattr cost it ~2 ms of CPU.
        self.stalls += other.stalls
        self.inspected += other.inspected
        self.compliant += other.compliant
        self.follow_up += other.follow_up
        self.non_compliant += other.non_compliant
        self.score_sum += other.score_sum
        self.open_actions += other.open_actions
        self.overdue_actions += other.overdue_actions

    @property
    def not_inspected(self) -> int:
        return self.stalls - self.inspected

    @property
    def inspected_share(self) -> float | None:
        return self.inspected / self.stalls if self.stalls else None

    @property
    def compliance_rate(self) -> float | None:
        """Compliant stalls out of inspected stalls (never-inspected stalls are left out)."""
        return self.compliant / self.inspected if self.inspected else None

    @property
    def average_score(self) -> float | None:
        """Average score of the current results."""
        return self.score_sum / self.inspected if self.inspected else None


@dataclass
class StallCounts:
    """Figures per venue (or, for the whole country, per region) and in all.

    ``by_region``: the whole country's figures kept per region, a period's inspections
    (:func:`period_counts`) and the open actions (:func:`region_action_counts`). For a period
    (:func:`period_counts`) a Tally counts inspections, not stalls: ``stalls`` and
    ``inspected`` are both the inspections made, the verdicts theirs.
    """

    by_venue: dict[int, Tally]
    inspected_by_version: dict[int, int]
    inspected_by_venue_version: dict[tuple[int, int], int]
    total: Tally = field(default_factory=Tally)
    by_region: dict[int, Tally] | None = None


def stall_counts(
    scope: Scope, filters: Filters, found: dict[int, Place] | None = None
) -> StallCounts:
    """Stalls, inspected stalls and current verdicts per venue.

    From the venues' tallies (:func:`_tallied_stall_counts`); for an older campaign, from
    its inspections (one query per stall in scope); with a date range, the inspections of
    the period instead (:func:`period_counts`).
    """
    if filters.dated:
        return period_counts(scope, filters, found)
    if _reads_current_tally(filters):
        found = places(scope, filters.campaign) if found is None else found
        return _tallied_stall_counts(scope, filters, found)
    current = current_of(filters)
    verdict = current.verdict
    venue_key = Stall.venue_id.label("venue_id")
    query = current_stalls(
        scope,
        filters,
        venue_key,
        current.version_id.label("version_id"),
        func.count().label("stalls"),
        func.count(current.inspection_id).label("inspected"),
        _count_if(verdict == scoring.COMPLIANT).label("compliant"),
        _count_if(verdict == scoring.FOLLOW_UP).label("follow_up"),
        _count_if(verdict == scoring.NON_COMPLIANT).label("non_compliant"),
        func.coalesce(func.sum(current.score), 0).label("score_sum"),
    ).group_by(Stall.venue_id, current.version_id)
    result = StallCounts(
        by_venue={}, inspected_by_version=defaultdict(int), inspected_by_venue_version={}
    )
    for row in db.session.execute(query):
        tally = result.by_venue.setdefault(row.venue_id, Tally())
        tally.add(
            Tally(
                row.stalls,
                row.inspected,
                row.compliant,
                row.follow_up,
                row.non_compliant,
                float(row.score_sum or 0),
            )
        )
        if row.version_id is not None:
            result.inspected_by_version[row.version_id] += row.inspected
            result.inspected_by_venue_version[(row.venue_id, row.version_id)] = row.inspected
    for tally in result.by_venue.values():
        result.total.add(tally)
    return result


# -- current results of the latest campaign: from the venues' tallies ----------------------------


def _reads_current_tally(filters: Filters) -> bool:
    """Whether the stalls' current results come from the per-venue tallies.

    Without dates, for every campaign but an older one (whose results are read from its own
    inspections, per stall).
    """
    return not filters.dated and not filters.reads_inspections


def _current_rows(
    scope: Scope, filters: Filters, found: dict[int, Place], *columns, items: bool = False
) -> Select:
    """SELECT ``columns`` from the venue rows of the current tally in scope, with the filters.

    The verdict filter is the stalls' current verdict ("not inspected" is left to the
    caller: those stalls have no row).
    """
    tally = CurrentTally
    stall_row = literal_column("''")
    venues = _venues_matching(scope, filters, found)
    query = (
        select(*columns)
        .select_from(tally)
        .where(
            tally.stall_id == VENUE_ROW,
            tally.item_key != stall_row if items else tally.item_key == stall_row,
            *_of_campaign(tally.campaign_id, filters),
            _among(tally.venue_id, venues),
        )
    )
    if filters.craft:
        query = query.where(tally.craft == filters.craft)
    if filters.verdict and filters.verdict != NOT_INSPECTED:
        query = query.where(tally.verdict == filters.verdict)
    return query


def _tallied_stall_counts(scope: Scope, filters: Filters, found: dict[int, Place]) -> StallCounts:
    """:func:`stall_counts` from the venues' tallies: two queries, O(venues) rows each.

    The current results per venue and version, and the venues' stalls from the stall table
    (a count per venue of its index; by craft, joined to the artisans).
    """
    tally = CurrentTally
    verdict_sum = {
        verdict: func.sum(case((tally.verdict == verdict, tally.stalls), else_=0))
        for verdict in (scoring.COMPLIANT, scoring.FOLLOW_UP, scoring.NON_COMPLIANT)
    }
    query = _current_rows(
        scope,
        filters,
        found,
        tally.venue_id,
        tally.version_id,
        func.sum(tally.stalls).label("inspected"),
        verdict_sum[scoring.COMPLIANT].label("compliant"),
        verdict_sum[scoring.FOLLOW_UP].label("follow_up"),
        verdict_sum[scoring.NON_COMPLIANT].label("non_compliant"),
        func.sum(tally.score_sum).label("score_sum"),
    ).group_by(tally.venue_id, tally.version_id)
    result = StallCounts(
        by_venue={}, inspected_by_version=defaultdict(int), inspected_by_venue_version={}
    )
    never = filters.verdict == NOT_INSPECTED
    inspected: dict[int, Tally] = {}
    for row in db.session.execute(query):
        if not row.inspected:
            continue
        inspected.setdefault(row.venue_id, Tally()).add(
            Tally(
                int(row.inspected),
                int(row.inspected),
                int(row.compliant),
                int(row.follow_up),
                int(row.non_compliant),
                float(row.score_sum or 0),
            )
        )
        if not never:
            result.inspected_by_version[row.version_id] += int(row.inspected)
            result.inspected_by_venue_version[(row.venue_id, row.version_id)] = int(row.inspected)
    if filters.verdict and not never:
        result.by_venue = inspected  # only stalls with that verdict: all inspected
    else:
        venues = _venues_matching(scope, filters, found)
        count = select(Stall.venue_id, func.count().label("stalls")).where(
            _among(Stall.venue_id, venues)
        )
        if filters.craft:
            count = count.join(Artisan, Artisan.id == Stall.artisan_id).where(
                Artisan.craft == filters.craft
            )
        for venue_id, stalls in db.session.execute(count.group_by(Stall.venue_id)):
            seen = inspected.get(venue_id, Tally())
            if never:
                result.by_venue[venue_id] = Tally(stalls=stalls - seen.inspected)
            else:
                seen.stalls = stalls
                result.by_venue[venue_id] = seen
    for tally_ in result.by_venue.values():
        result.total.add(tally_)
    return result


def _tallied_answer_counts(
    scope: Scope, filters: Filters, *, by_region: bool, found: dict[int, Place]
) -> list[tuple]:
    """:func:`answer_counts` from the venues' tallies (one query)."""
    if filters.verdict == NOT_INSPECTED:
        return []
    tally = CurrentTally
    keys = [tally.venue_id, tally.item_key] if by_region else [tally.item_key]
    query = _current_rows(
        scope,
        filters,
        found,
        *keys,
        func.sum(tally.fails).label("fails"),
        func.sum(tally.nas).label("nas"),
        items=True,
    ).group_by(*keys)
    counts: dict[tuple, int] = defaultdict(int)
    for row in db.session.execute(query):
        *key, fails, nas = row
        if by_region:
            key[0] = found[key[0]].region.id
        if fails:
            counts[(*key, scoring.FAIL)] += int(fails)
        if nas:
            counts[(*key, scoring.NA)] += int(nas)
    return [(*key, n) for key, n in counts.items()]


# -- a period: the inspections made in it, from the day tallies ------------------------------


def _region_grain(scope: Scope, filters: Filters) -> bool:
    """Whether the per-region day rows answer: no place narrower than a region is asked."""
    return scope.province_id is None and scope.venue_id is None and not filters.narrows_places


def _venues_matching(scope: Scope, filters: Filters, found: dict[int, Place]) -> list[int]:
    """The venues in scope (``found``) that match the place filters (kind, city)."""
    return [
        venue_id
        for venue_id, place in found.items()
        if (not filters.kind or place.venue.kind == filters.kind)
        and (not filters.city or place.venue.city == filters.city)
    ]


def _day_rows(
    scope: Scope,
    filters: Filters,
    *columns,
    items: bool = False,
    per_venue: bool = False,
    found: dict[int, Place] | None = None,
) -> Select:
    """SELECT ``columns`` from the day tallies of the scope, period and filters.

    The inspections' rows, or with ``items`` their items' rows. The per-region rows where
    they answer (and not ``per_venue``), else the rows of the venues matching the filters:
    either way a few seeks of the table's key, one per region or venue, each reading its days
    in the range. The verdict filter is the inspection's own.
    """
    tally = DayTally
    # A literal, not a parameter: PostgreSQL matches it to the partial index.
    inspections_row = literal_column("''")
    query = (
        select(*columns)
        .select_from(tally)
        .where(
            *_of_campaign(tally.campaign_id, filters),
            *filters.on_days(tally.day),
            tally.item_key != inspections_row if items else tally.item_key == inspections_row,
        )
    )
    if per_venue or not _region_grain(scope, filters):
        found = places(scope, filters.campaign) if found is None else found
        venues = _venues_matching(scope, filters, found)
        # Their regions too: the key has the region before the day.
        regions = sorted({found[venue].region.id for venue in venues if venue in found})
        query = query.where(
            _among(tally.venue_id, venues),
            _among(tally.region_id, regions),
        )
    else:
        if scope.region_id is not None:
            regions = [scope.region_id]
        else:  # named, so that each is one seek of the key (campaign, region row, region, day)
            found = places(scope, filters.campaign) if found is None else found
            regions = sorted({place.region.id for place in found.values()})
        query = query.where(
            tally.venue_id == REGION_ROW,
            _among(tally.region_id, regions),
        )
    if filters.craft:
        query = query.where(tally.craft == filters.craft)
    if filters.verdict == NOT_INSPECTED:
        query = query.where(literal(False))
    elif filters.verdict:
        query = query.where(tally.verdict == filters.verdict)
    return query


def period_counts(
    scope: Scope,
    filters: Filters,
    found: dict[int, Place] | None = None,
    *,
    per_venue: bool = False,
) -> StallCounts:
    """The inspections of a period per venue (per region for the whole country), one query.

    Each Tally counts inspections: ``stalls`` and ``inspected`` are the inspections made,
    ``compliant`` and the others their own verdicts, ``score_sum`` their scores. With
    ``per_venue``, per venue even for the whole country.
    """
    tally = DayTally
    per_region = scope.national and _region_grain(scope, filters) and not per_venue
    group = tally.region_id if per_region else tally.venue_id
    verdict_sum = {
        verdict: func.sum(case((tally.verdict == verdict, tally.inspections), else_=0))
        for verdict in (scoring.COMPLIANT, scoring.FOLLOW_UP, scoring.NON_COMPLIANT)
    }
    query = _day_rows(
        scope,
        filters,
        group.label("place"),
        tally.version_id,
        func.sum(tally.inspections).label("inspections"),
        verdict_sum[scoring.COMPLIANT].label("compliant"),
        verdict_sum[scoring.FOLLOW_UP].label("follow_up"),
        verdict_sum[scoring.NON_COMPLIANT].label("non_compliant"),
        func.sum(tally.score_sum).label("score_sum"),
        found=found,
        per_venue=not per_region,
    ).group_by(group, tally.version_id)
    result = StallCounts(
        by_venue={}, inspected_by_version=defaultdict(int), inspected_by_venue_version={}
    )
    groups: dict[int, Tally] = {}
    for row in db.session.execute(query):
        made = int(row.inspections or 0)
        if not made:
            continue
        groups.setdefault(row.place, Tally()).add(
            Tally(
                made,
                made,
                int(row.compliant),
                int(row.follow_up),
                int(row.non_compliant),
                float(row.score_sum or 0),
            )
        )
        result.inspected_by_version[row.version_id] += made
        if not per_region:
            key = (row.place, row.version_id)
            result.inspected_by_venue_version[key] = (
                result.inspected_by_venue_version.get(key, 0) + made
            )
    if per_region:
        result.by_region = groups
    else:
        result.by_venue = groups
    for tally_ in groups.values():
        result.total.add(tally_)
    return result


def add_action_counts(
    counts: StallCounts, actions: dict[int, tuple[int, int]], *, per_region: bool = False
) -> None:
    """Put the open and overdue corrective actions per venue (or region) into the tallies."""
    if per_region and counts.by_region is None:
        counts.by_region = {}
    groups = counts.by_region if per_region else counts.by_venue
    for place_id, (opened, overdue) in actions.items():
        tally = groups.setdefault(place_id, Tally())
        tally.open_actions += opened
        tally.overdue_actions += overdue
        counts.total.open_actions += opened
        counts.total.overdue_actions += overdue


def roll_up(by_venue: dict[int, Tally], found: dict[int, Place], level: str) -> dict[int, Tally]:
    """Venue tallies summed per province or region (``level``: "province" or "region")."""
    groups: dict[int, Tally] = {}
    for venue_id, tally in by_venue.items():
        place = found.get(venue_id)
        if place is None:
            continue
        key = place.province.id if level == "province" else place.region.id
        groups.setdefault(key, Tally()).add(tally)
    return groups


# -- corrective actions ----------------------------------------------------------------------


def _scoped(stall_id, scope: Scope, filters: Filters) -> list[ColumnElement[bool]]:
    """``stall_id IN (the stalls in scope)``, or nothing for the whole country unfiltered.

    A subquery rather than joins: the database then walks the stalls in scope and their rows
    by index, instead of guessing that, say, a date range is the more selective way in.
    """
    if scope.national and not filters.narrows_places and not filters.craft:
        return []
    # A campaign's inspections and actions are of venues taking part: no need to ask again.
    return [stall_id.in_(_stalls_in_scope(select(Stall.id), scope, filters, taking_part=False))]


def _actions_in_scope(
    query: Select, scope: Scope, filters: Filters, *, in_order: str | None = None
) -> Select:
    """Limit a query on CorrectiveAction (joined to its Stall) to the scope and filters.

    With dates, the actions opened by an inspection submitted within them; with a campaign,
    those opened by the campaign's inspections. ``in_order`` (the list's state): the caller
    walks an index in its list's order (on SQLite the stalls in scope must not be the way in).
    """
    stall_id, craft = CorrectiveAction.stall_id, CorrectiveAction.craft
    opened_day = CorrectiveAction.opened_day
    if in_order and db.engine.dialect.name == "sqlite":
        # "+stall_id": SQLite read every action of the stalls in scope and sorted them (430 ms
        # for the closed ones of one kind of venue at 2 million); it now walks the list's
        # index in order. "+craft", "+opened_day" for the closed ones: it skip-scanned the
        # craft's index (in due order) for a week's actions, then sorted them (96 ms).
        stall_id = _unindexed(stall_id, Integer)
        if in_order == "closed":
            craft = _unindexed(craft, String)
            opened_day = _unindexed(opened_day, Date)
    # The stall's craft is copied on the action (migration 0017): one craft's actions are
    # walked by ix_corrective_action_craft_due, not found stall by stall from the artisans.
    query = query.join(Stall, Stall.id == CorrectiveAction.stall_id).where(
        *_scoped(stall_id, scope, replace(filters, craft=None))
    )
    if filters.craft:
        query = query.where(craft == filters.craft)
    # The opening inspection's campaign and day are copied on the action (migration 0011).
    query = query.where(
        *_of_campaign(CorrectiveAction.campaign_id, filters),
        *filters.on_days(opened_day),
    )
    if filters.verdict == NOT_INSPECTED:
        # Actions are opened by inspections: a stall with none (in the campaign, in the
        # period) has no action to show.
        return query.where(literal(False))
    if filters.verdict and filters.dated:
        # A period's verdict filter is the inspection's own: that of the opening inspection,
        # copied on the action (migration 0020).
        query = query.where(CorrectiveAction.opened_verdict == filters.verdict)
    elif filters.verdict and filters.reads_inspections:  # an earlier campaign's results
        current = current_stalls(scope, filters, Stall.id)
        query = query.where(CorrectiveAction.stall_id.in_(current))
    elif filters.verdict:
        # The stall's current verdict, on its row (joined above): checked action by action,
        # not a list of every stall with that verdict built first. Plain column conditions
        # (not the CASE of _latest_of), which the planner can estimate.
        query = query.where(Stall.current_verdict == filters.verdict)
        if filters.campaign is not None:
            query = query.where(Stall.current_campaign_id == filters.campaign.id)
    return query


def _unindexed(column, type_) -> ColumnElement:
    """``+column``: SQLite then uses no index for a condition on it (it chose badly)."""
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=type_)


def _region_wide(scope: Scope, filters: Filters) -> bool:
    """A region with no place filter (those narrow it further; a craft is on the action)."""
    return (
        scope.region_id is not None
        and scope.province_id is None
        and scope.venue_id is None
        and not filters.narrows_places
    )


def action_counts(
    scope: Scope, filters: Filters, on: date, found: dict[int, Place] | None = None
) -> dict[int, tuple[int, int]]:
    """Open and overdue corrective actions per venue: ``{venue_id: (open, overdue)}``.

    From the action tallies (one query, O(venues x due days), or with dates O(venues x days
    opened x due days); with a verdict and no dates, the stall's current verdict, O(venues x
    verdicts x due days)). An earlier campaign's current verdicts are not tallied: with a
    verdict filter its actions are read one by one.
    """
    if _reads_listed_actions(filters):
        return _listed_action_counts(scope, filters, on)
    return _tallied_action_counts(scope, filters, on, found, per_region=False)


def _reads_listed_actions(filters: Filters) -> bool:
    return bool(filters.verdict) and not filters.dated and filters.reads_inspections


def actions_per_region(scope: Scope, filters: Filters) -> bool:
    """Whether the whole country's actions are counted per region (:func:`region_action_counts`)."""
    return scope.national and _region_grain(scope, filters) and not _reads_listed_actions(filters)


def region_action_counts(
    scope: Scope, filters: Filters, on: date, found: dict[int, Place]
) -> dict[int, tuple[int, int]]:
    """:func:`action_counts` of the whole country per region: ``{region_id: (open, overdue)}``
    from the regions' rows (where :func:`actions_per_region`)."""
    return _tallied_action_counts(scope, filters, on, found, per_region=True)


def _tallied_action_counts(
    scope: Scope,
    filters: Filters,
    on: date,
    found: dict[int, Place] | None,
    *,
    per_region: bool,
) -> dict[int, tuple[int, int]]:
    # A period's actions are those opened in it: by the day they were opened. Otherwise the
    # verdict filter is the stall's current verdict.
    if filters.dated:
        tally = ActionDayTally
    elif filters.verdict:
        tally = ActionCurrentTally
    else:
        tally = ActionTally
    found = places(scope, filters.campaign) if found is None else found
    group = tally.region_id if per_region else tally.venue_id
    query = select(
        group.label("place"),
        func.sum(tally.open_actions).label("open"),
        func.sum(case((tally.due_date < on, tally.open_actions), else_=0)).label("overdue"),
    ).where(*_of_campaign(tally.campaign_id, filters))
    if filters.dated:
        query = query.where(*filters.on_days(ActionDayTally.opened_day))
    if per_region:
        regions = sorted({place.region.id for place in found.values()})
        query = query.where(tally.venue_id == REGION_ROW)
    else:
        venues = _venues_matching(scope, filters, found)
        # Their regions too: the key has the region before the day.
        regions = sorted({found[venue].region.id for venue in venues})
        query = query.where(_among(tally.venue_id, venues))
    query = query.where(_among(tally.region_id, regions))
    if filters.craft:
        query = query.where(tally.craft == filters.craft)
    if filters.verdict == NOT_INSPECTED:
        return {}
    if filters.dated and filters.verdict:  # the opening inspection's own verdict
        query = query.where(ActionDayTally.verdict == filters.verdict)
    elif filters.verdict:
        query = query.where(ActionCurrentTally.current_verdict == filters.verdict)
    return {
        row.place: (int(row.open), int(row.overdue))
        for row in db.session.execute(query.group_by(group))
        if row.open
    }


def _listed_action_counts(scope: Scope, filters: Filters, on: date) -> dict[int, tuple[int, int]]:
    """:func:`action_counts` read from the open actions one by one (see there)."""
    venue_key = Stall.venue_id.label("venue_id")
    query = (
        select(
            venue_key,
            func.count().label("open"),
            _count_if(CorrectiveAction.due_date < on).label("overdue"),
        )
        .select_from(CorrectiveAction)
        .where(CorrectiveAction.status == OPEN)
    )
    query = _actions_in_scope(query, scope, filters).group_by(venue_key)
    return {row.venue_id: (row.open, row.overdue) for row in db.session.execute(query)}


def actions_query(scope: Scope, filters: Filters, on: date, state: str) -> Select:
    """Corrective actions in scope, overdue first then by due date (``state``: see below).

    ``state`` is "overdue", "open" (overdue ones included) or "closed".
    """
    query = select(CorrectiveAction, Stall, Venue, Artisan).select_from(CorrectiveAction)
    if _region_wide(scope, filters):
        # A region holds a twelfth of the actions: walking them by due date finds a page of
        # its own in a few hundred rows, where listing its stalls' actions first reads all of
        # them and sorts them (SQLite chose that: 28 ms at 200,000 inspections).
        query = query.where(
            select(Stall.id)
            .join(Venue, Venue.id == Stall.venue_id)
            .join(Province, Province.id == Venue.province_id)
            .where(Stall.id == CorrectiveAction.stall_id, Province.region_id == scope.region_id)
            .correlate(CorrectiveAction)
            .exists()
        )
        scope = Scope()
    query = _actions_in_scope(query, scope, filters, in_order=state)
    query = query.join(Venue, Venue.id == Stall.venue_id).outerjoin(
        Artisan, Artisan.id == Stall.artisan_id
    )
    if state == "closed":
        # Latest first, walked backwards along ix_corrective_action_closed (migration 0020).
        return query.where(CorrectiveAction.status == CLOSED).order_by(
            CorrectiveAction.closed_at.desc(), CorrectiveAction.id.desc()
        )
    query = query.where(CorrectiveAction.status == OPEN)
    if state == "overdue":
        query = query.where(CorrectiveAction.due_date < on)
    return query.order_by(CorrectiveAction.due_date, CorrectiveAction.id)


# -- answers: rules and items ------------------------------------------------------------------


def checklists() -> dict[int, Checklist]:
    """Every checklist version, parsed (versions are few and immutable; parsing is cached)."""
    versions = db.session.scalars(select(ChecklistVersion).order_by(ChecklistVersion.id))
    return {version.id: checklist_store.definition(version) for version in versions}


def answer_counts(
    scope: Scope,
    filters: Filters,
    *,
    by_region: bool = False,
    found: dict[int, Place] | None = None,
) -> list[tuple[str, str, int]]:
    """``(item_key, result, count)`` of the current results' fail and N/A answers.

    With a date range, those of the inspections of the period (from the day tallies). With
    ``by_region`` each row starts with the region id. Passes are not counted: every item of
    a submitted inspection is answered, so an item's passes are the inspections that have it
    less its fails and N/As.
    """
    if filters.dated:
        return _period_answer_counts(scope, filters, by_region=by_region, found=found)
    if _reads_current_tally(filters):
        found = places(scope, filters.campaign) if found is None else found
        return _tallied_answer_counts(scope, filters, by_region=by_region, found=found)
    # An older campaign: its current results are read from its inspections, per stall.
    current = current_stalls(
        scope,
        filters,
        *_region_column(by_region),
        current_of(filters).inspection_id.label("inspection_id"),
        with_places=by_region,
    )
    current = current.where(current_of(filters).inspection_id.is_not(None)).subquery("current")
    query = select(current).join(
        Answer,
        and_(
            Answer.inspection_id == current.c.inspection_id,
            Answer.result != literal_column("'pass'"),
        ),
    )
    keys = [Answer.item_key, Answer.result]
    if by_region:
        keys.insert(0, current.c.region_id)
    query = query.with_only_columns(*keys, func.count().label("n")).group_by(*keys)
    return [tuple(row) for row in db.session.execute(query)]


def _period_answer_counts(
    scope: Scope, filters: Filters, *, by_region: bool, found: dict[int, Place] | None
) -> list[tuple]:
    """:func:`answer_counts` for a period: the fails and N/As of its day tallies (one query)."""
    tally = DayTally
    keys = [tally.region_id, tally.item_key] if by_region else [tally.item_key]
    query = _day_rows(
        scope,
        filters,
        *keys,
        func.sum(tally.fails).label("fails"),
        func.sum(tally.nas).label("nas"),
        items=True,
        found=found,
    ).group_by(*keys)
    counts: list[tuple] = []
    for row in db.session.execute(query):
        *key, fails, nas = row
        if fails:
            counts.append((*key, scoring.FAIL, int(fails)))
        if nas:
            counts.append((*key, scoring.NA, int(nas)))
    return counts


def _region_column(by_region: bool) -> list:
    return [Province.region_id.label("region_id")] if by_region else []


@dataclass
class Rate:
    """Passed answers out of pass and fail answers (N/A left out) for a rule or an item."""

    key: str
    label_source: Section | Item
    passed: int = 0
    failed: int = 0
    not_applicable: int = 0

    @property
    def applicable(self) -> int:
        return self.passed + self.failed

    @property
    def rate(self) -> float | None:
        return self.passed / self.applicable if self.applicable else None

    def label(self, locale: object) -> str:
        return self.label_source.label(locale)


def rule_and_item_rates(
    versions: dict[int, Checklist],
    inspected_by_version: dict[int, int],
    counts: Iterable[tuple[str, str, int]],
) -> tuple[list[Rate], list[Rate]]:
    """Pass rate per rule (checklist section) and per item over the current results.

    An item is answered in every current inspection whose checklist version has it, so its
    passes are those inspections less its fails and N/As. Rules, items and their wording come
    from the newest version that has them, in checklist order. Pure arithmetic over the few
    aggregated rows from :func:`answer_counts` and :func:`stall_counts`.
    """
    fails: dict[str, int] = defaultdict(int)
    nas: dict[str, int] = defaultdict(int)
    for item_key, result, n in counts:
        if result == scoring.FAIL:
            fails[item_key] += n
        elif result == scoring.NA:
            nas[item_key] += n
    rules: dict[str, Rate] = {}
    items: dict[str, Rate] = {}
    section_of: dict[str, str] = {}
    for version_id in sorted(versions, reverse=True):  # newest first
        for section in versions[version_id].sections:
            rules.setdefault(section.key, Rate(section.key, section))
            for item in section.items:
                items.setdefault(item.key, Rate(item.key, item))
                section_of.setdefault(item.key, section.key)
    answered: dict[str, int] = defaultdict(int)
    for version_id, inspected in inspected_by_version.items():
        if version_id in versions:
            for item in versions[version_id].items():
                answered[item.key] += inspected
    for key, rate in items.items():
        rate.failed = fails[key]
        rate.not_applicable = nas[key]
        rate.passed = max(0, answered[key] - rate.failed - rate.not_applicable)
        rule = rules[section_of[key]]
        rule.passed += rate.passed
        rule.failed += rate.failed
        rule.not_applicable += rate.not_applicable
    return list(rules.values()), list(items.values())


def failing_most(items: list[Rate], limit: int = 10) -> list[Rate]:
    """Items with the most failures among the current results, worst first."""
    failing = [rate for rate in items if rate.failed]
    failing.sort(key=lambda rate: (-rate.failed, rate.rate if rate.rate is not None else 1))
    return failing[:limit]


# -- all inspections: per day -------------------------------------------------------------


@dataclass
class Day:
    day: date
    inspections: int = 0
    compliant: int = 0
    score_sum: float = 0.0


@dataclass
class Inspections:
    """Every submitted inspection in scope (not only current results), per day."""

    days: dict[date, Day]

    @property
    def count(self) -> int:
        return sum(day.inspections for day in self.days.values())

    @property
    def average_score(self) -> float | None:
        count = self.count
        return sum(day.score_sum for day in self.days.values()) / count if count else None

    @property
    def compliant_share(self) -> float | None:
        count = self.count
        return sum(day.compliant for day in self.days.values()) / count if count else None


def _of_campaign(campaign_column, filters: Filters) -> list[ColumnElement[bool]]:
    return [campaign_column == filters.campaign.id] if filters.campaign is not None else []


def inspections_query(
    scope: Scope, filters: Filters, *columns, with_places: bool = False
) -> Select:
    """Submitted inspections of stalls in scope; the verdict filter is the inspection's own.

    Stall, Venue and Province are joined when ``with_places`` (else only where needed).
    """
    query = (
        select(*columns)
        .select_from(Inspection)
        .where(
            Inspection.status == SUBMITTED,
            *_of_campaign(Inspection.campaign_id, filters),
            *filters.on_days(Inspection.submitted_day),
            *_scoped(Inspection.stall_id, scope, filters),
        )
    )
    if with_places:
        query = (
            query.join(Stall, Stall.id == Inspection.stall_id)
            .join(Venue, Venue.id == Stall.venue_id)
            .join(Province, Province.id == Venue.province_id)
        )
    if filters.verdict == NOT_INSPECTED:
        query = query.where(literal(False))
    elif filters.verdict:
        query = query.where(Inspection.verdict == filters.verdict)
    return query


def inspections_per_day(
    scope: Scope, filters: Filters, found: dict[int, Place] | None = None
) -> Inspections:
    """Submitted inspections per day, from the day tallies (one query).

    ``found`` is :func:`places` of the scope, if the caller has it already.
    """
    tally = DayTally
    query = _day_rows(
        scope,
        filters,
        tally.day.label("day"),
        func.coalesce(func.sum(tally.inspections), 0).label("inspections"),
        func.coalesce(
            func.sum(case((tally.verdict == scoring.COMPLIANT, tally.inspections), else_=0)), 0
        ).label("compliant"),
        func.coalesce(func.sum(tally.score_sum), 0).label("score_sum"),
        found=found,
    ).group_by(tally.day)
    return Inspections(
        {
            row.day: Day(
                row.day, int(row.inspections), int(row.compliant), float(row.score_sum or 0)
            )
            for row in db.session.execute(query)
            if row.day is not None and row.inspections
        }
    )


def trend_days(inspections: Inspections, filters: Filters) -> list[Day]:
    """The days to draw; days without inspections between count zero.

    With a campaign: its days (stretched to its inspections), within the date filters, at
    most MAX_CAMPAIGN_DAYS. Without: from the first to the last day with inspections (the
    filters already chose them), so the chart never shows an empty stretch beside a total it
    does not draw; at most MAX_TREND_DAYS (the latest ones).
    """
    if filters.campaign is not None:
        first, last = filters.campaign.first_day, filters.campaign.last_day
        first = max(first, filters.date_from or first)
        last = min(last, filters.date_to or last)
        if last < first:
            return []
        first = max(first, last - timedelta(days=MAX_CAMPAIGN_DAYS - 1))
    else:
        known = sorted(inspections.days)
        if not known:
            return []
        first, last = known[0], known[-1]
        first = max(first, last - timedelta(days=MAX_TREND_DAYS - 1))
    return [
        inspections.days.get(first + timedelta(days=n), Day(first + timedelta(days=n)))
        for n in range((last - first).days + 1)
    ]


# -- lists that start with the worst -------------------------------------------------------------


def worst_stalls_query(scope: Scope, filters: Filters, state: str = "failing") -> Select:
    """Stalls with their current result, worst first.

    Rows are ``(Stall, Venue, Artisan, inspection_id, verdict, score, day, critical)``.
    ``state``: "failing" (non-compliant, then needing follow-up), "never" (never inspected,
    or not within the date range) or "all" (every stall, worst first, never inspected last).
    Pages read it through :func:`worst_stalls`.
    """
    return _worst(scope, filters, state, Stall, Venue, Artisan, joined=True)


def worst_stalls(scope: Scope, filters: Filters, state: str, limit: int, offset: int = 0) -> list:
    """One page of :func:`worst_stalls_query`: the stalls sorted and cut to the page first,
    then their venues and artisans read for that page only (a region's 4,251 failing stalls
    at 2 million inspections: the artisans of 51, not of all)."""
    if (
        state != "never"
        and scope.venue_id is None  # a venue's few hundred stalls: sorted in one statement
        and (filters.reads_inspections or filters.campaign is not None)
    ):
        return _worst_by_verdict(scope, filters, state, limit, offset)
    page = (
        _worst(scope, filters, state, Stall.id.label("stall_id"), Stall.code.label("code"))
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    query = (
        select(
            Stall,
            Venue,
            Artisan,
            page.c.inspection_id,
            page.c.verdict,
            page.c.score,
            page.c.day,
            page.c.critical,
        )
        .select_from(page)
        .join(Stall, Stall.id == page.c.stall_id)
        .join(Venue, Venue.id == Stall.venue_id)
        .outerjoin(Artisan, Artisan.id == Stall.artisan_id)
        .order_by(page.c.severity, page.c.critical.desc(), page.c.score, page.c.code)
    )
    return list(db.session.execute(query))


def _worst(scope: Scope, filters: Filters, state: str, *columns, joined: bool = False) -> Select:
    """:func:`worst_stalls_query` selecting ``columns``; ``joined``: Venue and Artisan too."""
    if state == "never" and filters.reads_inspections:
        return _never_in_range(scope, filters, *columns, joined=joined)
    current = current_of(filters)
    severity = case(
        (current.verdict == scoring.NON_COMPLIANT, 0),
        (current.verdict == scoring.FOLLOW_UP, 1),
        (current.verdict == scoring.COMPLIANT, 2),
        else_=3,
    )
    query = current_stalls(
        scope,
        filters,
        *columns,
        current.inspection_id.label("inspection_id"),
        current.verdict.label("verdict"),
        current.score.label("score"),
        current.day.label("day"),
        current.critical.label("critical"),
        severity.label("severity"),
    )
    if joined and not _joins_places(scope, filters):
        query = query.join(Venue, Venue.id == Stall.venue_id)
    if joined and not filters.craft:
        query = query.outerjoin(Artisan, Artisan.id == Stall.artisan_id)
    if state == "failing":
        query = query.where(current.verdict.in_((scoring.NON_COMPLIANT, scoring.FOLLOW_UP)))
    elif state == "never":
        # No result, so no severity, critical failure or score to order by: by code alone,
        # which the database reads in order from the code's index (no sort of every stall).
        return query.where(current.inspection_id.is_(None)).order_by(Stall.code)
    return query.order_by(severity, current.critical.desc(), current.score, Stall.code)


# A list's verdicts in its order (severity 0, 1, 2); stalls never inspected come last (3).
SEVERITIES = (scoring.NON_COMPLIANT, scoring.FOLLOW_UP, scoring.COMPLIANT)


@dataclass(frozen=True)
class ListedStall:
    """A row of :func:`worst_stalls` built in Python (:func:`_worst_by_verdict`): the same
    names as the rows it reads in one statement otherwise."""

    Stall: Stall
    Venue: Venue
    Artisan: Artisan | None
    inspection_id: str | None
    verdict: str | None
    score: float | None
    day: date | None
    critical: int | None


def _worst_by_verdict(
    scope: Scope, filters: Filters, state: str, limit: int, offset: int
) -> list[ListedStall]:
    """:func:`worst_stalls` of a campaign, state "failing" or "all": one verdict after the
    other, each walked worst first along an index, then for "all" the stalls not inspected.

    Where results are read from the inspections (a date range, an earlier campaign), the
    inspections are walked (ix_inspection_worst: most critical failures, then lowest score),
    keeping those that are their stall's latest within the range (:func:`_latest_of_verdict`);
    otherwise the stalls' own results (ix_stall_worst, :func:`_current_of_verdict`). Each
    verdict is asked only for the rows the page still lacks: a first page of failing stalls
    never reads the compliant ones. Sorting every stall in scope instead cost, for the
    national list: one week, 47 ms at 200,000 inspections and 397 ms at 2 million on
    PostgreSQL; without dates, 299 ms at 2 million on SQLite.
    """
    wanted = offset + limit
    found: list = []
    verdicts = SEVERITIES[:2] if state == "failing" else SEVERITIES
    of_verdict = _latest_of_verdict if filters.reads_inspections else _current_of_verdict
    for verdict in verdicts:
        if len(found) >= wanted:
            break
        if filters.verdict in (None, verdict):
            found += db.session.execute(
                of_verdict(scope, filters, verdict).limit(wanted - len(found))
            ).all()
    if state == "all" and filters.verdict in (None, NOT_INSPECTED) and len(found) < wanted:
        columns = (Stall.id.label("stall_id"), Stall.code.label("code"))
        if filters.reads_inspections:
            never = _never_in_range(scope, filters, *columns, joined=False)
        else:
            never = _worst(scope, filters, "never", *columns)
        found += db.session.execute(never.limit(wanted - len(found))).all()
    page = found[offset:wanted]
    if not page:
        return []
    places = {
        row.Stall.id: row
        for row in db.session.execute(
            select(Stall, Venue, Artisan)
            .join(Venue, Venue.id == Stall.venue_id)
            .outerjoin(Artisan, Artisan.id == Stall.artisan_id)
            .where(Stall.id.in_([row.stall_id for row in page]))
        )
    }
    return [
        ListedStall(
            *places[row.stall_id],
            row.inspection_id,
            row.verdict,
            row.score,
            row.day,
            row.critical,
        )
        for row in page
    ]


def _listed(result: Current) -> Select:
    """SELECT a stall's id and code and ``result``'s columns, as :func:`_worst` names them."""
    return select(
        Stall.id.label("stall_id"),
        Stall.code.label("code"),
        result.inspection_id.label("inspection_id"),
        result.verdict.label("verdict"),
        result.score.label("score"),
        result.day.label("day"),
        result.critical.label("critical"),
    )


def _current_of_verdict(scope: Scope, filters: Filters, verdict: str) -> Select:
    """The stalls in scope whose current result in the (latest) campaign has ``verdict``,
    worst first along ix_stall_worst (:func:`_worst_by_verdict`)."""
    query = _listed(LATEST).select_from(Stall)
    query = _stalls_in_scope(query, scope, filters).where(
        Stall.current_campaign_id == filters.campaign.id, Stall.current_verdict == verdict
    )
    return query.order_by(Stall.current_critical.desc(), Stall.current_score, Stall.code)


def _latest_of_verdict(scope: Scope, filters: Filters, verdict: str) -> Select:
    """The stalls in scope whose latest inspection within the range has ``verdict``, worst
    first (:func:`_worst_by_verdict`), with the same columns."""
    made = aliased(Inspection)
    later = aliased(Inspection)
    superseded = (
        select(later.id)
        .where(
            later.stall_id == made.stall_id,
            later.status == SUBMITTED,
            *_of_campaign(later.campaign_id, filters),
            *filters.on_days(later.submitted_day),
            or_(
                later.submitted_day > made.submitted_day,
                and_(
                    later.submitted_day == made.submitted_day,
                    or_(
                        later.submitted_at > made.submitted_at,
                        and_(later.submitted_at == made.submitted_at, later.id > made.id),
                    ),
                ),
            ),
        )
        .exists()
    )
    result = Current(
        made.id,
        made.checklist_version_id,
        made.verdict,
        made.score,
        made.critical_failures,
        made.submitted_day,
    )
    query = _listed(result).select_from(made)
    # A campaign's inspections are of venues taking part: no need to ask again.
    query = _stalls_in_scope(
        query.join(Stall, Stall.id == made.stall_id),
        scope,
        filters,
        taking_part=False,
        by_stall=True,
    )
    day = made.submitted_day
    if db.engine.dialect.name == "sqlite":
        # "+day": SQLite then walks ix_inspection_worst in the list's order, where it took the
        # day's index and sorted the whole range (720 ms for a week at 2 million).
        day = _unindexed(day, Date)
    return query.where(
        made.status == SUBMITTED,
        made.verdict == verdict,
        *_of_campaign(made.campaign_id, filters),
        *filters.on_days(day),
        ~superseded,
    ).order_by(made.critical_failures.desc(), made.score, Stall.code)


def _never_in_range(scope: Scope, filters: Filters, *columns, joined: bool) -> Select:
    """The stalls in scope with no inspection within the date range (or the earlier campaign),
    in code order, with :func:`_worst`'s columns (no result: all empty).

    A NOT EXISTS per stall, walked in code order: a page is found among the first stalls.
    Joined to every stall's latest inspection in the range then filtered on the missing ones,
    each stall was read (70 ms for the national list at 200,000 inspections, 650 ms at 2
    million): PostgreSQL cannot estimate how many a left join leaves empty.
    """
    query = select(
        *columns,
        # Typed like the inspections' columns they stand for.
        cast(null(), String).label("inspection_id"),
        cast(null(), String).label("verdict"),
        cast(null(), Float).label("score"),
        cast(null(), Date).label("day"),
        cast(null(), Integer).label("critical"),
        literal_column("3").label("severity"),
    ).select_from(Stall)
    query = _stalls_in_scope(query, scope, filters)
    if filters.verdict and filters.verdict != NOT_INSPECTED:
        return query.where(literal(False))  # a result with a verdict is not "never"
    inspected = (
        select(Inspection.id)
        .where(
            Inspection.stall_id == Stall.id,
            Inspection.status == SUBMITTED,
            *_of_campaign(Inspection.campaign_id, filters),
            *filters.on_days(Inspection.submitted_day),
        )
        .exists()
    )
    query = query.where(~inspected)
    if joined and not _joins_places(scope, filters):
        query = query.join(Venue, Venue.id == Stall.venue_id)
    if joined and not filters.craft:
        query = query.outerjoin(Artisan, Artisan.id == Stall.artisan_id)
    return query.order_by(Stall.code)


def rows(query: Select, limit: int, offset: int = 0) -> list:
    return list(db.session.execute(query.limit(limit).offset(offset)))


# -- one page's worth -------------------------------------------------------------------------


@dataclass
class Dashboard:
    """Everything the overview of a scope shows, from a fixed number of queries."""

    scope: Scope
    filters: Filters
    today: date
    places: dict[int, Place]
    counts: StallCounts
    rules: list[Rate]
    items: list[Rate]
    inspections: Inspections
    trend: list[Day]
    item_labels: dict[str, Item]
    regions: list[Region] = field(default_factory=list)

    @property
    def total(self) -> Tally:
        return self.counts.total

    def groups(self, level: str) -> list[tuple[object, Tally]]:
        """Per region, province or venue: ``(row, tally)`` in code/name order.

        Groups with no stall matching the filters still appear (with zeros), so a region or a
        venue never silently drops out of the table.
        """
        if level == "venue":
            return [
                (place.venue, self.counts.by_venue.get(venue_id, Tally()))
                for venue_id, place in self.places.items()
            ]
        rolled = roll_up(self.counts.by_venue, self.places, level)
        if level == "region" and self.counts.by_region is not None:
            # The whole country: a period's figures and the actions are counted per region.
            for key, tally in self.counts.by_region.items():
                rolled.setdefault(key, Tally()).add(tally)
        seen: dict[int, object] = {}
        if level == "region":  # every region, even one with no venue yet
            seen.update((region.id, region) for region in self.regions)
        for place in self.places.values():
            row = place.province if level == "province" else place.region
            seen.setdefault(row.id, row)
        return [(row, rolled.get(key, Tally())) for key, row in seen.items()]

    def never_inspected_venues(self) -> list[Venue]:
        if self.filters.dated:  # a period counts inspections: no stall is "never inspected"
            return []
        return [
            place.venue
            for venue_id, place in self.places.items()
            if self.counts.by_venue.get(venue_id, Tally()).stalls
            and not self.counts.by_venue[venue_id].inspected
        ]


def dashboard(
    scope: Scope, filters: Filters, found: dict[int, Place] | None = None, on: date | None = None
) -> Dashboard:
    """The figures of one scope in a fixed number of queries (six, seven for the country).

    ``found`` is :func:`places` of the scope, if the caller has it already.
    """
    on = on or today()
    found = places(scope, filters.campaign) if found is None else found
    counts = stall_counts(scope, filters, found)
    if actions_per_region(scope, filters):
        actions = region_action_counts(scope, filters, on, found)
        add_action_counts(counts, actions, per_region=True)
    else:
        add_action_counts(counts, action_counts(scope, filters, on, found))
    versions = checklists()
    rules, items = rule_and_item_rates(
        versions, counts.inspected_by_version, answer_counts(scope, filters, found=found)
    )
    per_day = inspections_per_day(scope, filters, found)
    regions = (
        list(db.session.scalars(select(Region).order_by(Region.code))) if scope.national else []
    )
    return Dashboard(
        scope,
        filters,
        on,
        found,
        counts,
        rules,
        items,
        per_day,
        trend_days(per_day, filters),
        item_labels(versions),
        regions,
    )


def item_labels(versions: dict[int, Checklist]) -> dict[str, Item]:
    """Checklist items by key, the newest version's wording first (to name corrective actions)."""
    found: dict[str, Item] = {}
    for version_id in sorted(versions, reverse=True):
        for item in versions[version_id].items():
            found.setdefault(item.key, item)
    return found


def open_data(filters: Filters, region_id: int | None) -> list[dict]:
    """Per-region and per-rule aggregates with no personal data, for the open-data CSV.

    One row per region (rule empty) then one per region and rule; for the whole country
    (``region_id`` None) the same again for "MA". Counts and rates only: no stall, artisan or
    inspector appears. Four queries, whatever the number of regions.
    """
    scope = Scope(region_id=region_id)
    versions = checklists()
    found = places(scope, filters.campaign)
    if filters.dated:
        counts = period_counts(scope, filters, found, per_venue=True)
    else:
        counts = stall_counts(scope, filters)
    by_region = roll_up(counts.by_venue, found, "region")
    answers: dict[int, list[tuple]] = defaultdict(list)
    for region, *rest in answer_counts(scope, filters, by_region=True, found=found):
        answers[region].append(tuple(rest))
    # Inspections per version for each region: roll the venue rows up again, by version.
    regions = {place.region.id: place.region for place in found.values()}
    versions_by_region: dict[int, dict[int, int]] = {key: defaultdict(int) for key in regions}
    for (venue_id, version_id), inspected in counts.inspected_by_venue_version.items():
        place = found.get(venue_id)
        if place is not None:
            versions_by_region[place.region.id][version_id] += inspected
    out: list[dict] = []
    groups = [
        (
            region.code,
            region.name_fr,
            region.name_ar,
            by_region.get(key, Tally()),
            versions_by_region[key],
            answers[key],
        )
        for key, region in sorted(regions.items(), key=lambda kv: kv[1].code)
    ]
    if region_id is None:
        every = [row for key in answers for row in answers[key]]
        groups.append(("MA", "Maroc", "المغرب", counts.total, counts.inspected_by_version, every))
    for code, name_fr, name_ar, total, inspected_by_version, counted in groups:
        rules, _items = rule_and_item_rates(versions, inspected_by_version, counted)
        base = {"scope": code, "name_fr": name_fr, "name_ar": name_ar}
        out.append(
            {
                **base,
                "rule": "",
                "stalls": total.stalls,
                "inspected": total.inspected,
                "compliant": total.compliant,
                "compliance_rate": total.compliance_rate,
                "average_score": total.average_score,
                "passed": None,
                "failed": None,
                "pass_rate": None,
            }
        )
        for rate in rules:
            out.append(
                {
                    **base,
                    "rule": rate.key,
                    "stalls": None,
                    "inspected": None,
                    "compliant": None,
                    "compliance_rate": None,
                    "average_score": None,
                    "passed": rate.passed,
                    "failed": rate.failed,
                    "pass_rate": rate.rate,
                }
            )
    return out
