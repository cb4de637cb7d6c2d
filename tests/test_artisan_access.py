"""Who sees what on the artisans' side: an artisan sees their own stall and nothing else;
the public badge page shows nothing private; coordinators see their own region only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from compliance.artisan import contests
from compliance.extensions import db
from compliance.models import Contest, CorrectiveAction, FixReport, Photo
from compliance.photos import process

from . import factories, imagefactory
from .conftest import login
from .test_artisan_helpers import (
    badge_url,
    failing_clean_photo,
    forget_request_user,
    fresh_limits,  # noqa: F401
    inspect,
    signed_in,
    storage,
    tiny_checklist,
)

pytestmark = pytest.mark.usefixtures("fresh_limits")


@pytest.fixture
def version():
    return tiny_checklist()


@pytest.fixture
def two_stalls(region, inspector, version):
    """Two artisans' stalls in the same region, each with a failed, photographed inspection."""
    mine = factories.stall(
        region=region, artisan_row=factories.artisan(name_latin="Mine Artisan", name_ar="صانع أول")
    )
    theirs = factories.stall(
        region=region, artisan_row=factories.artisan(name_latin="Other Artisan", name_ar="صانع آخر")
    )
    results = {"welcome": "pass", "prices": "pass", "clean": "fail"}
    mine_inspection = inspect(
        mine,
        inspector,
        version,
        results,
        photos=failing_clean_photo(),
        comments={"clean": "Boxes in the corridor"},
    )
    their_inspection = inspect(
        theirs,
        inspector,
        version,
        results,
        photos={"clean": imagefactory.jpeg(300, 200, color=(0, 255, 0))},
        comments={"clean": "Secret remark about them"},
    )
    return mine, mine_inspection, theirs, their_inspection


def their_action(stall):
    return db.session.scalar(select(CorrectiveAction).where(CorrectiveAction.stall_id == stall.id))


# --- An artisan and another stall's data -------------------------------------------------------


def test_artisan_sees_own_result_and_not_another_stalls(app, two_stalls):
    mine, _, theirs, _ = two_stalls
    html = signed_in(app, mine.artisan).get("/a/me").get_data(as_text=True)
    assert mine.code in html and "Boxes in the corridor" in html
    assert theirs.code not in html and "Secret remark" not in html and "Other Artisan" not in html


def test_artisan_cannot_open_another_stalls_inspection(app, two_stalls):
    mine, mine_inspection, _, their_inspection = two_stalls
    phone = signed_in(app, mine.artisan)
    assert phone.get(f"/a/me/inspections/{mine_inspection.id}").status_code == 200
    response = phone.get(f"/a/me/inspections/{their_inspection.id}")
    assert response.status_code == 404
    assert "Secret remark" not in response.get_data(as_text=True)


def test_artisan_cannot_open_another_stalls_photos(app, two_stalls):
    mine, mine_inspection, _, their_inspection = two_stalls
    phone = signed_in(app, mine.artisan)
    own = db.session.scalar(select(Photo).where(Photo.inspection_id == mine_inspection.id))
    other = db.session.scalar(select(Photo).where(Photo.inspection_id == their_inspection.id))
    for rendition in ("thumb", "display"):
        served = phone.get(f"/a/me/photos/{own.id}/{rendition}")
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert phone.get(f"/a/me/photos/{other.id}/{rendition}").status_code == 404


def test_artisan_cannot_contest_another_stalls_result(app, two_stalls):
    mine, _, _, their_inspection = two_stalls
    phone = signed_in(app, mine.artisan)
    url = f"/a/me/inspections/{their_inspection.id}/items/clean/contest"
    assert phone.get(url).status_code == 404
    assert phone.post(url, data={"message": "not mine"}).status_code == 404
    assert db.session.scalar(select(Contest)) is None


def test_artisan_cannot_see_another_stalls_contest(app, two_stalls):
    mine, _, theirs, their_inspection = two_stalls
    filed = contests.file_contest(
        theirs.artisan,
        their_inspection,
        "clean",
        "It was clean",
        process(imagefactory.jpeg(200, 100)),
        storage(),
    )
    phone = signed_in(app, mine.artisan)
    assert phone.get(f"/a/me/contests/{filed.contest.id}/thumb").status_code == 404
    assert "It was clean" not in phone.get("/a/me").get_data(as_text=True)


def test_artisan_cannot_report_a_fix_on_another_stall(app, two_stalls):
    mine, _, theirs, _ = two_stalls
    phone = signed_in(app, mine.artisan)
    action = their_action(theirs)
    url = f"/a/me/actions/{action.id}/fixed"
    assert phone.get(url).status_code == 404
    photo = (imagefactory.jpeg(200, 100), "fix.jpg")
    assert (
        phone.post(url, data={"photo": photo}, content_type="multipart/form-data").status_code
        == 404
    )
    assert db.session.scalar(select(FixReport)) is None
    db.session.refresh(theirs)
    assert theirs.followup_requested_at is None


def test_artisan_cannot_see_another_stalls_fix_photo(app, two_stalls):
    mine, _, theirs, _ = two_stalls
    reported = contests.report_fix(
        theirs.artisan, their_action(theirs), process(imagefactory.jpeg(200, 100)), storage()
    )
    phone = signed_in(app, mine.artisan)
    assert phone.get(f"/a/me/fixes/{reported.report.id}/thumb").status_code == 404
    owner = signed_in(app, theirs.artisan)
    assert owner.get(f"/a/me/fixes/{reported.report.id}/thumb").status_code == 200


def test_artisan_cannot_print_any_slip(app, two_stalls):
    mine, _, theirs, _ = two_stalls
    phone = signed_in(app, mine.artisan)
    forget_request_user()
    for stall in (mine, theirs):
        for url in (
            f"/coordination/stalls/{stall.id}/slip",
            f"/coordination/venues/{stall.venue_id}/slips",
        ):
            response = phone.get(url)
            assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_artisan_never_sees_a_draft(app, region, inspector, version):
    stall = factories.stall(region=region)
    draft = inspect(stall, inspector, version, {"welcome": "fail"}, submit=False)
    phone = signed_in(app, stall.artisan)
    assert phone.get(f"/a/me/inspections/{draft.id}").status_code == 404
    phone.set_cookie("lang", "en")
    assert "not been checked yet" in phone.get("/a/me").get_data(as_text=True)


def test_own_pages_need_the_slip(client, two_stalls):
    _, mine_inspection, _, _ = two_stalls
    for url in ("/a/me", f"/a/me/inspections/{mine_inspection.id}"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].endswith("/a/login")


def test_staff_login_is_not_an_artisan_session(as_coordinator, two_stalls):
    response = as_coordinator.get("/a/me")
    assert response.status_code == 302 and response.headers["Location"].endswith("/a/login")


# --- Inspectors' comments ------------------------------------------------------------------


def test_internal_comments_are_never_shown_to_the_artisan(app, region, inspector):
    version = tiny_checklist(internal=True)
    stall = factories.stall(region=region)
    inspection = inspect(
        stall,
        inspector,
        version,
        {"welcome": "fail", "prices": "pass", "clean": "pass"},
        comments={"welcome": "Internal: rude to the inspector"},
    )
    phone = signed_in(app, stall.artisan)
    for url in (
        "/a/me",
        f"/a/me/inspections/{inspection.id}",
        f"/a/me/inspections/{inspection.id}/items/welcome/contest",
    ):
        response = phone.get(url)
        assert response.status_code == 200
        assert "rude to the inspector" not in response.get_data(as_text=True)


# --- The public badge page -----------------------------------------------------------------


def test_public_badge_page_shows_nothing_private(client, two_stalls):
    mine, _, _, _ = two_stalls
    mine.artisan.phone = "+212600000000"
    db.session.commit()
    response = client.get(badge_url(mine.artisan))
    # What the page says, without its inline stylesheet (whose "100%" is no score).
    html = re.sub(r"<style>.*?</style>", "", response.get_data(as_text=True), flags=re.S)
    assert response.status_code == 200
    assert mine.artisan.name_ar in html and mine.artisan.name_latin in html and mine.code in html
    for private in (
        mine.artisan.nia,
        "+212600000000",
        "Boxes in the corridor",
        "%",
        "inspection_id",
        "/a/me",
    ):
        assert private not in html, private


def test_inspector_of_the_region_can_start_an_inspection_from_the_badge(as_inspector, stall):
    html = as_inspector.get(badge_url(stall.artisan)).get_data(as_text=True)
    assert f'action="/inspect/stalls/{stall.id}/start"' in html
    assert 'name="inspection_id"' in html and "data-client-uuid" in html


def test_inspector_of_another_region_gets_no_start_button(client, stall, other_region):
    login(client, factories.user("inspector", region=other_region))
    html = client.get(badge_url(stall.artisan)).get_data(as_text=True)
    assert "/start" not in html and stall.artisan.name_latin in html


def test_coordinator_gets_no_start_button(as_coordinator, stall):
    assert "/start" not in as_coordinator.get(badge_url(stall.artisan)).get_data(as_text=True)


# --- Language ----------------------------------------------------------------------------------


def test_artisan_pages_are_arabic_first(app, stall):
    phone = signed_in(app, stall.artisan)
    response = phone.get("/a/me", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="ar" dir="rtl">' in response.get_data(as_text=True)


def test_artisan_can_switch_language(app, stall):
    phone = signed_in(app, stall.artisan)
    phone.post("/language", data={"lang": "fr", "next": "/a/me"})
    assert '<html lang="fr" dir="ltr">' in phone.get("/a/me").get_data(as_text=True)


# --- Coordinators of another region ----------------------------------------------------------


def test_coordinator_of_another_region_gets_404_everywhere(client, two_stalls, other_region):
    mine, mine_inspection, _, _ = two_stalls
    filed = contests.file_contest(
        mine.artisan,
        mine_inspection,
        "clean",
        "It was clean",
        process(imagefactory.jpeg(200, 100)),
        storage(),
    )
    reported = contests.report_fix(
        mine.artisan, their_action(mine), process(imagefactory.jpeg(210, 100)), storage()
    )
    login(client, factories.user("coordinator", region=other_region))
    for url in (
        f"/coordination/contests/{filed.contest.id}",
        f"/coordination/contests/{filed.contest.id}/thumb",
        f"/coordination/fixes/{reported.report.id}/thumb",
        f"/coordination/venues/{mine.venue_id}",
        f"/coordination/venues/{mine.venue_id}/badges",
        f"/coordination/venues/{mine.venue_id}/slips",
        f"/coordination/stalls/{mine.id}/badge",
        f"/coordination/stalls/{mine.id}/badge.svg",
        f"/coordination/stalls/{mine.id}/badge.png",
        f"/coordination/stalls/{mine.id}/slip",
        f"/coordination/stalls/{mine.id}/reissue",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            f"/coordination/contests/{filed.contest.id}", data={"decision": "accept"}
        ).status_code
        == 404
    )
    assert (
        client.post(f"/coordination/stalls/{mine.id}/reissue", data={"what": "badge"}).status_code
        == 404
    )
    db.session.refresh(mine.artisan)
    assert mine.artisan.badge_version == 1
    assert db.session.get(Contest, filed.contest.id).status == "pending"
    queue = client.get("/coordination/contests").get_data(as_text=True)
    assert mine.code not in queue


def test_coordinator_of_the_region_sees_the_contest(as_coordinator, two_stalls):
    mine, mine_inspection, _, _ = two_stalls
    filed = contests.file_contest(
        mine.artisan,
        mine_inspection,
        "clean",
        "It was clean",
        process(imagefactory.jpeg(200, 100)),
        storage(),
    )
    assert mine.code in as_coordinator.get("/coordination/contests").get_data(as_text=True)
    assert as_coordinator.get(f"/coordination/contests/{filed.contest.id}").status_code == 200
    assert as_coordinator.get(f"/coordination/contests/{filed.contest.id}/thumb").status_code == 200


def test_admin_sees_every_region(as_admin, two_stalls):
    mine, _, _, _ = two_stalls
    assert as_admin.get(f"/coordination/venues/{mine.venue_id}/badges").status_code == 200


def test_inspector_cannot_use_the_coordinators_pages(as_inspector, stall):
    assert as_inspector.get("/coordination/contests").status_code == 403
    assert as_inspector.get(f"/coordination/stalls/{stall.id}/slip").status_code == 403


def test_inspector_of_the_region_sees_a_fix_photo(as_inspector, two_stalls):
    mine, _, _, _ = two_stalls
    reported = contests.report_fix(
        mine.artisan, their_action(mine), process(imagefactory.jpeg(200, 100)), storage()
    )
    assert as_inspector.get(f"/coordination/fixes/{reported.report.id}/thumb").status_code == 200
