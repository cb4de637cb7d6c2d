"""Issuing and printing badges and slips: issuing is a POST with CSRF, on record; printing is a
read of what was issued; a slip's PIN is shown once, in the response that issued it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from compliance.artisan import badges, credentials, keys
from compliance.coordination import printing
from compliance.extensions import db
from compliance.models import Artisan, AuditEvent, Stall

from . import factories
from .test_artisan_helpers import fresh_limits, secret  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_limits")


def audits(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def pin_of(artisan: Artisan) -> str:
    artisan = db.session.get(Artisan, artisan.id)
    db.session.refresh(artisan)
    pin = keys.pin(secret(), artisan.id, artisan.private_version)
    return f"{pin[:3]} {pin[3:]}"


@pytest.fixture
def venue_stalls(region):
    venue = factories.venue(region)
    return venue, [factories.stall(venue_row=venue) for _ in range(3)]


def test_badges_never_issued_are_offered_not_printed(as_coordinator, venue_stalls):
    venue, stalls = venue_stalls
    html = as_coordinator.get(f"/coordination/venues/{venue.id}/badges").get_data(as_text=True)
    assert '<article class="cut">' not in html
    assert f'action="/coordination/venues/{venue.id}/badges"' in html
    assert all(stall.code in html for stall in stalls)  # named in the list of badges to issue
    assert as_coordinator.get(f"/coordination/stalls/{stalls[0].id}/badge.png").status_code == 404
    assert as_coordinator.get(f"/coordination/stalls/{stalls[0].id}/badge.svg").status_code == 404
    assert (
        db.session.scalar(
            select(func.count(Artisan.id)).where(Artisan.badge_code_hash.is_not(None))
        )
        == 0
    )
    assert audits("artisan.badge_issue") == []


def test_issuing_badges_is_a_post_on_record(as_coordinator, coordinator, venue_stalls):
    venue, stalls = venue_stalls
    response = as_coordinator.post(f"/coordination/venues/{venue.id}/badges")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/coordination/venues/{venue.id}/badges")
    events = audits("artisan.badge_issue")
    assert sorted(int(e.entity_id) for e in events) == sorted(s.artisan_id for s in stalls)
    assert {e.actor_id for e in events} == {coordinator.id}
    for stall in stalls:
        artisan = db.session.get(Artisan, stall.artisan_id)
        db.session.refresh(artisan)
        assert credentials.issued_badge_code(artisan, secret()) is not None
    html = as_coordinator.get(f"/coordination/venues/{venue.id}/badges").get_data(as_text=True)
    assert html.count('<article class="cut">') == 3
    # Issuing again issues nothing and writes nothing.
    as_coordinator.post(f"/coordination/venues/{venue.id}/badges")
    assert len(audits("artisan.badge_issue")) == 3


def test_an_issued_badge_prints_the_same_every_time(app, as_coordinator, venue_stalls):
    _, stalls = venue_stalls
    stall = stalls[0]
    assert as_coordinator.post(f"/coordination/stalls/{stall.id}/badge").status_code == 302
    first = as_coordinator.get(f"/coordination/stalls/{stall.id}/badge.svg")
    second = as_coordinator.get(f"/coordination/stalls/{stall.id}/badge.svg")
    assert first.status_code == 200 and first.data == second.data
    # The badge of the issued code, derived again: the same file the first print gave.
    with app.test_request_context(base_url="http://localhost"):
        badge = printing.badge_for(db.session.get(Stall, stall.id), secret())
    assert badge.url.endswith(
        "/a/b/" + credentials.issued_badge_code(db.session.get(Artisan, stall.artisan_id), secret())
    )
    assert first.get_data(as_text=True) == badges.badge_svg(badge)
    assert as_coordinator.get(f"/coordination/stalls/{stall.id}/badge.png").status_code == 200


def test_issuing_slips_shows_each_pin_once(as_coordinator, coordinator, venue_stalls):
    venue, stalls = venue_stalls
    before = as_coordinator.get(f"/coordination/venues/{venue.id}/slips").get_data(as_text=True)
    assert '<article class="cut slip">' not in before
    assert all(pin_of(s.artisan) not in before for s in stalls)

    issued = as_coordinator.post(f"/coordination/venues/{venue.id}/slips")
    html = issued.get_data(as_text=True)
    assert issued.status_code == 200  # the page to print, straight from the POST
    assert html.count('<article class="cut slip">') == 3
    for stall in stalls:
        assert stall.artisan.nia in html and pin_of(stall.artisan) in html
    events = audits("artisan.slip_print")
    assert sorted(int(e.entity_id) for e in events) == sorted(s.artisan_id for s in stalls)
    assert {e.actor_id for e in events} == {coordinator.id}

    later = as_coordinator.get(f"/coordination/venues/{venue.id}/slips").get_data(as_text=True)
    assert later.count('<article class="cut slip">') == 3
    assert all(pin_of(s.artisan) not in later for s in stalls)
    assert "printed without it" in later

    again = as_coordinator.post(f"/coordination/venues/{venue.id}/slips")
    assert again.status_code == 302
    assert all(
        pin_of(s.artisan)
        not in as_coordinator.get(again.headers["Location"]).get_data(as_text=True)
        for s in stalls
    )
    assert len(audits("artisan.slip_print")) == 3


def test_one_stalls_slip_is_issued_once(as_coordinator, venue_stalls):
    _, stalls = venue_stalls
    stall = stalls[0]
    response = as_coordinator.post(f"/coordination/stalls/{stall.id}/slip")
    assert response.status_code == 200 and pin_of(stall.artisan) in response.get_data(as_text=True)
    second = as_coordinator.post(f"/coordination/stalls/{stall.id}/slip")
    assert second.status_code == 302
    page = as_coordinator.get(second.headers["Location"]).get_data(as_text=True)
    assert "already issued" in page and pin_of(stall.artisan) not in page
    assert '<article class="cut slip">' in page


def test_a_lost_pin_is_a_new_slip_shown_once(as_coordinator, venue_stalls):
    _, stalls = venue_stalls
    stall = stalls[0]
    as_coordinator.post(f"/coordination/stalls/{stall.id}/slip")
    old_pin = pin_of(stall.artisan)
    response = as_coordinator.post(
        f"/coordination/stalls/{stall.id}/reissue", data={"what": "slip"}
    )
    new_pin = pin_of(stall.artisan)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and new_pin in html and old_pin not in html
    assert len(audits("artisan.slip_reissue")) == 1
    assert new_pin not in as_coordinator.get(f"/coordination/stalls/{stall.id}/slip").get_data(
        as_text=True
    )


def test_issuing_needs_the_csrf_token(app, as_coordinator, venue_stalls, monkeypatch):
    venue, stalls = venue_stalls
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    for url in (
        f"/coordination/venues/{venue.id}/badges",
        f"/coordination/venues/{venue.id}/slips",
        f"/coordination/stalls/{stalls[0].id}/badge",
        f"/coordination/stalls/{stalls[0].id}/slip",
    ):
        response = as_coordinator.post(url)
        assert response.status_code == 400, url
    issued = db.session.scalar(
        select(func.count(Artisan.id)).where(
            Artisan.badge_code_hash.is_not(None) | Artisan.pin_hash.is_not(None)
        )
    )
    assert issued == 0 and db.session.scalar(select(func.count(AuditEvent.id))) == 0


def test_the_venue_page_offers_to_issue_what_was_not(as_coordinator, venue_stalls):
    venue, stalls = venue_stalls
    as_coordinator.post(f"/coordination/stalls/{stalls[0].id}/badge")
    html = as_coordinator.get(f"/coordination/venues/{venue.id}").get_data(as_text=True)
    assert f"/coordination/stalls/{stalls[0].id}/badge.png" in html
    assert f"/coordination/stalls/{stalls[1].id}/badge.png" not in html
    assert f'action="/coordination/stalls/{stalls[1].id}/badge"' in html
    assert f'action="/coordination/stalls/{stalls[1].id}/slip"' in html
