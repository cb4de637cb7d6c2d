"""Running tallies behind the chambers' dashboards, kept up to date as inspections are written.

A national page sums 20,000 stalls, 200,000 inspections and their answers. Read from the base
tables that costs hundreds of milliseconds, so three tallies are kept:

- on each stall, its latest inspection's outcome (``Stall.current_*``);
- ``current_failure``: the fail and N/A answers of each stall's latest inspection;
- ``daily_tally``: submitted inspections per day, venue and verdict, with their score sum.

They are written in the same transaction as the change, by the code that makes the change,
calling the functions below (no flush listener guesses it from the rows):

- an inspection submitted (:mod:`compliance.inspections`): :func:`count_inspection` adds it
  to its venue-day; if it becomes its stall's latest, the stall's row gets
  :func:`current_values` and :func:`replace_current_failures` its fails and N/As;
- a contest accepted (:mod:`compliance.artisan.contests`): the inspection is taken out of its
  old verdict's tally and counted in the new one, and its stall is recomputed with
  :func:`refresh_stall`.

``daily_tally`` rows are shared by every stall of a venue, so they only ever change by an
atomic increment (INSERT ... ON CONFLICT DO UPDATE): two first inspections of a venue-day at
once both count, and neither fails. The per-stall tallies are written under the stall's row
lock, which every writer of a stall's latest result takes first.

Writes that bypass this code (a bulk import, a manual fix in SQL) must run :func:`rebuild`
(``flask tallies rebuild``), which recomputes everything from the base tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import (
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db, dialect_insert
from ..models import SUBMITTED, Answer, Inspection, Stall


class CurrentFailure(db.Model):
    """A fail or N/A answer of a stall's latest inspection (passes are the rest)."""

    __tablename__ = "current_failure"
    stall_id: Mapped[int] = mapped_column(ForeignKey("stall.id"), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    result: Mapped[str] = mapped_column(String(4))
    # The campaign of that latest inspection (Stall.current_campaign_id), so a campaign's
    # national figures count these rows alone (migration 0011).
    campaign_id: Mapped[int | None] = mapped_column(Integer)


class DailyTally(db.Model):
    """Submitted inspections of one day at one venue with one verdict, and their scores."""

    __tablename__ = "daily_tally"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
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
    "current_at": Inspection.submitted_at,
    "current_campaign_id": Inspection.campaign_id,
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
            Inspection.campaign_id,
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
        .group_by(
            Inspection.campaign_id, Inspection.submitted_day, Stall.venue_id, Inspection.verdict
        )
    )


_DAILY_COLUMNS = ["campaign_id", "day", "venue_id", "verdict", "inspections", "score_sum"]
_FAILURE_COLUMNS = ["stall_id", "item_key", "result", "campaign_id"]


def count_inspection(
    *,
    campaign_id: int,
    day: date,
    venue_id: int,
    verdict: str,
    score: float | None,
    delta: int = 1,
) -> None:
    """Add one submitted inspection to its venue-day tally (``delta=-1`` takes one away).

    One atomic statement: the row is created by the first inspection of the day and
    incremented by the others, however many arrive at once.
    """
    statement = dialect_insert(DailyTally).values(
        campaign_id=campaign_id,
        day=day,
        venue_id=venue_id,
        verdict=verdict,
        inspections=delta,
        score_sum=delta * (score or 0.0),
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["campaign_id", "day", "venue_id", "verdict"],
            set_={
                "inspections": DailyTally.inspections + statement.excluded.inspections,
                "score_sum": DailyTally.score_sum + statement.excluded.score_sum,
            },
        )
    )
    if delta < 0:  # a rebuild has no empty rows; neither do the running tallies
        db.session.execute(
            delete(DailyTally).where(
                DailyTally.campaign_id == campaign_id,
                DailyTally.day == day,
                DailyTally.venue_id == venue_id,
                DailyTally.verdict == verdict,
                DailyTally.inspections <= 0,
            )
        )


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
    db.session.execute(delete(DailyTally))
    db.session.execute(insert(DailyTally).from_select(_DAILY_COLUMNS, _daily_rows(literal(True))))
    db.session.commit()
