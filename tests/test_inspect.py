"""The inspector's walk through the test client: find, start, answer, photo, submit."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from sqlalchemy import func, select

from compliance import checklist_store, inspections
from compliance.checklist import parse
from compliance.extensions import db
from compliance.models import Answer, AuditEvent, CorrectiveAction, Inspection, Photo, Stall
from compliance.photos import process
from compliance.storage import storage_from_config

from . import factories, imagefactory
from .conftest import login


def all_items(version):
    return checklist_store.definition(version).items()


def start(client, stall) -> str:
    inspection_id = str(uuid.uuid4())
    response = client.post(
        f"/inspect/stalls/{stall.id}/start", data={"inspection_id": inspection_id}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/inspect/inspections/{inspection_id}")
    return inspection_id


def answer(client, inspection_id, key, result, comment=None, htmx=True):
    data = {f"r-{key}": result}
    if comment is not None:
        data[f"c-{key}"] = comment
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        f"/inspect/inspections/{inspection_id}/items/{key}", data=data, headers=headers
    )


def upload(client, inspection_id, key, data: bytes, name="photo.jpg", htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        f"/inspect/inspections/{inspection_id}/items/{key}/photos",
        data={f"p-{key}": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=headers,
    )


def answer_all(client, inspection_id, version, result="pass"):
    for item in all_items(version):
        assert answer(client, inspection_id, item.key, result).status_code == 200
    upload(client, inspection_id, "shop_clean", imagefactory.jpeg(64, 48))


# --- finding a stall ---------------------------------------------------------------------


def test_search_finds_stall_by_the_start_of_its_code(as_inspector, stall, checklist_version):
    page = as_inspector.get(f"/inspect/?q={stall.code[:-1].lower()}").get_data(as_text=True)
    assert f"/inspect/stalls/{stall.id}" in page


def test_an_exact_stall_code_opens_the_stall(as_inspector, stall, checklist_version):
    response = as_inspector.get(f"/inspect/?q={stall.code.lower()}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/inspect/stalls/{stall.id}"


def test_an_exact_card_number_opens_the_stall(as_inspector, region, checklist_version):
    stall = factories.stall(region=region, artisan_row=factories.artisan(nia="NIA-04-12345678"))
    response = as_inspector.get("/inspect/?q=NIA-04-12345678")
    assert response.headers["Location"] == f"/inspect/stalls/{stall.id}"


def test_a_card_number_with_two_stalls_lists_both(as_inspector, region, checklist_version):
    artisan = factories.artisan(nia="NIA-04-87654321")
    first = factories.stall(region=region, artisan_row=artisan)
    second = factories.stall(region=region, artisan_row=artisan, venue_row=first.venue)
    response = as_inspector.get("/inspect/?q=NIA-04-87654321")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"/inspect/stalls/{first.id}" in page and f"/inspect/stalls/{second.id}" in page


def test_typing_an_exact_code_lists_it_without_leaving_the_box(
    as_inspector, stall, checklist_version
):
    response = as_inspector.get(f"/inspect/?q={stall.code}", headers={"HX-Request": "true"})
    assert response.status_code == 200 and f"/inspect/stalls/{stall.id}" in response.text


def test_search_ignores_accents_and_case_in_latin_names(as_inspector, region, checklist_version):
    stall = factories.stall(
        region=region, artisan_row=factories.artisan(name_latin="Hélène Bénani")
    )
    page = as_inspector.get("/inspect/?q=helene benani").get_data(as_text=True)
    assert stall.code in page


def test_search_ignores_arabic_diacritics_and_hamza(as_inspector, region, checklist_version):
    stall = factories.stall(region=region, artisan_row=factories.artisan(name_ar="أَحْمَد الإدريسي"))
    page = as_inspector.get("/inspect/?q=احمد الادريسي").get_data(as_text=True)
    assert stall.code in page


def test_search_by_card_number(as_inspector, region, checklist_version):
    stall = factories.stall(region=region, artisan_row=factories.artisan(nia="NIA-04-12345678"))
    assert stall.code in as_inspector.get("/inspect/?q=12345678").get_data(as_text=True)


def test_search_htmx_returns_fragment(as_inspector, stall, checklist_version):
    response = as_inspector.get(f"/inspect/?q={stall.code[:4]}", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert stall.code in body and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_search_does_not_show_other_regions_stalls(as_inspector, other_region, checklist_version):
    far = factories.stall(region=other_region)
    page = as_inspector.get(f"/inspect/?q={far.code}").get_data(as_text=True)
    assert f"/inspect/stalls/{far.id}" not in page and "No stall in your region" in page


def test_search_wildcards_are_literal(as_inspector, stall, checklist_version):
    page = as_inspector.get("/inspect/?q=%25").get_data(as_text=True)
    assert f"/inspect/stalls/{stall.id}" not in page


def test_stall_page_shows_artisan_and_start_button(as_inspector, stall, checklist_version):
    page = as_inspector.get(f"/inspect/stalls/{stall.id}").get_data(as_text=True)
    assert stall.artisan.name_ar in page and stall.artisan.nia in page
    assert f"/inspect/stalls/{stall.id}/start" in page
    assert "Never inspected" in page


def test_inspector_cannot_open_other_regions_stall(as_inspector, other_region, checklist_version):
    far = factories.stall(region=other_region)
    assert as_inspector.get(f"/inspect/stalls/{far.id}").status_code == 404
    assert (
        as_inspector.post(
            f"/inspect/stalls/{far.id}/start", data={"inspection_id": str(uuid.uuid4())}
        ).status_code
        == 404
    )


def test_anonymous_is_sent_to_login(client, stall):
    response = client.get(f"/inspect/stalls/{stall.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_coordinator_cannot_run_inspections(as_coordinator, stall, checklist_version):
    assert as_coordinator.get("/inspect/").status_code == 403


# --- starting and answering --------------------------------------------------------------


def test_start_twice_with_same_id_makes_one_inspection(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    as_inspector.post(f"/inspect/stalls/{stall.id}/start", data={"inspection_id": inspection_id})
    assert db.session.scalar(select(func.count(Inspection.id))) == 1


def test_inspection_keeps_its_checklist_version(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    assert db.session.get(Inspection, inspection_id).checklist_version_id == checklist_version.id


def test_answer_is_saved_and_survives_reload(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    response = answer(as_inspector, inspection_id, "greeting", "fail", "Client ignoré")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'id="item-greeting"' in body and 'hx-swap-oob="true"' in body
    page = as_inspector.get(f"/inspect/inspections/{inspection_id}").get_data(as_text=True)
    assert re.search(r'name="r-greeting" value="fail"\s+checked', page)
    assert "Client ignoré" in page
    assert "1 of 16 answered" in page


def test_changing_an_answer_keeps_one_row(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    answer(as_inspector, inspection_id, "greeting", "fail")
    answer(as_inspector, inspection_id, "greeting", "pass")
    rows = db.session.scalars(select(Answer).where(Answer.inspection_id == inspection_id)).all()
    assert [(a.item_key, a.result) for a in rows] == [("greeting", "pass")]


def test_comment_alone_keeps_the_result(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    answer(as_inspector, inspection_id, "greeting", "pass")
    as_inspector.post(
        f"/inspect/inspections/{inspection_id}/items/greeting",
        data={"c-greeting": "souriant"},
        headers={"HX-Request": "true"},
    )
    row = db.session.scalar(select(Answer).where(Answer.inspection_id == inspection_id))
    assert (row.result, row.comment) == ("pass", "souriant")


def test_na_refused_where_not_allowed(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    response = answer(as_inspector, inspection_id, "badge_worn", "na")
    assert response.status_code == 422
    assert "N/A is not possible" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Answer.id))) == 0


def test_bad_result_value_refused(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    assert answer(as_inspector, inspection_id, "greeting", "maybe").status_code == 422
    assert db.session.scalar(select(func.count(Answer.id))) == 0


def test_unknown_item_is_404(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    assert answer(as_inspector, inspection_id, "nope", "pass").status_code == 404


def test_plain_form_answer_redirects_back(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    response = answer(as_inspector, inspection_id, "greeting", "pass", htmx=False)
    assert response.status_code == 302 and response.headers["Location"].endswith("#item-greeting")


def test_other_inspector_cannot_touch_a_draft(client, stall, region, checklist_version):
    owner = factories.user("inspector", region=region)
    login(client, owner)
    inspection_id = start(client, stall)
    client.post("/logout")
    login(client, factories.user("inspector", region=region))
    assert client.get(f"/inspect/inspections/{inspection_id}").status_code == 404
    assert answer(client, inspection_id, "greeting", "pass").status_code == 404


# --- photos ------------------------------------------------------------------------------


def test_photo_is_attached_and_served(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    response = upload(as_inspector, inspection_id, "shop_clean", imagefactory.jpeg(800, 600))
    assert response.status_code == 200
    photo = db.session.scalar(select(Photo))
    assert photo.item_key == "shop_clean"
    served = as_inspector.get(f"/inspect/photos/{photo.id}/thumb")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data[:2] == b"\xff\xd8"


def test_same_photo_twice_is_stored_once(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    data = imagefactory.jpeg(320, 240)
    upload(as_inspector, inspection_id, "shop_clean", data)
    upload(as_inspector, inspection_id, "shop_clean", data)
    assert db.session.scalar(select(func.count(Photo.id))) == 1


def test_text_file_named_jpg_is_refused_with_a_message(as_inspector, stall, checklist_version, app):
    inspection_id = start(as_inspector, stall)
    response = upload(as_inspector, inspection_id, "shop_clean", b"hello, not a photo", "x.jpg")
    assert response.status_code == 422
    assert "not a photo" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Photo.id))) == 0


def test_photo_error_is_in_the_users_language(client, stall, region, checklist_version):
    login(client, factories.user("inspector", region=region, language="fr"))
    inspection_id = start(client, stall)
    response = upload(client, inspection_id, "shop_clean", imagefactory.truncated_jpeg())
    assert response.status_code == 422
    assert "photo" in response.get_data(as_text=True).lower()


def test_coordinator_of_region_sees_submitted_photo(client, app, stall, region, checklist_version):
    inspector = factories.user("inspector", region=region)
    login(client, inspector)
    inspection_id = start(client, stall)
    answer_all(client, inspection_id, checklist_version)
    client.post(f"/inspect/inspections/{inspection_id}/submit")
    photo = db.session.scalar(select(Photo))
    client.post("/logout")
    login(client, factories.user("coordinator", region=region))
    assert client.get(f"/inspect/photos/{photo.id}/display").status_code == 200


def test_other_region_cannot_see_photo(client, stall, region, other_region, checklist_version):
    login(client, factories.user("inspector", region=region))
    inspection_id = start(client, stall)
    upload(client, inspection_id, "shop_clean", imagefactory.jpeg(64, 64))
    photo = db.session.scalar(select(Photo))
    client.post("/logout")
    login(client, factories.user("coordinator", region=other_region))
    assert client.get(f"/inspect/photos/{photo.id}/display").status_code == 404
    client.post("/logout")
    assert client.get(f"/inspect/photos/{photo.id}/display").status_code == 302


def test_photos_are_not_in_a_public_folder(client, as_inspector, stall, checklist_version, app):
    inspection_id = start(as_inspector, stall)
    upload(as_inspector, inspection_id, "shop_clean", imagefactory.jpeg(64, 64))
    photo = db.session.scalar(select(Photo))
    assert client.get(f"/static/{photo.sha256}-display.jpg").status_code == 404
    assert client.get(f"/uploads/{photo.sha256[:2]}").status_code == 404


# --- submitting --------------------------------------------------------------------------


def test_submit_lists_exactly_what_is_missing(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    for item in all_items(checklist_version):
        if item.key not in ("greeting", "shop_clean"):
            answer(as_inspector, inspection_id, item.key, "pass")
    answer(as_inspector, inspection_id, "price_in_dirhams", "fail")
    response = as_inspector.post(f"/inspect/inspections/{inspection_id}/submit")
    assert response.status_code == 422
    problems = response.get_data(as_text=True).split('id="problems"')[1].split("</section>")[0]
    assert problems.count("<li>") == 4  # shop_clean: both unanswered and without its photo
    assert "#item-greeting" in problems and "Not answered yet" in problems
    assert "#item-shop_clean" in problems and "#item-price_in_dirhams" in problems
    assert "A photo is required" in problems
    assert db.session.get(Inspection, inspection_id).status == "draft"


def test_submit_scores_and_opens_corrective_actions(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    answer_all(as_inspector, inspection_id, checklist_version)
    answer(as_inspector, inspection_id, "greeting", "fail")  # weight 2 of 31, no photo needed
    response = as_inspector.post(f"/inspect/inspections/{inspection_id}/submit")
    assert response.status_code == 302
    inspection = db.session.get(Inspection, inspection_id)
    assert inspection.status == "submitted"
    assert inspection.score == pytest.approx(round(29 / 31, 4))
    assert inspection.verdict == "compliant"
    action = db.session.scalar(select(CorrectiveAction))
    assert action.item_key == "greeting"
    assert (action.due_date - inspection.submitted_day).days == 1
    assert db.session.get(Stall, stall.id).latest_inspection_id == inspection_id
    page = as_inspector.get(response.headers["Location"]).get_data(as_text=True)
    assert "94" in page and "Compliant" in page and "Fix by" in page
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inspection.submit"))


def test_failed_critical_item_makes_non_compliant(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    answer_all(as_inspector, inspection_id, checklist_version)
    answer(as_inspector, inspection_id, "badge_worn", "fail")
    upload(as_inspector, inspection_id, "badge_worn", imagefactory.jpeg(64, 64, color=(0, 0, 200)))
    as_inspector.post(f"/inspect/inspections/{inspection_id}/submit")
    inspection = db.session.get(Inspection, inspection_id)
    assert inspection.verdict == "non_compliant" and inspection.critical_failures == 1


def test_resubmitting_same_id_stores_nothing_new(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    answer_all(as_inspector, inspection_id, checklist_version)
    first = as_inspector.post(f"/inspect/inspections/{inspection_id}/submit")
    second = as_inspector.post(f"/inspect/inspections/{inspection_id}/submit")
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count(Inspection.id))) == 1
    events = select(func.count(AuditEvent.id)).where(AuditEvent.action == "inspection.submit")
    assert db.session.scalar(events) == 1


def test_same_id_with_different_answers_is_refused(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    answer_all(as_inspector, inspection_id, checklist_version)
    as_inspector.post(f"/inspect/inspections/{inspection_id}/submit")
    response = as_inspector.post(
        f"/inspect/inspections/{inspection_id}/submit", data={"r-greeting": "fail"}
    )
    assert response.status_code == 409
    assert "already submitted with different answers" in response.get_data(as_text=True)
    assert db.session.scalar(select(Answer.result).where(Answer.item_key == "greeting")) == "pass"


def test_no_js_submission_in_one_form(as_inspector, stall, checklist_version):
    """With JavaScript off, the whole checklist and its photo arrive in one POST."""
    inspection_id = start(as_inspector, stall)
    data = {f"r-{item.key}": "pass" for item in all_items(checklist_version)}
    data["c-greeting"] = "Très accueillant"
    data["p-shop_clean"] = (io.BytesIO(imagefactory.jpeg(200, 100)), "stall.jpg")
    response = as_inspector.post(
        f"/inspect/inspections/{inspection_id}/submit",
        data=data,
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    inspection = db.session.get(Inspection, inspection_id)
    assert inspection.verdict == "compliant" and len(inspection.photos) == 1


def test_no_js_bad_photo_keeps_answers_and_says_why(as_inspector, stall, checklist_version):
    inspection_id = start(as_inspector, stall)
    data = {f"r-{item.key}": "pass" for item in all_items(checklist_version)}
    data["p-shop_clean"] = (io.BytesIO(b"GIF89a not really"), "stall.jpg")
    response = as_inspector.post(
        f"/inspect/inspections/{inspection_id}/submit",
        data=data,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert db.session.get(Inspection, inspection_id).status == "draft"
    assert db.session.scalar(select(func.count(Answer.id))) == len(all_items(checklist_version))


def test_all_na_is_refused(as_inspector, stall, checklist_version):
    # The running campaign uses a checklist whose only item may be N/A.
    version, _ = checklist_store.store(parse(NA_ONLY))
    factories.running_campaign(version)
    inspection_id = start(as_inspector, stall)
    answer(as_inspector, inspection_id, "a", "na")
    response = as_inspector.post(f"/inspect/inspections/{inspection_id}/submit")
    assert response.status_code == 422
    assert "nothing was checked" in response.get_data(as_text=True)


def test_later_passing_inspection_closes_corrective_action(as_inspector, stall, checklist_version):
    first = start(as_inspector, stall)
    answer_all(as_inspector, first, checklist_version)
    answer(as_inspector, first, "greeting", "fail")
    as_inspector.post(f"/inspect/inspections/{first}/submit")
    second = start(as_inspector, stall)
    answer_all(as_inspector, second, checklist_version)
    as_inspector.post(f"/inspect/inspections/{second}/submit")
    action = db.session.scalar(select(CorrectiveAction))
    assert action.status == "closed" and action.closed_by_inspection_id == second
    assert db.session.get(Stall, stall.id).latest_inspection_id == second


def test_concurrent_submits_of_one_id_store_it_once(app, stall, inspector, checklist_version):
    """Two requests submitting the same inspection at the same moment: one wins, one retries."""
    import threading

    inspection = inspections.start(
        str(uuid.uuid4()), stall, inspector, factories.running_campaign(checklist_version)
    )
    for item in all_items(checklist_version):
        inspections.save_answer(inspection, item.key, "pass")
    storage = storage_from_config(app.config["UPLOAD_DIR"])
    inspections.attach_photo(inspection, "shop_clean", process(imagefactory.jpeg(64, 64)), storage)
    inspection_id = inspection.id
    db.session.remove()
    results, barrier = [], threading.Barrier(2)

    def worker():
        with app.app_context():
            row = db.session.get(Inspection, inspection_id)
            barrier.wait()
            results.append(inspections.submit(row).created)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]
    events = select(func.count(AuditEvent.id)).where(AuditEvent.action == "inspection.submit")
    assert db.session.scalar(events) == 1


NA_ONLY = """
key = "na-only"
comments_internal = false
[title]
ar = "ت"
fr = "t"
en = "t"
[verdict]
compliant = 0.85
follow_up = 0.6
[[sections]]
key = "s"
title = { ar = "ق", fr = "s", en = "s" }
  [[sections.items]]
  key = "a"
  text = { ar = "أ", fr = "a", en = "a" }
  weight = 1
  critical = false
  photo = "never"
  fix_days = 1
  na_allowed = true
"""


def test_due_date_counts_from_the_day_in_morocco(app, stall, inspector, checklist_version):
    """23:30 UTC on 10 January is already 11 January in Morocco (UTC+1)."""
    from datetime import date, datetime

    inspection = inspections.start(
        str(uuid.uuid4()), stall, inspector, factories.running_campaign(checklist_version)
    )
    for item in all_items(checklist_version):
        inspections.save_answer(inspection, item.key, "fail" if item.key == "greeting" else "pass")
    storage = storage_from_config(app.config["UPLOAD_DIR"])
    inspections.attach_photo(inspection, "shop_clean", process(imagefactory.jpeg(64, 64)), storage)
    inspections.submit(inspection, now=datetime(2026, 1, 10, 23, 30))
    assert inspection.submitted_day == date(2026, 1, 11)
    action = db.session.scalar(select(CorrectiveAction))
    assert action.due_date == date(2026, 1, 12)  # greeting: one day to fix
