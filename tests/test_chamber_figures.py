"""The chambers' figures against hand-computed fixtures (compliance/chamber/figures.py).

Inspections are made through the real code path with the small photo-free checklist of
tests/chamber_helpers.py (weights: price_shown 3 critical, price_arabic 1, badge_worn 2,
corridor 2 with N/A allowed).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from compliance.chamber import charts, figures, follow_up
from compliance.checklist import parse
from compliance.extensions import db
from compliance.models import AuditEvent, CorrectiveAction
from tests import factories
from tests.chamber_helpers import SMALL_CHECKLIST, answers, inspect, small_checklist

DAY1 = datetime(2025, 12, 22, 10)  # 11:00 in Morocco
DAY2 = datetime(2025, 12, 27, 10)
DAY3 = datetime(2026, 1, 5, 10)
AFTER = date(2026, 2, 1)


@pytest.fixture
def version():
    return small_checklist()


def board(scope, filters=None, on=AFTER):
    return figures.dashboard(scope, filters or figures.Filters(), on=on)


def test_latest_inspection_wins(region, inspector, version):
    stall = factories.stall(region=region)
    inspect(stall, inspector, version, answers(price_shown="fail"), DAY1)
    inspect(stall, inspector, version, answers(), DAY2)

    figures_ = board(figures.Scope(region_id=region.id))

    assert (figures_.total.inspected, figures_.total.compliant) == (1, 1)
    assert figures_.total.non_compliant == 0
    assert figures_.total.compliance_rate == 1.0
    assert figures_.total.average_score == 1.0
    # The average over all inspections is the second, labelled figure: (5/8 + 1) / 2.
    assert figures_.inspections.count == 2
    assert figures_.inspections.average_score == pytest.approx((0.625 + 1) / 2)
    assert figures_.inspections.compliant_share == 0.5


def test_not_applicable_is_left_out_of_pass_rates(region, inspector, version):
    inspect(factories.stall(region=region), inspector, version, answers(corridor="na"), DAY1)
    inspect(
        factories.stall(region=region),
        inspector,
        version,
        answers(corridor="fail", price_arabic="fail"),
        DAY1,
    )

    rules = {rate.key: rate for rate in board(figures.Scope(region_id=region.id)).rules}

    assert (rules["cleanliness"].passed, rules["cleanliness"].failed) == (0, 1)
    assert rules["cleanliness"].not_applicable == 1
    assert rules["cleanliness"].rate == 0.0
    assert (rules["prices"].passed, rules["prices"].failed) == (3, 1)
    assert rules["prices"].rate == 0.75
    assert rules["badge"].rate == 1.0


def test_rule_with_only_na_answers_has_no_rate(region, inspector, version):
    inspect(factories.stall(region=region), inspector, version, answers(corridor="na"), DAY1)

    rules = {rate.key: rate for rate in board(figures.Scope(region_id=region.id)).rules}

    assert rules["cleanliness"].applicable == 0
    assert rules["cleanliness"].rate is None


def test_never_inspected_stalls_are_not_failing(region, inspector, version):
    inspected = factories.stall(region=region)
    factories.stall(region=region)
    factories.stall(region=region)
    inspect(inspected, inspector, version, answers(), DAY1)

    total = board(figures.Scope(region_id=region.id)).total

    assert (total.stalls, total.inspected, total.not_inspected) == (3, 1, 2)
    assert total.compliance_rate == 1.0
    assert total.inspected_share == pytest.approx(1 / 3)
    assert total.non_compliant == 0


def test_failed_critical_item_is_non_compliant_whatever_the_score(region, inspector, version):
    critical = factories.stall(region=region)
    minor = factories.stall(region=region)
    # 5/8 = 62.5 %, above the follow-up threshold, but price_shown is critical.
    inspect(critical, inspector, version, answers(price_shown="fail"), DAY1)
    inspect(minor, inspector, version, answers(price_arabic="fail"), DAY1)  # 7/8 = 87.5 %

    figures_ = board(figures.Scope(region_id=region.id))
    worst = figures.rows(
        figures.worst_stalls_query(figures.Scope(region_id=region.id), figures.Filters()), 10
    )

    assert (figures_.total.non_compliant, figures_.total.follow_up, figures_.total.compliant) == (
        1,
        0,
        1,
    )
    assert figures_.total.compliance_rate == 0.5
    assert [row.Stall.id for row in worst] == [critical.id]


def test_other_regions_are_not_counted(region, other_region, inspector, version):
    elsewhere = factories.user("inspector", region=other_region)
    inspect(factories.stall(region=region), inspector, version, answers(), DAY1)
    inspect(
        factories.stall(region=other_region), elsewhere, version, answers(price_shown="fail"), DAY1
    )

    mine = board(figures.Scope(region_id=region.id))
    country = board(figures.Scope())

    assert (mine.total.stalls, mine.total.compliant, mine.inspections.count) == (1, 1, 1)
    assert (country.total.stalls, country.total.compliant, country.total.non_compliant) == (2, 1, 1)
    regions = {row.code: tally for row, tally in country.groups("region")}
    assert regions["MA-04"].compliance_rate == 1.0
    assert regions["MA-07"].compliance_rate == 0.0


def test_a_date_range_counts_the_inspections_made_in_it(region, inspector, version):
    stall = factories.stall(region=region)
    only_later = factories.stall(region=region)
    inspect(stall, inspector, version, answers(price_shown="fail"), DAY1)
    inspect(stall, inspector, version, answers(), DAY3)
    inspect(only_later, inspector, version, answers(), DAY3)
    december = figures.Filters(date_from=date(2025, 12, 21), date_to=date(2025, 12, 31))
    whole = figures.Filters(date_from=date(2025, 12, 21), date_to=date(2026, 1, 31))

    in_december = board(figures.Scope(region_id=region.id), december)
    in_the_season = board(figures.Scope(region_id=region.id), whole)
    today = board(figures.Scope(region_id=region.id))

    assert (in_december.total.inspected, in_december.total.non_compliant) == (1, 1)
    assert in_december.total.not_inspected == 0  # a period counts inspections, not stalls
    assert in_december.inspections.count == 1
    # Both visits of the first stall count: three inspections, two compliant.
    assert (in_the_season.total.inspected, in_the_season.total.compliant) == (3, 2)
    assert {rate.key: rate.failed for rate in in_the_season.items}["price_shown"] == 1
    assert (today.total.inspected, today.total.compliant) == (2, 2)


def test_a_date_range_filters_on_the_inspections_own_verdict(region, inspector, version):
    stall = factories.stall(region=region)
    inspect(stall, inspector, version, answers(price_shown="fail"), DAY1)
    inspect(stall, inspector, version, answers(), DAY3)
    season = {"date_from": date(2025, 12, 21), "date_to": date(2026, 1, 31)}
    scope = figures.Scope(region_id=region.id)

    failed = board(scope, figures.Filters(verdict="non_compliant", **season))
    never = board(scope, figures.Filters(verdict="not_inspected", **season))

    # The stall is compliant today; its earlier visit in the period was not.
    assert (failed.total.inspected, failed.total.non_compliant) == (1, 1)
    assert {rate.key: rate.failed for rate in failed.items}["price_shown"] == 1
    assert failed.total.open_actions == 0  # the later visit fixed it
    assert never.total.inspected == 0


def test_filters_narrow_the_stalls(region, inspector, version):
    market = factories.venue(region, kind="medina_market", city="Salé")
    weaver = factories.artisan(craft="carpets")
    in_market = factories.stall(region=region, venue_row=market, artisan_row=weaver)
    in_fan_zone = factories.stall(region=region)  # fan zone, Rabat, pottery
    inspect(in_market, inspector, version, answers(badge_worn="fail"), DAY1)
    inspect(in_fan_zone, inspector, version, answers(), DAY1)
    scope = figures.Scope(region_id=region.id)

    def stalls(**filters):
        return board(scope, figures.Filters(**filters)).total.stalls

    assert stalls(kind="medina_market") == 1
    assert stalls(city="Rabat") == 1
    assert stalls(craft="carpets") == 1
    assert stalls(craft="carpets", kind="fan_zone") == 0
    assert stalls(verdict="needs_follow_up") == 1  # 6/8 = 75 %
    assert stalls(verdict="compliant") == 1
    assert stalls(verdict="not_inspected") == 0
    assert board(scope, figures.Filters(verdict="compliant")).inspections.count == 1


def test_venue_and_province_scopes(region, inspector, version):
    first = factories.stall(region=region)
    neighbour = factories.stall(region=region, venue_row=first.venue)
    factories.stall(region=region)
    inspect(first, inspector, version, answers(), DAY1)
    inspect(neighbour, inspector, version, answers(price_shown="fail"), DAY1)

    venue = board(figures.Scope(venue_id=first.venue_id)).total
    province = board(figures.Scope(province_id=first.venue.province_id)).total

    assert (venue.stalls, venue.inspected, venue.compliant) == (2, 2, 1)
    assert (province.stalls, province.inspected) == (2, 2)


def test_corrective_actions_open_and_close_with_inspections(region, inspector, version):
    stall = factories.stall(region=region)
    inspect(stall, inspector, version, answers(badge_worn="fail", price_arabic="fail"), DAY1)
    scope = figures.Scope(region_id=region.id)

    before_due = board(scope, on=date(2025, 12, 23)).total  # price_arabic due 24 Dec
    overdue = board(scope, on=date(2025, 12, 26)).total  # badge_worn due 25 Dec too
    inspect(stall, inspector, version, answers(price_arabic="fail"), DAY2)
    after_fix = board(scope, on=date(2025, 12, 28)).total

    assert (before_due.open_actions, before_due.overdue_actions) == (2, 0)
    assert (overdue.open_actions, overdue.overdue_actions) == (2, 2)
    # The badge passed on the second visit: closed. price_arabic failed again: still open,
    # with the fix date the second visit gave (27 Dec + 2 days), so not overdue on the 28th.
    assert (after_fix.open_actions, after_fix.overdue_actions) == (1, 0)
    actions = db.session.scalars(select(CorrectiveAction).order_by(CorrectiveAction.id)).all()
    by_item = {action.item_key: action for action in actions}
    assert by_item["badge_worn"].status == "closed"
    assert by_item["badge_worn"].closed_by_inspection_id is not None
    assert by_item["price_arabic"].due_date == date(2025, 12, 29)


def test_coordinator_closes_an_action_with_a_reason(region, inspector, coordinator, version):
    stall = factories.stall(region=region)
    inspect(stall, inspector, version, answers(badge_worn="fail"), DAY1)
    action = db.session.scalar(select(CorrectiveAction))

    follow_up.close(action, coordinator, "  Badge card delivered by the chamber  ")

    assert action.status == "closed"
    assert action.closed_by_user_id == coordinator.id
    assert action.close_reason == "Badge card delivered by the chamber"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == follow_up.CLOSE))
    assert event.actor == f"user:{coordinator.id}"
    assert event.actor_id == coordinator.id
    assert event.entity_id == str(action.id)
    assert event.before == {"status": "open", "due_date": "2025-12-25"}
    assert event.after == {"status": "closed", "reason": "Badge card delivered by the chamber"}
    assert board(figures.Scope(region_id=region.id)).total.open_actions == 0
    with pytest.raises(follow_up.NotOpen):
        follow_up.close(action, coordinator, "again")


def test_coordinator_moves_a_due_date(region, inspector, coordinator, version):
    stall = factories.stall(region=region)
    inspect(stall, inspector, version, answers(badge_worn="fail"), DAY1)
    action = db.session.scalar(select(CorrectiveAction))

    moved = follow_up.move_due_date(action, coordinator, date(2026, 1, 10), "cards reprinted")
    unchanged = follow_up.move_due_date(action, coordinator, date(2026, 1, 10))

    assert (moved, unchanged) == (True, False)
    assert action.due_date == date(2026, 1, 10)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == follow_up.MOVE_DUE))
    [event] = list(events)
    assert event.before == {"due_date": "2025-12-25"}
    assert event.after == {"due_date": "2026-01-10", "reason": "cards reprinted"}
    trail = follow_up.history([action.id])[action.id]
    assert [(e.action, who.id) for e, who in trail] == [(follow_up.MOVE_DUE, coordinator.id)]
    assert board(figures.Scope(region_id=region.id), on=date(2026, 1, 5)).total.overdue_actions == 0


def test_items_failing_most_start_with_the_worst(region, inspector, version):
    for _ in range(3):
        inspect(
            factories.stall(region=region), inspector, version, answers(badge_worn="fail"), DAY1
        )
    inspect(
        factories.stall(region=region),
        inspector,
        version,
        answers(price_arabic="fail", badge_worn="fail"),
        DAY1,
    )

    worst = figures.failing_most(board(figures.Scope(region_id=region.id)).items)

    assert [(rate.key, rate.failed) for rate in worst] == [("badge_worn", 4), ("price_arabic", 1)]
    assert worst[0].rate == 0.0


def test_inspections_per_day_span_the_days_inspected(region, inspector, version):
    stall = factories.stall(region=region)
    inspect(stall, inspector, version, answers(), DAY1)
    inspect(stall, inspector, version, answers(price_shown="fail"), DAY1.replace(hour=15))
    inspect(stall, inspector, version, answers(), DAY2)

    trend = board(figures.Scope(region_id=region.id)).trend

    assert (trend[0].day, trend[-1].day) == (date(2025, 12, 22), date(2025, 12, 27))
    by_day = {day.day: day for day in trend}
    assert (by_day[date(2025, 12, 22)].inspections, by_day[date(2025, 12, 22)].compliant) == (2, 1)
    assert by_day[date(2025, 12, 24)].inspections == 0  # a day between with none counts zero
    assert sum(day.inspections for day in trend) == 3


def test_the_trend_never_draws_days_away_from_its_inspections(region, inspector, version):
    """A "To" date long after the inspections once drew 4 Aug - 1 Dec 2026, all empty, while
    the hint counted the inspections of Dec 2025 - Jan 2026."""
    stall = factories.stall(region=region)
    inspect(stall, inspector, version, answers(), DAY1)
    inspect(stall, inspector, version, answers(), DAY3)
    late = figures.Filters(date_from=date(2025, 1, 1), date_to=date(2026, 12, 1))

    dashboard = board(figures.Scope(region_id=region.id), late)

    assert (dashboard.trend[0].day, dashboard.trend[-1].day) == (DAY1.date(), DAY3.date())
    assert sum(day.inspections for day in dashboard.trend) == dashboard.inspections.count == 2


def test_rates_over_two_checklist_versions():
    old = parse(SMALL_CHECKLIST)
    new = parse(SMALL_CHECKLIST.replace('key = "corridor"', 'key = "aisle"'))
    # 3 current inspections on version 1, 2 on version 2; corridor became aisle in version 2.
    counts = [("corridor", "na", 1), ("price_shown", "fail", 2), ("aisle", "fail", 1)]

    rules, items = figures.rule_and_item_rates({1: old, 2: new}, {1: 3, 2: 2}, counts)
    by_rule = {rate.key: rate for rate in rules}
    by_item = {rate.key: rate for rate in items}

    assert (
        by_rule["cleanliness"].passed,
        by_rule["cleanliness"].failed,
        by_rule["cleanliness"].not_applicable,
    ) == (3, 1, 1)
    assert (by_rule["prices"].passed, by_rule["prices"].failed) == (8, 2)
    assert (by_item["aisle"].passed, by_item["aisle"].failed) == (1, 1)
    assert (by_item["corridor"].passed, by_item["corridor"].not_applicable) == (2, 1)
    assert [rate.key for rate in items][:2] == ["price_shown", "price_arabic"]


def test_bar_chart_writes_values_and_mirrors_in_arabic():
    bars = [charts.Bar("Rabat", 0.5, "50 %", note="1 of 2", href="/chamber/regions/MA-04")]

    ltr = str(charts.bar_chart("Compliance", bars))
    rtl = str(charts.bar_chart("Compliance", bars, rtl=True))

    assert "50 %" in ltr and "1 of 2" in ltr and 'href="/chamber/regions/MA-04"' in ltr
    assert 'direction="ltr"' in ltr and 'direction="rtl"' in rtl
    # A full bar spans 64 % of the width: half of it starts at the left edge in French and
    # ends at the right edge in Arabic, with its value just past its end.
    assert charts.BAR_SPAN == 64.0
    assert 'x="0.00%" y="21" width="32.00%"' in ltr
    assert 'x="68.00%" y="21" width="32.00%"' in rtl
    assert 'x="33.50%" y="35"' in ltr and 'x="66.50%" y="35"' in rtl
    assert "<title>Compliance</title>" in ltr


def test_trend_chart_mirrors_time_in_arabic():
    points = [charts.Point(date(2025, 12, 21), 3), charts.Point(date(2025, 12, 22), 7)]

    ltr = str(charts.trend_chart("Per day", points))
    rtl = str(charts.trend_chart("Per day", points, rtl=True))

    assert ">7</text>" in ltr and ">21/12</text>" in ltr
    assert 'cx="3.00%"' in ltr and 'cx="97.00%"' in ltr
    first_ltr = ltr.index('cx="3.00%"')
    first_rtl = rtl.index('cx="97.00%"')
    assert "2025-12-21" in ltr[first_ltr : first_ltr + 80]
    assert "2025-12-21" in rtl[first_rtl : first_rtl + 80]


def test_trend_chart_writes_the_busiest_day():
    values = [1] * 29
    values[13] = 9
    points = [charts.Point(date(2025, 12, 21) + timedelta(days=n), v) for n, v in enumerate(values)]

    svg = str(charts.trend_chart("Per day", points))

    assert ">9</text>" in svg and ">03/01</text>" in svg
    assert svg.count('font-weight="700"') <= 7  # a few values written, never all 29


def test_tally_add_sums_every_field():
    # Tally.add spells its fields out (it runs ~900 times a national page): a field added to
    # Tally and forgotten there would silently stay zero in every roll-up.
    names = list(figures.Tally.__dataclass_fields__)
    one = figures.Tally(**{name: index + 1 for index, name in enumerate(names)})
    two = figures.Tally(**{name: 10 * (index + 1) for index, name in enumerate(names)})
    one.add(two)
    assert {name: getattr(one, name) for name in names} == {
        name: 11 * (index + 1) for index, name in enumerate(names)
    }
