"""Chamber pages through the test client: what coordinators and admins see, htmx and plain."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import pytest
from flask import current_app
from sqlalchemy import select

from compliance import inspections, photos
from compliance.extensions import db
from compliance.models import AuditEvent, CorrectiveAction
from compliance.storage import storage_from_config
from tests import factories, imagefactory
from tests.chamber_helpers import QueryCounter, answers, inspect, small_checklist
from tests.conftest import login

DAY1 = datetime(2025, 12, 22, 10)
DAY2 = datetime(2025, 12, 27, 10)


@pytest.fixture
def version():
    return small_checklist()


@pytest.fixture
def rabat(region, inspector, version):
    """Three stalls in Rabat: one compliant, one non-compliant (critical), one never seen."""
    good = factories.stall(region=region, code="RBT-001")
    bad = factories.stall(
        region=region,
        venue_row=good.venue,
        code="RBT-002",
        artisan_row=factories.artisan(name_ar="يوسف بناني", name_latin="Youssef Bennani"),
    )
    factories.stall(region=region, venue_row=good.venue, code="RBT-003")
    inspect(good, inspector, version, answers(), DAY1)
    failed = inspect(
        bad,
        inspector,
        version,
        answers(price_shown="fail"),
        DAY1,
        comments={"price_shown": "لا يوجد سعر على الزرابي"},
    )
    return {"good": good, "bad": bad, "failed": failed, "venue": good.venue}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_inspectors_cannot_open_chamber_pages(as_inspector):
    assert as_inspector.get("/chamber/").status_code == 403


def test_chamber_pages_need_a_login(client):
    response = client.get("/chamber/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_coordinator_home_shows_their_region_at_a_glance(as_coordinator, rabat):
    html = as_coordinator.get("/chamber/").get_data(as_text=True)
    text = text_of(html)

    assert "Chamber of Handicrafts of Rabat-Salé-Kénitra" in text
    assert "1 of 2 inspected stalls are compliant" in text
    assert "2 of 3 stalls have at least one inspection" in text
    assert "Average over all inspections, not only the latest" in text
    assert "RBT-002" in text  # a stall to chase first
    assert "RBT-001" not in text  # compliant: not in the lists that start with the worst
    assert "Every product has a price" in text  # the item failing most
    assert html.count("<svg") >= 4  # rules, provinces, venues, trend
    assert 'dir="ltr"' in html


def test_national_page_has_the_twelve_regions(as_admin, rabat):
    for n in range(1, 13):
        factories.region(f"MA-{n:02d}")

    html = as_admin.get("/chamber/").get_data(as_text=True)

    assert "The 12 regions" in html
    links = set(re.findall(r'href="/chamber/regions/(MA-\d\d)"', html))
    assert links == {f"MA-{n:02d}" for n in range(1, 13)}
    assert "Rabat-Salé-Kénitra" in html


def test_a_dated_page_says_it_counts_the_inspections_of_the_period(
    as_coordinator, rabat, inspector, version
):
    # The compliant stall is seen again: two inspections of one stall in the period.
    inspect(rabat["good"], inspector, version, answers(badge_worn="fail"), DAY2)

    html = as_coordinator.get("/chamber/?date_from=2025-12-21&date_to=2025-12-31").get_data(
        as_text=True
    )
    text = text_of(html)

    assert "These figures count the inspections made in this period" in text
    assert "1 of 3 inspections made in this period were compliant" in text
    assert "Inspections in this period 3" in text
    assert "a stall inspected twice counts twice" in text
    # Stalls are not what a period counts: no stall count, no "never inspected" count.
    assert "stalls have at least one inspection" not in text
    assert "stalls registered here" not in text
    assert "stalls have no inspection yet" not in text
    assert "Not counted for a period" in text
    # The stalls to chase are read stall by stall: a link to their list, not the list.
    assert "the stalls to chase are those whose latest inspection within them failed" in text
    assert "/chamber/stalls?region=MA-04&amp;date_from=2025-12-21" in html


@pytest.mark.parametrize(
    "language, words",
    [
        ("fr", "1 contrôles conformes sur les 2 faits pendant cette période"),
        ("ar", "1 من أصل 2 مراقبة أُجريت خلال هذه الفترة كانت مطابقة"),
    ],
)
def test_a_dated_page_is_worded_for_a_period_in_french_and_arabic(
    client, coordinator, rabat, language, words
):
    coordinator.language = language
    db.session.commit()
    login(client, coordinator)

    html = client.get("/chamber/?date_from=2025-12-21&date_to=2025-12-31").get_data(as_text=True)

    assert words in text_of(html)


def test_admin_drills_down_from_region_to_inspection(as_admin, rabat):
    venue = rabat["venue"]
    region_page = as_admin.get("/chamber/regions/MA-04").get_data(as_text=True)
    assert f'/chamber/provinces/{venue.province_id}"' in region_page
    province_page = as_admin.get(f"/chamber/provinces/{venue.province_id}").get_data(as_text=True)
    assert f'/chamber/venues/{venue.id}"' in province_page
    venue_page = as_admin.get(f"/chamber/venues/{venue.id}").get_data(as_text=True)
    assert f'/chamber/stalls/{rabat["bad"].id}"' in venue_page
    stall_page = as_admin.get(f"/chamber/stalls/{rabat['bad'].id}").get_data(as_text=True)
    assert f'/chamber/inspections/{rabat["failed"].id}"' in stall_page
    inspection_page = as_admin.get(f"/chamber/inspections/{rabat['failed'].id}")
    text = text_of(inspection_page.get_data(as_text=True))
    assert "لا يوجد سعر على الزرابي" in text
    assert "Inspector Test" in text and "22 December 2025, 11:00" in text  # Morocco time


def test_htmx_filter_returns_the_same_figures_as_the_plain_page(as_coordinator, rabat):
    url = "/chamber/?verdict=non_compliant&kind=fan_zone"

    plain = as_coordinator.get(url).get_data(as_text=True)
    fragment = as_coordinator.get(url, headers={"HX-Request": "true"})
    fragment_html = fragment.get_data(as_text=True)

    assert "<html" not in fragment_html
    assert fragment_html.startswith('<div id="figures"') or fragment_html.lstrip().startswith(
        '<div id="figures"'
    )
    assert fragment_html.strip() in plain
    assert "HX-Request" in fragment.headers["Vary"]
    assert "1 of 1 inspected stalls" not in fragment_html  # non-compliant: 0 compliant
    assert "0 of 1 inspected stalls are compliant" in text_of(fragment_html)


def test_filter_form_works_without_javascript(as_coordinator, rabat):
    html = as_coordinator.get("/chamber/").get_data(as_text=True)
    form = re.search(r'<form method="get" action="([^"]+)"[^>]*hx-get="([^"]+)"', html)

    assert form and form.group(1) == form.group(2) == "/chamber/"
    assert 'hx-push-url="true"' in html
    assert 'name="date_from"' in html and 'name="verdict"' in html


def test_history_restore_and_boosted_requests_get_the_whole_page(as_coordinator, rabat):
    restore = as_coordinator.get(
        "/chamber/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    boosted = as_coordinator.get("/chamber/", headers={"HX-Request": "true", "HX-Boosted": "true"})

    assert "<html" in restore.get_data(as_text=True)
    assert "<html" in boosted.get_data(as_text=True)


def test_bad_filter_values_are_left_out_and_said(as_coordinator, rabat):
    response = as_coordinator.get("/chamber/?date_from=2026-01-10&date_to=2025-12-01&kind=moon")
    text = text_of(response.get_data(as_text=True))

    assert response.status_code == 200
    assert "Some filters were left out" in text
    assert "The end date is before the start date." in text
    assert "2 of 3 stalls have at least one inspection" in text  # the figures, unfiltered


def test_filters_are_kept_in_drill_down_links(as_coordinator, rabat):
    html = as_coordinator.get("/chamber/?craft=pottery").get_data(as_text=True)

    assert f"/chamber/provinces/{rabat['venue'].province_id}?craft=pottery" in html
    assert "/chamber/export/stalls.xlsx?region=MA-04&amp;craft=pottery" in html


def test_stall_lists_start_with_the_worst(as_coordinator, rabat):
    failing = text_of(as_coordinator.get("/chamber/stalls").get_data(as_text=True))
    never = text_of(as_coordinator.get("/chamber/stalls?state=never").get_data(as_text=True))
    every = as_coordinator.get("/chamber/stalls?state=all").get_data(as_text=True)

    assert "RBT-002" in failing and "RBT-001" not in failing and "RBT-003" not in failing
    assert "RBT-003" in never and "RBT-002" not in never
    assert every.index("RBT-002") < every.index("RBT-001") < every.index("RBT-003")


def test_a_large_venue_shows_its_worst_page_and_links_to_every_stall(as_coordinator, rabat):
    # 3 stalls from rabat, and enough more for two list pages.
    venue = rabat["venue"]
    for n in range(4, 54):
        factories.stall(venue_row=venue, code=f"RBT-{n:03d}")
    page = as_coordinator.get(f"/chamber/venues/{venue.id}").get_data(as_text=True)
    shown = re.findall(r"RBT-\d{3}", page)
    assert len(set(shown)) == 50 and shown.index("RBT-002") < shown.index("RBT-001")
    link = re.search(r'href="(/chamber/stalls\?[^"]*)">See every stall of this venue<', page)
    assert link and f"venue={venue.id}" in link[1] and "state=all" in link[1]
    listed = set()
    for number in (1, 2):
        url = link[1].replace("&amp;", "&") + f"&page={number}"
        listed |= set(re.findall(r"RBT-\d{3}", as_coordinator.get(url).get_data(as_text=True)))
    assert len(listed) == 53
    # A venue that fits on one page has no link.
    small = factories.stall(region=rabat["venue"].province.region, code="SML-001").venue
    page = as_coordinator.get(f"/chamber/venues/{small.id}").get_data(as_text=True)
    assert "SML-001" in page and "See every stall of this venue" not in page


def test_htmx_list_filter_returns_the_list_fragment(as_coordinator, rabat):
    response = as_coordinator.get(
        "/chamber/stalls?state=all&verdict=compliant", headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)

    assert "<html" not in html and html.lstrip().startswith('<div id="stall-list"')
    assert "RBT-001" in html and "RBT-002" not in html


def test_overdue_actions_stand_out(as_coordinator, rabat):
    text = text_of(as_coordinator.get("/chamber/actions").get_data(as_text=True))
    html = as_coordinator.get("/chamber/").get_data(as_text=True)

    assert "RBT-002" in text and "Overdue" in text
    assert 'class="tile alert"' in html


def test_coordinator_closes_an_action_with_a_reason(as_coordinator, rabat, coordinator):
    action = db.session.scalar(select(CorrectiveAction))

    refused = as_coordinator.post(f"/chamber/actions/{action.id}/close", data={"reason": " "})
    done = as_coordinator.post(
        f"/chamber/actions/{action.id}/close",
        data={"reason": "Prix affichés, vérifié par téléphone"},
    )
    page = as_coordinator.get(done.headers["Location"]).get_data(as_text=True)

    assert refused.status_code == 422
    assert "Say why this corrective action is closed." in refused.get_data(as_text=True)
    assert done.status_code == 302
    assert "Corrective action closed." in page
    assert "Prix affichés, vérifié par téléphone" in page
    assert coordinator.name in page  # who, in the history
    db.session.refresh(action)
    assert action.status == "closed"


def test_closing_twice_says_it_is_closed(as_coordinator, rabat):
    action = db.session.scalar(select(CorrectiveAction))
    as_coordinator.post(f"/chamber/actions/{action.id}/close", data={"reason": "fixed"})

    again = as_coordinator.post(
        f"/chamber/actions/{action.id}/close", data={"reason": "again"}, follow_redirects=True
    )

    assert "already closed" in again.get_data(as_text=True)
    assert (
        db.session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "corrective_action.close")
            .order_by(AuditEvent.id.desc())
        ).after["reason"]
        == "fixed"
    )


def test_coordinator_moves_a_due_date_with_htmx(as_coordinator, rabat, coordinator):
    action = db.session.scalar(select(CorrectiveAction))

    too_early = as_coordinator.post(
        f"/chamber/actions/{action.id}/due",
        data={"due_date": "2025-12-01"},
        headers={"HX-Request": "true"},
    )
    moved = as_coordinator.post(
        f"/chamber/actions/{action.id}/due",
        data={"due_date": "2026-01-05", "reason": "waiting for labels"},
        headers={"HX-Request": "true"},
    )
    html = moved.get_data(as_text=True)

    assert too_early.status_code == 422
    assert "cannot be before the failed inspection" in too_early.get_data(as_text=True)
    assert moved.status_code == 200 and "<html" not in html
    assert f'id="action-{action.id}"' in html
    assert "from 23 December 2025 to 5 January 2026" in html and "waiting for labels" in html
    assert "Due date moved to 5 January 2026." in html


# -- who sees what ---------------------------------------------------------------------------


@pytest.fixture
def marrakech(other_region, version):
    """A failed inspection in another region, with a photo."""
    elsewhere = factories.user("inspector", region=other_region)
    stall = factories.stall(region=other_region)
    inspection = inspections.start(
        str(uuid.uuid4()), stall, elsewhere, factories.running_campaign(version)
    )
    for key, result in answers(price_shown="fail").items():
        inspections.save_answer(inspection, key, result)
    processed = photos.process(imagefactory.jpeg(), filename="prix.jpg")
    photo = inspections.attach_photo(
        inspection, "price_shown", processed, storage_from_config(current_app.config["UPLOAD_DIR"])
    )
    inspections.submit(inspection, actor=elsewhere, now=DAY1)
    action = db.session.scalar(
        select(CorrectiveAction).where(CorrectiveAction.stall_id == stall.id)
    )
    return {
        "stall": stall,
        "inspection": inspection,
        "photo": photo,
        "action": action,
        "region": other_region,
    }


def other_region_urls(other) -> list[str]:
    stall, venue = other["stall"], other["stall"].venue
    return [
        "/chamber/regions/MA-07",
        f"/chamber/provinces/{venue.province_id}",
        f"/chamber/venues/{venue.id}",
        f"/chamber/stalls/{stall.id}",
        f"/chamber/inspections/{other['inspection'].id}",
        f"/chamber/actions/{other['action'].id}",
        "/chamber/stalls?region=MA-07",
        f"/chamber/stalls?venue={venue.id}",
        f"/chamber/actions?province={venue.province_id}",
        "/chamber/export/stalls.csv?region=MA-07",
        "/chamber/export/inspections.xlsx?region=MA-07",
        f"/chamber/export/answers.csv?venue={venue.id}",
        "/chamber/export/open-data.csv?region=MA-07",
        f"/inspect/photos/{other['photo'].id}/thumb",
        f"/inspect/photos/{other['photo'].id}/display",
    ]


def test_coordinator_of_another_region_gets_404_everywhere(as_coordinator, rabat, marrakech):
    for url in other_region_urls(marrakech):
        response = as_coordinator.get(url)
        assert response.status_code == 404, url
    action = marrakech["action"]
    assert (
        as_coordinator.post(
            f"/chamber/actions/{action.id}/close", data={"reason": "not mine"}
        ).status_code
        == 404
    )
    assert (
        as_coordinator.post(
            f"/chamber/actions/{action.id}/due", data={"due_date": "2026-01-10"}
        ).status_code
        == 404
    )
    db.session.refresh(action)
    assert action.status == "open"


def test_coordinator_pages_never_show_another_region(as_coordinator, rabat, marrakech):
    code = marrakech["stall"].code
    for url in [
        "/chamber/",
        "/chamber/stalls?state=all",
        "/chamber/actions?state=open",
        "/chamber/export/stalls.csv",
        "/chamber/export/answers.csv",
    ]:
        body = as_coordinator.get(url).get_data(as_text=True)
        assert code not in body, url
        assert "Marrakech" not in body, url


def test_admin_sees_every_region(as_admin, rabat, marrakech):
    for url in other_region_urls(marrakech):
        assert as_admin.get(url).status_code == 200, url
    assert marrakech["stall"].code in as_admin.get("/chamber/stalls?state=all").get_data(
        as_text=True
    )


def test_inspection_page_shows_photo_thumbnails_opening_the_display_rendition(as_admin, marrakech):
    photo = marrakech["photo"]
    html = as_admin.get(f"/chamber/inspections/{marrakech['inspection'].id}").get_data(as_text=True)

    assert (
        f'<a href="/inspect/photos/{photo.id}/display"><img src="/inspect/photos/{photo.id}/thumb"'
    ) in html
    assert as_admin.get(f"/inspect/photos/{photo.id}/thumb").status_code == 200


def test_draft_inspections_are_not_shown(as_coordinator, rabat, inspector, version):
    draft = inspections.start(
        str(uuid.uuid4()), rabat["good"], inspector, factories.running_campaign(version)
    )

    assert as_coordinator.get(f"/chamber/inspections/{draft.id}").status_code == 404


def test_arabic_pages_are_right_to_left(client, coordinator, rabat):
    coordinator.language = "ar"
    db.session.commit()
    login(client, coordinator)

    html = client.get("/chamber/").get_data(as_text=True)

    assert 'dir="rtl"' in html and 'lang="ar"' in html
    assert 'direction="rtl"' in html  # the charts mirror
    assert "الرباط - سلا - القنيطرة" in html


# -- the number of queries does not grow with the data --------------------------------------


def _grow(region, other_region, version, stalls: int, visits: int):
    inspector = factories.user("inspector", region=region)
    far = factories.user("inspector", region=other_region)
    for n in range(stalls):
        for where, who in ((region, inspector), (other_region, far)):
            stall = factories.stall(region=where)
            for visit in range(visits):
                failing = {} if (n + visit) % 2 else {"badge_worn": "fail"}
                inspect(
                    stall,
                    who,
                    version,
                    answers(**failing),
                    DAY1.replace(day=21 + visit, hour=9 + n % 8),
                )


def _page_urls():
    # The first action made (_grow opens it in the coordinator's region): in table order the
    # first row may be another's, where the tables are emptied by DELETE and space reused.
    action = db.session.scalars(select(CorrectiveAction).order_by(CorrectiveAction.id)).first()
    stall = action.stall
    return {
        "home": "/chamber/",
        "home filtered": "/chamber/?date_from=2025-12-21&date_to=2025-12-31&craft=pottery"
        "&verdict=needs_follow_up",
        "province": f"/chamber/provinces/{stall.venue.province_id}",
        "venue": f"/chamber/venues/{stall.venue_id}",
        "stalls": "/chamber/stalls?state=all",
        "actions": "/chamber/actions?state=open",
        "stall": f"/chamber/stalls/{stall.id}",
        "inspection": f"/chamber/inspections/{stall.latest_inspection_id}",
        "action": f"/chamber/actions/{action.id}",
        "national": "/chamber/?as=admin",
    }


def _count_queries(client, coordinator, admin) -> dict[str, int]:
    counts = {}
    for name, url in _page_urls().items():
        user = admin if name == "national" else coordinator
        login(client, user)
        client.get(url)  # warm-up: parsed checklists are cached per process
        with QueryCounter() as counted:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts[name] = counted.count
        client.post("/logout")
    return counts


def test_query_count_does_not_grow_with_the_data(
    client, region, other_region, version, coordinator, admin
):
    _grow(region, other_region, version, stalls=1, visits=1)
    small = _count_queries(client, coordinator, admin)
    _grow(region, other_region, version, stalls=6, visits=3)
    large = _count_queries(client, coordinator, admin)

    assert small == large
    assert max(large.values()) <= 20, large


def test_page_translations_and_locale_code_follow_force_locale(app):
    # Both are kept on g for the request with the locale they were made for: a forced locale
    # (an e-mail in another language) and the page's own again afterwards are each obeyed.
    from flask_babel import force_locale

    from compliance import locale_code, page_translations

    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert (locale_code(), page_translations().ugettext("Compliant")) == ("fr", "Conforme")
        with force_locale("ar"):
            assert (locale_code(), page_translations().ugettext("Compliant")) == ("ar", "مطابق")
        assert (locale_code(), page_translations().ugettext("Compliant")) == ("fr", "Conforme")
