"""Rounds: which inspector covers which sale space on which day, and what is left to see.

**The plan.** A round assignment sends one inspector to one venue on one day of a campaign,
optionally to a range of its stall codes only (two inspectors share a large fan zone). Rules:

- the day is one of the campaign's days, the venue takes part in it, the inspector is an
  active inspector of the venue's region; a closed campaign's plan no longer changes;
- one assignment per inspector, venue and day: assigning again changes its range;
- a range ``code_from``..``code_to`` is inclusive and either end may be empty (no bound).
  Codes are compared in their **natural order**: split into runs of digits and of letters,
  digits compared as numbers, letters without regard to case, separators (dashes, spaces,
  dots) ignored: ``A2`` comes before ``A10``, and ``a-3`` is ``A3`` (:func:`natural_key`).
  The same order is the walking order of a round (by code, then location), as stall codes
  are painted along the aisles;
- copying a day to the next N days makes each of those days' plan, for the venues copied,
  the same as the day's: missing assignments are added, ranges updated, others removed.

Every change is audited (``round.assign``, ``round.update``, ``round.unassign``,
``round.copy``) and committed; a refused change raises :class:`RoundError` with an English
source string (``N_``) that views translate, and changes nothing.

**What is left to see** (for campaign C, "today" being Morocco's day, :func:`dates.today`):

- a stall counts only while open: a stall closed mid-campaign leaves coverage, the grid and
  every round (its history stays on the chamber's pages);
- *inspected*: it has a submitted visit in C; *never inspected*: it has none;
- *due again*, only while C runs (a planned or closed campaign takes no visit), when any of:
  1. an open corrective action's fix date has passed: ``due_date < today`` (due today is not
     yet due again; an item failed again moves the date later, see inspections.py);
  2. the artisan reported a fix (``Stall.followup_requested_at``, cleared by the next visit);
  3. the chamber accepted a contest against the stall's latest visit: the result was amended
     on the artisan's word, so an inspector confirms it on the spot (the next visit, being
     the new latest, ends it);
- the grid's state of a stall is the first that holds of: due again, never inspected, then
  its latest verdict in C (compliant, follow-up, non-compliant);
- *to do* is never inspected or due again; *done today* means visited today in C by anyone,
  so a visit outside one's round counts for coverage and for the round it falls in.

Coverage is counted in SQL, a few queries per page whatever the number of stalls: for the
campaign whose results are the stalls' latest (``campaigns.is_latest``) from the stall rows'
``current_*`` columns, else from the campaign's own inspections.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, and_, case, func, literal, not_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from . import campaigns, dates
from .extensions import db
from .models import (
    ACCEPTED,
    INSPECTOR,
    RUNNING,
    SUBMITTED,
    Artisan,
    Campaign,
    CampaignVenue,
    Contest,
    Inspection,
    Province,
    RoundAssignment,
    Stall,
    User,
    Venue,
    audit,
)
from .photos import N_
from .scoring import COMPLIANT, FOLLOW_UP, NON_COMPLIANT

MAX_CODE = 32
MAX_COPY_DAYS = 31
WEEK = 7

# A stall's state on the grid, in the order they win.
DUE, NEVER = "due_again", "never"
STATES = (DUE, NEVER, NON_COMPLIANT, FOLLOW_UP, COMPLIANT)
# Why a stall is due again.
OVERDUE, FIX_REPORTED, CONTESTED = "overdue", "fix_reported", "contested"


class RoundError(Exception):
    """A change the round rules refuse; ``message`` is an English source string (N_)."""

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


# -- the natural order of stall codes -----------------------------------------------------------

_RUNS = re.compile(r"(\d+)")
_SEPARATORS = re.compile(r"[\W_]+")


def natural_key(code: str) -> tuple:
    """Sort key: ``A2`` < ``A-3`` < ``A10`` < ``b1``; digits before letters; case, dashes,
    spaces and other separators ignored (``A-3`` is ``a3``)."""
    parts = []
    for run in _RUNS.split((code or "").strip()):
        if not run:
            continue
        if run.isdigit():
            parts.append((0, int(run)))
        elif text := _SEPARATORS.sub("", run).casefold():
            parts.append((1, text))
    return tuple(parts)


def in_range(code: str, code_from: str, code_to: str) -> bool:
    """Whether ``code`` lies in ``code_from``..``code_to`` (inclusive; empty: no bound)."""
    key = natural_key(code)
    if code_from and key < natural_key(code_from):
        return False
    return not (code_to and key > natural_key(code_to))


def walk_key(code: str, location: str = "") -> tuple:
    """A round's walking order: by stall code, then location."""
    return (natural_key(code), location or "")


# -- the plan -------------------------------------------------------------------------------------


def _actor(user: User | None) -> tuple[str, int | None]:
    return (f"user:{user.id}", user.id) if user is not None else ("cli", None)


def _record(assignment: RoundAssignment) -> dict:
    return {
        "campaign": assignment.campaign_id,
        "venue": assignment.venue_id,
        "day": assignment.day.isoformat(),
        "inspector": assignment.inspector_id,
        "from": assignment.code_from,
        "to": assignment.code_to,
    }


def _require_changeable(campaign: Campaign) -> None:
    if campaign.closed:
        raise RoundError(N_("This campaign is closed: its rounds can no longer change."))


def _require_day(campaign: Campaign, day: date) -> None:
    if not campaign.first_day <= day <= campaign.last_day:
        raise RoundError(N_("This day is not one of the campaign's days."))


def _clean_code(code: str | None) -> str:
    code = (code or "").strip()
    if len(code) > MAX_CODE:
        raise RoundError(N_("A stall code has %(max)s characters at most."), max=MAX_CODE)
    return code


def assign(
    campaign: Campaign,
    venue: Venue,
    day: date,
    inspector: User,
    actor: User | None,
    code_from: str = "",
    code_to: str = "",
) -> RoundAssignment:
    """Send ``inspector`` to ``venue`` on ``day`` (or change the range if already sent)."""
    _require_changeable(campaign)
    _require_day(campaign, day)
    if not campaigns.takes_part(campaign.id, venue.id):
        raise RoundError(N_("This sale space does not take part in the campaign."))
    if (
        inspector.role != INSPECTOR
        or not inspector.active
        or inspector.region_id != venue.province.region_id
    ):
        raise RoundError(N_("Choose an inspector of the sale space's region."))
    code_from, code_to = _clean_code(code_from), _clean_code(code_to)
    if code_from and code_to and natural_key(code_from) > natural_key(code_to):
        raise RoundError(N_("The first stall code comes after the last one."))
    who, who_id = _actor(actor)
    existing = db.session.scalar(
        select(RoundAssignment).where(
            RoundAssignment.venue_id == venue.id,
            RoundAssignment.day == day,
            RoundAssignment.inspector_id == inspector.id,
        )
    )
    if existing is not None:
        if (existing.code_from, existing.code_to) == (code_from, code_to):
            return existing
        before = _record(existing)
        existing.code_from, existing.code_to = code_from, code_to
        audit(who, "round.update", "round_assignment", existing.id, before=before,
              after=_record(existing), actor_id=who_id)  # fmt: skip
        db.session.commit()
        return existing
    assignment = RoundAssignment(
        campaign_id=campaign.id,
        venue_id=venue.id,
        day=day,
        inspector_id=inspector.id,
        code_from=code_from,
        code_to=code_to,
        created_by_id=who_id,
    )
    db.session.add(assignment)
    try:
        db.session.flush()
    except IntegrityError:  # the same inspector sent there at the same moment by someone else
        db.session.rollback()
        raise RoundError(N_("Someone changed this round at the same time. Try again.")) from None
    audit(who, "round.assign", "round_assignment", assignment.id, after=_record(assignment),
          actor_id=who_id)  # fmt: skip
    db.session.commit()
    return assignment


def unassign(assignment: RoundAssignment, actor: User | None) -> None:
    """Take an inspector off a round. Committed."""
    _require_changeable(assignment.campaign)
    who, who_id = _actor(actor)
    audit(who, "round.unassign", "round_assignment", assignment.id, before=_record(assignment),
          actor_id=who_id)  # fmt: skip
    db.session.delete(assignment)
    db.session.commit()


@dataclass(frozen=True)
class Copied:
    days: list[date]
    added: int
    changed: int
    removed: int


def copy_day(
    campaign: Campaign, venues: Iterable[Venue], day: date, days: int, actor: User | None
) -> Copied:
    """Make the plan of the ``days`` days after ``day`` the same as ``day``'s, for ``venues``.

    Days past the campaign's last day are left out. One audit event says what changed.
    """
    _require_changeable(campaign)
    _require_day(campaign, day)
    if not 1 <= days <= MAX_COPY_DAYS:
        raise RoundError(N_("Copy to 1 to %(max)s days."), max=MAX_COPY_DAYS)
    targets = [
        day + timedelta(days=n)
        for n in range(1, days + 1)
        if day + timedelta(days=n) <= campaign.last_day
    ]
    if not targets:
        raise RoundError(N_("No day of the campaign follows this one."))
    venue_ids = [venue.id for venue in venues]
    source = list(
        db.session.scalars(
            select(RoundAssignment).where(
                RoundAssignment.campaign_id == campaign.id,
                RoundAssignment.day == day,
                RoundAssignment.venue_id.in_(venue_ids),
            )
        )
    )
    existing = {
        (a.venue_id, a.day, a.inspector_id): a
        for a in db.session.scalars(
            select(RoundAssignment).where(
                RoundAssignment.campaign_id == campaign.id,
                RoundAssignment.day.in_(targets),
                RoundAssignment.venue_id.in_(venue_ids),
            )
        )
    }
    who, who_id = _actor(actor)
    added = changed = 0
    replaced = []
    for target in targets:
        for a in source:
            found = existing.pop((a.venue_id, target, a.inspector_id), None)
            if found is None:
                db.session.add(
                    RoundAssignment(
                        campaign_id=campaign.id,
                        venue_id=a.venue_id,
                        day=target,
                        inspector_id=a.inspector_id,
                        code_from=a.code_from,
                        code_to=a.code_to,
                        created_by_id=who_id,
                    )
                )
                added += 1
            elif (found.code_from, found.code_to) != (a.code_from, a.code_to):
                replaced.append(_record(found))
                found.code_from, found.code_to = a.code_from, a.code_to
                changed += 1
    for left in existing.values():
        replaced.append(_record(left))
        db.session.delete(left)
    removed = len(existing)
    audit(
        who,
        "round.copy",
        "campaign",
        campaign.id,
        before={"replaced": replaced} if replaced else None,
        after={
            "day": day.isoformat(),
            "to": [target.isoformat() for target in targets],
            "venues": venue_ids,
            "plan": [_record(a) for a in source],
            "added": added,
            "changed": changed,
            "removed": removed,
        },
        actor_id=who_id,
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise RoundError(N_("Someone changed this round at the same time. Try again.")) from None
    return Copied(targets, added, changed, removed)


# -- reading the plan -----------------------------------------------------------------------------


def campaign_venues(campaign: Campaign, region_id: int | None) -> list[Venue]:
    """The venues taking part in ``campaign`` (of one region, unless None), by city and name."""
    query = (
        select(Venue)
        .join(CampaignVenue, CampaignVenue.venue_id == Venue.id)
        .join(Province, Province.id == Venue.province_id)
        .where(CampaignVenue.campaign_id == campaign.id)
        .options(joinedload(Venue.province))
        .order_by(Venue.city, Venue.name_fr, Venue.id)
    )
    if region_id is not None:
        query = query.where(Province.region_id == region_id)
    return list(db.session.scalars(query))


def inspectors(region_id: int | None) -> list[User]:
    """The active inspectors one may send on a round (of one region, unless None)."""
    query = select(User).where(User.role == INSPECTOR, User.active.is_(True))
    if region_id is not None:
        query = query.where(User.region_id == region_id)
    return list(db.session.scalars(query.order_by(User.name, User.id)))


def week_start(campaign: Campaign, asked: date | None) -> date:
    """The first day a plan page shows: the one asked for, else today, kept in the campaign."""
    start = asked or dates.today()
    return min(max(start, campaign.first_day), max(campaign.first_day, campaign.last_day))


@dataclass
class Plan:
    """A week's plan: ``cells[(venue_id, day)]`` holds the assignments of that venue and day."""

    venues: list[Venue]
    days: list[date]
    cells: dict[tuple[int, date], list[RoundAssignment]]


def plan(campaign: Campaign, venues: list[Venue], start: date, days: int = WEEK) -> Plan:
    shown = [start + timedelta(days=n) for n in range(days)]
    shown = [d for d in shown if campaign.first_day <= d <= campaign.last_day]
    cells: dict[tuple[int, date], list[RoundAssignment]] = defaultdict(list)
    if venues and shown:
        for a in db.session.scalars(
            select(RoundAssignment)
            .where(
                RoundAssignment.campaign_id == campaign.id,
                RoundAssignment.venue_id.in_([v.id for v in venues]),
                RoundAssignment.day.between(shown[0], shown[-1]),
            )
            .options(joinedload(RoundAssignment.inspector))
        ):
            cells[(a.venue_id, a.day)].append(a)
    for assignments in cells.values():
        assignments.sort(key=lambda a: (natural_key(a.code_from), a.inspector.name))
    return Plan(venues, shown, cells)


def day_of(venue: Venue, day: date) -> list[RoundAssignment]:
    """One venue's assignments of one day, by range."""
    found = db.session.scalars(
        select(RoundAssignment)
        .where(RoundAssignment.venue_id == venue.id, RoundAssignment.day == day)
        .options(joinedload(RoundAssignment.inspector))
    )
    return sorted(found, key=lambda a: (natural_key(a.code_from), a.inspector.name))


# -- what each stall needs ----------------------------------------------------------------------


def _flag(condition) -> object:
    """An SQL 1/0 (PostgreSQL cannot sum booleans)."""
    return case((condition, 1), else_=0)


@dataclass(frozen=True)
class _Needs:
    """The SQL conditions of what a stall needs (see the module docstring)."""

    verdict: object
    visited: object
    visited_today: object
    overdue: object
    fix_reported: object
    contested: object

    @property
    def due(self) -> object:
        return or_(self.overdue, self.fix_reported, self.contested)

    @property
    def todo(self) -> object:
        return or_(not_(self.visited), self.due)


def _scoped(
    campaign: Campaign,
    today: date,
    *,
    region_id: int | None = None,
    province_id: int | None = None,
    venue_ids: Iterable[int] | None = None,
    inspector_id: int | None = None,
    latest: bool | None = None,
) -> tuple[Select, _Needs]:
    """The open stalls of the scope (a query without columns yet), and what each needs."""
    if latest is None:
        latest = campaigns.is_latest(campaign)
    query = (
        select()
        .select_from(Stall)
        .join(Venue, Venue.id == Stall.venue_id)
        .join(CampaignVenue, CampaignVenue.venue_id == Stall.venue_id)
        .where(CampaignVenue.campaign_id == campaign.id, Stall.closed_at.is_(None))
    )
    if latest:
        visited = func.coalesce(Stall.current_campaign_id, 0) == campaign.id
        visited_today = and_(visited, Stall.current_day == today)
        verdict = case((visited, Stall.current_verdict), else_=None)
    else:
        mine = (Inspection.campaign_id == campaign.id, Inspection.status == SUBMITTED)
        last = (
            select(
                Inspection.stall_id.label("stall_id"),
                func.max(Inspection.submitted_day).label("last_day"),
            )
            .where(*mine)
            .group_by(Inspection.stall_id)
            .subquery()
        )
        query = query.outerjoin(last, last.c.stall_id == Stall.id)
        visited = last.c.stall_id.is_not(None)
        visited_today = last.c.last_day == today
        verdict = (
            select(Inspection.verdict)
            .where(Inspection.stall_id == Stall.id, *mine)
            .order_by(Inspection.submitted_at.desc())
            .limit(1)
            .scalar_subquery()
        )
    if campaign.state == RUNNING:
        # From the stall's row: the earliest fix date of its open actions, kept by triggers
        # (migration 0018). A look-up of its actions per stall was 60 of the 100 ms of a
        # region's coverage at 2 million inspections on PostgreSQL.
        overdue = Stall.open_action_due < today
        fix_reported = Stall.followup_requested_at.is_not(None)
        contested = and_(
            Stall.latest_inspection_id.is_not(None),
            Stall.latest_inspection_id.in_(
                select(Contest.inspection_id).where(Contest.status == ACCEPTED)
            ),
        )
    else:
        overdue = fix_reported = contested = literal(False)
    if region_id is not None:
        query = query.join(Province, Province.id == Venue.province_id).where(
            Province.region_id == region_id
        )
    if province_id is not None:
        query = query.where(Venue.province_id == province_id)
    if venue_ids is not None:
        query = query.where(Stall.venue_id.in_(list(venue_ids)))
    if inspector_id is not None:
        query = query.where(
            Stall.id.in_(
                select(Inspection.stall_id).where(
                    Inspection.campaign_id == campaign.id,
                    Inspection.inspector_id == inspector_id,
                    Inspection.status == SUBMITTED,
                )
            )
        )
    return query, _Needs(verdict, visited, visited_today, overdue, fix_reported, contested)


def stall_facts(campaign: Campaign, today: date, **scope) -> Select:
    """One row per open stall of the campaign's venues in the scope, with what it needs.

    Columns: id, code, location, location_ar, venue_id, province_id, artisan_ar,
    artisan_latin, verdict (latest in the campaign), visited, visited_today, overdue,
    fix_reported, contested, due, todo (the last seven 1/0). See the module docstring.
    Scope (keywords): ``region_id``, ``province_id``, ``venue_ids``, ``inspector_id`` (only
    the stalls that inspector inspected in the campaign: the per-inspector drill-down of the
    coverage page); ``latest`` (whether the campaign's results are the stalls' latest) is
    looked up if None.
    """
    query, needs = _scoped(campaign, today, **scope)
    return query.outerjoin(Artisan, Artisan.id == Stall.artisan_id).add_columns(
        Stall.id,
        Stall.code,
        Stall.location,
        Stall.location_ar,
        Stall.venue_id,
        Venue.province_id,
        Artisan.name_ar.label("artisan_ar"),
        Artisan.name_latin.label("artisan_latin"),
        needs.verdict.label("verdict"),
        _flag(needs.visited).label("visited"),
        _flag(needs.visited_today).label("visited_today"),
        _flag(needs.overdue).label("overdue"),
        _flag(needs.fix_reported).label("fix_reported"),
        _flag(needs.contested).label("contested"),
        _flag(needs.due).label("due"),
        _flag(needs.todo).label("todo"),
    )


def state_of(visited: bool, verdict: str | None, due: bool) -> str:
    """The grid's state of a stall (see the module docstring)."""
    if due:
        return DUE
    if not visited or verdict not in (COMPLIANT, FOLLOW_UP, NON_COMPLIANT):
        return NEVER
    return verdict


@dataclass(frozen=True)
class StallFact:
    """A row of :func:`stall_facts`, with its state and why it is due again."""

    id: int
    code: str
    location: str
    location_ar: str
    venue_id: int
    province_id: int
    artisan_ar: str | None
    artisan_latin: str | None
    verdict: str | None
    visited: bool
    visited_today: bool
    reasons: tuple[str, ...]

    @property
    def due(self) -> bool:
        return bool(self.reasons)

    @property
    def state(self) -> str:
        return state_of(self.visited, self.verdict, self.due)

    @property
    def todo(self) -> bool:
        return self.due or not self.visited

    @classmethod
    def of(cls, row) -> StallFact:
        reasons = tuple(name for name in (OVERDUE, FIX_REPORTED, CONTESTED) if getattr(row, name))
        return cls(
            id=row.id,
            code=row.code,
            location=row.location or "",
            location_ar=row.location_ar or "",
            venue_id=row.venue_id,
            province_id=row.province_id,
            artisan_ar=row.artisan_ar,
            artisan_latin=row.artisan_latin,
            verdict=row.verdict,
            visited=bool(row.visited),
            visited_today=bool(row.visited_today),
            reasons=reasons,
        )


def facts(campaign: Campaign, today: date | None = None, **scope) -> list[StallFact]:
    """The stalls of a scope (see :func:`stall_facts`) in walking order."""
    today = today or dates.today()
    rows = [StallFact.of(row) for row in db.session.execute(stall_facts(campaign, today, **scope))]
    rows.sort(key=lambda f: (f.venue_id, walk_key(f.code, f.location)))
    return rows


def stalls_in_state(stalls: Iterable[StallFact], state: str | None) -> list[StallFact]:
    """A drill-down: ``state`` is one of STATES, "todo", "inspected", "today" or None (all)."""
    if state is None:
        return list(stalls)
    tests = {
        "todo": lambda f: f.todo,
        "inspected": lambda f: f.visited,
        "today": lambda f: f.visited_today,
    }
    test = tests.get(state, lambda f: f.state == state)
    return [f for f in stalls if test(f)]


# -- coverage -------------------------------------------------------------------------------------


@dataclass
class Tally:
    stalls: int = 0
    inspected: int = 0
    inspected_today: int = 0
    due: int = 0
    todo: int = 0

    @property
    def never(self) -> int:
        return self.stalls - self.inspected

    @property
    def share(self) -> float | None:
        return self.inspected / self.stalls if self.stalls else None

    def add(self, other: Tally) -> None:
        self.stalls += other.stalls
        self.inspected += other.inspected
        self.inspected_today += other.inspected_today
        self.due += other.due
        self.todo += other.todo


@dataclass
class PlaceCoverage:
    place: object  # a Venue or a Province
    tally: Tally
    inspectors_today: list[User] = field(default_factory=list)


def _tallies(campaign: Campaign, today: date, key: str, **scope) -> dict[int, Tally]:
    """Per venue (``key`` "venue_id") or province ("province_id"): only the columns counted,
    which ix_stall_coverage holds (no stall row read on either engine)."""
    query, needs = _scoped(campaign, today, **scope)
    group = Stall.venue_id if key == "venue_id" else Venue.province_id
    rows = db.session.execute(
        query.add_columns(
            group,
            func.count(),
            func.sum(_flag(needs.visited)),
            func.sum(_flag(needs.visited_today)),
            func.sum(_flag(needs.due)),
            func.sum(_flag(needs.todo)),
        ).group_by(group)
    )
    return {
        row[0]: Tally(row[1], row[2] or 0, row[3] or 0, row[4] or 0, row[5] or 0) for row in rows
    }


def coverage_by_venue(
    campaign: Campaign, region_id: int | None, today: date | None = None
) -> tuple[list[PlaceCoverage], Tally]:
    """Each venue of the campaign in the region: its tally and who is on its round today."""
    today = today or dates.today()
    venues = campaign_venues(campaign, region_id)
    tallies = _tallies(campaign, today, "venue_id", region_id=region_id)
    on_round: dict[int, list[User]] = defaultdict(list)
    for a in db.session.scalars(
        select(RoundAssignment)
        .where(RoundAssignment.campaign_id == campaign.id, RoundAssignment.day == today)
        .options(joinedload(RoundAssignment.inspector))
    ):
        on_round[a.venue_id].append(a.inspector)
    total = Tally()
    found = []
    for venue in venues:
        tally = tallies.get(venue.id, Tally())
        total.add(tally)
        people = sorted(on_round.get(venue.id, []), key=lambda u: u.name)
        found.append(PlaceCoverage(venue, tally, people))
    return found, total


def coverage_by_province(
    campaign: Campaign, region_id: int | None, today: date | None = None
) -> tuple[list[PlaceCoverage], Tally]:
    today = today or dates.today()
    tallies = _tallies(campaign, today, "province_id", region_id=region_id)
    provinces = db.session.scalars(
        select(Province).where(Province.id.in_(list(tallies))).order_by(Province.name_fr)
    )
    total = Tally()
    found = []
    for province in provinces:
        total.add(tallies[province.id])
        found.append(PlaceCoverage(province, tallies[province.id]))
    return found, total


@dataclass
class InspectorCoverage:
    inspector: User
    days_planned: int = 0  # days with a round in the campaign
    visits: int = 0  # submitted visits in the campaign
    stalls_visited: int = 0  # distinct stalls among them
    round_today: int = 0  # stalls in today's round(s)
    round_done: int = 0  # of those, visited today (by anyone)
    visits_today: int = 0
    outside_today: int = 0  # today's visits of stalls outside the inspector's round
    venues_today: list[Venue] = field(default_factory=list)


def coverage_by_inspector(
    campaign: Campaign, region_id: int | None, today: date | None = None
) -> list[InspectorCoverage]:
    """Each inspector of the region: rounds planned, visits made, today's round and its done."""
    today = today or dates.today()
    people = {u.id: InspectorCoverage(u) for u in inspectors(region_id)}
    if not people:
        return []
    ids = list(people)
    for inspector_id, n in db.session.execute(
        select(RoundAssignment.inspector_id, func.count(func.distinct(RoundAssignment.day)))
        .where(RoundAssignment.campaign_id == campaign.id, RoundAssignment.inspector_id.in_(ids))
        .group_by(RoundAssignment.inspector_id)
    ):
        people[inspector_id].days_planned = n
    for inspector_id, visits, stalls in db.session.execute(
        select(
            Inspection.inspector_id, func.count(), func.count(func.distinct(Inspection.stall_id))
        )
        .where(
            Inspection.campaign_id == campaign.id,
            Inspection.inspector_id.in_(ids),
            Inspection.status == SUBMITTED,
        )
        .group_by(Inspection.inspector_id)
    ):
        people[inspector_id].visits = visits
        people[inspector_id].stalls_visited = stalls
    todays = list(
        db.session.scalars(
            select(RoundAssignment)
            .where(
                RoundAssignment.campaign_id == campaign.id,
                RoundAssignment.day == today,
                RoundAssignment.inspector_id.in_(ids),
            )
            .options(joinedload(RoundAssignment.venue))
        )
    )
    by_venue: dict[int, list[StallFact]] = defaultdict(list)
    if todays:
        for fact in facts(campaign, today, venue_ids={a.venue_id for a in todays}):
            by_venue[fact.venue_id].append(fact)
    for a in todays:
        person = people[a.inspector_id]
        person.venues_today.append(a.venue)
        mine = [f for f in by_venue[a.venue_id] if in_range(f.code, a.code_from, a.code_to)]
        person.round_today += len(mine)
        person.round_done += sum(1 for f in mine if f.visited_today)
    rounds_today: dict[int, list[RoundAssignment]] = defaultdict(list)
    for a in todays:
        rounds_today[a.inspector_id].append(a)
    for inspector_id, venue_id, code in db.session.execute(
        select(Inspection.inspector_id, Stall.venue_id, Stall.code)
        .join(Stall, Stall.id == Inspection.stall_id)
        .where(
            Inspection.campaign_id == campaign.id,
            Inspection.inspector_id.in_(ids),
            Inspection.status == SUBMITTED,
            Inspection.submitted_day == today,
        )
    ):
        person = people[inspector_id]
        person.visits_today += 1
        if not any(
            a.venue_id == venue_id and in_range(code, a.code_from, a.code_to)
            for a in rounds_today[inspector_id]
        ):
            person.outside_today += 1
    return list(people.values())


# -- an inspector's round -------------------------------------------------------------------------


@dataclass
class RoundVenue:
    """One assignment of an inspector's day, with its stalls in walking order."""

    assignment: RoundAssignment
    todo: list[StallFact]  # due again first, then never inspected; not yet visited today
    done: list[StallFact]  # visited today (by anyone)

    @property
    def venue(self) -> Venue:
        return self.assignment.venue


def round_of(inspector: User, day: date | None = None) -> list[RoundVenue]:
    """``inspector``'s round on ``day`` (today): its venues and the stalls to visit there.

    Only a running campaign's round: a closed campaign takes no more visits.
    """
    day = day or dates.today()
    assignments = list(
        db.session.scalars(
            select(RoundAssignment)
            .join(Campaign, Campaign.id == RoundAssignment.campaign_id)
            .where(
                RoundAssignment.inspector_id == inspector.id,
                RoundAssignment.day == day,
                Campaign.state == RUNNING,
            )
            .options(
                joinedload(RoundAssignment.venue).joinedload(Venue.province),
                joinedload(RoundAssignment.campaign),
            )
        )
    )
    if not assignments:
        return []
    campaign = assignments[0].campaign  # at most one campaign runs
    by_venue: dict[int, list[StallFact]] = defaultdict(list)
    for fact in facts(campaign, day, venue_ids={a.venue_id for a in assignments}):
        by_venue[fact.venue_id].append(fact)
    found = []
    for a in sorted(assignments, key=lambda a: (a.venue.city, a.venue.name_fr, a.venue_id)):
        mine = [f for f in by_venue[a.venue_id] if in_range(f.code, a.code_from, a.code_to)]
        todo = [f for f in mine if f.todo and not f.visited_today]
        todo.sort(key=lambda f: (not f.due, walk_key(f.code, f.location)))
        done = [f for f in mine if f.visited_today]
        found.append(RoundVenue(a, todo, done))
    return found


def inspector_by_id(user_id: int | None) -> User | None:
    """The inspector a plan form names (the rules in :func:`assign` decide if they may go)."""
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.role == INSPECTOR else None


def assignment_of(venue: Venue, day: date, inspector_id: int | None) -> RoundAssignment | None:
    if inspector_id is None:
        return None
    return db.session.scalar(
        select(RoundAssignment).where(
            RoundAssignment.venue_id == venue.id,
            RoundAssignment.day == day,
            RoundAssignment.inspector_id == inspector_id,
        )
    )
