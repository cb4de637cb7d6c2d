"""The phone's sync API through the test client: bundle, answers, photos — exactly once."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.pool import StaticPool

from compliance import checklist_store, site, static_version
from compliance.extensions import db
from compliance.models import (
    Answer,
    AuditEvent,
    CorrectiveAction,
    Inspection,
    Photo,
    Stall,
    utcnow,
)

from . import factories, imagefactory
from .conftest import login

API = "/inspect/api"


def payload(stall, version, result="pass", photos=(), **extra):
    items = checklist_store.definition(version).items()
    body = {
        "stall_id": stall.id,
        "checklist_version_id": version.id,
        "answers": {item.key: {"result": result, "comment": ""} for item in items},
        "photos": [{"item": item, "sha256": sha} for item, sha in photos],
    }
    body.update(extra)
    return body


def put(client, inspection_id, body):
    return client.put(
        f"{API}/inspections/{inspection_id}",
        data=json.dumps(body),
        content_type="application/json",
    )


def put_photo(client, inspection_id, item, data, sha=None):
    sha = sha or hashlib.sha256(data).hexdigest()
    return client.put(
        f"{API}/inspections/{inspection_id}/photos/{item}/{sha}",
        data=data,
        content_type="image/jpeg",
    )


def photo_bytes(color=(200, 0, 0)):
    data = imagefactory.jpeg(160, 120, color=color)
    return data, hashlib.sha256(data).hexdigest()


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def submit_events(action="inspection.submit"):
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


# --- the bundle the phone keeps ---------------------------------------------------------------


def test_bundle_has_the_checklist_and_only_the_regions_stalls(
    as_inspector, stall, other_region, checklist_version
):
    far = factories.stall(region=other_region)
    response = as_inspector.get(f"{API}/bundle")
    assert response.status_code == 200 and response.mimetype == "application/json"
    bundle = response.get_json()
    codes = [s["code"] for s in bundle["stalls"]]
    assert stall.code in codes and far.code not in codes
    assert bundle["checklist"]["id"] == checklist_version.id
    assert bundle["checklist"]["definition"]["sections"]
    mine = next(s for s in bundle["stalls"] if s["id"] == stall.id)
    assert mine["artisan"]["nia"] == stall.artisan.nia and mine["latest"] is None


def test_bundle_is_revalidated_with_its_etag(as_inspector, stall, checklist_version):
    first = as_inspector.get(f"{API}/bundle")
    again = as_inspector.get(f"{API}/bundle", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    assert "no-cache" in first.headers["Cache-Control"]


def test_api_answers_json_401_when_logged_out(client, stall, checklist_version):
    response = client.get(f"{API}/bundle")
    assert response.status_code == 401 and response.get_json()["message"]


def test_api_is_for_inspectors(as_coordinator, stall, checklist_version):
    assert as_coordinator.get(f"{API}/bundle").status_code == 403


@pytest.mark.parametrize("end", ["new_password", "deactivated"])
def test_a_session_ended_elsewhere_cannot_submit(
    as_inspector, inspector, stall, checklist_version, end
):
    # The API reads the account as a row (not the ORM object the pages load): the same rule.
    if end == "new_password":
        inspector.set_password("another-long-password-9")
    else:
        inspector.deactivate()
    db.session.commit()
    response = put(as_inspector, str(uuid.uuid4()), payload(stall, checklist_version))
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert count(Inspection) == 0


def test_refusals_are_in_the_inspectors_language(as_inspector, inspector, stall, checklist_version):
    inspector.language = "fr"
    db.session.commit()
    response = put(as_inspector, str(uuid.uuid4()), payload(stall, checklist_version, result="?"))
    assert response.status_code == 422
    assert response.get_json()["message"] == "Choisissez Conforme, Non conforme ou Sans objet."


# --- answers first ---------------------------------------------------------------------------


def test_offline_inspection_is_accepted_with_its_photo_pending(
    as_inspector, stall, checklist_version
):
    _data, sha = photo_bytes()
    inspection_id = str(uuid.uuid4())
    response = put(
        as_inspector, inspection_id, payload(stall, checklist_version, photos=[("shop_clean", sha)])
    )
    assert response.status_code == 201, response.get_json()
    status = response.get_json()
    assert status["answers_received"] and not status["complete"]
    assert status["photos"]["missing"] == [{"item": "shop_clean", "sha256": sha}]
    inspection = db.session.get(Inspection, inspection_id)
    assert inspection.status == "submitted" and inspection.photos_pending == 1
    assert inspection.verdict == "compliant"
    assert db.session.get(Stall, stall.id).latest_inspection_id == inspection_id


def test_the_same_answers_sent_twice_make_one_inspection(as_inspector, stall, checklist_version):
    _data, sha = photo_bytes()
    inspection_id = str(uuid.uuid4())
    body = payload(stall, checklist_version, photos=[("shop_clean", sha)])
    assert put(as_inspector, inspection_id, body).status_code == 201
    again = put(as_inspector, inspection_id, body)
    assert again.status_code == 200 and again.get_json()["photos"]["missing"]
    assert count(Inspection) == 1 and submit_events() == 1
    assert count(Answer) == len(body["answers"])


def test_same_id_with_other_answers_is_refused(as_inspector, stall, checklist_version):
    _data, sha = photo_bytes()
    inspection_id = str(uuid.uuid4())
    put(
        as_inspector, inspection_id, payload(stall, checklist_version, photos=[("shop_clean", sha)])
    )
    other = payload(stall, checklist_version, photos=[("shop_clean", sha)])
    other["answers"]["greeting"] = {"result": "fail", "comment": "froid"}
    response = put(as_inspector, inspection_id, other)
    assert response.status_code == 409 and response.get_json()["error"] == "conflict"
    assert db.session.scalar(select(Answer.result).where(Answer.item_key == "greeting")) == "pass"


def test_same_id_with_other_photos_is_refused(as_inspector, stall, checklist_version):
    _data, sha = photo_bytes()
    _other, other_sha = photo_bytes(color=(0, 200, 0))
    inspection_id = str(uuid.uuid4())
    put(
        as_inspector, inspection_id, payload(stall, checklist_version, photos=[("shop_clean", sha)])
    )
    response = put(
        as_inspector,
        inspection_id,
        payload(stall, checklist_version, photos=[("shop_clean", other_sha)]),
    )
    assert response.status_code == 409


def test_required_photo_neither_declared_nor_stored_is_refused(
    as_inspector, stall, checklist_version
):
    response = put(as_inspector, str(uuid.uuid4()), payload(stall, checklist_version))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "incomplete"
    assert {"item": "shop_clean", "reason": "photo_required"} in [
        {"item": m["item"], "reason": m["reason"]} for m in body["missing"]
    ]
    assert count(Inspection) == 1 and db.session.scalar(select(Inspection.status)) == "draft"


def test_unanswered_item_is_listed(as_inspector, stall, checklist_version):
    _data, sha = photo_bytes()
    body = payload(stall, checklist_version, photos=[("shop_clean", sha)])
    del body["answers"]["greeting"]
    response = put(as_inspector, str(uuid.uuid4()), body)
    assert response.status_code == 422
    assert response.get_json()["missing"][0]["item"] == "greeting"


def test_photo_for_an_item_that_takes_none_is_refused(as_inspector, stall, checklist_version):
    _data, sha = photo_bytes()
    body = payload(stall, checklist_version, photos=[("shop_clean", sha), ("greeting", sha)])
    response = put(as_inspector, str(uuid.uuid4()), body)
    assert response.status_code == 422 and count(Inspection) == 0


def test_other_regions_stall_is_404(as_inspector, other_region, checklist_version):
    far = factories.stall(region=other_region)
    _data, sha = photo_bytes()
    response = put(
        as_inspector,
        str(uuid.uuid4()),
        payload(far, checklist_version, photos=[("shop_clean", sha)]),
    )
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert count(Inspection) == 0


def test_malformed_body_and_unknown_checklist_are_refused(as_inspector, stall, checklist_version):
    inspection_id = str(uuid.uuid4())
    bad = as_inspector.put(
        f"{API}/inspections/{inspection_id}", data="not json", content_type="application/json"
    )
    assert bad.status_code == 400
    body = payload(stall, checklist_version)
    body["checklist_version_id"] = 99999
    assert put(as_inspector, inspection_id, body).status_code == 422
    assert put(as_inspector, "not-a-uuid", payload(stall, checklist_version)).status_code == 404
    assert count(Inspection) == 0


def test_no_csrf_token_needed_for_the_queue(app, as_inspector, stall, checklist_version):
    """A phone whose cached page holds an old token must still be able to send its queue."""
    _data, sha = photo_bytes()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = put(
            as_inspector,
            str(uuid.uuid4()),
            payload(stall, checklist_version, photos=[("shop_clean", sha)]),
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 201


def test_cross_site_origin_is_refused(as_inspector, stall, checklist_version):
    _data, sha = photo_bytes()
    response = as_inspector.put(
        f"{API}/inspections/{uuid.uuid4()}",
        data=json.dumps(payload(stall, checklist_version, photos=[("shop_clean", sha)])),
        content_type="application/json",
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403 and count(Inspection) == 0


def test_two_inspectors_on_one_stall_keep_both_inspections(
    client, stall, region, checklist_version
):
    _data, sha = photo_bytes()
    body = payload(stall, checklist_version, photos=[("shop_clean", sha)])
    ids = []
    for _ in range(2):
        login(client, factories.user("inspector", region=region))
        ids.append(str(uuid.uuid4()))
        assert put(client, ids[-1], body).status_code == 201
        client.post("/logout")
    assert count(Inspection) == 2 and submit_events() == 2


def test_another_inspectors_id_is_refused(client, stall, region, checklist_version):
    _data, sha = photo_bytes()
    body = payload(stall, checklist_version, photos=[("shop_clean", sha)])
    inspection_id = str(uuid.uuid4())
    login(client, factories.user("inspector", region=region))
    put(client, inspection_id, body)
    client.post("/logout")
    login(client, factories.user("inspector", region=region))
    assert put(client, inspection_id, body).status_code == 409
    data, sha = photo_bytes()
    assert put_photo(client, inspection_id, "shop_clean", data).status_code == 404
    assert client.get(f"{API}/inspections/{inspection_id}").status_code == 404


def test_draft_started_online_is_completed_by_the_phone(as_inspector, stall, checklist_version):
    inspection_id = str(uuid.uuid4())
    as_inspector.post(f"/inspect/stalls/{stall.id}/start", data={"inspection_id": inspection_id})
    as_inspector.post(
        f"/inspect/inspections/{inspection_id}/items/greeting",
        data={"r-greeting": "fail"},
        headers={"HX-Request": "true"},
    )
    _data, sha = photo_bytes()
    response = put(
        as_inspector, inspection_id, payload(stall, checklist_version, photos=[("shop_clean", sha)])
    )
    assert response.status_code == 201
    assert db.session.scalar(select(Answer.result).where(Answer.item_key == "greeting")) == "pass"
    assert count(Inspection) == 1


def test_phone_time_is_kept_when_plausible(as_inspector, stall, checklist_version):
    _data, sha = photo_bytes()
    earlier = utcnow() - timedelta(hours=5)
    body = payload(
        stall,
        checklist_version,
        photos=[("shop_clean", sha)],
        submitted_at=earlier.isoformat() + "Z",
    )
    inspection_id = str(uuid.uuid4())
    put(as_inspector, inspection_id, body)
    inspection = db.session.get(Inspection, inspection_id)
    assert abs((inspection.submitted_at - earlier).total_seconds()) < 1
    assert inspection.received_at > inspection.submitted_at
    future = payload(
        stall,
        checklist_version,
        photos=[("shop_clean", sha)],
        submitted_at=(utcnow() + timedelta(days=2)).isoformat() + "Z",
    )
    later_id = str(uuid.uuid4())
    put(as_inspector, later_id, future)
    assert db.session.get(Inspection, later_id).submitted_at <= utcnow()


def test_a_visit_arriving_after_a_later_one_does_not_change_the_stall(
    as_inspector, stall, checklist_version
):
    _data, sha = photo_bytes()
    recent = str(uuid.uuid4())
    put(as_inspector, recent, payload(stall, checklist_version, photos=[("shop_clean", sha)]))
    older = payload(
        stall,
        checklist_version,
        photos=[("shop_clean", sha)],
        submitted_at=(utcnow() - timedelta(hours=3)).isoformat() + "Z",
    )
    older["answers"]["greeting"] = {"result": "fail", "comment": ""}
    late = str(uuid.uuid4())
    assert put(as_inspector, late, older).status_code == 201
    assert db.session.get(Stall, stall.id).latest_inspection_id == recent
    assert count(CorrectiveAction) == 0  # the later visit passed: nothing to fix


# --- then each photo alone --------------------------------------------------------------------


def test_declared_photo_completes_the_inspection_once(as_inspector, stall, checklist_version):
    data, sha = photo_bytes()
    inspection_id = str(uuid.uuid4())
    body = payload(stall, checklist_version, result="pass", photos=[("shop_clean", sha)])
    body["answers"]["greeting"] = {"result": "fail", "comment": ""}
    put(as_inspector, inspection_id, body)
    actions = count(CorrectiveAction)
    response = put_photo(as_inspector, inspection_id, "shop_clean", data)
    assert response.status_code == 201
    assert response.get_json()["complete"] is True
    again = put_photo(as_inspector, inspection_id, "shop_clean", data)
    assert again.status_code == 200 and again.get_json()["complete"] is True
    inspection = db.session.get(Inspection, inspection_id)
    assert inspection.photos_pending == 0 and count(Photo) == 1
    assert submit_events("inspection.photos_complete") == 1  # the first arrival only
    # The evidence completing never scores or counts the inspection again.
    assert submit_events() == 1 and count(CorrectiveAction) == actions == 1
    # The action carries the stall's craft, as the sync API's stall row had it.
    assert db.session.scalar(select(CorrectiveAction.craft)) == stall.artisan.craft is not None
    assert as_inspector.get(f"/inspect/photos/{inspection.photos[0].id}/thumb").status_code == 200


def test_photo_whose_bytes_do_not_match_the_hash_is_refused(as_inspector, stall, checklist_version):
    data, sha = photo_bytes()
    inspection_id = str(uuid.uuid4())
    put(
        as_inspector, inspection_id, payload(stall, checklist_version, photos=[("shop_clean", sha)])
    )
    response = put_photo(as_inspector, inspection_id, "shop_clean", data[:-200], sha=sha)
    assert response.status_code == 422 and response.get_json()["error"] == "hash_mismatch"
    assert count(Photo) == 0
    assert db.session.get(Inspection, inspection_id).photos_pending == 1


def test_photo_that_was_not_declared_is_refused(as_inspector, stall, checklist_version):
    data, sha = photo_bytes()
    other, _other_sha = photo_bytes(color=(0, 0, 200))
    inspection_id = str(uuid.uuid4())
    put(
        as_inspector, inspection_id, payload(stall, checklist_version, photos=[("shop_clean", sha)])
    )
    assert put_photo(as_inspector, inspection_id, "shop_clean", other).status_code == 409
    assert put_photo(as_inspector, inspection_id, "badge_worn", data).status_code == 409
    assert count(Photo) == 0


def test_photo_before_the_answers_is_refused(as_inspector, stall, checklist_version):
    data, _sha = photo_bytes()
    assert put_photo(as_inspector, str(uuid.uuid4()), "shop_clean", data).status_code == 404


def test_declared_photo_that_is_not_an_image_is_refused_with_a_message(
    as_inspector, stall, checklist_version
):
    data = b"hello, not a photo at all"
    sha = hashlib.sha256(data).hexdigest()
    inspection_id = str(uuid.uuid4())
    put(
        as_inspector, inspection_id, payload(stall, checklist_version, photos=[("shop_clean", sha)])
    )
    response = put_photo(as_inspector, inspection_id, "shop_clean", data)
    assert response.status_code == 422 and "not a photo" in response.get_json()["message"]


def test_status_says_what_the_server_has(as_inspector, stall, checklist_version):
    data, sha = photo_bytes()
    _second, second_sha = photo_bytes(color=(0, 120, 0))
    inspection_id = str(uuid.uuid4())
    body = payload(
        stall, checklist_version, photos=[("shop_clean", sha), ("shop_clean", second_sha)]
    )
    put(as_inspector, inspection_id, body)
    put_photo(as_inspector, inspection_id, "shop_clean", data)
    status = as_inspector.get(f"{API}/inspections/{inspection_id}").get_json()
    assert status["photos"]["received"] == [{"item": "shop_clean", "sha256": sha}]
    assert status["photos"]["missing"] == [{"item": "shop_clean", "sha256": second_sha}]
    assert not status["complete"]
    page = as_inspector.get(f"/inspect/inspections/{inspection_id}/result").get_data(as_text=True)
    assert "1 photo has not arrived yet" in page


def test_concurrent_copies_of_one_submission_store_it_once(app, stall, region, checklist_version):
    """Two tabs (or a replayed queue) sending the same inspection at the same moment."""
    assert not isinstance(db.engine.pool, StaticPool), "needs a real database, not sqlite://"
    inspector = factories.user("inspector", region=region)
    _data, sha = photo_bytes()
    body = json.dumps(payload(stall, checklist_version, photos=[("shop_clean", sha)]))
    inspection_id = str(uuid.uuid4())
    statuses, barrier = [], threading.Barrier(3)
    # Tabs of one browser share its login (each new login ends the sessions before it).
    session = login(app.test_client(), inspector).get_cookie("session").value

    def phone():
        client = app.test_client()
        client.set_cookie("session", session)
        barrier.wait()
        response = client.put(
            f"{API}/inspections/{inspection_id}", data=body, content_type="application/json"
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=phone) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 201]
    db.session.expire_all()
    assert count(Inspection) == 1 and submit_events() == 1


# --- the shell, the worker, the weight -------------------------------------------------------


def test_service_worker_is_served_from_the_root_uncached(client, app):
    response = client.get("/sw.js")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert "no-cache" in response.headers["Cache-Control"]
    assert response.headers["Service-Worker-Allowed"] == "/"
    config = json.loads(body.split("\n", 1)[0].removeprefix("self.SOUKCHECK = ").rstrip(";"))
    assert any(url.startswith("/static/app.js?v=") for url in config["precache"])
    assert config["shell"] == "/inspect/offline"


def test_shell_page_carries_the_words_for_the_offline_views(as_inspector):
    response = as_inspector.get("/inspect/offline")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'type="application/json" id="strings"' in page and "data-shell" in page
    assert 'id="outbox"' in page and "<script>" not in page


def test_unknown_inspection_gets_the_shell_with_404(as_inspector, stall, checklist_version):
    """Perhaps made on this phone without network: the shell shows it from the phone."""
    response = as_inspector.get(f"/inspect/inspections/{uuid.uuid4()}")
    assert response.status_code == 404 and "data-shell" in response.get_data(as_text=True)
    assert as_inspector.get("/inspect/inspections/nope").status_code == 404


def test_manifest_and_icons_are_served(client):
    manifest = client.get("/static/manifest.json").get_json()
    assert manifest["start_url"] == "/inspect/" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert client.get(f"/static/{icon['src']}").status_code == 200


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_pages_and_static_files_are_compressed(as_inspector, encoding):
    page = as_inspector.get("/inspect/", headers={"Accept-Encoding": encoding})
    assert page.headers["Content-Encoding"] == encoding
    url = f"/static/app.js?v={static_version('app.js')}"
    script = as_inspector.get(url, headers={"Accept-Encoding": encoding})
    assert script.headers["Content-Encoding"] == encoding
    assert "immutable" in script.headers["Cache-Control"]
    assert "no-cache" not in script.headers["Cache-Control"]
    assert "Content-Security-Policy" not in script.headers  # a script needs none: fewer bytes


def test_only_current_static_versions_are_kept_compressed(client):
    client.get("/static/app.js?v=not-a-version", headers={"Accept-Encoding": "br"})
    assert not any(version == "not-a-version" for _path, version, _enc in site._PACKED)


# --- text the database cannot store -----------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_a_nul_in_json_of_another_encoding_is_refused(
    as_inspector, stall, checklist_version, encoding
):
    # UTF-8 JSON can only spell NUL as the escape \u0000; other encodings are walked in full.
    body = payload(stall, checklist_version)
    body["answers"][next(iter(body["answers"]))]["comment"] = "bad\x00comment"
    response = as_inspector.put(
        f"{API}/inspections/{uuid.uuid4()}",
        data=json.dumps(body).encode(encoding),
        content_type="application/json",
    )
    assert response.status_code == 400 and "(NUL)" in response.get_json()["message"]
    assert count(Inspection) == 0


def test_a_backslash_before_u0000_is_text_not_nul(as_inspector, stall, checklist_version):
    body = payload(stall, checklist_version, photos=[("shop_clean", "ab" * 32)])
    first = next(iter(body["answers"]))
    body["answers"][first]["comment"] = "C:\\u0000"  # a backslash, then text
    response = put(as_inspector, str(uuid.uuid4()), body)
    assert response.status_code == 201
    assert db.session.scalar(select(Answer.comment).where(Answer.item_key == first)) == "C:\\u0000"
