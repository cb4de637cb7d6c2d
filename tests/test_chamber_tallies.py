"""The running tallies behind the dashboards stay equal to the base tables, whoever writes.

compliance/chamber/tallies.py keeps ``Stall.current_*``, ``current_tally`` and
``day_tally`` up to date; these tests compare them with a rebuild from the base tables, after
submissions, contests and register imports, and compare a period's figures (read from the day
tallies) with the same figures counted here from the inspections themselves.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from compliance import register, scoring, venues
from compliance.admin import importing
from compliance.artisan import contests
from compliance.chamber import figures, follow_up, tallies
from compliance.extensions import db
from compliance.models import CLOSED, OPEN, Campaign, CorrectiveAction, Inspection, Stall
from compliance.storage import LocalStorage
from tests import factories
from tests.chamber_helpers import answers, inspect, small_checklist
from tests.registerfiles import csv_bytes, row

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
    # Running increments may leave a venue's row at zero where a rebuild has none.
    current = sorted(
        (
            row.stall_id,
            row.campaign_id,
            row.venue_id,
            row.craft,
            row.version_id,
            row.verdict,
            row.item_key,
            row.stalls,
            round(row.score_sum, 6),
            row.fails,
            row.nas,
        )
        for row in db.session.scalars(select(tallies.CurrentTally))
        if row.stalls or row.fails or row.nas
    )
    days = sorted(
        (
            row.campaign_id,
            row.venue_id,
            row.day,
            row.region_id,
            row.craft,
            row.version_id,
            row.verdict,
            row.item_key,
            row.inspections,
            round(row.score_sum, 6),
            row.fails,
            row.nas,
        )
        for row in db.session.scalars(select(tallies.DayTally))
    )
    # Open corrective actions, kept by triggers; closing one leaves no row behind.
    actions = sorted(
        (row.campaign_id, row.venue_id, row.region_id, row.craft, row.due_date, row.open_actions)
        for row in db.session.scalars(select(tallies.ActionTally))
    )
    action_days = sorted(
        (
            row.campaign_id,
            row.venue_id,
            row.region_id,
            row.opened_day,
            row.craft,
            row.verdict,
            row.due_date,
            row.open_actions,
        )
        for row in db.session.scalars(select(tallies.ActionDayTally))
    )
    # Rows of a stall's verdict that moved may stay at zero; a rebuild has none.
    current_actions = sorted(
        (
            row.campaign_id,
            row.venue_id,
            row.region_id,
            row.craft,
            row.current_verdict,
            row.due_date,
            row.open_actions,
        )
        for row in db.session.scalars(select(tallies.ActionCurrentTally))
        if row.open_actions
    )
    # Each action carries its stall's craft and its opening inspection's verdict (the lists
    # filtered by craft, or by verdict within dates, read them).
    crafts = sorted(
        db.session.execute(
            select(CorrectiveAction.id, CorrectiveAction.craft, CorrectiveAction.opened_verdict)
        ).all()
    )
    return stalls, current, days, actions, action_days, current_actions, crafts


def test_tallies_kept_while_submitting_equal_a_rebuild(visits):
    kept = snapshot()

    tallies.rebuild()

    assert snapshot() == kept
    stalls, current, days, actions, action_days, current_actions, crafts = kept
    first = next(row for row in stalls if row.id == visits["first"].id)
    assert first.current_verdict == scoring.FOLLOW_UP  # its second visit: 6/8
    assert first.current_day == date(2025, 12, 27)
    assert [(row[6], row[9], row[10]) for row in current if row[0] == visits["first"].id] == [
        ("", 0, 0),
        ("badge_worn", 1, 0),
    ]
    # Per venue: the first two stalls share one, the third is elsewhere; one never inspected.
    venue_rows = [row for row in current if row[0] == tallies.VENUE_ROW and row[6] == ""]
    assert sum(row[7] for row in venue_rows) == 3
    # Each inspection once per grain: its venue and its region.
    assert sum(row[8] for row in days if row[1] != tallies.REGION_ROW) == 5
    assert sum(row[8] for row in days if row[1] == tallies.REGION_ROW) == 5
    assert tallies.counted_inspections() == 5
    assert all(row[8] or row[10] or row[11] for row in days)  # no empty row
    # Each open action once per grain; none left at zero by the actions closed since.
    open_actions = db.session.scalar(
        select(func.count()).select_from(CorrectiveAction).where(CorrectiveAction.status == OPEN)
    )
    assert open_actions == 3  # badge_worn at the first stall; price_arabic, corridor at the second
    # Every action opened by a submission carries its stall's craft.
    assert all(opened for _id, _craft, opened in crafts)
    assert {craft for _id, craft, _opened in crafts} == {
        stall.artisan.craft for stall in (visits["first"], visits["second"])
    }
    assert all(row[-1] > 0 for row in [*actions, *action_days])
    for rows in (actions, action_days, current_actions):
        assert sum(row[-1] for row in rows if row[1] != tallies.REGION_ROW) == open_actions
        assert sum(row[-1] for row in rows if row[1] == tallies.REGION_ROW) == open_actions


def test_a_stalls_open_actions_follow_its_current_verdict(region, inspector, version):
    """An action open across three visits is counted under each new verdict in turn."""
    stall = factories.stall(region=region)

    def counted_under():
        counted: dict[tuple[int, str], int] = {}
        for tally in db.session.scalars(select(tallies.ActionCurrentTally)):
            key = (tally.venue_id, tally.current_verdict)
            counted[key] = counted.get(key, 0) + tally.open_actions
        return {key: n for key, n in counted.items() if n}

    venue = stall.venue_id
    inspect(stall, inspector, version, answers(price_arabic="fail"), DAY1)  # 7/8
    assert counted_under() == {(venue, scoring.COMPLIANT): 1, (0, scoring.COMPLIANT): 1}
    inspect(stall, inspector, version, answers(price_arabic="fail", badge_worn="fail"), DAY2)
    assert counted_under() == {(venue, scoring.FOLLOW_UP): 2, (0, scoring.FOLLOW_UP): 2}
    inspect(stall, inspector, version, answers(price_shown="fail", price_arabic="fail"), DAY3)
    # price_shown opened, price_arabic still open, badge_worn closed.
    assert counted_under() == {
        (venue, scoring.NON_COMPLIANT): 2,
        (0, scoring.NON_COMPLIANT): 2,
    }
    kept = snapshot()
    tallies.rebuild()
    assert snapshot() == kept
    only = figures.Filters(verdict=scoring.NON_COMPLIANT)
    board = figures.dashboard(figures.Scope(region_id=region.id), only, on=date(2026, 1, 6))
    assert (board.total.open_actions, board.total.overdue_actions) == (2, 0)
    followed = figures.Filters(verdict=scoring.FOLLOW_UP)
    board = figures.dashboard(figures.Scope(region_id=region.id), followed, on=date(2026, 1, 6))
    assert board.total.open_actions == 0


def test_actions_closed_or_moved_by_a_coordinator_leave_the_tallies_equal_a_rebuild(
    coordinator, visits
):
    stall = visits["second"]
    first, second = db.session.scalars(
        select(CorrectiveAction)
        .where(CorrectiveAction.stall_id == stall.id, CorrectiveAction.status == OPEN)
        .order_by(CorrectiveAction.id)
    ).all()[:2]
    follow_up.close(first, coordinator, "fixed, seen on a photo")
    follow_up.move_due_date(second, coordinator, date(2026, 2, 20))

    kept = snapshot()
    tallies.rebuild()

    assert snapshot() == kept
    board = figures.dashboard(figures.Scope(), figures.Filters(), on=date(2026, 2, 1))
    assert (board.total.open_actions, board.total.overdue_actions) == (2, 1)


def _stall_in(stall, scope, filters, region_of) -> bool:
    """The stall is in the scope's region or venue, and of the filters' craft and venue kind."""
    return (
        (scope.region_id is None or region_of(stall) == scope.region_id)
        and (scope.venue_id is None or stall.venue_id == scope.venue_id)
        and (not filters.craft or stall.artisan.craft == filters.craft)
        and (not filters.kind or stall.venue.kind == filters.kind)
    )


def _made_in(scope, filters, region_of):
    """A period's figures counted from the inspections themselves (what the tallies must say)."""
    made = []
    for inspection in db.session.scalars(select(Inspection)):
        stall = inspection.stall
        day = inspection.submitted_day
        if inspection.status != "submitted" or day is None:
            continue
        if (filters.date_from and day < filters.date_from) or (
            filters.date_to and day > filters.date_to
        ):
            continue
        if not _stall_in(stall, scope, filters, region_of):
            continue
        if filters.verdict and inspection.verdict != filters.verdict:
            continue
        made.append(inspection)
    fails, nas = {}, {}
    for inspection in made:
        for answer in inspection.answers:
            if answer.result == "fail":
                fails[answer.item_key] = fails.get(answer.item_key, 0) + 1
            elif answer.result == "na":
                nas[answer.item_key] = nas.get(answer.item_key, 0) + 1
    verdicts = [inspection.verdict for inspection in made]
    return {
        "inspections": len(made),
        "compliant": verdicts.count(scoring.COMPLIANT),
        "follow_up": verdicts.count(scoring.FOLLOW_UP),
        "non_compliant": verdicts.count(scoring.NON_COMPLIANT),
        "score_sum": round(sum(inspection.score for inspection in made), 6),
        "fails": fails,
        "nas": nas,
    }


def _period_figures(board):
    total = board.total
    return {
        "inspections": total.inspected,
        "compliant": total.compliant,
        "follow_up": total.follow_up,
        "non_compliant": total.non_compliant,
        "score_sum": round(total.score_sum, 6),
        "fails": {rate.key: rate.failed for rate in board.items if rate.failed},
        "nas": {rate.key: rate.not_applicable for rate in board.items if rate.not_applicable},
    }


@pytest.mark.parametrize(
    "filters",
    [
        EVERY_DAY,
        figures.Filters(date_from=date(2025, 12, 27), date_to=date(2025, 12, 27)),
        figures.Filters(date_from=date(2025, 12, 23)),
        figures.Filters(date_to=date(2025, 12, 30), verdict=scoring.FOLLOW_UP),
        figures.Filters(date_from=date(2025, 12, 1), craft="pottery", verdict=scoring.COMPLIANT),
        figures.Filters(date_from=date(2025, 12, 1), craft="weaving"),
        figures.Filters(date_from=date(2025, 12, 1), kind="fan_zone"),
    ],
)
def test_a_period_counts_the_inspections_made_in_it(region, visits, filters):
    def region_of(stall):
        return stall.venue.province.region_id

    for scope in (
        figures.Scope(),
        figures.Scope(region_id=region.id),
        figures.Scope(venue_id=visits["first"].venue_id),
    ):
        board = figures.dashboard(scope, filters, on=date(2026, 2, 1))
        assert _period_figures(board) == _made_in(scope, filters, region_of), scope
        assert board.inspections.count == board.total.inspected
        # Passes are the inspections less the item's fails and N/As.
        for rate in board.items:
            assert rate.passed + rate.failed + rate.not_applicable == board.total.inspected


def _current_in(scope, filters, region_of):
    """Current figures counted from each stall's own row and latest answers."""
    counted = {"stalls": 0, "inspected": 0, "compliant": 0, "score_sum": 0.0, "fails": {}}
    for stall in db.session.scalars(select(Stall)):
        if not _stall_in(stall, scope, filters, region_of):
            continue
        inspected = stall.latest_inspection_id is not None
        if filters.verdict == figures.NOT_INSPECTED and inspected:
            continue
        if filters.verdict not in (None, figures.NOT_INSPECTED) and (
            stall.current_verdict != filters.verdict
        ):
            continue
        counted["stalls"] += 1
        if not inspected:
            continue
        counted["inspected"] += 1
        counted["compliant"] += stall.current_verdict == scoring.COMPLIANT
        counted["score_sum"] = round(counted["score_sum"] + stall.current_score, 6)
        for answer in db.session.get(Inspection, stall.latest_inspection_id).answers:
            if answer.result == "fail":
                counted["fails"][answer.item_key] = counted["fails"].get(answer.item_key, 0) + 1
    return counted


@pytest.mark.parametrize(
    "filters",
    [
        figures.Filters(),
        figures.Filters(verdict=scoring.FOLLOW_UP),
        figures.Filters(verdict=figures.NOT_INSPECTED),
        figures.Filters(craft="pottery", verdict=scoring.COMPLIANT),
        figures.Filters(craft="weaving"),
        figures.Filters(kind="fan_zone"),
    ],
)
def test_current_figures_from_the_venues_tallies_equal_the_stalls(region, visits, filters):
    def region_of(stall):
        return stall.venue.province.region_id

    for scope in (
        figures.Scope(),
        figures.Scope(region_id=region.id),
        figures.Scope(venue_id=visits["first"].venue_id),
    ):
        board = figures.dashboard(scope, filters, on=date(2026, 2, 1))
        total = board.total
        assert {
            "stalls": total.stalls,
            "inspected": total.inspected,
            "compliant": total.compliant,
            "score_sum": round(total.score_sum, 6),
            "fails": {rate.key: rate.failed for rate in board.items if rate.failed},
        } == _current_in(scope, filters, region_of), (scope, filters)


def test_a_period_of_the_whole_country_is_counted_per_region(region, other_region, visits):
    board = figures.dashboard(figures.Scope(), EVERY_DAY, on=date(2026, 2, 1))
    per_region = {row.id: tally.inspected for row, tally in board.groups("region")}
    assert per_region[region.id] == 4
    assert per_region[other_region.id] == 1
    assert board.never_inspected_venues() == []


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
    period = figures.dashboard(scope, EVERY_DAY, on=date(2026, 2, 1))
    assert {rate.key: rate.failed for rate in period.rules}["badge"] == 0
    assert period.total.compliant == 2  # the rescored visit and the second stall's first


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


def test_a_register_import_moves_a_stalls_inspections_with_it(
    region, other_region, visits, tmp_path
):
    """A stall moved to a venue of another region, its artisan's craft changed: recounted."""
    stall = visits["first"]
    target = factories.venue(other_region, city="Marrakech")
    target.code = "MRK-FZ9"
    db.session.commit()
    data = csv_bytes(
        [
            row(
                card=stall.artisan.nia,
                name_ar=stall.artisan.name_ar,
                name_latin=stall.artisan.name_latin,
                craft="leather",
                venue="MRK-FZ9",
                stall=stall.code,
            )
        ]
    )
    job = register.RegisterImport(db.session, data, importing.vocabulary(), None)
    for _ in job.preview():
        pass
    assert job.summary.storable, job.summary.as_dict()
    for _ in job.apply("test", None):
        pass
    db.session.commit()

    kept = snapshot()
    tallies.rebuild()
    assert snapshot() == kept
    moved = figures.dashboard(figures.Scope(venue_id=target.id), EVERY_DAY, on=date(2026, 2, 1))
    assert moved.total.inspected == 2
    leather = figures.Filters(date_from=date(2025, 1, 1), craft="leather")
    board = figures.dashboard(figures.Scope(region_id=other_region.id), leather)
    assert board.total.inspected == 2
    assert figures.dashboard(figures.Scope(region_id=region.id), EVERY_DAY).total.inspected == 2


def test_an_artisan_moved_to_another_stall_is_counted_with_it(visits):
    """A coordinator moves an artisan (another craft): both stalls' inspections recounted."""
    source = visits["second"]
    target = factories.stall(venue_row=source.venue)
    target.artisan = None
    weaver = factories.artisan(craft="carpets")
    visits["first"].artisan = weaver
    db.session.commit()
    tallies.rebuild()
    venues.move_artisan(db.session, source.artisan, source, target, venues.Actor("test"))
    db.session.commit()

    kept = snapshot()
    tallies.rebuild()
    assert snapshot() == kept
    carpets = figures.Filters(date_from=date(2025, 1, 1), craft="carpets")
    assert figures.dashboard(figures.Scope(), carpets).total.inspected == 2


def test_a_stall_given_another_artisan_by_a_coordinator_is_recounted(
    as_coordinator, client, visits
):
    stall = visits["first"]
    factories.artisan(nia="A7777777", craft="leather")

    response = client.post(
        f"/admin/stalls/{stall.id}", data={"code": stall.code, "card_number": "A7777777"}
    )

    assert response.status_code == 302
    kept = snapshot()
    tallies.rebuild()
    assert snapshot() == kept
    leather = figures.Filters(date_from=date(2025, 1, 1), craft="leather")
    assert figures.dashboard(figures.Scope(), leather).total.inspected == 2


def _open_actions_matching(scope, filters, region_of, status=OPEN):
    """The open (or closed) actions in scope that match the filters, checked one by one."""
    for action in db.session.scalars(select(CorrectiveAction)):
        stall = action.stall
        if action.status != status:
            continue
        if filters.dated and (
            (filters.date_from and action.opened_day < filters.date_from)
            or (filters.date_to and action.opened_day > filters.date_to)
        ):
            continue
        if not _stall_in(stall, scope, filters, region_of):
            continue
        if filters.verdict and filters.dated and action.opened_by.verdict != filters.verdict:
            continue
        if filters.verdict and not filters.dated and stall.current_verdict != filters.verdict:
            continue
        yield action


def _open_actions_in(scope, filters, on, region_of):
    """Open and overdue actions per region, counted from the actions themselves."""
    counted: dict[int, list[int]] = {}
    for action in _open_actions_matching(scope, filters, region_of):
        stall = action.stall
        region = counted.setdefault(region_of(stall), [0, 0])
        region[0] += 1
        region[1] += action.due_date < on
    return counted


ACTION_FILTERS = [
    figures.Filters(),
    EVERY_DAY,
    figures.Filters(date_from=date(2025, 12, 27), date_to=date(2026, 1, 5)),
    figures.Filters(craft="pottery"),
    figures.Filters(verdict=scoring.FOLLOW_UP),
    figures.Filters(craft="pottery", verdict=scoring.FOLLOW_UP),
    figures.Filters(verdict=figures.NOT_INSPECTED),
    figures.Filters(date_from=date(2025, 12, 1), verdict=scoring.FOLLOW_UP),
    figures.Filters(date_from=date(2025, 12, 1), craft="pottery", verdict=scoring.FOLLOW_UP),
    figures.Filters(date_from=date(2025, 12, 1), verdict=figures.NOT_INSPECTED),
    figures.Filters(kind="fan_zone"),
]


@pytest.mark.parametrize("filters", ACTION_FILTERS)
def test_open_and_overdue_actions_from_the_tallies_equal_the_actions(
    region, other_region, visits, filters
):
    def region_of(stall):
        return stall.venue.province.region_id

    on = date(2026, 1, 6)  # the first stall's action is overdue, the second's are not
    for scope in (
        figures.Scope(),
        figures.Scope(region_id=region.id),
        figures.Scope(venue_id=visits["second"].venue_id),
    ):
        board = figures.dashboard(scope, filters, on=on)
        expected = _open_actions_in(scope, filters, on, region_of)
        total = [sum(counts[i] for counts in expected.values()) for i in (0, 1)]
        assert [board.total.open_actions, board.total.overdue_actions] == total, scope
        if scope.national:
            per_region = {
                row.id: [tally.open_actions, tally.overdue_actions]
                for row, tally in board.groups("region")
            }
            assert per_region[region.id] == expected.get(region.id, [0, 0])
            assert per_region[other_region.id] == expected.get(other_region.id, [0, 0])
    everything = _open_actions_in(figures.Scope(), figures.Filters(), on, region_of)
    assert everything == {region.id: [3, 1]}  # the case this test is about


@pytest.mark.parametrize("filters", ACTION_FILTERS)
def test_the_lists_of_actions_hold_the_matching_actions(region, visits, filters):
    """The chamber's lists of open actions, whatever the filters, equal a check one by one."""

    def region_of(stall):
        return stall.venue.province.region_id

    on = date(2026, 1, 6)
    for scope in (
        figures.Scope(),
        figures.Scope(region_id=region.id),
        figures.Scope(venue_id=visits["second"].venue_id),
    ):
        expected = _open_actions_matching(scope, filters, region_of)
        listed = figures.rows(figures.actions_query(scope, filters, on, "open"), 50)
        assert sorted(row.CorrectiveAction.id for row in listed) == sorted(
            action.id for action in expected
        ), scope
        # Closed ones: latest first.
        closed = _open_actions_matching(scope, filters, region_of, status=CLOSED)
        listed = figures.rows(figures.actions_query(scope, filters, on, "closed"), 50)
        assert [row.CorrectiveAction.id for row in listed] == [
            action.id for action in sorted(closed, key=lambda a: (a.closed_at, a.id), reverse=True)
        ], scope


def _result_of(stall, filters):
    """The stall's result the lists show: its latest inspection (within the dates), or None."""
    if not filters.dated:
        latest = stall.latest_inspection_id
        return None if latest is None else db.session.get(Inspection, latest)
    made = [
        inspection
        for inspection in db.session.scalars(
            select(Inspection).where(Inspection.stall_id == stall.id)
        )
        if inspection.submitted_day is not None
        and (not filters.date_from or inspection.submitted_day >= filters.date_from)
        and (not filters.date_to or inspection.submitted_day <= filters.date_to)
    ]
    return max(made, key=lambda i: (i.submitted_day, i.submitted_at), default=None)


@pytest.mark.parametrize(
    "filters",
    [
        figures.Filters(),
        figures.Filters(verdict=scoring.FOLLOW_UP),
        figures.Filters(verdict=figures.NOT_INSPECTED),
        figures.Filters(craft="pottery"),
        EVERY_DAY,
        figures.Filters(date_from=date(2025, 12, 27), date_to=date(2026, 1, 5)),
        figures.Filters(date_from=date(2025, 12, 20), date_to=date(2025, 12, 23)),
        figures.Filters(date_from=date(2025, 12, 27), verdict=figures.NOT_INSPECTED),
        figures.Filters(date_from=date(2025, 12, 27), verdict=scoring.FOLLOW_UP),
        figures.Filters(date_from=date(2025, 12, 1), craft="pottery", kind="fan_zone"),
    ],
)
def test_the_lists_of_stalls_hold_the_matching_stalls(region, visits, filters):
    """Failing, never inspected, all: each list equals a check stall by stall, in its order
    (worst verdict first, then most critical failures, lowest score, code; never last)."""

    def region_of(stall):
        return stall.venue.province.region_id

    severity = {verdict: n for n, verdict in enumerate(figures.SEVERITIES)}
    # Every inspection here is of the one campaign: its figures are the same.
    (campaign,) = db.session.scalars(select(Campaign)).all()
    of_campaign = replace(filters, campaign=figures.campaign_view(campaign))
    compared = 0
    cases = (  # the same filters, with and without the campaign
        (figures.Scope(), filters),
        (figures.Scope(region_id=region.id), filters),
        (figures.Scope(), of_campaign),
        (figures.Scope(region_id=region.id), of_campaign),
        (figures.Scope(venue_id=visits["second"].venue_id), of_campaign),
    )
    for scope, asked in cases:
        expected: dict[str, list] = {"failing": [], "never": [], "all": []}
        for stall in db.session.scalars(select(Stall)):
            if not _stall_in(stall, scope, filters, region_of):
                continue
            result = _result_of(stall, filters)
            verdict = result.verdict if result else figures.NOT_INSPECTED
            if filters.verdict and verdict != filters.verdict:
                continue
            key = (
                (severity[verdict], -result.critical_failures, result.score, stall.code)
                if result
                else (3, 0, 0, stall.code)
            )
            expected["all"].append((key, stall.id))
            if result is None:
                expected["never"].append((key, stall.id))
            elif verdict in (scoring.NON_COMPLIANT, scoring.FOLLOW_UP):
                expected["failing"].append((key, stall.id))
        for state, stalls in expected.items():
            listed = figures.worst_stalls(scope, asked, state, 100)
            assert [row.Stall.id for row in listed] == [i for _k, i in sorted(stalls)], (
                scope,
                state,
            )
            if len(stalls) > 1:  # a second page of one row
                second = figures.worst_stalls(scope, asked, state, 1, offset=1)
                assert [row.Stall.id for row in second] == [sorted(stalls)[1][1]]
        compared += len(expected["all"])
    assert compared, "nothing to compare"


def test_a_regions_overdue_list_holds_its_own_actions_by_due_date(
    region, other_region, version, visits
):
    elsewhere = factories.user("inspector", region=other_region)
    inspect(visits["third"], elsewhere, version, answers(price_shown="fail"), DAY3)
    on = date(2026, 2, 1)

    def listed(scope):
        query = figures.actions_query(scope, figures.Filters(), on, "overdue")
        return figures.rows(query, 10)

    own = listed(figures.Scope(region_id=region.id))
    assert {row.Stall.id for row in own} == {visits["first"].id, visits["second"].id}
    assert len(own) == 3
    dues = [(row.CorrectiveAction.due_date, row.CorrectiveAction.id) for row in own]
    assert dues == sorted(dues)
    assert [row.Stall.id for row in listed(figures.Scope(region_id=other_region.id))] == [
        visits["third"].id
    ]
    assert len(listed(figures.Scope())) == 4
