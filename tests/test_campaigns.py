"""Campaign pages (compliance/admin/campaign_routes.py): the rules of compliance/campaigns.py
as admins and coordinators meet them, a closed campaign as inspectors, the phone and artisans
meet it, and the audit trail. (Migration 0009 on old inspections: test_migration_campaigns.py.)
"""

from __future__ import annotations

import io
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from compliance import access, campaigns
from compliance.extensions import db
from compliance.models import (
    CLOSED,
    PLANNED,
    RUNNING,
    AuditEvent,
    Campaign,
    CampaignVenue,
    CorrectiveAction,
    Inspection,
)

from . import factories, imagefactory
from .conftest import login
from .test_api_sync import payload, put
from .test_artisan_helpers import (
    forget_request_user,
    fresh_limits,  # noqa: F401
    inspect,
    signed_in,
    tiny_checklist,
)

pytestmark = pytest.mark.usefixtures("fresh_limits")

FEBRUARY = {"first_day": "2026-02-01", "last_day": "2026-02-28"}


def form(version_id: int, **changes) -> dict:
    """What the campaign form posts: a February 2026 campaign (after the fixture's AFCON days)."""
    data = {
        "code": "fair-2026",
        "name_ar": "معرض الصناعة التقليدية 2026",
        "name_fr": "Salon de l'artisanat 2026",
        "name_en": "Crafts fair 2026",
        **FEBRUARY,
        "checklist": str(version_id),
    }
    data.update(changes)
    return data


def running() -> Campaign:
    return db.session.scalar(select(Campaign).where(Campaign.state == RUNNING))


def audited(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def campaign_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Campaign))


def page(response) -> str:
    return response.get_data(as_text=True)


def planned(version, **days) -> Campaign:
    return factories.campaign(
        version,
        state=PLANNED,
        first_day=days.get("first_day", date(2026, 2, 1)),
        last_day=days.get("last_day", date(2026, 2, 28)),
        every_venue=False,
    )


ALL_PASS = {"welcome": "pass", "prices": "pass", "clean": "pass"}


def submitted(stall, inspector) -> Inspection:
    """A submitted inspection of ``stall`` (the running campaign switches to the tiny list)."""
    return inspect(stall, inspector, tiny_checklist(), ALL_PASS)


def close(client, campaign: Campaign):
    return client.post(f"/admin/campaigns/{campaign.id}/close", data={"understood": "y"})


# --- admins: create, edit, start, close ---------------------------------------------------------


def test_admin_creates_a_planned_campaign_and_it_is_audited(as_admin, admin, checklist_version):
    response = as_admin.post("/admin/campaigns/new", data=form(checklist_version.id))
    assert response.status_code == 302
    campaign = campaigns.by_code("fair-2026")
    assert campaign.state == PLANNED
    assert campaign.first_day == date(2026, 2, 1) and campaign.last_day == date(2026, 2, 28)
    assert campaign.checklist_version_id == checklist_version.id
    assert response.headers["Location"].endswith(f"/admin/campaigns/{campaign.id}")
    (event,) = audited("campaign.create")
    assert event.actor_id == admin.id and event.after["code"] == "fair-2026"


def test_the_form_offers_stored_checklist_versions_and_date_inputs(as_admin, checklist_version):
    html = page(as_admin.get("/admin/campaigns/new"))
    assert f'<option value="{checklist_version.id}">afcon-2025 v1</option>' in html
    assert html.count('type="date"') == 2


def test_overlapping_days_are_refused_in_the_users_language(client, checklist_version):
    login(client, factories.user("admin", language="fr"))
    response = client.post(
        "/admin/campaigns/new",
        data=form(checklist_version.id, first_day="2026-01-10", last_day="2026-02-10"),
    )
    assert response.status_code == 422
    assert "chevauchent la campagne" in page(response)
    assert campaign_count() == 1 and audited("campaign.create") == []


def test_the_overlapped_campaign_is_named_in_the_pages_language(client, checklist_version):
    login(client, factories.user("admin", language="ar"))
    response = client.post(
        "/admin/campaigns/new",
        data=form(checklist_version.id, first_day="2026-01-10", last_day="2026-02-10"),
    )
    running = db.session.scalar(select(Campaign))
    assert response.status_code == 422
    assert f"«{running.name_ar}»" in page(response)
    assert running.name_fr not in page(response)


def test_last_day_before_first_day_is_refused(as_admin, checklist_version):
    response = as_admin.post(
        "/admin/campaigns/new",
        data=form(checklist_version.id, first_day="2026-02-20", last_day="2026-02-10"),
    )
    assert response.status_code == 422
    assert "The last day comes before the first day." in page(response)
    assert campaign_count() == 1


def test_a_missing_day_or_name_is_refused_beside_its_field(as_admin, checklist_version):
    response = as_admin.post(
        "/admin/campaigns/new", data=form(checklist_version.id, first_day="", name_en="")
    )
    assert response.status_code == 422
    html = page(response)
    assert 'id="first_day-error"' in html and 'id="name_en-error"' in html
    assert campaign_count() == 1


def test_a_second_campaign_cannot_start_while_one_runs(as_admin, checklist_version):
    later = planned(checklist_version)
    response = as_admin.post(f"/admin/campaigns/{later.id}/start")
    assert response.status_code == 409
    assert "is running: close it first" in page(response)
    db.session.refresh(later)
    assert later.state == PLANNED and audited("campaign.start") == []


def test_admin_starts_a_planned_campaign_once_the_other_is_closed(as_admin, checklist_version):
    first, later = running(), planned(checklist_version)
    assert close(as_admin, first).status_code == 302
    assert as_admin.post(f"/admin/campaigns/{later.id}/start").status_code == 302
    db.session.expire_all()
    assert (first.state, later.state) == (CLOSED, RUNNING)
    assert [e.after for e in audited("campaign.start")] == [{"state": RUNNING}]
    assert [e.before for e in audited("campaign.close")] == [{"state": RUNNING}]


def test_admin_edits_names_and_days_and_the_change_is_audited(as_admin, checklist_version):
    later = planned(checklist_version)
    response = as_admin.post(
        f"/admin/campaigns/{later.id}/edit",
        data=form(checklist_version.id, code=later.code, name_fr="Salon renommé"),
    )
    assert response.status_code == 302
    db.session.refresh(later)
    assert later.name_fr == "Salon renommé"
    (event,) = audited("campaign.update")
    assert event.before["name_fr"] != event.after["name_fr"] == "Salon renommé"


def test_the_checklist_cannot_change_once_begun(
    as_admin, checklist_version, region, inspector, stall
):
    inspect(stall, inspector, checklist_version, {}, submit=False)
    campaign = running()
    other = tiny_checklist()
    response = as_admin.post(
        f"/admin/campaigns/{campaign.id}/edit",
        data=form(
            other.id,
            code=campaign.code,
            first_day=campaign.first_day.isoformat(),
            last_day=campaign.last_day.isoformat(),
        ),
    )
    assert response.status_code == 422
    assert "The checklist of a campaign that has begun cannot change." in page(response)
    db.session.refresh(campaign)
    assert campaign.checklist_version_id == checklist_version.id
    assert audited("campaign.update") == []


def test_closing_asks_for_confirmation_and_says_it_is_irreversible(as_admin, checklist_version):
    campaign = running()
    html = page(as_admin.get(f"/admin/campaigns/{campaign.id}/close"))
    assert "Closing cannot be undone" in html and 'name="understood"' in html
    response = as_admin.post(f"/admin/campaigns/{campaign.id}/close", data={})
    assert response.status_code == 422
    assert "Tick the box to confirm." in page(response)
    db.session.refresh(campaign)
    assert campaign.state == RUNNING and audited("campaign.close") == []


def test_a_closed_campaign_cannot_close_or_start_again(as_admin, checklist_version):
    campaign = running()
    assert close(as_admin, campaign).status_code == 302
    again = close(as_admin, campaign)
    assert again.status_code == 409 and "Only a running campaign can be closed." in page(again)
    start = as_admin.post(f"/admin/campaigns/{campaign.id}/start")
    assert start.status_code == 409 and "Only a planned campaign can start." in page(start)
    db.session.refresh(campaign)
    assert campaign.state == CLOSED and len(audited("campaign.close")) == 1


def test_a_closed_campaigns_page_is_read_only(as_admin, checklist_version, stall):
    campaign = running()
    close(as_admin, campaign)
    html = page(as_admin.get(f"/admin/campaigns/{campaign.id}"))
    assert "it is read-only" in html
    for offer in ("Edit the campaign", "Close the campaign", "Add the ticked venues", "Remove"):
        assert offer not in html
    assert stall.venue.code in html  # what took part stays listed
    edit = as_admin.post(f"/admin/campaigns/{campaign.id}/edit", data=form(checklist_version.id))
    assert edit.status_code == 302  # back to the page, which says it is closed
    add = as_admin.post(f"/admin/campaigns/{campaign.id}/venues", data={"venue": stall.venue_id})
    assert add.status_code == 409 and "This campaign is closed" in page(add)
    remove = as_admin.post(f"/admin/campaigns/{campaign.id}/venues/{stall.venue_id}/remove")
    assert remove.status_code == 409
    db.session.refresh(campaign)
    assert campaign.name_fr != "Salon de l'artisanat 2026"
    assert campaigns.takes_part(campaign.id, stall.venue_id)


# --- a closed campaign, as the field and the artisans meet it -----------------------------------


def _closed_by_admin(app, admin) -> None:
    client = login(app.test_client(), admin)
    assert close(client, running()).status_code == 302
    forget_request_user()


def test_an_inspector_cannot_start_an_inspection_once_closed(
    app, client, admin, inspector, stall, checklist_version
):
    _closed_by_admin(app, admin)
    login(client, inspector)
    response = client.post(f"/inspect/stalls/{stall.id}/start", follow_redirects=True)
    assert "No campaign is running for this sale space" in page(response)
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 0


def test_the_phone_gets_409_no_campaign_once_closed(
    app, client, admin, inspector, stall, checklist_version
):
    _closed_by_admin(app, admin)
    login(client, inspector)
    response = put(client, str(uuid.uuid4()), payload(stall, checklist_version))
    assert response.status_code == 409 and response.json["error"] == "no_campaign"


def test_a_draft_of_a_closed_campaign_is_refused_under_the_next_one(
    app, client, admin, inspector, stall, checklist_version
):
    draft = inspect(stall, inspector, checklist_version, {}, submit=False)
    _closed_by_admin(app, admin)
    nxt = planned(checklist_version)
    campaigns.add_venue(nxt, stall.venue, admin)
    campaigns.start(nxt, admin)
    login(client, inspector)
    response = put(client, draft.id, payload(stall, checklist_version))
    assert response.status_code == 409 and response.json["error"] == "campaign_closed"


def test_an_accepted_inspection_retried_after_close_is_still_accepted(
    app, client, admin, inspector, stall, checklist_version
):
    version = tiny_checklist()  # no photo to send
    factories.running_campaign(version)
    login(client, inspector)
    inspection_id = str(uuid.uuid4())
    assert put(client, inspection_id, payload(stall, version)).status_code == 201
    forget_request_user()
    _closed_by_admin(app, admin)
    login(client, inspector)
    assert put(client, inspection_id, payload(stall, version)).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 1


def _failed_inspection(stall, inspector):
    version = tiny_checklist()
    inspection = inspect(
        stall,
        inspector,
        version,
        {"welcome": "pass", "prices": "fail", "clean": "pass"},
    )
    action = db.session.scalar(
        select(CorrectiveAction).where(CorrectiveAction.item_key == "prices")
    )
    return inspection, action


def test_an_artisan_cannot_contest_once_closed(app, admin, inspector, stall, checklist_version):
    inspection, _ = _failed_inspection(stall, inspector)
    _closed_by_admin(app, admin)
    artisan = signed_in(app, stall.artisan)
    artisan.set_cookie("lang", "en")
    response = artisan.post(
        f"/a/me/inspections/{inspection.id}/items/prices/contest",
        data={"message": "Prices were there", "photo": (io.BytesIO(imagefactory.jpeg()), "c.jpg")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "This item cannot be contested" in page(response)
    assert contest_count() == 0


def contest_count() -> int:
    from compliance.models import Contest, FixReport

    return db.session.scalar(select(func.count()).select_from(Contest)) + db.session.scalar(
        select(func.count()).select_from(FixReport)
    )


def test_an_artisan_cannot_report_a_fix_once_closed(
    app, admin, inspector, stall, checklist_version
):
    _, action = _failed_inspection(stall, inspector)
    _closed_by_admin(app, admin)
    artisan = signed_in(app, stall.artisan)
    artisan.set_cookie("lang", "en")
    response = artisan.post(
        f"/a/me/actions/{action.id}/fixed",
        data={"message": "Done", "photo": (io.BytesIO(imagefactory.jpeg(300, 200)), "f.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "This campaign is closed: its results can no longer change." in page(response)
    assert contest_count() == 0


# --- venues taking part: coordinators their region's, admins all ---------------------------------


def test_a_coordinator_sees_every_campaign_with_their_regions_counts(
    as_coordinator, region, other_region, checklist_version, inspector
):
    mine = factories.stall(region=region)
    theirs = factories.stall(region=other_region)
    submitted(mine, inspector)
    later = planned(checklist_version)
    html = page(as_coordinator.get("/admin/campaigns"))
    assert html.index(running().name_en) < html.index(later.name_en)  # the running one first
    assert "1 venue taking part" in html  # theirs is not counted
    assert "1 inspection" in html
    assert as_coordinator.get(f"/admin/campaigns/{later.id}").status_code == 200
    html = page(as_coordinator.get(f"/admin/campaigns/{running().id}"))
    assert mine.venue.code in html and theirs.venue.code not in html


def test_a_coordinator_adds_their_regions_venue(
    as_coordinator, coordinator, region, checklist_version
):
    later = planned(checklist_version)
    venue = factories.venue(region=region)
    html = page(as_coordinator.get(f"/admin/campaigns/{later.id}"))
    assert f'value="{venue.id}"' in html and venue.city in html
    response = as_coordinator.post(f"/admin/campaigns/{later.id}/venues", data={"venue": venue.id})
    assert response.status_code == 302
    assert campaigns.takes_part(later.id, venue.id)
    (event,) = audited("campaign.venue_add")
    assert event.actor_id == coordinator.id and event.after == {"venue": venue.code}


def test_a_coordinator_cannot_add_another_regions_venue(
    as_coordinator, region, other_region, checklist_version
):
    later = planned(checklist_version)
    mine, theirs = factories.venue(region=region), factories.venue(region=other_region)
    response = as_coordinator.post(
        f"/admin/campaigns/{later.id}/venues", data={"venue": [mine.id, theirs.id]}
    )
    assert response.status_code == 404
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(CampaignVenue)
            .where(CampaignVenue.campaign_id == later.id)
        )
        == 0
    )


def test_a_coordinator_cannot_remove_another_regions_venue(
    as_coordinator, other_region, checklist_version
):
    theirs = factories.venue(region=other_region)  # takes part in the running campaign
    response = as_coordinator.post(f"/admin/campaigns/{running().id}/venues/{theirs.id}/remove")
    assert response.status_code == 404
    assert campaigns.takes_part(running().id, theirs.id)


def test_a_coordinator_removes_a_venue_without_inspections(
    as_coordinator, region, checklist_version
):
    venue = factories.venue(region=region)
    campaign = running()
    response = as_coordinator.post(f"/admin/campaigns/{campaign.id}/venues/{venue.id}/remove")
    assert response.status_code == 302
    assert not campaigns.takes_part(campaign.id, venue.id)
    (event,) = audited("campaign.venue_remove")
    assert event.before == {"venue": venue.code}


def test_a_venue_with_inspections_stays_in_the_campaign(
    as_coordinator, stall, inspector, checklist_version
):
    submitted(stall, inspector)
    campaign = running()
    response = as_coordinator.post(f"/admin/campaigns/{campaign.id}/venues/{stall.venue_id}/remove")
    assert response.status_code == 409
    assert "This sale space has inspections in the campaign: it stays in it." in page(response)
    assert campaigns.takes_part(campaign.id, stall.venue_id)
    assert audited("campaign.venue_remove") == []


def test_an_admin_manages_venues_of_every_region(as_admin, region, other_region, checklist_version):
    later = planned(checklist_version)
    one, two = factories.venue(region=region), factories.venue(region=other_region)
    html = page(as_admin.get(f"/admin/campaigns/{later.id}"))
    assert f'value="{one.id}"' in html and f'value="{two.id}"' in html
    response = as_admin.post(
        f"/admin/campaigns/{later.id}/venues", data={"venue": [one.id, two.id]}
    )
    assert response.status_code == 302
    assert campaigns.takes_part(later.id, one.id) and campaigns.takes_part(later.id, two.id)
    assert len(audited("campaign.venue_add")) == 2


def test_a_venue_that_is_not_an_id_is_a_bad_request(as_admin, checklist_version):
    response = as_admin.post(f"/admin/campaigns/{running().id}/venues", data={"venue": "abc"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/campaigns/new"),
        ("POST", "/admin/campaigns/new"),
        ("GET", "/admin/campaigns/{id}/edit"),
        ("POST", "/admin/campaigns/{id}/start"),
        ("GET", "/admin/campaigns/{id}/close"),
        ("POST", "/admin/campaigns/{id}/close"),
    ],
)
def test_a_coordinator_cannot_create_edit_start_or_close(
    as_coordinator, checklist_version, method, path
):
    campaign = running()
    response = as_coordinator.open(
        path.format(id=campaign.id), method=method, data={"understood": "y"}
    )
    assert response.status_code == 403
    db.session.refresh(campaign)
    assert campaign.state == RUNNING and campaign_count() == 1


def test_inspectors_do_not_open_campaign_pages(as_inspector, inspector, checklist_version):
    assert as_inspector.get("/admin/campaigns").status_code == 403
    with pytest.raises(Exception) as refused:
        access.campaign_or_404(inspector, running().id)
    assert getattr(refused.value, "code", None) == 404


def test_the_list_and_page_show_days_and_names_in_the_page_language(client, checklist_version):
    login(client, factories.user("admin", language="ar"))
    campaign = running()
    html = page(client.get("/admin/campaigns"))
    assert campaign.name_ar in html and 'dir="rtl"' in html
    assert "ديسمبر" in html or "دجنبر" in html  # 21 December, in Moroccan Arabic
    html = page(client.get(f"/admin/campaigns/{campaign.id}"))
    assert "جارية" in html
