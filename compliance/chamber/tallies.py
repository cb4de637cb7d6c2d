"""Running tallies behind the chambers' dashboards, kept up to date as inspections are written.

A national page sums 20,000 stalls, 200,000 inspections and their answers (ten times that for
a whole country's season). Read from the base tables that costs hundreds of milliseconds, so
tallies are kept:

- on each stall, its latest inspection's outcome (``Stall.current_*``);
- ``current_failure``: the fail and N/A answers of each stall's latest inspection;
- ``day_tally``: the submitted inspections of each day, with their verdict, score and failed
  and N/A answers (:class:`DayTally`), at two grains: per venue, and per region.

They are written in the same transaction as the change, by the code that makes the change,
calling the functions below (no flush listener guesses it from the rows):

- an inspection submitted (:mod:`compliance.inspections`): :func:`count_inspection` adds it
  to its day; if it becomes its stall's latest, the stall's row gets :func:`current_values`
  and :func:`replace_current_failures` its fails and N/As;
- a contest accepted (:mod:`compliance.artisan.contests`): :func:`uncount_inspection` takes
  the inspection out of the day tallies before it is rescored, :func:`count_inspection` puts
  it back after, and its stall is recomputed with :func:`refresh_stall`;
- stalls moved to another venue or artisan, or an artisan's craft changed (the register,
  :mod:`compliance.register`): :func:`uncount_stalls` before, :func:`count_stalls` after.

``day_tally`` rows are shared by every stall of a venue (and of a region), so they only ever
change by atomic increments: one INSERT ... SELECT ... ON CONFLICT DO UPDATE adds an
inspection's rows at both grains, whatever else runs at once. The per-stall tallies are
written under the stall's row lock, which every writer of a stall's latest result takes first.

Writes that bypass this code (a bulk import, a manual fix in SQL) must run :func:`rebuild`
(``flask tallies rebuild``), which recomputes everything from the base tables.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db, dialect_insert
from ..models import SUBMITTED, Answer, Artisan, Inspection, Province, Stall, Venue


class CurrentFailure(db.Model):
    """A fail or N/A answer of a stall's latest inspection (passes are the rest)."""

    __tablename__ = "current_failure"
    stall_id: Mapped[int] = mapped_column(db.ForeignKey("stall.id"), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    result: Mapped[str] = mapped_column(String(4))
    # The campaign of that latest inspection (Stall.current_campaign_id), so a campaign's
    # national figures count these rows alone (migration 0011).
    campaign_id: Mapped[int | None] = mapped_column(Integer)


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
_FAILURE_COLUMNS = ["stall_id", "item_key", "result", "campaign_id"]
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
    table = DayTally.__table__
    statement = dialect_insert(table).from_select(_DAY_COLUMNS, _day_rows(where, sign))
    excluded = statement.excluded
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


def count_inspection(inspection_id: str) -> None:
    """Add one submitted inspection, and its fails and N/As, to its day's tallies.

    Read from the inspection and answer rows the caller has just written: one statement,
    built once per engine (a submission only binds the inspection's id).
    """
    dialect = db.session.get_bind().dialect.name
    statement = _COUNT_ONE.get(dialect)
    if statement is None:
        statement = _COUNT_ONE[dialect] = _days_upsert(
            Inspection.id == bindparam("counted_inspection_id")
        )
    db.session.execute(statement, {"counted_inspection_id": inspection_id})


_COUNT_ONE: dict[str, object] = {}


def uncount_inspection(inspection_id: str, campaign_id: int, day: date | None) -> None:
    """Take a submitted inspection out of its day's tallies, before its answers change.

    :func:`count_inspection` puts it back once they have (a contest accepted).
    """
    _add_days(Inspection.id == inspection_id, -1)
    _drop_empty_days(DayTally.campaign_id == campaign_id, DayTally.day == day)


def _of_stalls(stall_ids: list[int]):
    return Inspection.stall_id.in_(stall_ids)


def uncount_stalls(stall_ids: list[int]) -> None:
    """Take every inspection of these stalls out of the day tallies.

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
        _drop_empty_days(
            DayTally.campaign_id.in_(campaigns),
            DayTally.venue_id.in_(venues),
            DayTally.region_id.in_(regions),
        )


def count_stalls(stall_ids: list[int]) -> None:
    """Count every inspection of these stalls in the day tallies (see :func:`uncount_stalls`)."""
    for chunk in _chunked(stall_ids):
        _add_days(_of_stalls(chunk))


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


def replace_current_failures(
    stall_id: int, failures: Mapping[str, str], *, campaign_id: int
) -> set[str]:
    """Make ``failures`` (item -> fail or na) the current failures of a stall.

    ``campaign_id`` is the campaign of the inspection they come from.

    Returns the items that were failed or N/A before. Only for a stall whose row lock the
    caller holds: the rows are the stall's own.
    """
    previous = db.session.scalars(
        delete(CurrentFailure)
        .where(CurrentFailure.stall_id == stall_id)
        .returning(CurrentFailure.item_key)
    ).all()
    if failures:
        db.session.execute(
            insert(CurrentFailure.__table__).values(
                [
                    {
                        "stall_id": stall_id,
                        "item_key": key,
                        "result": result,
                        "campaign_id": campaign_id,
                    }
                    for key, result in failures.items()
                ]
            )
        )
    return set(previous)


def refresh_stall(stall_id: int) -> None:
    """Recompute one stall's current result and failures from its latest inspection.

    For the rare writes that change a submitted inspection (a contest accepted); the caller
    holds the stall's row lock.
    """
    db.session.execute(
        _copy_latest(Stall.id == stall_id).execution_options(synchronize_session=False)
    )
    db.session.execute(delete(CurrentFailure).where(CurrentFailure.stall_id == stall_id))
    db.session.execute(
        insert(CurrentFailure).from_select(
            _FAILURE_COLUMNS,
            select(Stall.id, Answer.item_key, Answer.result, Stall.current_campaign_id)
            .join(Answer, Answer.inspection_id == Stall.latest_inspection_id)
            .where(Stall.id == stall_id, _NOT_PASSED),
        )
    )


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
    db.session.execute(delete(CurrentFailure))
    db.session.execute(
        insert(CurrentFailure).from_select(
            _FAILURE_COLUMNS,
            select(Stall.id, Answer.item_key, Answer.result, Stall.current_campaign_id)
            .join(Answer, Answer.inspection_id == Stall.latest_inspection_id)
            .where(_NOT_PASSED),
        )
    )
    db.session.execute(delete(DayTally))
    db.session.execute(insert(DayTally).from_select(_DAY_COLUMNS, _day_rows(literal(True))))
    db.session.commit()
