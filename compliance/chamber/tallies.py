"""Running tallies behind the chambers' dashboards, kept up to date as inspections are written.

A national page sums 20,000 stalls, 200,000 inspections and their answers. Read from the base
tables that costs hundreds of milliseconds, so three tallies are kept:

- on each stall, its latest inspection's outcome (``Stall.current_*``);
- ``current_failure``: the fail and N/A answers of each stall's latest inspection;
- ``daily_tally``: submitted inspections per day, venue and verdict, with their score sum.

They are refreshed inside the same transaction as the change, by SQLAlchemy flush events, so
the writers need not know about them:

- an inspection submitted (online or offline): ``inspections.submit`` moves the inspection and
  the stall's latest result with bulk UPDATEs and records an ``inspection.submit`` audit event;
  when that event is flushed, the inspection's day and its stall are refreshed;
- an inspection's outcome or an answer changed through the ORM (a contest accepted): the
  inspection's day and, if it is its stall's latest, the stall are refreshed.

Each refresh recomputes its rows from the base tables (one stall, or one venue on one day),
so it is exact whatever happened before. Writes that bypass the ORM and the audit trail (a bulk
import, a manual fix in SQL) must call :func:`rebuild`, which recomputes everything.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Connection,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    and_,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import SUBMITTED, Answer, AuditEvent, Inspection, Stall

SUBMIT_ACTION = "inspection.submit"  # recorded by compliance.inspections for each submission
OUTCOME = ("verdict", "score", "critical_failures", "submitted_day", "status")


class CurrentFailure(db.Model):
    """A fail or N/A answer of a stall's latest inspection (passes are the rest)."""

    __tablename__ = "current_failure"
    stall_id: Mapped[int] = mapped_column(ForeignKey("stall.id"), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    result: Mapped[str] = mapped_column(String(4))


class DailyTally(db.Model):
    """Submitted inspections of one day at one venue with one verdict, and their scores."""

    __tablename__ = "daily_tally"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(20), primary_key=True)
    inspections: Mapped[int] = mapped_column(Integer, default=0)
    score_sum: Mapped[float] = mapped_column(Float, default=0.0)


_CURRENT = {
    "current_version_id": Inspection.checklist_version_id,
    "current_verdict": Inspection.verdict,
    "current_score": Inspection.score,
    "current_critical": Inspection.critical_failures,
    "current_day": Inspection.submitted_day,
}
_NOT_PASSED = Answer.result != literal_column("'pass'")


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


def _daily_rows(where):
    """SELECT the daily tally rows of the submitted inspections matching ``where``."""
    return (
        select(
            Inspection.submitted_day,
            Stall.venue_id,
            Inspection.verdict,
            func.count(),
            func.coalesce(func.sum(Inspection.score), 0.0),
        )
        .join(Stall, Stall.id == Inspection.stall_id)
        .where(
            Inspection.status == SUBMITTED,
            Inspection.submitted_day.is_not(None),
            Inspection.verdict.is_not(None),
            where,
        )
        .group_by(Inspection.submitted_day, Stall.venue_id, Inspection.verdict)
    )


_DAILY_COLUMNS = ["day", "venue_id", "verdict", "inspections", "score_sum"]
_FAILURE_COLUMNS = ["stall_id", "item_key", "result"]


def refresh_stall(connection: Connection, stall_id: int) -> None:
    """Recompute one stall's current result and its fail and N/A answers."""
    connection.execute(_copy_latest(Stall.id == stall_id))
    connection.execute(delete(CurrentFailure).where(CurrentFailure.stall_id == stall_id))
    connection.execute(
        insert(CurrentFailure).from_select(
            _FAILURE_COLUMNS,
            select(Stall.id, Answer.item_key, Answer.result)
            .join(Answer, Answer.inspection_id == Stall.latest_inspection_id)
            .where(Stall.id == stall_id, _NOT_PASSED),
        )
    )


def refresh_day(connection: Connection, day: date, venue_id: int) -> None:
    """Recompute the tallies of one venue on one day (every verdict)."""
    connection.execute(
        delete(DailyTally).where(DailyTally.day == day, DailyTally.venue_id == venue_id)
    )
    in_venue = select(Stall.id).where(Stall.venue_id == venue_id).scalar_subquery()
    connection.execute(
        insert(DailyTally).from_select(
            _DAILY_COLUMNS,
            _daily_rows(and_(Inspection.submitted_day == day, Inspection.stall_id.in_(in_venue))),
        )
    )


def rebuild() -> None:
    """Recompute every tally from the base tables and commit (after a bulk load, or to repair)."""
    db.session.execute(_copy_latest(literal(True)).execution_options(synchronize_session=False))
    db.session.execute(delete(CurrentFailure))
    db.session.execute(
        insert(CurrentFailure).from_select(
            _FAILURE_COLUMNS,
            select(Stall.id, Answer.item_key, Answer.result)
            .join(Answer, Answer.inspection_id == Stall.latest_inspection_id)
            .where(_NOT_PASSED),
        )
    )
    db.session.execute(delete(DailyTally))
    db.session.execute(insert(DailyTally).from_select(_DAILY_COLUMNS, _daily_rows(literal(True))))
    db.session.commit()


def _inspection_place(connection: Connection, inspection_id: str):
    return connection.execute(
        select(
            Inspection.stall_id,
            Inspection.submitted_day,
            Stall.venue_id,
            Stall.latest_inspection_id,
        )
        .join(Stall, Stall.id == Inspection.stall_id)
        .where(Inspection.id == inspection_id)
    ).first()


def _refresh_for(
    connection: Connection, inspection_id: str, other_days: tuple[date, ...] = ()
) -> None:
    place = _inspection_place(connection, inspection_id)
    if place is None:
        return
    for day in {place.submitted_day, *other_days} - {None}:
        refresh_day(connection, day, place.venue_id)
    if place.latest_inspection_id == inspection_id:
        refresh_stall(connection, place.stall_id)


@event.listens_for(AuditEvent, "after_insert")
def _submitted(_mapper, connection: Connection, audit_event: AuditEvent) -> None:
    """An inspection was submitted: its day, and its stall if it is now the latest."""
    if audit_event.action == SUBMIT_ACTION and audit_event.entity == "inspection":
        _refresh_for(connection, audit_event.entity_id)


@event.listens_for(Inspection, "after_update")
def _outcome_changed(_mapper, connection: Connection, inspection: Inspection) -> None:
    """A submitted inspection's outcome changed through the ORM (a contest accepted)."""
    state = inspect(inspection)
    changed = [state.attrs[name].history for name in OUTCOME]
    if not any(history.has_changes() for history in changed):
        return
    old_days = tuple(state.attrs.submitted_day.history.deleted or ())
    _refresh_for(connection, inspection.id, old_days)


@event.listens_for(Answer, "after_update")
def _answer_changed(_mapper, connection: Connection, answer: Answer) -> None:
    """An answer changed: only matters if it belongs to a stall's latest inspection."""
    if not inspect(answer).attrs.result.history.has_changes():
        return
    stall_id = connection.execute(
        select(Stall.id).where(Stall.latest_inspection_id == answer.inspection_id)
    ).scalar()
    if stall_id is not None:
        refresh_stall(connection, stall_id)
