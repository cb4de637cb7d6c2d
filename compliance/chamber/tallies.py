"""Running tallies behind the chambers' dashboards, kept up to date as inspections are written.

A national page sums 20,000 stalls, 200,000 inspections and their answers (ten times that for
a whole country's season). Read from the base tables that costs hundreds of milliseconds, so
tallies are kept:

- on each stall, its latest inspection's outcome (``Stall.current_*``);
- ``current_tally``: the current results (the latest inspection's verdict, score and failed
  and N/A answers) of each stall and summed per venue (:class:`CurrentTally`);
- ``day_tally``: the submitted inspections of each day, with their verdict, score and failed
  and N/A answers (:class:`DayTally`), at two grains: per venue, and per region;
- ``action_tally``: the open corrective actions by due date (:class:`ActionTally`),
  ``action_day_tally`` the same by the day they were opened too (:class:`ActionDayTally`),
  and ``action_current_tally`` by their stall's current verdict (:class:`ActionCurrentTally`),
  at the same two grains.

They are written in the same transaction as the change, by the code that makes the change,
calling the functions below (no flush listener guesses it from the rows):

- an inspection submitted (:mod:`compliance.inspections`): :func:`count_inspection` adds it
  to its day; if it becomes its stall's latest, the stall's row gets :func:`current_values`
  and :func:`replace_current` moves the stall's current tallies to the new result;
- a contest accepted (:mod:`compliance.artisan.contests`): :func:`uncount_inspection` takes
  the inspection out of the day tallies before it is rescored, :func:`count_inspection` puts
  it back after, and its stall is recomputed with :func:`refresh_stall`;
- stalls moved to another venue or artisan, or an artisan's craft changed (the register,
  :mod:`compliance.register`, and a coordinator's changes, :mod:`compliance.venues`):
  :func:`uncount_stalls` before, :func:`count_stalls` after (which also gives their
  corrective actions the stall's craft, ``CorrectiveAction.craft``, migration 0017).

Rows shared by the stalls of a venue (or a region) only ever change by atomic increments
(INSERT ... ON CONFLICT DO UPDATE), whatever else runs at once: a submission adds its day rows
at both grains with one statement, and moves its stall between its venue's current rows with
another. A stall's own rows are written under the stall's row lock, which every writer of a
stall's latest result takes first. Increments may leave shared rows at zero; readers sum them
as they are.

The action tallies are the exception: triggers on ``corrective_action`` (and on an
inspection's verdict, and on a stall's current verdict) keep them, inside the statement that
opens, closes or moves an action or changes a verdict (migrations 0016 and 0019), so that a
submission sends no extra statement and no writer of actions can forget.
Stalls moved or given another craft are recounted by :func:`uncount_stalls` and
:func:`count_stalls`, as for the day tallies.

Writes that bypass this code (a bulk import, a manual fix in SQL) must run :func:`rebuild`
(``flask tallies rebuild``), which recomputes everything from the base tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    Date,
    Float,
    Index,
    Integer,
    String,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db, dialect_insert
from ..models import (
    OPEN,
    SUBMITTED,
    Answer,
    Artisan,
    CorrectiveAction,
    Inspection,
    Province,
    Stall,
    Venue,
)

# ``DayTally.venue_id`` of the per-region rows; ``DayTally.item_key`` of the inspections' rows.
REGION_ROW = 0
INSPECTIONS_ROW = ""


class DayTally(db.Model):
    """Submitted inspections of one day, and their failed and N/A answers (migration 0013).

    Two grains in one table, so that a submission adds itself with one statement: rows with a
    venue (``venue_id`` > 0) and rows for the whole region (``venue_id`` = :data:`REGION_ROW`),
    which the national and regional pages read (a few thousand rows where the venues' rows
    are ten times more). Within each, the keys a page filters on: campaign, day, craft (of
    the stall's artisan, "" without one), checklist version and the inspection's verdict.

    ``item_key`` = :data:`INSPECTIONS_ROW`: ``inspections`` and their ``score_sum``. Any
    other ``item_key``: that item's ``fails`` and ``nas`` in those inspections; its passes are
    the inspections of that version less both (every item of a submitted inspection is
    answered), so passes are not stored.
    """

    __tablename__ = "day_tally"
    __table_args__ = (
        # The inspections' rows alone, covered: per-day counts and verdicts (the item rows
        # are ten times as many).
        Index(
            "ix_day_tally_inspections",
            "campaign_id",
            "venue_id",
            "region_id",
            "day",
            "craft",
            "verdict",
            "version_id",
            "inspections",
            "score_sum",
            sqlite_where=literal_column("item_key = ''"),
            postgresql_where=literal_column("item_key = ''"),
        ),
        # The items' rows alone, covered: their rows are written in no order, so reading them
        # through the key would fetch one table page per row.
        Index(
            "ix_day_tally_items",
            "campaign_id",
            "venue_id",
            "region_id",
            "day",
            "item_key",
            "craft",
            "verdict",
            "version_id",
            "fails",
            "nas",
            sqlite_where=literal_column("item_key != ''"),
            postgresql_where=literal_column("item_key != ''"),
        ),
    )
    # Key in this order: a page reads a campaign's rows of a few venues (or regions), by day.
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    craft: Mapped[str] = mapped_column(String(32), primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verdict: Mapped[str] = mapped_column(String(20), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    inspections: Mapped[int] = mapped_column(Integer, default=0)
    score_sum: Mapped[float] = mapped_column(Float, default=0.0)
    fails: Mapped[int] = mapped_column(Integer, default=0)
    nas: Mapped[int] = mapped_column(Integer, default=0)


class ActionTally(db.Model):
    """Open corrective actions, per venue and per region (migration 0016).

    Two grains in one table, like :class:`DayTally`: rows with a venue and rows for the whole
    region (``venue_id`` = :data:`REGION_ROW`). Keys: the action's campaign, its stall's craft
    ("" without an artisan) and its due date: "overdue" is due before today, so a page sums
    the rows due before today apart. ``open_actions`` counts them; a closed action leaves no
    row. Kept by triggers (see the module's docstring), with :class:`ActionDayTally`.
    """

    __tablename__ = "action_tally"
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    craft: Mapped[str] = mapped_column(String(32), primary_key=True)
    due_date: Mapped[date] = mapped_column(Date, primary_key=True)
    open_actions: Mapped[int] = mapped_column(Integer, default=0)


class ActionDayTally(db.Model):
    """:class:`ActionTally` by the day each action was opened and its opening inspection's
    verdict too, for a period's pages (migration 0016)."""

    __tablename__ = "action_day_tally"
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opened_day: Mapped[date] = mapped_column(Date, primary_key=True)
    craft: Mapped[str] = mapped_column(String(32), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(20), primary_key=True)
    due_date: Mapped[date] = mapped_column(Date, primary_key=True)
    open_actions: Mapped[int] = mapped_column(Integer, default=0)


class ActionCurrentTally(db.Model):
    """:class:`ActionTally` by the stall's current verdict too ("" if none), for the pages
    without dates filtered by verdict (migration 0019). A stall whose verdict changes has its
    open actions moved (by a trigger on the stall); rows may stay at zero after a move."""

    __tablename__ = "action_current_tally"
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    craft: Mapped[str] = mapped_column(String(32), primary_key=True)
    current_verdict: Mapped[str] = mapped_column(String(20), primary_key=True)
    due_date: Mapped[date] = mapped_column(Date, primary_key=True)
    open_actions: Mapped[int] = mapped_column(Integer, default=0)


def _action_keys(model) -> list[str]:
    return [column.name for column in model.__table__.primary_key.columns]


def _action_rows(model, where, sign: int = 1):
    """SELECT the rows of ``model`` (an action tally) of the open actions matching ``where``.

    Both grains, from the stalls' places and crafts as they are now; ``sign`` -1 makes rows
    that take them away.
    """
    grains = union_all(
        select(literal_column(str(REGION_ROW)).label("venue_grain")),
        select(literal_column("1").label("venue_grain")),
    ).subquery("grain")
    values = {
        "campaign_id": CorrectiveAction.campaign_id,
        "venue_id": case(
            (grains.c.venue_grain == literal_column("1"), Stall.venue_id),
            else_=literal_column(str(REGION_ROW)),
        ),
        "region_id": Province.region_id,
        "opened_day": CorrectiveAction.opened_day,
        "craft": func.coalesce(Artisan.craft, literal_column("''")),
        "verdict": func.coalesce(Inspection.verdict, literal_column("''")),
        "current_verdict": func.coalesce(Stall.current_verdict, literal_column("''")),
        "due_date": CorrectiveAction.due_date,
    }
    keys = [values[name] for name in _action_keys(model)]
    return (
        select(*keys, literal_column(str(int(sign))) * func.count())
        .select_from(CorrectiveAction)
        .join(Inspection, Inspection.id == CorrectiveAction.opened_by_id)
        .join(Stall, Stall.id == CorrectiveAction.stall_id)
        .join(Venue, Venue.id == Stall.venue_id)
        .join(Province, Province.id == Venue.province_id)
        .outerjoin(Artisan, Artisan.id == Stall.artisan_id)
        .join(grains, true())
        .where(CorrectiveAction.status == OPEN, where)
        .group_by(*keys)
    )


_ACTION_TALLIES = (ActionTally, ActionDayTally, ActionCurrentTally)


def _add_actions(stall_ids: list[int], sign: int) -> None:
    """Add (``sign`` -1: take away) the open actions of these stalls to the action tallies."""
    for model in _ACTION_TALLIES:
        table = model.__table__
        keys = _action_keys(model)
        statement = dialect_insert(table).from_select(
            [*keys, "open_actions"],
            _action_rows(model, CorrectiveAction.stall_id.in_(stall_ids), sign),
        )
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=keys,
                set_={"open_actions": table.c.open_actions + statement.excluded.open_actions},
            )
        )
        if sign < 0:
            db.session.execute(delete(model).where(model.open_actions == 0))


# ``CurrentTally.stall_id`` of the per-venue rows.
VENUE_ROW = 0


class CurrentTally(db.Model):
    """Each stall's current result, and the same summed per venue (migration 0014).

    Two grains in one table, like :class:`DayTally`: a stall's own rows (``stall_id``), which
    say what it adds to its venue's, and the venue's rows (``stall_id`` = :data:`VENUE_ROW`),
    which the overview pages read: O(venues), whatever the number of stalls. Keys: the
    campaign of the stall's latest inspection, its venue, its artisan's craft ("" without
    one), the checklist version and the verdict. ``item_key`` "" holds ``stalls`` and their
    ``score_sum``; any other ``item_key`` that item's ``fails`` and ``nas`` at those stalls'
    latest inspections (passes are the rest). A stall never inspected has no row: a venue's
    stalls are counted from the stall table.
    """

    __tablename__ = "current_tally"
    __table_args__ = (
        # The venues' rows alone, covered (migration 0015): the overview reads a campaign's
        # counts ('' rows) or its items' rows of a set of venues, never the stalls' own rows.
        Index(
            "ix_current_tally_venues",
            "campaign_id",
            "item_key",
            "venue_id",
            "craft",
            "version_id",
            "verdict",
            "stalls",
            "score_sum",
            "fails",
            "nas",
            sqlite_where=literal_column("stall_id = 0"),
            postgresql_where=literal_column("stall_id = 0"),
        ),
    )
    stall_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    craft: Mapped[str] = mapped_column(String(32), primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verdict: Mapped[str] = mapped_column(String(20), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    stalls: Mapped[int] = mapped_column(Integer, default=0)
    score_sum: Mapped[float] = mapped_column(Float, default=0.0)
    fails: Mapped[int] = mapped_column(Integer, default=0)
    nas: Mapped[int] = mapped_column(Integer, default=0)


_CURRENT_KEY = ["stall_id", "campaign_id", "venue_id", "craft", "version_id", "verdict", "item_key"]
_CURRENT_COLUMNS = [*_CURRENT_KEY, "stalls", "score_sum", "fails", "nas"]
_SUMS = ("stalls", "score_sum", "fails", "nas")


def _upsert_current(rows) -> None:
    """INSERT the rows of a SELECT into current_tally, adding to any there."""
    table = CurrentTally.__table__
    statement = dialect_insert(table).from_select(_CURRENT_COLUMNS, rows)
    db.session.execute(_adding(statement))


def _adding(statement):
    table = CurrentTally.__table__
    return statement.on_conflict_do_update(
        index_elements=_CURRENT_KEY,
        set_={name: table.c[name] + statement.excluded[name] for name in _SUMS},
    )


_REPLACE: dict[tuple[str, bool], object] = {}


def _replace_statement(known_craft: bool):
    """The upsert of a submission's rows, built once per engine (rows go as parameters).

    A stall's first result reads its craft from the artisan (``craft_of``); later ones keep
    the craft its venue's rows have it under (``craft``). Two statements, not one with a
    COALESCE of both: PostgreSQL cannot keep a generic plan of that one and planned it
    again for every row.
    """
    dialect = db.session.get_bind().dialect.name
    statement = _REPLACE.get((dialect, known_craft))
    if statement is None:
        insert_ = dialect_insert(CurrentTally.__table__)
        if not known_craft:
            insert_ = insert_.values(
                craft=select(func.coalesce(Artisan.craft, literal_column("''")))
                .select_from(Stall)
                .outerjoin(Artisan, Artisan.id == Stall.artisan_id)
                .where(Stall.id == bindparam("craft_of"))
                .scalar_subquery()
            )
        statement = _REPLACE[(dialect, known_craft)] = _adding(insert_)
    return statement


_DELETE_STALL_ROWS = (
    delete(CurrentTally.__table__)
    .where(CurrentTally.__table__.c.stall_id == bindparam("b_stall_id"))
    .returning(*(CurrentTally.__table__.c[name] for name in _CURRENT_COLUMNS))
)


def replace_current(
    stall_id: int,
    *,
    venue_id: int,
    campaign_id: int,
    version_id: int,
    verdict: str,
    score: float | None,
    failures: Mapping[str, str],
) -> set[str]:
    """Make this outcome the stall's current result in the tallies: two statements.

    ``failures`` are its items failed or N/A (item -> fail or na). The stall's rows are
    replaced and its venue's rows move from the old result to the new one, in one atomic
    upsert (other stalls of the venue may be submitted at the same time). Returns the items
    that were failed or N/A before. Only for a stall whose row lock the caller holds.
    """
    connection = db.session.connection()  # Core statements: no ORM execution step
    old = connection.execute(_DELETE_STALL_ROWS, {"b_stall_id": stall_id}).all()
    key = {"campaign_id": campaign_id, "venue_id": venue_id, "version_id": version_id}
    new = [
        {**key, "verdict": verdict, "item_key": "", "stalls": 1, "score_sum": score or 0.0,
         "fails": 0, "nas": 0},
        *(
            {**key, "verdict": verdict, "item_key": item, "stalls": 0, "score_sum": 0.0,
             "fails": int(result == "fail"), "nas": int(result != "fail")}
            for item, result in failures.items()
        ),
    ]  # fmt: skip
    # The venue's rows: the new result's less the old one's, summed per key.
    moved: dict[tuple, list[float]] = {}
    for sign, counted in ((-1, [row._asdict() for row in old]), (1, new)):
        for row in counted:
            sums = moved.setdefault(
                (row["campaign_id"], row["venue_id"], row["version_id"], row["verdict"],
                 row["item_key"]),
                [0, 0.0, 0, 0],
            )  # fmt: skip
            for i, name in enumerate(_SUMS):
                sums[i] += sign * row[name]
    venue_rows = [
        {"campaign_id": campaign, "venue_id": venue, "version_id": version,
         "verdict": verdict_, "item_key": item, **dict(zip(_SUMS, sums, strict=True))}
        for (campaign, venue, version, verdict_, item), sums in moved.items()
        if any(sums)
    ]  # fmt: skip
    craft = {"craft": old[0].craft} if old else {"craft_of": stall_id}
    connection.execute(
        _replace_statement(known_craft=bool(old)),
        [{**row, "stall_id": stall_id, **craft} for row in new]
        + [{**row, "stall_id": VENUE_ROW, **craft} for row in venue_rows],
    )
    return {row.item_key for row in old if row.item_key}


def _stall_rows(where):
    """SELECT the current_tally rows of the stalls matching ``where``, from the stall table."""
    keys = [
        Stall.id,
        func.coalesce(Stall.current_campaign_id, literal_column("0")),
        Stall.venue_id,
        func.coalesce(Artisan.craft, literal_column("''")),
        Stall.current_version_id,
        Stall.current_verdict,
    ]

    def of_stalls(query):
        return (
            query.select_from(Stall)
            .outerjoin(Artisan, Artisan.id == Stall.artisan_id)
            .where(
                Stall.latest_inspection_id.is_not(None),
                Stall.current_verdict.is_not(None),
                where,
            )
        )

    failed = Answer.result == literal_column("'fail'")
    return union_all(
        of_stalls(
            select(
                *keys,
                literal_column("''"),
                literal_column("1"),
                func.coalesce(Stall.current_score, literal_column("0.0")),
                literal_column("0"),
                literal_column("0"),
            )
        ),
        of_stalls(
            select(
                *keys,
                Answer.item_key,
                literal_column("0"),
                literal_column("0.0"),
                case((failed, 1), else_=0),
                case((failed, 0), else_=1),
            )
        ).join(Answer, and_(Answer.inspection_id == Stall.latest_inspection_id, _NOT_PASSED)),
    )


def _venue_rows_of(stalls, sign: int = 1):
    """SELECT the venue rows that the own rows of ``stalls`` (a condition on them) add up to.

    ``sign`` -1 makes rows that take them away.
    """
    times = literal_column(str(int(sign)))
    keys = [getattr(CurrentTally, name) for name in _CURRENT_KEY[1:]]
    return (
        select(
            literal_column(str(VENUE_ROW)),
            *keys,
            *(times * func.sum(getattr(CurrentTally, name)) for name in _SUMS),
        )
        .where(CurrentTally.stall_id != VENUE_ROW, stalls)
        .group_by(*keys)
    )


def recount_current(stall_ids: list[int]) -> None:
    """Recompute these stalls' current tallies from the stall table, and their venues'.

    For the rare changes that are not a submission: a contest accepted (the stall's latest
    result rescored), a stall moved to another venue or artisan, an artisan's craft changed.
    """
    for chunk in _chunked(stall_ids):
        _upsert_current(_venue_rows_of(CurrentTally.stall_id.in_(chunk), -1))
        db.session.execute(delete(CurrentTally).where(CurrentTally.stall_id.in_(chunk)))
        db.session.execute(
            insert(CurrentTally).from_select(_CURRENT_COLUMNS, _stall_rows(Stall.id.in_(chunk)))
        )
        _upsert_current(_venue_rows_of(CurrentTally.stall_id.in_(chunk)))
    _drop_empty_current()


def _drop_empty_current() -> None:
    db.session.execute(
        delete(CurrentTally).where(
            CurrentTally.stall_id == VENUE_ROW,
            CurrentTally.stalls == 0,
            CurrentTally.fails == 0,
            CurrentTally.nas == 0,
        )
    )


_CURRENT = {
    "current_version_id": Inspection.checklist_version_id,
    "current_verdict": Inspection.verdict,
    "current_score": Inspection.score,
    "current_critical": Inspection.critical_failures,
    "current_day": Inspection.submitted_day,
    "current_at": Inspection.submitted_at,
    "current_campaign_id": Inspection.campaign_id,
}
_NOT_PASSED = Answer.result != literal_column("'pass'")
_DAY_KEY = [
    "campaign_id",
    "venue_id",
    "region_id",
    "day",
    "craft",
    "version_id",
    "verdict",
    "item_key",
]
_DAY_COLUMNS = [*_DAY_KEY, "inspections", "score_sum", "fails", "nas"]


def _copy_latest(stalls):
    """UPDATE the stalls' current_* columns from their latest inspection (None if none)."""
    latest = select(Inspection).where(Inspection.id == Stall.latest_inspection_id)
    return (
        update(Stall)
        .where(stalls)
        .values(
            {
                name: latest.with_only_columns(column).correlate(Stall).scalar_subquery()
                for name, column in _CURRENT.items()
            }
        )
    )


def _day_rows(where, sign: int = 1):
    """SELECT the day tally rows of the submitted inspections matching ``where``.

    Both grains (each inspection counted for its venue and for its region), the inspections'
    rows and their items' rows; ``sign`` -1 makes rows that take them away. The stall's venue
    and artisan are today's: a stall moved by the register takes its inspections along
    (:func:`uncount_stalls`).
    """
    # Constants written in the SQL, not bound: PostgreSQL must see the SELECT's expressions
    # and the GROUP BY's as the same.
    grains = union_all(
        select(literal_column(str(REGION_ROW)).label("venue_grain")),
        select(literal_column("1").label("venue_grain")),
    ).subquery("grain")
    venue = case(
        (grains.c.venue_grain == literal_column("1"), Stall.venue_id),
        else_=literal_column(str(REGION_ROW)),
    )
    craft = func.coalesce(Artisan.craft, literal_column("''"))
    times = literal_column(str(int(sign)))
    keys = [
        Inspection.campaign_id,
        venue,
        Province.region_id,
        Inspection.submitted_day,
        craft,
        Inspection.checklist_version_id,
        Inspection.verdict,
    ]

    def counted(query):
        return (
            query.select_from(Inspection)
            .join(Stall, Stall.id == Inspection.stall_id)
            .join(Venue, Venue.id == Stall.venue_id)
            .join(Province, Province.id == Venue.province_id)
            .outerjoin(Artisan, Artisan.id == Stall.artisan_id)
            .join(grains, true())
            .where(
                Inspection.status == SUBMITTED,
                Inspection.submitted_day.is_not(None),
                Inspection.verdict.is_not(None),
                where,
            )
        )

    inspections = counted(
        select(
            *keys,
            literal_column("''"),
            times * func.count(),
            times * func.coalesce(func.sum(Inspection.score), 0.0),
            literal_column("0"),
            literal_column("0"),
        )
    ).group_by(*keys)
    failed = Answer.result == literal_column("'fail'")
    items = (
        counted(
            select(
                *keys,
                Answer.item_key,
                literal_column("0"),
                literal_column("0.0"),
                times * func.sum(case((failed, 1), else_=0)),
                times * func.sum(case((failed, 0), else_=1)),
            )
        )
        .join(Answer, and_(Answer.inspection_id == Inspection.id, _NOT_PASSED))
        .group_by(*keys, Answer.item_key)
    )
    return union_all(inspections, items)


def _add_days(where, sign: int = 1) -> None:
    """Add (``sign`` -1: take away) the inspections matching ``where`` to the day tallies.

    One atomic statement: a row is created by the first inspection that needs it and
    incremented by the others, however many arrive at once.
    """
    db.session.execute(_days_upsert(where, sign))


def _days_upsert(where, sign: int = 1):
    # On the table, not the ORM entity: executed with parameters, the ORM would take them for
    # rows of a bulk INSERT.
    return _adding_on_conflict(
        dialect_insert(DayTally.__table__).from_select(_DAY_COLUMNS, _day_rows(where, sign))
    )


def _adding_on_conflict(statement):
    """A day-tally INSERT that adds its counts to the row already kept for the same key."""
    table, excluded = DayTally.__table__, statement.excluded
    return statement.on_conflict_do_update(
        index_elements=_DAY_KEY,
        set_={
            name: table.c[name] + excluded[name]
            for name in ("inspections", "score_sum", "fails", "nas")
        },
    )


def _drop_empty_days(*conditions) -> None:
    """Delete the day rows left at zero (a rebuild makes none; neither do running tallies)."""
    db.session.execute(
        delete(DayTally).where(
            *conditions,
            DayTally.inspections == 0,
            DayTally.fails == 0,
            DayTally.nas == 0,
        )
    )


@dataclass(frozen=True)
class Counted:
    """What a submission has just written, as :func:`count_inspection` would read it back: the
    stall's place (venue, region) and artisan's craft, the inspection's keys and outcome, and
    every answer's result (item key to "pass", "fail" or "na")."""

    campaign_id: int
    venue_id: int
    region_id: int
    craft: str | None
    day: date | None
    version_id: int
    verdict: str | None
    score: float | None
    results: Mapping[str, str]


def count_inspection(inspection_id: str, counted: Counted | None = None) -> None:
    """Add one submitted inspection, and its fails and N/As, to its day's tallies.

    Given ``counted`` (the sync API's submissions: the caller holds every value), the day rows
    are written from it, in one executemany of the upsert: nothing is read back. Otherwise they
    are read from the inspection and answer rows the caller has just written: one statement,
    built once per engine (a submission only binds the inspection's id).
    """
    dialect = db.session.get_bind().dialect.name
    if counted is not None and counted.day is not None and counted.verdict is not None:
        if dialect == "postgresql":
            # One row of parameters (two arrays), not an executemany: less Python.
            db.session.connection().execute(_COUNT_ARRAYS, _as_arrays(counted))
            return
        statement = _COUNT_ROWS.get(dialect)
        if statement is None:
            statement = _COUNT_ROWS[dialect] = _days_upsert_rows()
        db.session.connection().execute(statement, _counted_rows(counted))
        return
    statement = _COUNT_ONE.get(dialect)
    if statement is None:
        statement = _COUNT_ONE[dialect] = _days_upsert(
            Inspection.id == bindparam("counted_inspection_id")
        )
    db.session.connection().execute(statement, {"counted_inspection_id": inspection_id})


_COUNT_ONE: dict[str, object] = {}
_COUNT_ROWS: dict[str, object] = {}


# The same rows as :func:`_counted_rows`, made by PostgreSQL from two arrays (the not-passed
# items' keys and results, after the inspections' row): both grains, region row first.
_COUNT_ARRAYS = text(
    "INSERT INTO day_tally (campaign_id, venue_id, region_id, day, craft, version_id, verdict, "
    "item_key, inspections, score_sum, fails, nas) "
    "SELECT :campaign_id, v.venue_id, :region_id, :day, :craft, :version_id, :verdict, "
    "r.item_key, CASE WHEN r.n = 1 THEN 1 ELSE 0 END, "
    "CASE WHEN r.n = 1 THEN CAST(:score_sum AS DOUBLE PRECISION) ELSE 0.0 END, "
    "CASE WHEN r.result = 'fail' THEN 1 ELSE 0 END, "
    "CASE WHEN r.n > 1 AND r.result <> 'fail' THEN 1 ELSE 0 END "
    f"FROM (VALUES ({REGION_ROW}), (CAST(:venue_id AS INTEGER))) AS v(venue_id) "
    "CROSS JOIN unnest(CAST(:item_keys AS VARCHAR[]), CAST(:results AS VARCHAR[])) "
    "WITH ORDINALITY AS r(item_key, result, n) "
    "ORDER BY v.venue_id, r.n "
    f"ON CONFLICT ({', '.join(_DAY_KEY)}) DO UPDATE SET "
    "inspections = day_tally.inspections + excluded.inspections, "
    "score_sum = day_tally.score_sum + excluded.score_sum, "
    "fails = day_tally.fails + excluded.fails, nas = day_tally.nas + excluded.nas"
).bindparams(bindparam("day", type_=Date()))


def _as_arrays(counted: Counted) -> dict:
    """The parameters of :data:`_COUNT_ARRAYS`: one row, whatever the number of items."""
    not_passed = sorted(
        (key, result) for key, result in counted.results.items() if result != "pass"
    )
    return {
        "campaign_id": counted.campaign_id,
        "venue_id": counted.venue_id,
        "region_id": counted.region_id,
        "day": counted.day,
        "craft": counted.craft or "",
        "version_id": counted.version_id,
        "verdict": counted.verdict,
        "score_sum": float(counted.score or 0.0),
        "item_keys": [INSPECTIONS_ROW, *(key for key, _result in not_passed)],
        "results": ["pass", *(result for _key, result in not_passed)],
    }


def _days_upsert_rows():
    """The upsert of :func:`_days_upsert`, from rows of parameters instead of a SELECT."""
    return _adding_on_conflict(dialect_insert(DayTally.__table__))


def _counted_rows(counted: Counted) -> list[dict]:
    """The day rows :func:`_day_rows` would select for this one inspection, in key order (so
    that concurrent submissions lock shared rows in the same order)."""
    rows = []
    not_passed = sorted(
        (key, result) for key, result in counted.results.items() if result != "pass"
    )
    for venue_id in (REGION_ROW, counted.venue_id):
        keys = {
            "campaign_id": counted.campaign_id,
            "venue_id": venue_id,
            "region_id": counted.region_id,
            "day": counted.day,
            "craft": counted.craft or "",
            "version_id": counted.version_id,
            "verdict": counted.verdict,
        }
        rows.append(
            {
                **keys,
                "item_key": INSPECTIONS_ROW,
                "inspections": 1,
                "score_sum": float(counted.score or 0.0),
                "fails": 0,
                "nas": 0,
            }
        )
        for key, result in not_passed:
            failed = result == "fail"
            rows.append(
                {
                    **keys,
                    "item_key": key,
                    "inspections": 0,
                    "score_sum": 0.0,
                    "fails": 1 if failed else 0,
                    "nas": 0 if failed else 1,
                }
            )
    return rows


def uncount_inspection(inspection_id: str, campaign_id: int, day: date | None) -> None:
    """Take a submitted inspection out of its day's tallies, before its answers change.

    :func:`count_inspection` puts it back once they have (a contest accepted).
    """
    _add_days(Inspection.id == inspection_id, -1)
    _drop_empty_days(DayTally.campaign_id == campaign_id, DayTally.day == day)


def _of_stalls(stall_ids: list[int]):
    return Inspection.stall_id.in_(stall_ids)


def uncount_stalls(stall_ids: list[int]) -> None:
    """Take every inspection of these stalls out of the day tallies, and their open actions
    out of the action tallies.

    Before a stall changes venue or artisan, or an artisan's craft changes; then
    :func:`count_stalls` counts them again where they now are.
    """
    for chunk in _chunked(stall_ids):
        places = db.session.execute(
            select(Stall.venue_id, Province.region_id)
            .join(Venue, Venue.id == Stall.venue_id)
            .join(Province, Province.id == Venue.province_id)
            .where(Stall.id.in_(chunk))
        ).all()
        venues = {REGION_ROW, *(venue for venue, _region in places)}
        regions = {region for _venue, region in places}
        campaigns = select(Inspection.campaign_id).where(_of_stalls(chunk)).distinct()
        _add_days(_of_stalls(chunk), -1)
        _add_actions(chunk, -1)
        _drop_empty_days(
            DayTally.campaign_id.in_(campaigns),
            DayTally.venue_id.in_(venues),
            DayTally.region_id.in_(regions),
        )


def count_stalls(stall_ids: list[int]) -> None:
    """Count these stalls again where they now are (see :func:`uncount_stalls`).

    Every inspection in the day tallies, their open actions in the action tallies, and their
    current results in the venues' tallies.
    """
    for chunk in _chunked(stall_ids):
        _add_days(_of_stalls(chunk))
        _set_action_crafts(CorrectiveAction.stall_id.in_(chunk))
        _add_actions(chunk, 1)
    recount_current(stall_ids)


def _set_action_crafts(where) -> None:
    """Give the actions matching ``where`` their stall's craft as it is now, where it differs
    (``CorrectiveAction.craft``, which the lists filtered by craft read)."""
    craft = (
        select(Artisan.craft)
        .join(Stall, Stall.artisan_id == Artisan.id)
        .where(Stall.id == CorrectiveAction.stall_id)
        .scalar_subquery()
    )
    db.session.execute(
        update(CorrectiveAction)
        .where(where, CorrectiveAction.craft.is_distinct_from(craft))
        .values(craft=craft)
        .execution_options(synchronize_session=False)
    )


def _set_opened_verdicts() -> None:
    """Give every action its opening inspection's verdict, where it differs
    (``CorrectiveAction.opened_verdict``, which the submission writes and a trigger keeps)."""
    verdict = (
        select(Inspection.verdict)
        .where(Inspection.id == CorrectiveAction.opened_by_id)
        .scalar_subquery()
    )
    db.session.execute(
        update(CorrectiveAction)
        .where(CorrectiveAction.opened_verdict.is_distinct_from(verdict))
        .values(opened_verdict=verdict)
        .execution_options(synchronize_session=False)
    )


def _set_open_action_due() -> None:
    """Give each stall the earliest fix date of its open actions, where it differs
    (``Stall.open_action_due``, which triggers keep: migration 0018; the rounds read it)."""
    earliest = (
        select(func.min(CorrectiveAction.due_date))
        .where(CorrectiveAction.stall_id == Stall.id, CorrectiveAction.status == OPEN)
        .scalar_subquery()
    )
    db.session.execute(
        update(Stall)
        .where(Stall.open_action_due.is_distinct_from(earliest))
        .values(open_action_due=earliest)
        .execution_options(synchronize_session=False)
    )


def _chunked(ids: list[int], size: int = 5000):
    ids = sorted(set(ids))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def current_values(
    *,
    version_id: int,
    verdict: str | None,
    score: float | None,
    critical: int,
    day: date | None,
    at: datetime | None,
    campaign_id: int | None,
) -> dict:
    """The ``Stall.current_*`` columns for a stall whose latest inspection has this outcome."""
    return {
        "current_version_id": version_id,
        "current_verdict": verdict,
        "current_score": score,
        "current_critical": critical,
        "current_day": day,
        "current_at": at,
        "current_campaign_id": campaign_id,
    }


def refresh_stall(stall_id: int) -> None:
    """Recompute one stall's current result and tallies from its latest inspection.

    For the rare writes that change a submitted inspection (a contest accepted); the caller
    holds the stall's row lock.
    """
    db.session.execute(
        _copy_latest(Stall.id == stall_id).execution_options(synchronize_session=False)
    )
    recount_current([stall_id])


def counted_inspections() -> int:
    """How many submitted inspections the day tallies count (each once, at its region)."""
    return db.session.scalar(
        select(func.coalesce(func.sum(DayTally.inspections), 0)).where(
            DayTally.venue_id == REGION_ROW,
            DayTally.item_key == literal_column("''"),
        )
    )


def rebuild() -> None:
    """Recompute every tally from the base tables and commit (after a bulk load, or to repair)."""
    db.session.execute(_copy_latest(literal(True)).execution_options(synchronize_session=False))
    _set_action_crafts(true())
    _set_opened_verdicts()
    _set_open_action_due()
    db.session.execute(delete(CurrentTally))
    db.session.execute(insert(CurrentTally).from_select(_CURRENT_COLUMNS, _stall_rows(true())))
    db.session.execute(insert(CurrentTally).from_select(_CURRENT_COLUMNS, _venue_rows_of(true())))
    db.session.execute(delete(DayTally))
    db.session.execute(insert(DayTally).from_select(_DAY_COLUMNS, _day_rows(literal(True))))
    for model in _ACTION_TALLIES:
        db.session.execute(delete(model))
        db.session.execute(
            insert(model).from_select(
                [*_action_keys(model), "open_actions"], _action_rows(model, true())
            )
        )
    db.session.commit()
