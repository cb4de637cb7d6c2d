"""``flask backup create`` / ``restore``: consistent while inspections arrive, checked, refusing.

Runs on the suite's database: SQLite (the online backup API) in the SQLite pass, PostgreSQL
(pg_dump/pg_restore) in the PostgreSQL pass. A restore goes into a fresh database (a new file,
or a new PostgreSQL database named after the test one) and a fresh photo folder.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from compliance import create_app, photocheck
from compliance.backup import MANIFEST, PHOTOS
from compliance.config import TestingConfig
from compliance.extensions import db
from compliance.models import Inspection, Photo
from compliance.storage import LocalStorage, photo_key

from . import factories, imagefactory
from .conftest import login
from .test_api_sync import API, payload

THREADS, MINIMUM_EACH, MAXIMUM_EACH = 3, 4, 40
ACKS_BEFORE_BACKUP = 5


@pytest.fixture
def store(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "photos"))
    return LocalStorage(tmp_path / "photos")


@pytest.fixture
def fresh(database_url, tmp_path):
    """An app on a new, empty database and photo folder, to restore into."""
    url = make_url(database_url)
    admin = None
    if url.get_backend_name() == "sqlite":
        target = f"sqlite:///{tmp_path / 'restored.db'}"
    else:
        name = f"{url.database}_restore"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        target = url.set(database=name).render_as_string(hide_password=False)

    class Restored(TestingConfig):
        SQLALCHEMY_DATABASE_URI = target
        UPLOAD_DIR = str(tmp_path / "restored-photos")

    restored = create_app(Restored)
    yield restored
    with restored.app_context():
        db.engine.dispose()
    if admin is not None:
        with admin.connect() as connection:
            connection.execute(
                text(f'DROP DATABASE IF EXISTS "{url.database}_restore" WITH (FORCE)')
            )
        admin.dispose()


def backup(app, *args):
    # In that app's own context: a command run inside the test's would act on the test's app.
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", *args])
        db.session.remove()
    return result


def send(client, answers: dict, data: bytes) -> tuple[str, str]:
    """An offline inspection with one photo, answers then photo; (id, sha) once both are in."""
    inspection_id, sha = str(uuid.uuid4()), hashlib.sha256(data).hexdigest()
    body = dict(answers, photos=[{"item": "shop_clean", "sha256": sha}])
    response = client.put(
        f"{API}/inspections/{inspection_id}", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    response = client.put(
        f"{API}/inspections/{inspection_id}/photos/shop_clean/{sha}",
        data=data,
        content_type="image/jpeg",
    )
    assert response.status_code == 201 and response.get_json()["complete"] is True
    return inspection_id, sha


def test_backup_while_inspections_arrive_restores_every_accepted_one(
    app, fresh, store, tmp_path, region, stall, checklist_version
):
    # Read here, not in the threads: the test's own session belongs to this thread.
    inspectors = [
        SimpleNamespace(username=factories.user("inspector", region=region).username)
        for _ in range(THREADS)
    ]
    answers = payload(stall, checklist_version)
    photos = [
        imagefactory.jpeg(120, 90, color=(n * 37 % 256, n * 59 % 256, 90))
        for n in range(THREADS * MAXIMUM_EACH)
    ]
    accepted: list[tuple[str, str]] = []
    progress = threading.Condition()
    backed_up, errors = threading.Event(), []

    def phone(n: int) -> None:
        client = app.test_client()
        with app.app_context():
            login(client, inspectors[n])
        try:
            # Still sending while the backup runs, and until a few more arrived after it.
            for sent in range(MAXIMUM_EACH):
                if backed_up.is_set() and sent >= MINIMUM_EACH:
                    break
                done = send(client, answers, photos[n * MAXIMUM_EACH + sent])
                with progress:
                    accepted.append(done)
                    progress.notify_all()
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            with progress:
                progress.notify_all()

    threads = [threading.Thread(target=phone, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        with progress:
            assert progress.wait_for(
                lambda: len(accepted) >= ACKS_BEFORE_BACKUP or errors, timeout=300
            )
            before = list(accepted)  # told "stored" before the backup began
        assert not errors, errors
        result = backup(app, "create", str(tmp_path / "backup"))
    finally:
        backed_up.set()
        for thread in threads:
            thread.join(timeout=300)
    assert not errors, errors
    assert result.exit_code == 0, result.output
    assert len(accepted) > len(before)  # submissions went on during and after the backup
    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text())

    result = backup(fresh, "restore", str(tmp_path / "backup"))

    assert result.exit_code == 0, result.output
    assert "every count and checksum matches" in result.output
    restored_store = LocalStorage(fresh.config["UPLOAD_DIR"])
    with fresh.app_context():
        for inspection_id, sha in before:
            inspection = db.session.get(Inspection, inspection_id)
            assert inspection is not None and inspection.status == "submitted"
            assert inspection.photos_pending == 0
            assert [p.sha256 for p in inspection.photos] == [sha]
            for rendition in ("display", "thumb"):
                key = photo_key(sha, rendition)
                assert _read(restored_store, key) == _read(store, key)
        # Whatever else made it in is whole: counts as the manifest says, no photo without files.
        assert (
            db.session.scalar(select(func.count()).select_from(Inspection))
            == (manifest["database"]["tables"]["inspection"])
        )
        assert len(before) <= manifest["database"]["tables"]["photo"] <= len(accepted)
        report = photocheck.check(restored_store)
        assert report.rows_without_files == []
        db.session.remove()


def test_restore_refuses_a_database_that_is_not_empty(app, store, tmp_path, stall):
    assert backup(app, "create", str(tmp_path / "backup")).exit_code == 0

    result = backup(app, "restore", str(tmp_path / "backup"))

    assert result.exit_code == 1
    assert "is not empty" in result.output and "restore into a new, empty database" in result.output
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 0  # untouched


def test_restore_refuses_a_photo_folder_that_is_not_empty(app, fresh, store, tmp_path, stall):
    assert backup(app, "create", str(tmp_path / "backup")).exit_code == 0
    Path(fresh.config["UPLOAD_DIR"]).mkdir()
    (Path(fresh.config["UPLOAD_DIR"]) / "something.jpg").write_bytes(b"x")

    result = backup(fresh, "restore", str(tmp_path / "backup"))

    assert result.exit_code == 1
    assert "photo folder" in result.output and "is not empty" in result.output
    with fresh.app_context():
        assert db.inspect(db.engine).get_table_names() == []  # nothing restored


def test_a_damaged_backup_is_refused_before_anything_changes(
    app, fresh, store, as_inspector, tmp_path, stall, checklist_version
):
    send(as_inspector, payload(stall, checklist_version), imagefactory.jpeg(120, 90))
    assert backup(app, "create", str(tmp_path / "backup")).exit_code == 0
    [photo] = db.session.scalars(select(Photo)).all()
    damaged = tmp_path / "backup" / PHOTOS / photo_key(photo.sha256, "thumb")
    damaged.write_bytes(damaged.read_bytes()[:-10])

    result = backup(fresh, "restore", str(tmp_path / "backup"))

    assert result.exit_code == 1
    assert "is damaged, nothing was restored" in result.output
    assert f"{photo.sha256}-thumb.jpg does not match its SHA-256" in result.output
    with fresh.app_context():
        assert db.inspect(db.engine).get_table_names() == []
    assert not Path(fresh.config["UPLOAD_DIR"]).exists()


def test_a_folder_without_manifest_is_not_a_backup(fresh, tmp_path):
    (tmp_path / "half").mkdir()

    result = backup(fresh, "restore", str(tmp_path / "half"))

    assert result.exit_code == 1 and "not a backup, or one that did not finish" in result.output


def test_backup_refuses_a_folder_that_is_not_empty(app, store, tmp_path):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "old.txt").write_text("an older backup")

    result = backup(app, "create", str(tmp_path / "backup"))

    assert result.exit_code == 1 and "is not empty: back up into a new folder" in result.output


def test_the_manifest_counts_rows_and_sums_every_file(
    app, store, as_inspector, tmp_path, stall, checklist_version
):
    answers = payload(stall, checklist_version)
    _inspection_id, sha = send(as_inspector, answers, imagefactory.jpeg(120, 90))

    result = backup(app, "create", str(tmp_path / "backup"))

    assert "backed up" in result.output and "2 photo files" in result.output
    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text())
    assert manifest["database"]["tables"]["inspection"] == 1
    assert manifest["database"]["tables"]["photo"] == 1
    assert manifest["database"]["revision"] is not None
    database = tmp_path / "backup" / manifest["database"]["file"]
    assert manifest["database"]["sha256"] == hashlib.sha256(database.read_bytes()).hexdigest()
    for rendition in ("display", "thumb"):
        key = photo_key(sha, rendition)
        copied = (tmp_path / "backup" / PHOTOS / key).read_bytes()
        assert manifest["photos"]["files"][key] == hashlib.sha256(copied).hexdigest()
        assert copied == _read(store, key)
    assert manifest["photos"]["referenced_but_missing"] == []


def _read(store: LocalStorage, key: str) -> bytes:
    with store.open(key) as file:
        return file.read()
