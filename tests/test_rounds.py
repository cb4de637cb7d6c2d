"""Rounds and coverage (compliance/rounds.py): the plan, what each stall needs, the pages.

Inspections go through the real path on the tiny checklist of tests/test_artisan_helpers.py
(welcome critical, prices and clean; "prices" failed gives a corrective action due in 2 days).
The campaign spans today, so rounds can be planned on today and the next days.

The last section checks the coverage's figures against a plain per-stall reading of the rules
after every kind of write to corrective actions ("overdue" is read from the stall's
``open_action_due``, which triggers keep: migration 0018).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from compliance import dates, rounds
from compliance.artisan import contests
from compliance.chamber import follow_up, tallies
from compliance.extensions import db
from compliance.models import (
    ACCEPTED,
    OPEN,
    SUBMITTED,
    AuditEvent,
    CampaignVenue,
    Contest,
    CorrectiveAction,
    Inspection,
    Province,
    RoundAssignment,
    Stall,
    Venue,
)
from compliance.photos import process
from compliance.venues import Actor, close_stall

from . import factories, imagefactory
from .test_artisan_helpers import inspect, storage, tiny_checklist

TODAY = dates.today()
PASS_ALL = {"welcome": "pass", "prices": "pass", "clean": "pass"}
FAIL_PRICES = {"welcome": "pass", "prices": "fail", "clean": "pass"}


@pytest.fixture
def version():
    return tiny_checklist()


@pytest.fixture
def campaign(version):
    return factories.campaign(
        version, first_day=TODAY - timedelta(days=3), last_day=TODAY + timedelta(days=10)
    )


@pytest.fixture
def venue(region, campaign):
    return factories.venue(region)


def stalls(venue, *codes):
    return [factories.stall(venue_row=venue, code=code) for code in codes]


def states(campaign, venue):
    return {f.code: f.state for f in rounds.facts(campaign, venue_ids=[venue.id])}


def visited_days_ago(stall, days: int) -> None:
    """Move the stall's latest visit back in time (the real path submits it today)."""
    stall.latest_inspection.submitted_day = TODAY - timedelta(days=days)
    stall.current_day = TODAY - timedelta(days=days)
    db.session.commit()


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- natural order ---------------------------------------------------------------------------


def test_stall_codes_sort_naturally():
    codes = ["A10", "b1", "A2", "A-3", "10", "A1"]
    assert sorted(codes, key=rounds.natural_key) == ["10", "A1", "A2", "A-3", "A10", "b1"]


def test_a_range_is_inclusive_and_an_empty_end_has_no_bound():
    assert rounds.in_range("A10", "A2", "A10")
    assert rounds.in_range("a2", "A2", "A10")
    assert not rounds.in_range("A11", "A2", "A10")
    assert not rounds.in_range("A1", "A2", "")
    assert rounds.in_range("Z99", "A2", "")
    assert rounds.in_range("A1", "", "")


# --- the plan --------------------------------------------------------------------------------


def test_assigning_is_audited_and_assigning_again_changes_the_range(
    campaign, venue, inspector, coordinator
):
    first = rounds.assign(campaign, venue, TODAY, inspector, coordinator, "A1", "A20")
    again = rounds.assign(campaign, venue, TODAY, inspector, coordinator, "A21", "")
    assert again.id == first.id
    assert (again.code_from, again.code_to) == ("A21", "")
    assert [e.after["from"] for e in events("round.assign")] == ["A1"]
    (update,) = events("round.update")
    assert (update.before["to"], update.after["to"], update.actor_id) == ("A20", "", coordinator.id)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"day": TODAY + timedelta(days=30)}, "not one of the campaign's days"),
        ({"code_from": "A10", "code_to": "A9"}, "comes after"),
        ({"code_from": "X" * 33}, "characters at most"),
        ({"other_region": True}, "inspector of the sale space's region"),
    ],
)
def test_a_refused_assignment_changes_nothing(
    campaign, venue, inspector, coordinator, other_region, change, message
):
    who = factories.user("inspector", region=other_region) if change.get("other_region") else None
    with pytest.raises(rounds.RoundError, match=message):
        rounds.assign(
            campaign,
            venue,
            change.get("day", TODAY),
            who or inspector,
            coordinator,
            change.get("code_from", ""),
            change.get("code_to", ""),
        )
    assert db.session.scalar(select(RoundAssignment)) is None
    assert events("round.assign") == []


def test_a_venue_outside_the_campaign_and_a_closed_campaign_are_refused(
    campaign, venue, region, inspector, coordinator
):
    outside = factories.venue(region)
    db.session.execute(
        db.delete(factories.CampaignVenue).where(factories.CampaignVenue.venue_id == outside.id)
    )
    db.session.commit()
    with pytest.raises(rounds.RoundError, match="does not take part"):
        rounds.assign(campaign, outside, TODAY, inspector, coordinator)
    campaign.state = "closed"
    db.session.commit()
    with pytest.raises(rounds.RoundError, match="closed"):
        rounds.assign(campaign, venue, TODAY, inspector, coordinator)


def test_unassigning_is_audited(campaign, venue, inspector, coordinator):
    assignment = rounds.assign(campaign, venue, TODAY, inspector, coordinator)
    rounds.unassign(assignment, coordinator)
    assert db.session.scalar(select(RoundAssignment)) is None
    (gone,) = events("round.unassign")
    assert gone.before["inspector"] == inspector.id


def test_copying_a_day_makes_the_next_days_the_same_in_one_audited_action(
    campaign, venue, region, inspector, coordinator
):
    colleague = factories.user("inspector", region=region)
    rounds.assign(campaign, venue, TODAY, inspector, coordinator, "A1", "A20")
    rounds.assign(campaign, venue, TODAY, colleague, coordinator, "A21", "")
    tomorrow = TODAY + timedelta(days=1)
    rounds.assign(campaign, venue, tomorrow, inspector, coordinator, "A5", "A6")  # replaced
    stale = factories.user("inspector", region=region)
    rounds.assign(campaign, venue, tomorrow, stale, coordinator)  # removed
    db.session.query(AuditEvent).delete()
    db.session.commit()

    copied = rounds.copy_day(campaign, [venue], TODAY, 30, coordinator)

    assert copied.days[-1] == campaign.last_day  # the days past the campaign are left out
    assert (copied.added, copied.changed, copied.removed) == (2 * 10 - 1, 1, 1)
    plan = rounds.plan(campaign, [venue], tomorrow, days=10)
    for day in plan.days:
        cell = plan.cells[(venue.id, day)]
        assert [(a.inspector_id, a.code_from, a.code_to) for a in cell] == [
            (inspector.id, "A1", "A20"),
            (colleague.id, "A21", ""),
        ]
    (copy,) = db.session.scalars(select(AuditEvent))
    assert copy.action == "round.copy" and copy.after["removed"] == 1
    assert {r["inspector"] for r in copy.before["replaced"]} == {inspector.id, stale.id}


def test_copying_past_the_last_day_is_refused(campaign, venue, inspector, coordinator):
    rounds.assign(campaign, venue, campaign.last_day, inspector, coordinator)
    with pytest.raises(rounds.RoundError, match="No day of the campaign follows"):
        rounds.copy_day(campaign, [venue], campaign.last_day, 3, coordinator)
    with pytest.raises(rounds.RoundError, match="1 to 31"):
        rounds.copy_day(campaign, [venue], TODAY, 0, coordinator)


# --- what each stall needs -------------------------------------------------------------------


def _action(stall) -> CorrectiveAction:
    return db.session.scalar(select(CorrectiveAction).where(CorrectiveAction.stall_id == stall.id))


def test_a_fix_date_of_yesterday_is_due_again_and_of_today_not_yet(
    campaign, venue, inspector, version
):
    late, on_time, fine, _never = stalls(venue, "A1", "A2", "A3", "A4")
    for stall in (late, on_time):
        inspect(stall, inspector, version, FAIL_PRICES)
    inspect(fine, inspector, version, PASS_ALL)
    _action(late).due_date = TODAY - timedelta(days=1)
    _action(on_time).due_date = TODAY
    db.session.commit()
    assert states(campaign, venue) == {
        "A1": rounds.DUE,
        "A2": "needs_follow_up",
        "A3": "compliant",
        "A4": rounds.NEVER,
    }
    (fact,) = [f for f in rounds.facts(campaign, venue_ids=[venue.id]) if f.code == "A1"]
    assert fact.reasons == (rounds.OVERDUE,)


def test_a_fix_report_is_due_again_until_the_next_visit(campaign, venue, inspector, version):
    (stall,) = stalls(venue, "B1")
    inspect(stall, inspector, version, FAIL_PRICES)
    contests.report_fix(
        stall.artisan, _action(stall), process(imagefactory.jpeg(200, 100)), storage(), "Done"
    )
    facts = rounds.facts(campaign, venue_ids=[venue.id])
    assert [(f.state, f.reasons) for f in facts] == [(rounds.DUE, (rounds.FIX_REPORTED,))]
    inspect(stall, inspector, version, PASS_ALL)
    assert states(campaign, venue) == {"B1": "compliant"}


def test_an_accepted_contest_is_due_again_until_the_next_visit(
    campaign, venue, inspector, coordinator, version
):
    (stall,) = stalls(venue, "C1")
    visit = inspect(
        stall,
        inspector,
        version,
        {"welcome": "pass", "prices": "pass", "clean": "fail"},
        photos={"clean": imagefactory.jpeg(320, 240)},
    )
    filed = contests.file_contest(
        stall.artisan, visit, "clean", "It was clean", process(imagefactory.jpeg(200, 90)),
        storage(),
    )  # fmt: skip
    assert states(campaign, venue) == {"C1": "needs_follow_up"}  # pending: nothing to visit
    contests.accept(filed.contest, coordinator)
    (fact,) = rounds.facts(campaign, venue_ids=[venue.id])
    assert (fact.state, fact.reasons) == (rounds.DUE, (rounds.CONTESTED,))
    inspect(stall, inspector, version, PASS_ALL)
    assert states(campaign, venue) == {"C1": "compliant"}


def test_a_stall_closed_mid_campaign_leaves_coverage_and_rounds(
    campaign, venue, region, inspector, coordinator, version
):
    _kept, closing = stalls(venue, "D1", "D2")
    inspect(closing, inspector, version, FAIL_PRICES)
    _action(closing).due_date = TODAY - timedelta(days=2)
    rounds.assign(campaign, venue, TODAY, inspector, coordinator)
    close_stall(closing, Actor("cli"))
    db.session.commit()
    (_found,), total = rounds.coverage_by_venue(campaign, region.id)
    assert (total.stalls, total.inspected, total.due, total.todo) == (1, 0, 0, 1)
    (today,) = rounds.round_of(inspector)
    assert [f.code for f in today.todo] == ["D1"] and today.done == []


def test_due_again_comes_first_then_never_inspected_in_walking_order(
    campaign, venue, inspector, coordinator, version
):
    a10, _a2, a1, _a3 = stalls(venue, "A10", "A2", "A1", "A3")
    inspect(a10, inspector, version, FAIL_PRICES)
    visited_days_ago(a10, 3)
    inspect(a1, inspector, version, PASS_ALL)
    _action(a10).due_date = TODAY - timedelta(days=1)
    db.session.commit()
    rounds.assign(campaign, venue, TODAY, inspector, coordinator)
    (today,) = rounds.round_of(inspector)
    assert [f.code for f in today.todo] == ["A10", "A2", "A3"]
    assert [f.code for f in today.done] == ["A1"]  # visited today: done, not to do


def test_two_inspectors_share_a_venue_by_range_and_a_visit_counts_for_its_range(
    campaign, venue, region, inspector, coordinator, version
):
    colleague = factories.user("inspector", region=region)
    s = stalls(venue, "A1", "A2", "A9", "A10", "A11")
    rounds.assign(campaign, venue, TODAY, inspector, coordinator, "", "A9")
    rounds.assign(campaign, venue, TODAY, colleague, coordinator, "A10", "")
    inspect(s[3], inspector, version, PASS_ALL)  # A10: in the colleague's range
    (mine,) = rounds.round_of(inspector)
    (theirs,) = rounds.round_of(colleague)
    assert [f.code for f in mine.todo] == ["A1", "A2", "A9"] and mine.done == []
    assert [f.code for f in theirs.todo] == ["A11"]
    assert [f.code for f in theirs.done] == ["A10"]
    people = {p.inspector.id: p for p in rounds.coverage_by_inspector(campaign, region.id)}
    assert (people[inspector.id].round_today, people[inspector.id].round_done) == (3, 0)
    assert (people[colleague.id].round_today, people[colleague.id].round_done) == (2, 1)
    # The visit was outside the inspector's own round: counted as theirs, and as outside.
    assert (people[inspector.id].visits_today, people[inspector.id].outside_today) == (1, 1)


def test_a_visit_outside_any_round_counts_for_coverage(campaign, venue, region, inspector, version):
    (stall,) = stalls(venue, "E1")
    inspect(stall, inspector, version, PASS_ALL)
    assert rounds.round_of(inspector) == []
    (_row,), total = rounds.coverage_by_venue(campaign, region.id)
    assert (total.inspected, total.inspected_today, total.never) == (1, 1, 0)
    (person,) = rounds.coverage_by_inspector(campaign, region.id)
    assert (person.visits, person.stalls_visited, person.outside_today) == (1, 1, 1)


def test_coverage_by_province_adds_up_its_venues(campaign, region, inspector, version):
    first, second = factories.venue(region), factories.venue(region)
    stalls(first, "F1", "F2")
    (g1,) = stalls(second, "G1")
    inspect(g1, inspector, version, PASS_ALL)
    places, total = rounds.coverage_by_province(campaign, region.id)
    assert (total.stalls, total.inspected) == (3, 1)
    assert sorted(p.tally.stalls for p in places) == [1, 2]


def test_coverage_is_scoped_to_the_region(campaign, venue, region, other_region):
    stalls(venue, "H1")
    elsewhere = factories.venue(other_region)
    stalls(elsewhere, "K1", "K2")
    mine, total = rounds.coverage_by_venue(campaign, region.id)
    assert [p.place.id for p in mine] == [venue.id] and total.stalls == 1
    _everything, national = rounds.coverage_by_venue(campaign, None)
    assert national.stalls == 3


def test_an_older_campaign_is_read_from_its_own_inspections(
    venue, region, inspector, version, campaign
):
    (stall,) = stalls(venue, "M1")
    inspect(stall, inspector, version, FAIL_PRICES)
    campaign.state = "closed"
    db.session.commit()
    later = factories.campaign(
        version, first_day=TODAY + timedelta(days=11), last_day=TODAY + timedelta(days=20)
    )
    inspect(stall, inspector, version, PASS_ALL)  # the later campaign's visit
    assert states(campaign, venue) == {"M1": "needs_follow_up"}  # not due: closed
    assert states(later, venue) == {"M1": "compliant"}


def test_coverage_takes_the_same_few_queries_for_many_stalls(
    campaign, venue, region, inspector, coordinator, version
):
    def count_queries(run) -> int:
        seen = []
        engine = db.engine
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            run()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    rounds.assign(campaign, venue, TODAY, inspector, coordinator)
    stalls(venue, "N1")

    def pages():
        rounds.coverage_by_venue(campaign, region.id)
        rounds.coverage_by_inspector(campaign, region.id)
        rounds.round_of(inspector)
        rounds.facts(campaign, venue_ids=[venue.id])

    few = count_queries(pages)
    for n in range(2, 12):
        inspect(factories.stall(venue_row=venue, code=f"N{n}"), inspector, version, FAIL_PRICES)
    db.session.expire_all()
    assert count_queries(pages) == few <= 20


# --- the coordinator's pages -------------------------------------------------------------------


def test_a_coordinator_plans_a_round_on_the_pages(as_coordinator, campaign, venue, inspector):
    page = as_coordinator.get("/rounds/")
    assert page.status_code == 200 and venue.name_en in page.get_data(as_text=True)
    response = as_coordinator.post(
        f"/rounds/venues/{venue.id}/assign",
        data={"campaign": campaign.code, "day": TODAY.isoformat(), "inspector": inspector.id,
              "code_from": "A1", "code_to": "A20"},
    )  # fmt: skip
    assert response.status_code == 302
    day = as_coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert inspector.name in day and "A20" in day
    assert inspector.name in as_coordinator.get("/rounds/").get_data(as_text=True)
    gone = as_coordinator.post(
        f"/rounds/venues/{venue.id}/unassign",
        data={"campaign": campaign.code, "day": TODAY.isoformat(), "inspector": inspector.id},
    )
    assert gone.status_code == 302 and db.session.scalar(select(RoundAssignment)) is None
    assert len(events("round.assign")) == len(events("round.unassign")) == 1


def test_a_reversed_range_is_a_400_that_says_why(as_coordinator, campaign, venue, inspector):
    response = as_coordinator.post(
        f"/rounds/venues/{venue.id}/assign",
        data={"campaign": campaign.code, "day": TODAY.isoformat(), "inspector": inspector.id,
              "code_from": "B9", "code_to": "B1"},
        headers={"Accept-Language": "fr"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "B9" in response.get_data(as_text=True)  # the form keeps what was typed
    assert db.session.scalar(select(RoundAssignment)) is None


def test_copying_a_day_on_the_plan_page(as_coordinator, campaign, venue, inspector, coordinator):
    rounds.assign(campaign, venue, TODAY, inspector, coordinator)
    response = as_coordinator.post(
        "/rounds/copy", data={"campaign": campaign.code, "day": TODAY.isoformat(), "days": 2}
    )
    assert response.status_code == 302
    days = db.session.scalars(select(RoundAssignment.day).order_by(RoundAssignment.day)).all()
    assert days == [TODAY, TODAY + timedelta(days=1), TODAY + timedelta(days=2)]


def test_coverage_drills_down_to_stalls_and_exports_them(
    as_coordinator, campaign, venue, inspector, version
):
    seen, _unseen = stalls(venue, "P 1", "P 2")  # spaced: never inside a CSRF token
    inspect(seen, inspector, version, PASS_ALL)
    for by in ("venue", "province", "inspector"):
        page = as_coordinator.get(f"/rounds/coverage?by={by}")
        assert page.status_code == 200, by
    never = as_coordinator.get(f"/rounds/coverage/stalls?venue={venue.id}&state=never")
    text = never.get_data(as_text=True)
    assert "P 2" in text and "P 1" not in text
    csv = as_coordinator.get(f"/rounds/coverage/stalls.csv?venue={venue.id}&state=never")
    assert csv.status_code == 200 and "P 2" in csv.get_data(as_text=True)
    xlsx = as_coordinator.get(f"/rounds/coverage/stalls.xlsx?venue={venue.id}")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_coverage_by_inspector_drills_down_to_the_stalls_they_inspected(
    as_coordinator, campaign, venue, region, other_region, inspector, version
):
    colleague = factories.user("inspector", region=region)
    # Codes with a space: a random CSRF token on the page can never contain them.
    mine, theirs, _left = stalls(venue, "I 1", "I 2", "I 3")
    inspect(mine, inspector, version, PASS_ALL)
    inspect(theirs, colleague, version, PASS_ALL)
    page = as_coordinator.get("/rounds/coverage?by=inspector").get_data(as_text=True)
    link = f"/rounds/coverage/stalls?inspector={inspector.id}&amp;state=inspected"
    assert link in page
    listed = as_coordinator.get(f"/rounds/coverage/stalls?inspector={inspector.id}&state=inspected")
    text = listed.get_data(as_text=True)
    assert listed.status_code == 200 and inspector.name in text
    assert "I 1" in text and "I 2" not in text and "I 3" not in text
    elsewhere = factories.user("inspector", region=other_region)
    assert (
        as_coordinator.get(f"/rounds/coverage/stalls?inspector={elsewhere.id}").status_code == 404
    )


def test_the_grid_gives_each_stall_a_symbol_and_a_word(
    as_coordinator, campaign, venue, inspector, version
):
    done, _left = stalls(venue, "Q1", "Q2")
    inspect(done, inspector, version, PASS_ALL)
    page = as_coordinator.get(f"/rounds/venues/{venue.id}/grid").get_data(as_text=True)
    assert 'class="st-compliant"' in page and "✓" in page
    assert 'class="st-never"' in page and "○" in page


def test_a_coordinator_sees_only_their_region(as_coordinator, campaign, venue, other_region):
    elsewhere = factories.venue(other_region)
    stalls(elsewhere, "Z1")
    assert as_coordinator.get(f"/rounds/venues/{elsewhere.id}/grid").status_code == 404
    assert as_coordinator.get(f"/rounds/venues/{elsewhere.id}").status_code == 404
    listed = as_coordinator.get(f"/rounds/coverage/stalls?venue={elsewhere.id}")
    assert listed.status_code == 404
    assert elsewhere.name_en not in as_coordinator.get("/rounds/coverage").get_data(as_text=True)


# --- the inspector's round -------------------------------------------------------------------


def test_an_inspector_lands_on_todays_round(client, campaign, venue, inspector, coordinator):
    stalls(venue, "R2", "R10", "R1")
    rounds.assign(campaign, venue, TODAY, inspector, coordinator, "R2", "")
    response = client.post(
        "/login", data={"username": inspector.username, "password": factories.PASSWORD}
    )
    assert response.headers["Location"] == "/inspect/round"
    page = client.get("/inspect/round").get_data(as_text=True)
    assert page.index("R2") < page.index("R10") and "R1<" not in page
    assert "0 done · 2 to do" in page
    assert 'action="/inspect/"' in page  # the search stays


def test_the_offline_bundle_carries_todays_round(
    as_inspector, campaign, venue, inspector, coordinator, version
):
    first, second = stalls(venue, "S1", "S2")
    rounds.assign(campaign, venue, TODAY, inspector, coordinator)
    inspect(first, inspector, version, PASS_ALL)
    bundle = as_inspector.get("/inspect/api/bundle").get_json()
    (kept,) = bundle["round"]["venues"]
    assert bundle["round"]["day"] == TODAY.isoformat()
    assert [s["id"] for s in kept["todo"]] == [second.id]
    assert [s["id"] for s in kept["done"]] == [first.id]
    assert {s["id"] for s in bundle["stalls"]} >= {first.id, second.id}


# --- the figures against a per-stall reading of the rules ---------------------------------------

FAIL_BOTH = {"welcome": "fail", "prices": "fail", "clean": "pass"}
YESTERDAY = TODAY - timedelta(days=1)


def _actions(stall) -> list[CorrectiveAction]:
    return list(
        db.session.scalars(
            select(CorrectiveAction)
            .where(CorrectiveAction.stall_id == stall.id, CorrectiveAction.status == OPEN)
            .order_by(CorrectiveAction.item_key)
        )
    )


def _reasons(campaign, stall) -> tuple[str, ...]:
    """Why ``stall`` is due again, read the plain way (module docstring of rounds.py)."""
    overdue = any(
        a.due_date < TODAY
        for a in db.session.scalars(
            select(CorrectiveAction).where(
                CorrectiveAction.stall_id == stall.id, CorrectiveAction.status == OPEN
            )
        )
    )
    contested = stall.latest_inspection_id is not None and (
        db.session.scalar(
            select(Contest.id).where(
                Contest.inspection_id == stall.latest_inspection_id, Contest.status == ACCEPTED
            )
        )
        is not None
    )
    found = (
        (rounds.OVERDUE, overdue),
        (rounds.FIX_REPORTED, stall.followup_requested_at is not None),
        (rounds.CONTESTED, contested),
    )
    return tuple(name for name, holds in found if holds)


def _expected(campaign, region_id):
    """Per venue: (stalls, inspected, inspected today, due, to do); and each stall's reasons."""
    tallies: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    reasons = {}
    for stall in db.session.scalars(
        select(Stall)
        .join(Venue, Venue.id == Stall.venue_id)
        .join(Province, Province.id == Venue.province_id)
        .join(CampaignVenue, CampaignVenue.venue_id == Stall.venue_id)
        .where(
            CampaignVenue.campaign_id == campaign.id,
            Province.region_id == region_id,
            Stall.closed_at.is_(None),
        )
    ):
        days = list(
            db.session.scalars(
                select(Inspection.submitted_day).where(
                    Inspection.stall_id == stall.id,
                    Inspection.campaign_id == campaign.id,
                    Inspection.status == SUBMITTED,
                )
            )
        )
        reasons[stall.code] = _reasons(campaign, stall)
        due = bool(reasons[stall.code])
        tally = tallies[stall.venue_id]
        for n, counts in enumerate(
            (True, bool(days), TODAY in days, due, due or not days)
        ):  # fmt: skip
            tally[n] += counts
    return {venue_id: tuple(t) for venue_id, t in tallies.items()}, reasons


def _figures(campaign, region_id):
    places, total = rounds.coverage_by_venue(campaign, region_id)
    found = {
        p.place.id: (t.stalls, t.inspected, t.inspected_today, t.due, t.todo)
        for p in places
        if (t := p.tally).stalls
    }
    summed = (total.stalls, total.inspected, total.inspected_today, total.due, total.todo)
    return found, summed


def _earliest_open_due_everywhere() -> None:
    """The invariant the triggers keep: each stall's column is its open actions' earliest."""
    db.session.expire_all()
    earliest = defaultdict(lambda: None)
    for stall_id, due in db.session.execute(
        select(CorrectiveAction.stall_id, CorrectiveAction.due_date).where(
            CorrectiveAction.status == OPEN
        )
    ):
        if earliest[stall_id] is None or due < earliest[stall_id]:
            earliest[stall_id] = due
    kept = {
        row.id: row.open_action_due
        for row in db.session.execute(select(Stall.id, Stall.open_action_due))
    }
    assert kept == {stall_id: earliest[stall_id] for stall_id in kept}


def _move_due(stall, due) -> None:
    for action in _actions(stall):
        action.due_date = due
    db.session.commit()


@pytest.fixture
def world(campaign, venue, region, other_region, inspector, coordinator, version):
    """Stalls in every case, in two venues of the region and one elsewhere."""
    second = factories.venue(region)
    elsewhere = factories.venue(other_region)
    made = {}

    def stall(code, where=venue):
        made[code] = factories.stall(venue_row=where, code=code)
        return made[code]

    inspect(stall("late"), inspector, version, FAIL_PRICES)
    _move_due(made["late"], YESTERDAY)
    inspect(stall("due-today"), inspector, version, FAIL_PRICES)
    _move_due(made["due-today"], TODAY)
    # Two actions, one late: closing the later one leaves it late; the earlier, not.
    inspect(stall("two-late"), inspector, version, FAIL_BOTH)
    welcome, prices = _actions(made["two-late"])
    welcome.due_date, prices.due_date = YESTERDAY, TODAY + timedelta(days=5)
    db.session.commit()
    follow_up.close(prices, coordinator, "seen")
    inspect(stall("two-fixed"), inspector, version, FAIL_BOTH)
    welcome, prices = _actions(made["two-fixed"])
    welcome.due_date, prices.due_date = YESTERDAY, TODAY + timedelta(days=5)
    db.session.commit()
    follow_up.close(welcome, coordinator, "seen")
    # Fixed at the next visit; failed again (the date moves later); a passed item's closed.
    inspect(stall("passed", second), inspector, version, FAIL_PRICES)
    _move_due(made["passed"], YESTERDAY)
    inspect(made["passed"], inspector, version, PASS_ALL)
    inspect(stall("failed-again", second), inspector, version, FAIL_PRICES)
    _move_due(made["failed-again"], YESTERDAY)
    inspect(made["failed-again"], inspector, version, FAIL_PRICES)
    # A coordinator moves a date later, another earlier.
    inspect(stall("moved-later", second), inspector, version, FAIL_PRICES)
    _move_due(made["moved-later"], YESTERDAY)
    (action,) = _actions(made["moved-later"])
    follow_up.move_due_date(action, coordinator, TODAY + timedelta(days=3))
    inspect(stall("moved-earlier", second), inspector, version, FAIL_PRICES)
    (action,) = _actions(made["moved-earlier"])
    follow_up.move_due_date(action, coordinator, TODAY - timedelta(days=4))
    # A fix reported (its action not yet late), an accepted contest (closes its action).
    inspect(stall("fix-reported"), inspector, version, FAIL_PRICES)
    contests.report_fix(
        made["fix-reported"].artisan, _actions(made["fix-reported"])[0],
        process(imagefactory.jpeg(200, 100)), storage(), "Done",
    )  # fmt: skip
    visit = inspect(
        stall("contested"),
        inspector,
        version,
        {"welcome": "pass", "prices": "pass", "clean": "fail"},
        photos={"clean": imagefactory.jpeg(320, 240)},
    )
    _move_due(made["contested"], YESTERDAY)
    filed = contests.file_contest(
        made["contested"].artisan, visit, "clean", "It was clean",
        process(imagefactory.jpeg(200, 90)), storage(),
    )  # fmt: skip
    contests.accept(filed.contest, coordinator)
    # Rows changed directly: deleted, moved to another stall, reopened.
    inspect(stall("deleted"), inspector, version, FAIL_PRICES)
    _move_due(made["deleted"], YESTERDAY)
    db.session.delete(_actions(made["deleted"])[0])
    db.session.commit()
    inspect(stall("gave"), inspector, version, FAIL_PRICES)
    _move_due(made["gave"], YESTERDAY)
    stall("got", second)
    _actions(made["gave"])[0].stall_id = made["got"].id
    db.session.commit()
    inspect(stall("reopened", second), inspector, version, FAIL_PRICES)
    (action,) = _actions(made["reopened"])
    follow_up.close(action, coordinator, "seen")
    action.status, action.due_date = OPEN, YESTERDAY
    db.session.commit()
    # Never inspected; inspected on another day; closed while late; in another region.
    stall("never")
    inspect(stall("earlier", second), inspector, version, PASS_ALL)
    made["earlier"].latest_inspection.submitted_day = TODAY - timedelta(days=2)
    made["earlier"].current_day = TODAY - timedelta(days=2)
    inspect(stall("closed"), inspector, version, FAIL_PRICES)
    _move_due(made["closed"], YESTERDAY)
    close_stall(made["closed"], Actor("cli"))
    db.session.commit()
    inspect(stall("far", elsewhere), inspector, version, FAIL_PRICES)
    _move_due(made["far"], YESTERDAY)
    db.session.expire_all()
    return made


def test_coverage_figures_are_the_per_stall_reading(campaign, region, world):
    expected, reasons = _expected(campaign, region.id)
    found, total = _figures(campaign, region.id)
    assert found == expected
    assert total == tuple(sum(t[n] for t in expected.values()) for n in range(5))
    facts = {f.code: f.reasons for f in rounds.facts(campaign, region_id=region.id)}
    assert facts == reasons
    # The cases meant: each reason, and none where an action was dealt with.
    assert facts["late"] == facts["two-late"] == facts["moved-earlier"] == (rounds.OVERDUE,)
    assert facts["got"] == facts["reopened"] == (rounds.OVERDUE,)
    assert facts["fix-reported"] == (rounds.FIX_REPORTED,)
    assert facts["contested"] == (rounds.CONTESTED,)
    for settled in ("due-today", "two-fixed", "passed", "failed-again", "moved-later"):
        assert facts[settled] == ()
    assert facts["deleted"] == facts["gave"] == facts["never"] == ()
    assert "closed" not in facts and "far" not in facts
    by_province, province_total = rounds.coverage_by_province(campaign, region.id)
    assert sum(p.tally.due for p in by_province) == province_total.due == total[3]


def test_each_stall_keeps_the_earliest_date_of_its_open_actions(world):
    _earliest_open_due_everywhere()
    assert world["late"].open_action_due == YESTERDAY
    assert world["never"].open_action_due is None
    assert world["passed"].open_action_due is None


def test_rebuilding_the_tallies_sets_the_earliest_dates_again(world):
    """A bulk load writes rows without the triggers; tallies.rebuild() sets the column."""
    db.session.execute(update(Stall).values(open_action_due=TODAY + timedelta(days=99)))
    db.session.commit()
    tallies.rebuild()
    _earliest_open_due_everywhere()
