"""Pages show one campaign at a time: the running one by default, any other from the URL.

Two campaigns over the same region: AFCON 2025 (closed, four stalls of two venues inspected)
and a fair in March 2026 (running, one venue taking part, two of its stalls inspected again).
The figures of each are counted by hand below.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pytest

from compliance import campaigns
from compliance.chamber import figures
from compliance.extensions import db
from compliance.models import Campaign
from tests import factories
from tests.chamber_helpers import answers, inspect, small_checklist
from tests.conftest import login
from tests.test_artisan_helpers import signed_in

DEC22 = datetime(2025, 12, 22, 10)
MAR2 = datetime(2026, 3, 2, 10)
OLD = "afcon-2025"
NEW = "fair-2026"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def world(region, inspector):
    """AFCON: A compliant, B non-compliant, C follow-up, D (other venue) compliant; closed.
    The fair (venue 1 only): A non-compliant, B compliant, C not inspected; running."""
    version = small_checklist()
    old = factories.campaign(version, code=OLD)
    a = factories.stall(region=region, code="A-1")
    venue1 = a.venue
    b = factories.stall(region=region, venue_row=venue1, code="B-1")
    c = factories.stall(region=region, venue_row=venue1, code="C-1")
    d = factories.stall(region=region, code="D-2")
    inspect(a, inspector, version, answers(), DEC22)
    inspect(b, inspector, version, answers(price_shown="fail"), DEC22)
    inspect(c, inspector, version, answers(badge_worn="fail"), DEC22)
    inspect(d, inspector, version, answers(), DEC22)
    campaigns.close(old, None)
    new = factories.campaign(
        version,
        code=NEW,
        first_day=date(2026, 3, 1),
        last_day=date(2026, 3, 10),
        every_venue=False,
    )
    campaigns.add_venue(new, venue1, None)
    inspect(a, inspector, version, answers(price_shown="fail"), MAR2)
    inspect(b, inspector, version, answers(), MAR2)
    return {"old": old, "new": new, "a": a, "b": b, "c": c, "d": d, "venue1": venue1}


def _view(campaign, asked=False):
    return figures.campaign_view(campaign, asked=asked)


# -- figures -------------------------------------------------------------------------------


def test_an_older_campaign_keeps_its_own_figures_after_its_stalls_are_inspected_again(
    region, world
):
    scope = figures.Scope(region_id=region.id)
    old = figures.dashboard(scope, figures.Filters(campaign=_view(world["old"])))
    new = figures.dashboard(scope, figures.Filters(campaign=_view(world["new"])))

    counted = old.total
    assert (counted.stalls, counted.inspected, counted.compliant) == (4, 4, 2)
    assert (counted.follow_up, counted.non_compliant) == (1, 1)
    assert old.inspections.count == 4
    counted = new.total
    assert (counted.stalls, counted.inspected, counted.compliant) == (3, 2, 1)
    assert (counted.follow_up, counted.non_compliant) == (0, 1)
    assert new.inspections.count == 2


def test_the_latest_campaign_is_read_from_the_stall_rows_an_older_from_its_inspections(world):
    assert _view(world["new"]).latest
    assert not _view(world["old"]).latest


def test_the_chart_spans_the_campaigns_days(region, world):
    scope = figures.Scope(region_id=region.id)
    old = figures.dashboard(scope, figures.Filters(campaign=_view(world["old"]))).trend
    new = figures.dashboard(scope, figures.Filters(campaign=_view(world["new"]))).trend

    assert (old[0].day, old[-1].day, len(old)) == (date(2025, 12, 21), date(2026, 1, 18), 29)
    assert (new[0].day, new[-1].day, len(new)) == (date(2026, 3, 1), date(2026, 3, 10), 10)
    assert {day.day: day.inspections for day in new if day.inspections} == {date(2026, 3, 2): 2}


def test_dates_narrow_a_campaign_never_widen_it(region, world):
    view = _view(world["new"])
    dated = figures.Filters(date_from=date(2026, 2, 1), date_to=date(2026, 3, 5), campaign=view)

    board = figures.dashboard(figures.Scope(region_id=region.id), dated)

    assert (board.trend[0].day, board.trend[-1].day) == (date(2026, 3, 1), date(2026, 3, 5))
    assert (board.total.inspected, board.total.compliant) == (2, 1)


def test_corrective_actions_are_those_opened_in_the_campaign(region, world):
    scope = figures.Scope(region_id=region.id)
    on = date(2026, 3, 3)

    def listed(campaign, state):
        query = figures.actions_query(scope, figures.Filters(campaign=_view(campaign)), on, state)
        return sorted((row[1].code, row[0].item_key) for row in figures.rows(query, 50))

    assert listed(world["old"], "open") == [("C-1", "badge_worn")]
    # B passed the item at the fair: the AFCON action was closed by that inspection.
    assert listed(world["old"], "closed") == [("B-1", "price_shown")]
    assert listed(world["new"], "open") == [("A-1", "price_shown")]


# -- pages -----------------------------------------------------------------------------------


def test_the_running_campaign_is_shown_by_default(as_coordinator, world):
    html = as_coordinator.get("/chamber/").get_data(as_text=True)
    text = text_of(html)

    assert "(running)" in text
    assert "1 of 2 inspected stalls are compliant" in text
    assert "2 of 3 stalls have at least one inspection" in text
    assert "1 March 2026" in text and "10 March 2026" in text  # its days, chart included
    selector = re.search(r'<nav class="campaigns".*?</nav>', html, re.S).group(0)
    assert f"campaign={OLD}" in selector and f"campaign={NEW}" in selector
    assert re.search(rf'href="[^"]*campaign={NEW}"\s+aria-current="page"', selector)
    # The default campaign is not written into the links: they follow the running one.
    assert "campaign=" not in html.replace(selector, "")


def test_an_older_campaign_is_chosen_in_the_url_and_kept_in_links(as_coordinator, world):
    html = as_coordinator.get(f"/chamber/?campaign={OLD}").get_data(as_text=True)
    text = text_of(html)

    assert "(closed)" in text
    assert "This campaign is closed: its results can no longer change." in text
    assert "2 of 4 inspected stalls are compliant" in text
    assert "4 of 4 stalls have at least one inspection" in text
    assert "21 December 2025" in text and "18 January 2026" in text
    assert f"/chamber/stalls?region=MA-04&amp;campaign={OLD}&amp;state=failing" in html
    assert f"/chamber/export/inspections.csv?region=MA-04&amp;campaign={OLD}" in html
    assert f'<input type="hidden" name="campaign" value="{OLD}">' in html  # the filter form
    assert f'href="/chamber/stalls?campaign={OLD}"' in html  # the menu


def test_venue_and_province_pages_show_the_chosen_campaign(as_coordinator, world):
    venue = world["venue1"]
    default = text_of(as_coordinator.get(f"/chamber/venues/{venue.id}").get_data(as_text=True))
    old = text_of(
        as_coordinator.get(f"/chamber/venues/{venue.id}?campaign={OLD}").get_data(as_text=True)
    )
    province = text_of(
        as_coordinator.get(f"/chamber/provinces/{venue.province_id}?campaign={OLD}").get_data(
            as_text=True
        )
    )

    assert "1 of 2 inspected stalls are compliant" in default
    assert "1 of 3 inspected stalls are compliant" in old  # A only; B and C failed then
    assert "1 of 3 inspected stalls are compliant" in province


def test_the_national_page_shows_the_chosen_campaign(client, admin, world):
    login(client, admin)
    default = text_of(client.get("/chamber/").get_data(as_text=True))
    old = text_of(client.get(f"/chamber/?campaign={OLD}").get_data(as_text=True))

    assert "1 of 2 inspected stalls are compliant" in default
    assert "2 of 4 inspected stalls are compliant" in old


def test_stall_lists_show_the_chosen_campaigns_stalls(as_coordinator, world):
    def codes(url):
        html = as_coordinator.get(url).get_data(as_text=True)
        return set(re.findall(r'<strong dir="ltr">([A-D]-\d)</strong>', html))

    assert codes("/chamber/stalls?state=all") == {"A-1", "B-1", "C-1"}
    assert codes("/chamber/stalls?state=never") == {"C-1"}
    assert codes(f"/chamber/stalls?state=all&campaign={OLD}") == {"A-1", "B-1", "C-1", "D-2"}
    assert codes(f"/chamber/stalls?state=never&campaign={OLD}") == set()
    assert codes(f"/chamber/stalls?state=failing&campaign={OLD}") == {"B-1", "C-1"}


def test_action_lists_show_the_chosen_campaigns_actions(as_coordinator, world):
    def codes(url):
        html = as_coordinator.get(url).get_data(as_text=True)
        return set(re.findall(r'<strong dir="ltr">([A-D]-\d)</strong>', html))

    assert codes("/chamber/actions?state=open") == {"A-1"}
    assert codes(f"/chamber/actions?state=open&campaign={OLD}") == {"C-1"}
    assert codes(f"/chamber/actions?state=closed&campaign={OLD}") == {"B-1"}


def test_exports_hold_the_chosen_campaign_only(as_coordinator, world):
    def rows(url):
        response = as_coordinator.get(url)
        assert response.status_code == 200
        return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))

    assert len(rows("/chamber/export/inspections.csv")) == 2
    old = rows(f"/chamber/export/inspections.csv?campaign={OLD}")
    assert len(old) == 4 and {row["day"] for row in old} == {"2025-12-22"}
    stalls = {
        row["stall"]: row["verdict"] for row in rows(f"/chamber/export/stalls.csv?campaign={OLD}")
    }
    assert stalls == {
        "A-1": "compliant",
        "B-1": "non_compliant",
        "C-1": "needs_follow_up",
        "D-2": "compliant",
    }
    stalls = {row["stall"]: row["verdict"] for row in rows("/chamber/export/stalls.csv")}
    assert stalls == {"A-1": "non_compliant", "B-1": "compliant", "C-1": ""}
    response = as_coordinator.get(f"/chamber/export/answers.csv?campaign={OLD}")
    assert f"soukcheck-answers-{OLD}-MA-04" in response.headers["Content-Disposition"]


def test_a_code_that_names_no_campaign_shows_the_default(as_coordinator, world):
    text = text_of(as_coordinator.get("/chamber/?campaign=nope").get_data(as_text=True))

    assert "(running)" in text
    assert "1 of 2 inspected stalls are compliant" in text


@pytest.mark.parametrize(
    "url",
    [
        "/chamber/",
        "/chamber/stalls",
        "/chamber/actions",
        "/chamber/export/stalls.csv",
        "/chamber/?as=admin",
    ],
)
def test_with_no_campaign_at_all_pages_say_so(client, coordinator, admin, url):
    login(client, admin if "as=admin" in url else coordinator)
    response = client.get(url)

    assert response.status_code == 200
    assert "No campaign yet" in response.get_data(as_text=True)


def test_with_no_campaign_the_french_page_says_so(client, coordinator):
    login(client, coordinator)
    response = client.get("/chamber/", headers={"Accept-Language": "fr"})

    assert "Pas encore de campagne" in response.get_data(as_text=True)


# -- the artisan's page ----------------------------------------------------------------------


def test_the_artisans_page_shows_the_running_campaign_by_default(app, world):
    phone = signed_in(app, world["a"].artisan)
    html = phone.get("/a/me", headers={"Accept-Language": "en"}).get_data(as_text=True)

    assert "(running)" in html or "(جارية)" in html
    assert inspections_linked(html) == {world["a"].latest_inspection_id}  # the fair's only
    assert f"/a/me?campaign={OLD}" in html and f"/a/me?campaign={NEW}" in html
    assert "/contest" in html  # the running campaign's failed item can be contested
    assert "/fixed" in html


def test_the_artisans_page_shows_an_older_campaign_read_only(app, world):
    phone = signed_in(app, world["c"].artisan)
    html = phone.get(f"/a/me?campaign={OLD}").get_data(as_text=True)
    closed = db.session.get(Campaign, world["old"].id)

    assert closed.closed
    assert inspections_linked(html) == {world["c"].latest_inspection_id}
    assert "/contest" not in html and "/fixed" not in html  # closed: nothing to change
    assert 'aria-current="page"' in html


def test_the_artisans_page_of_a_campaign_without_their_inspection(app, world):
    phone = signed_in(app, world["c"].artisan)
    html = phone.get(f"/a/me?campaign={NEW}").get_data(as_text=True)

    assert inspections_linked(html) == set()  # C was not inspected at the fair


def test_an_artisan_sees_only_campaigns_of_their_venues(app, world):
    phone = signed_in(app, world["d"].artisan)
    html = phone.get(f"/a/me?campaign={NEW}").get_data(as_text=True)

    # Venue 2 is not at the fair: the page stays on AFCON, the only campaign of D's venue.
    assert f'href="/a/me?campaign={NEW}"' not in html
    assert inspections_linked(html) == {world["d"].latest_inspection_id}


def inspections_linked(html: str) -> set[str]:
    return set(re.findall(r'href="/a/me/inspections/([0-9a-f-]{36})"', html))
