"""``flask photos check``: rows without files, files without rows, leftovers, and the repair.

Each test has its own photo store (UPLOAD_DIR), so what it finds is only what it made.
"""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest
from sqlalchemy import func, select

from compliance import create_app
from compliance.config import TestingConfig
from compliance.extensions import db
from compliance.models import AuditEvent, Inspection, Photo
from compliance.storage import STAGING, LocalStorage, photo_key

from .test_api_sync import API, payload, photo_bytes, put, put_photo
from .test_inspect import answer_all, start, upload


@pytest.fixture
def store(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "photos"))
    return LocalStorage(tmp_path / "photos")


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def sent_offline(client, stall, version, photos):
    """An offline submission whose declared photos all arrived; its id."""
    inspection_id = str(uuid.uuid4())
    declared = [("shop_clean", hashlib.sha256(data).hexdigest()) for data in photos]
    assert put(client, inspection_id, payload(stall, version, photos=declared)).status_code == 201
    for data in photos:
        assert put_photo(client, inspection_id, "shop_clean", data).status_code == 201
    return inspection_id


def check(runner, *args):
    return runner.invoke(args=["photos", "check", *args])


def test_a_store_that_agrees_with_the_rows_is_clean(
    runner, store, as_inspector, stall, checklist_version
):
    sent_offline(as_inspector, stall, checklist_version, [photo_bytes()[0]])

    result = check(runner)

    assert result.exit_code == 0, result.output
    assert "0 row(s) without files" in result.output
    assert "0 file(s) without rows" in result.output


def test_check_lists_what_disagrees_and_changes_no_row(
    runner, store, as_inspector, stall, checklist_version
):
    kept, lost = photo_bytes(), photo_bytes(color=(0, 90, 0))
    inspection_id = sent_offline(as_inspector, stall, checklist_version, [kept[0], lost[0]])
    os.remove(store.path(photo_key(lost[1], "display")))
    orphan = photo_key(hashlib.sha256(b"never a row").hexdigest(), "thumb")
    store.put(orphan, b"bytes whose upload was killed before its row")

    result = check(runner)

    assert result.exit_code == 1
    assert "1 row(s) without files" in result.output
    assert f"inspection {inspection_id} item shop_clean: {lost[1]} lacks display" in result.output
    assert f"1 file(s) without rows (kept: a retry reuses them)\n  {orphan}" in result.output
    assert "--repair" in result.output
    assert count(Photo) == 2 and db.session.get(Inspection, inspection_id).photos_pending == 0
    assert store.exists(orphan)


def test_check_removes_old_temporary_files_and_keeps_a_write_in_progress(runner, store):
    store.put(photo_key(hashlib.sha256(b"x").hexdigest(), "display"), b"x")
    staging = store.root + "/" + STAGING
    dead, live = f"{staging}/.put-dead.tmp", f"{staging}/.put-live.tmp"
    legacy = os.path.dirname(store.path(photo_key(hashlib.sha256(b"x").hexdigest(), "display")))
    legacy += "/.put-legacy.tmp"  # where an older version wrote them
    for path in (dead, live, legacy):
        with open(path, "wb") as file:
            file.write(b"half a photo")
    for path in (dead, legacy):
        os.utime(path, (1_000_000_000, 1_000_000_000))

    result = check(runner)

    assert "2 unfinished temporary file(s) removed" in result.output
    assert not os.path.exists(dead) and not os.path.exists(legacy) and os.path.exists(live)


def test_app_start_up_removes_old_temporary_files(tmp_path):
    staging = tmp_path / "photos" / STAGING
    staging.mkdir(parents=True)
    (staging / ".put-dead.tmp").write_bytes(b"half a photo")
    (staging / ".put-live.tmp").write_bytes(b"another server writing")
    os.utime(staging / ".put-dead.tmp", (1_000_000_000, 1_000_000_000))

    class Config(TestingConfig):
        UPLOAD_DIR = str(tmp_path / "photos")

    create_app(Config)

    assert sorted(os.listdir(staging)) == [".put-live.tmp"]


def test_repair_asks_the_phone_for_a_lost_photo_again(
    runner, store, as_inspector, stall, checklist_version
):
    kept, lost = photo_bytes(), photo_bytes(color=(0, 90, 0))
    inspection_id = sent_offline(as_inspector, stall, checklist_version, [kept[0], lost[0]])
    os.remove(store.path(photo_key(lost[1], "thumb")))

    result = check(runner, "--repair")

    assert result.exit_code == 0, result.output
    assert "[repaired: asked for again]" in result.output
    inspection = db.session.get(Inspection, inspection_id)
    assert inspection.photos_pending == 1
    assert [p.sha256 for p in inspection.photos] == [kept[1]]
    status = as_inspector.get(f"{API}/inspections/{inspection_id}").get_json()
    assert status["complete"] is False
    assert status["photos"]["missing"] == [{"item": "shop_clean", "sha256": lost[1]}]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "photo.missing"))
    assert event.entity_id == inspection_id and event.before["sha256"] == lost[1]

    # The phone still holding it sends it again: stored whole, the inspection complete again.
    response = put_photo(as_inspector, inspection_id, "shop_clean", lost[0])
    assert response.status_code == 201 and response.get_json()["complete"] is True
    assert store.exists(photo_key(lost[1], "thumb"))
    assert check(runner).exit_code == 0


def test_repair_takes_a_lost_photo_off_a_draft(
    runner, store, as_inspector, stall, checklist_version
):
    inspection_id = start(as_inspector, stall)
    data, sha = photo_bytes()
    assert upload(as_inspector, inspection_id, "shop_clean", data).status_code == 200
    os.remove(store.path(photo_key(sha, "display")))

    assert check(runner, "--repair").exit_code == 0

    assert db.session.get(Inspection, inspection_id).photos == []


def test_a_submitted_online_photo_cannot_be_asked_for_and_stays_reported(
    runner, store, as_inspector, stall, checklist_version
):
    inspection_id = start(as_inspector, stall)
    answer_all(as_inspector, inspection_id, checklist_version)
    assert as_inspector.post(f"/inspect/inspections/{inspection_id}/submit").status_code == 302
    [photo] = db.session.get(Inspection, inspection_id).photos
    os.remove(store.path(photo_key(photo.sha256, "display")))

    result = check(runner, "--repair")

    assert result.exit_code == 1
    assert "1 row(s) point at missing photo files" in result.output
    assert "repaired" not in result.output
    assert count(Photo) == 1
