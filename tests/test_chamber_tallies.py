"""The running tallies behind the dashboards stay equal to the base tables, whoever writes.

compliance/chamber/tallies.py keeps ``Stall.current_*``, ``current_failure`` and
``daily_tally`` up to date; these tests compare them with a rebuild from the base tables and
with the figures read from the inspections themselves (the date-range path).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from compliance import scoring
from compliance.artisan import contests
from compliance.chamber import figures, tallies
from compliance.extensions import db
from compliance.models import Inspection, Stall
from compliance.storage import LocalStorage
from tests import factories
from tests.chamber_helpers import answers, inspect, small_checklist

DAY1 = datetime(2025, 12, 22, 10)
DAY2 = datetime(2025, 12, 27, 10)
DAY3 = datetime(2026, 1, 5, 10)
EVERY_DAY = figures.Filters(date_from=date(2025, 1, 1), date_to=date(2027, 1, 1))


@pytest.fixture
def version():
    return small_checklist()


@pytest.fixture
def visits(region, other_region, inspector, version):
    """Stalls in two regions with repeated visits, N/As, failures, one never inspected."""
    elsewhere = factories.user("inspector", region=other_region)
    first = factories.stall(region=region)
    second = factories.stall(region=region, venue_row=first.venue)
    third = factories.stall(region=other_region)
    factories.stall(region=region)
    inspect(first, inspector, version, answers(price_shown="fail", corridor="na"), DAY1)
    inspect(first, inspector, version, answers(badge_worn="fail"), DAY2)
    inspect(second, inspector, version, answers(), DAY1)
    inspect(second, inspector, version, answers(price_arabic="fail", corridor="fail"), DAY3)
    inspect(third, elsewhere, version, answers(corridor="na"), DAY2)
    return {"first": first, "second": second, "third": third}


def snapshot():
    db.session.expire_all()
    stalls = sorted(
        db.session.execute(
            select(
                Stall.id,
                Stall.current_version_id,
                Stall.current_verdict,
                Stall.current_score,
                Stall.current_critical,
                Stall.current_day,
                Stall.current_at,
                Stall.current_campaign_id,
            )
        ).all()
    )
    failures = sorted(
        db.session.execute(
            select(
                tallies.CurrentFailure.stall_id,
                tallies.CurrentFailure.item_key,
                tallies.CurrentFailure.result,
                tallies.CurrentFailure.campaign_id,
            )
        ).all()
    )
    days = sorted(
        (row.day, row.venue_id, row.verdict, row.inspections, round(row.score_sum, 6))
        for row in db.session.scalars(select(tallies.DailyTally))
        if row.inspections
    )
    return stalls, failures, days


def test_tallies_kept_while_submitting_equal_a_rebuild(visits):
    kept = snapshot()

    tallies.rebuild()

    assert snapshot() == kept
    stalls, failures, days = kept
    first = next(row for row in stalls if row.id == visits["first"].id)
    assert first.current_verdict == scoring.FOLLOW_UP  # its second visit: 6/8
    assert first.current_day == date(2025, 12, 27)
    assert [
        (row.item_key, row.result) for row in failures if row.stall_id == visits["first"].id
    ] == [("badge_worn", "fail")]
    assert sum(row[3] for row in days) == 5


def test_tallied_figures_equal_figures_read_from_the_inspections(region, visits):
    for scope in (
        figures.Scope(),
        figures.Scope(region_id=region.id),
        figures.Scope(venue_id=visits["first"].venue_id),
    ):
        tallied = figures.dashboard(scope, figures.Filters(), on=date(2026, 2, 1))
        read = figures.dashboard(scope, EVERY_DAY, on=date(2026, 2, 1))
        assert tallied.total == read.total
        assert [(r.key, r.passed, r.failed, r.not_applicable) for r in tallied.rules] == [
            (r.key, r.passed, r.failed, r.not_applicable) for r in read.rules
        ]
        assert tallied.inspections == read.inspections


def test_an_accepted_contest_reaches_the_tallies(region, coordinator, visits, tmp_path):
    """A failed item becomes a pass: the inspection is rescored and counted again."""
    stall = visits["first"]
    inspection = db.session.get(Inspection, stall.latest_inspection_id)
    contest = contests.file_contest(
        stall.artisan, inspection, "badge_worn", "I wore it", None, LocalStorage(tmp_path)
    ).contest
    contests.accept(contest, coordinator)

    kept = snapshot()
    tallies.rebuild()

    assert snapshot() == kept
    scope = figures.Scope(region_id=region.id)
    board = figures.dashboard(scope, figures.Filters(), on=date(2026, 2, 1))
    # Before: both stalls needed follow-up. Now the first is compliant.
    assert (board.total.compliant, board.total.follow_up) == (1, 1)
    rules = {rate.key: rate for rate in board.rules}
    assert rules["badge"].failed == 0
    assert board.inspections.days[date(2025, 12, 27)].compliant == 1


def test_a_late_visit_counts_per_day_but_does_not_replace_the_latest(
    region, inspector, version, visits
):
    stall = visits["second"]
    latest = stall.latest_inspection_id
    # Submitted (on the phone) before the current result, received afterwards.
    inspect(stall, inspector, version, answers(price_shown="fail"), datetime(2025, 12, 30, 9))

    db.session.refresh(stall)
    board = figures.dashboard(figures.Scope(region_id=region.id), figures.Filters())
    assert stall.latest_inspection_id == latest
    assert stall.current_verdict == scoring.FOLLOW_UP
    assert board.inspections.days[date(2025, 12, 30)].inspections == 1
    kept = snapshot()
    tallies.rebuild()
    assert snapshot() == kept
