"""Kill the server at every point of many photo uploads; the phone retries; nothing is lost.

A real gunicorn (``tests/crashserver.py``) serves the app on the test database. Before some
requests the test arms a crash point, chosen with seeded randomness: the photo checked but not
stored, a rendition half written, written but not named, named but its folder not flushed, the
files durable but the row not committed, the row committed but the answer not sent. At that
point the worker, or the whole server with its master, is SIGKILLed. The client, like the
phone's queue, sends again until it is told the photo is stored.

Then: every photo the client was told is stored has its row and both its files, whole; no
inspection or photo is stored twice; nothing but the killed writers' temporary files is left
over, and the check removes those.

Deterministic: one client sends one request at a time, each armed crash concerns only that
request, the test holds the listening socket (a restarted server takes it over, a request sent
meanwhile waits in its backlog), and every wait is for an event (a response, a process' exit)
with a bound.
"""

from __future__ import annotations

import hashlib
import http.client
import http.cookiejar
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from compliance import photocheck, photos
from compliance.extensions import db
from compliance.models import AuditEvent, Inspection, Photo
from compliance.storage import LocalStorage, photo_key

from . import factories, imagefactory
from .test_api_sync import payload

ROOT = Path(__file__).resolve().parent.parent
SEED = int(os.environ.get("CRASH_SEED", "20251221"))
INSPECTIONS, PHOTOS_EACH = 6, 4
PHOTO_POINTS = {  # point -> the hits an upload of a new photo reaches
    "store": [1],
    "fsync-data": [1, 2],  # display, thumbnail
    "link": [1, 2],
    "linked": [1, 2],
    "fsync-folder": [1, 2, 3],
    "commit": [1],
    "committed": [1],
}
ANSWER_POINTS = {"commit": [1, 2], "committed": [1, 2]}  # the draft, then the answers
STORAGE_POINTS = {"fsync-data", "link", "linked", "fsync-folder"}
SERVER_CRASHES = 2
REQUEST_TIMEOUT = 180  # a bound, not a wait: a loaded machine may take long to boot gunicorn
MAX_ATTEMPTS = 8


class Server:
    """gunicorn on a socket this test holds, started again whenever it is killed whole."""

    def __init__(self, database_url: str, upload_dir: Path, plan_dir: Path, log: Path):
        self.log = log
        self.log_file = log.open("ab")
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.listener.set_inheritable(True)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "UPLOAD_DIR": str(upload_dir),
            "CRASH_PLAN_DIR": str(plan_dir),
            "SECRET_KEY": "crash-test-secret-0123456789abcdef",
            "PYTHONPATH": str(ROOT),
            "XDG_RUNTIME_DIR": str(plan_dir),  # gunicorn's control socket: ours alone
        }
        self.env.pop("SOUKCHECK_ENV", None)
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        fd = self.listener.fileno()
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn"),
                *("--bind", f"fd://{fd}", "--workers", "2", "--preload"),
                *("--timeout", "600", "--log-level", "warning"),  # a bound: busy machines are slow
                "tests.crashserver:app",
            ],
            cwd=ROOT,
            env=self.env,
            pass_fds=(fd,),
            stderr=self.log_file,  # gunicorn reports each killed worker: kept, not shown
            start_new_session=True,  # its own process group: "server" crashes kill only it
        )
        self.starts += 1

    def restart_after_crash(self) -> None:
        self.process.wait(timeout=60)
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=60)
        self.listener.close()
        self.log_file.close()


class Phone:
    """The phone's queue: sends a request until the server answers it, arming crashes."""

    def __init__(self, server: Server, plan_dir: Path, rng: random.Random):
        self.server, self.plan_dir, self.rng = server, plan_dir, rng
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.plans = 0
        self.fired: list[tuple[str, str]] = []

    def login(self, username: str, password: str) -> None:
        page = self.opener.open(f"{self.server.url}/login", timeout=REQUEST_TIMEOUT).read()
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
        body = urllib.parse.urlencode(
            {"username": username, "password": password, "csrf_token": token[1].decode()}
        ).encode()
        response = self.opener.open(f"{self.server.url}/login", body, timeout=REQUEST_TIMEOUT)
        assert response.url.endswith("/inspect/round"), response.url  # today's round

    def send(self, path: str, body: bytes, content_type: str, points: dict) -> dict:
        """PUT until answered; before each attempt, maybe arm a crash at one of ``points``."""
        for _attempt in range(MAX_ATTEMPTS):
            # Every kind of point is armed until it has fired once, then at random.
            uncovered = set(points) - {point for point, _scope in self.fired}
            plan = self._arm(points) if uncovered or self.rng.random() < 0.55 else None
            request = urllib.request.Request(
                f"{self.server.url}{path}",
                data=body,
                method="PUT",
                headers={"Content-Type": content_type},
            )
            try:
                with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                    answer = json.load(response)
                    status = response.status
            except urllib.error.HTTPError as error:
                log = self.server.log.read_text(errors="replace")[-3000:]
                raise AssertionError(
                    f"{path}: {error.code} {error.read()[:500]!r}\n{log}"
                ) from None
            except (OSError, http.client.HTTPException):
                fired = self._fired(plan)
                assert fired, f"{path}: the connection failed with no crash armed"
                self.fired.append(fired)
                if fired[1] == "server":
                    self.server.restart_after_crash()
                continue
            finally:
                self._disarm()
            assert plan is None or self._fired(plan) is None
            assert status in (200, 201)
            return answer
        raise AssertionError(f"{path}: not stored after {MAX_ATTEMPTS} attempts")

    def _arm(self, points: dict) -> int:
        self.plans += 1
        uncovered = set(points) - {point for point, _scope in self.fired}
        point = self.rng.choice(sorted(uncovered or points))
        server_kills = sum(1 for _point, scope in self.fired if scope == "server")
        plan = {
            "id": self.plans,
            "point": point,
            "hit": self.rng.choice(points[point]),
            # Whole servers die too, but a restart costs a second of imports: a few suffice,
            # every fourth plan until they have happened.
            "scope": "server"
            if self.plans % 4 == 0 and server_kills < SERVER_CRASHES
            else "worker",
        }
        staged = self.plan_dir / "plan.staged"
        staged.write_text(json.dumps(plan))
        staged.replace(self.plan_dir / "plan.json")  # whole, never half-read
        return self.plans

    def _disarm(self) -> None:
        (self.plan_dir / "plan.json").unlink(missing_ok=True)

    def _fired(self, plan: int | None) -> tuple[str, str] | None:
        if plan is None:
            return None
        marker = self.plan_dir / f"fired-{plan}"
        return tuple(marker.read_text().split()) if marker.exists() else None


def distinct_photos(count: int) -> list[bytes]:
    return [
        imagefactory.jpeg(160, 120, color=(n * 29 % 256, n * 71 % 256, n * 113 % 256))
        for n in range(count)
    ]


def test_photos_survive_servers_killed_at_random_points(
    app, database_url, tmp_path, region, stall, checklist_version
):
    if database_url.startswith("sqlite:///:memory:") or database_url == "sqlite://":
        pytest.fail("needs a database file or server that a separate process can open")
    inspector = factories.user("inspector", region=region)
    username, stall_id, version_id = inspector.username, stall.id, checklist_version.id
    body_of = payload(stall, checklist_version)  # answers only; photos set per inspection
    db.session.remove()  # nothing held open while the server writes (SQLite locks the file)

    upload_dir, plan_dir = tmp_path / "photos", tmp_path / "plans"
    plan_dir.mkdir()
    rng = random.Random(SEED)
    all_photos = distinct_photos(INSPECTIONS * PHOTOS_EACH)
    server = Server(database_url, upload_dir, plan_dir, tmp_path / "gunicorn.log")
    phone = Phone(server, plan_dir, rng)
    acknowledged: dict[str, set[str]] = {}
    server.start()
    try:
        phone.login(username, factories.PASSWORD)
        for n in range(INSPECTIONS):
            inspection_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            batch = all_photos[n * PHOTOS_EACH : (n + 1) * PHOTOS_EACH]
            shas = [hashlib.sha256(data).hexdigest() for data in batch]
            body = dict(body_of, stall_id=stall_id, checklist_version_id=version_id)
            body["photos"] = [{"item": "shop_clean", "sha256": sha} for sha in shas]
            answer = phone.send(
                f"/inspect/api/inspections/{inspection_id}",
                json.dumps(body).encode(),
                "application/json",
                ANSWER_POINTS,
            )
            assert answer["answers_received"] is True
            acknowledged[inspection_id] = set()
            for data, sha in zip(batch, shas, strict=True):
                answer = phone.send(
                    f"/inspect/api/inspections/{inspection_id}/photos/shop_clean/{sha}",
                    data,
                    "image/jpeg",
                    PHOTO_POINTS,
                )
                received = {p["sha256"] for p in answer["photos"]["received"]}
                assert sha in received
                acknowledged[inspection_id] |= received
            assert answer["complete"] is True
    finally:
        server.stop()

    # The crashes happened, at every kind of point, and killed whole servers too.
    points = {point for point, _scope in phone.fired}
    assert points >= set(PHOTO_POINTS), f"seed {SEED} missed {set(PHOTO_POINTS) - points}"
    assert server.starts == 1 + SERVER_CRASHES and len(phone.fired) >= 15

    db.session.expire_all()
    store = LocalStorage(upload_dir)
    expected = {data_sha: data for data in all_photos for data_sha in [_sha(data)]}
    # Every photo the phone was told is stored: its row, once, and both files, whole.
    for inspection_id, shas in acknowledged.items():
        inspection = db.session.get(Inspection, inspection_id)
        assert inspection.status == "submitted" and inspection.photos_pending == 0
        assert sorted(p.sha256 for p in inspection.photos) == sorted(shas)
        assert len(shas) == PHOTOS_EACH
        for sha in shas:
            rendered = photos.process(expected[sha])
            assert _read(store, photo_key(sha, "display")) == rendered.display
            assert _read(store, photo_key(sha, "thumb")) == rendered.thumbnail
    # Nothing twice: one inspection per id, scored once; one row per photo; no stray files.
    assert _count(Inspection) == INSPECTIONS
    assert _count(Photo) == INSPECTIONS * PHOTOS_EACH
    submits = select(func.count()).where(AuditEvent.action == "inspection.submit")
    assert db.session.scalar(submits) == INSPECTIONS
    assert sorted(store.stored_keys()) == sorted(
        photo_key(sha, r) for sha in expected for r in ("display", "thumb")
    )
    # Only the killed writers left temporary files; the check removes them and finds no fault.
    storage_crashes = sum(1 for point, _ in phone.fired if point in STORAGE_POINTS)
    report = photocheck.check(store, temporary_older_than=0)
    assert 0 < report.temporary_removed <= storage_crashes
    assert report.rows_without_files == [] and report.files_without_rows == []
    assert not any(name.endswith(".tmp") for _, _, names in os.walk(upload_dir) for name in names)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(store: LocalStorage, key: str) -> bytes:
    with store.open(key) as file:
        return file.read()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))
