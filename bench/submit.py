"""Benchmark submissions through the phone's sync API, on gunicorn and PostgreSQL.

Makes (or remakes) its own PostgreSQL database, migrates it, loads the checklist and seeds the
demo (300 stalls with their past visits), starts gunicorn on a free local port, logs in as the
demo inspectors, then submits through ``PUT /inspect/api/inspections/<uuid>``:

- 1,000 new inspections with their answers only (16 answers; the photos they need are
  declared and never sent) at concurrency 1, 8 and 32;
- 1,000 new inspections at concurrency 8, each followed by its photos: one 300 KB JPEG for
  each failed item and one of the whole stall (unique bytes each, so each is processed and
  stored).

Afterwards it checks in the database that each run stored exactly its 1,000 inspections, each
with every answer and one submission in the audit trail. Run from the repository root::

    .venv/bin/python bench/submit.py [--workers 2] [--worker-class sync] [--threads 1]

The last line is::

    submit db=postgresql c1_per_s=<n> c8_per_s=<n> c32_per_s=<n> c32_p99_ms=<n> \
photos_c8_per_s=<n> lost=<n> dup=<n>

Targets on a two-core machine: c8 and c32 >= 200/s, c32 p99 <= 300 ms, photos_c8 >= 40/s.

Each run's line also gives the CPU time per inspection used by gunicorn, by the PostgreSQL
backends of the bench's database and by this client, and gunicorn's resident memory: on a
machine shared with other work the rates move with its load, the CPU per inspection far less
(two free cores give at most 2,000 ms of CPU a second).
Never point ``--database`` at a database you care about: it is dropped first.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from PIL import Image
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compliance.models import Answer, AuditEvent, Inspection  # noqa: E402

BIN = Path(sys.executable).parent
PASSWORD = "soukcheck-demo"
INSPECTORS = [
    "inspecteur.rabat",
    "mufattish.marrakech",
    "inspecteur.casablanca",
    "inspecteur.tanger",
    "inspecteur.fes",
    "inspecteur.agadir",
]
RUN_SIZE = 1000
PHOTO_BYTES = 300 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_submit"
        ),
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", default="1,8,32", help="concurrencies of the answers-only runs")
    parser.add_argument("--photos", type=int, default=8, help="concurrency of the photo run")
    parser.add_argument("--size", type=int, default=RUN_SIZE, help="inspections per run")
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database")
    args = parser.parse_args()

    url = make_url(args.database)
    if url.get_backend_name() != "postgresql":
        sys.exit("bench/submit.py measures PostgreSQL: give a postgresql+psycopg:// URL")
    uploads = tempfile.mkdtemp(prefix="bench-submit-uploads-")
    env = {
        **os.environ,
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "UPLOAD_DIR": uploads,
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "FLASK_APP": "compliance:create_app",
    }
    env.pop("SOUKCHECK_ENV", None)
    try:
        if not args.reuse:
            _recreate(url)
            _flask(env, "db", "upgrade")
            _flask(env, "checklist", "load")
            started = time.perf_counter()
            _flask(env, "seed", "--stalls", "300")
            print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
        port = _free_port()
        server = _gunicorn(env, port, args)
        try:
            results = _measure(port, args, CpuMeter(server.pid, url))
        finally:
            server.terminate()
            server.wait(timeout=30)
        lost, dup = _check(url, results)
    finally:
        shutil.rmtree(uploads, ignore_errors=True)
    rate = {name: result.per_s for name, result in results.items()}
    c32 = results.get("c32")
    print(
        "submit db=postgresql"
        + "".join(f" {name}_per_s={rate[name]:.0f}" for name in results if name != "photos_c8")
        + (f" c32_p99_ms={c32.p99_ms:.0f}" if c32 else "")
        + (f" photos_c8_per_s={rate['photos_c8']:.0f}" if "photos_c8" in rate else "")
        + f" lost={lost} dup={dup}"
    )


# --- setting up ----------------------------------------------------------------------------


def _recreate(url) -> None:
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        name = url.database
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _flask(env: dict, *command: str) -> None:
    subprocess.run(
        [str(BIN / "flask"), *command], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _gunicorn(env: dict, port: int, args) -> subprocess.Popen:
    command = [
        str(BIN / "gunicorn"),
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "256",
        "--log-level",
        "warning",
        "compliance:create_app()",
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    # Ready when it answers (each attempt is a real request; a refused connection is instant).
    for _attempt in range(600):
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}")
        try:
            status, _headers, _body = _request(port, "GET", "/login")
        except OSError:
            time.sleep(0.05)
            continue
        if status == 200:
            return server
    server.terminate()
    sys.exit("gunicorn did not answer")


# --- HTTP ----------------------------------------------------------------------------------


def _request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def _put(port: int, head: bytes, body: bytes) -> tuple[int, bytes]:
    """One PUT on a connection of its own, as ``head`` (request line and headers, made before
    the run) and ``body``: the status and the response body. A raw socket, not http.client,
    whose header parsing cost this client more CPU than the request: the bench measures the
    server, on the same cores. (Gunicorn's sync workers close every connection anyway.)"""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            sock.sendall(body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    if not response.startswith(b"HTTP/1."):
        raise OSError("no HTTP response")
    return int(response[9:12]), response.partition(b"\r\n\r\n")[2]


def _put_head(port: int, path: str, cookie: str, content_type: str, length: int) -> bytes:
    return (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


def _cookies(headers, jar: dict | None = None) -> dict:
    jar = dict(jar or {})
    for header in headers.get_all("Set-Cookie") or []:
        for name, morsel in SimpleCookie(header).items():
            jar[name] = morsel.value
    return jar


def _login(port: int, username: str) -> str:
    status, headers, page = _request(port, "GET", "/login")
    jar = _cookies(headers)
    session = "; ".join(f"{k}={v}" for k, v in jar.items())
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"username": username, "password": PASSWORD, "csrf_token": token.group(1).decode()}
    status, headers, _page = _request(
        port,
        "POST",
        "/login",
        urlencode(form),
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": session},
    )
    if status != 302:
        sys.exit(f"login as {username} failed: {status}")
    return "; ".join(f"{k}={v}" for k, v in _cookies(headers, jar).items())


class Phone:
    """One logged-in inspector, the stalls of their region and the checklist."""

    def __init__(self, port: int, username: str) -> None:
        self.cookie = _login(port, username)
        status, _headers, raw = _request(port, "GET", "/inspect/api/bundle", None, self.headers())
        if status != 200:
            sys.exit(f"bundle for {username}: {status}")
        bundle = json.loads(raw)
        self.stalls = [stall["id"] for stall in bundle["stalls"]]
        self.version = bundle["checklist"]["id"]
        items = [
            item
            for section in bundle["checklist"]["definition"]["sections"]
            for item in section["items"]
        ]
        self.items = [item["key"] for item in items]
        self.always = [item["key"] for item in items if item["photo"] == "always"]
        # Items that may fail with a photo, and items that fail without one.
        self.on_fail = [item["key"] for item in items if item["photo"] == "on_fail"]
        self.never = [item["key"] for item in items if item["photo"] == "never"]

    def headers(self, content_type: str | None = None) -> dict:
        headers = {"Cookie": self.cookie}
        if content_type:
            headers["Content-Type"] = content_type
        return headers


# --- the runs -------------------------------------------------------------------------------


class CpuMeter:
    """CPU time used by gunicorn (master and workers), by the PostgreSQL backends serving the
    bench's database, and by this client: a figure that other loads on the machine disturb far
    less than the rate (which they share the cores with)."""

    TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")

    def __init__(self, server_pid: int, url) -> None:
        self.server_pid = server_pid
        self.engine = create_engine(url, poolclass=NullPool)
        self.database = url.database

    def _pids(self) -> tuple[list[int], list[int]]:
        app = [self.server_pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.server_pid:  # the parent pid: a worker
                app.append(int(stat.parent.name))
        with self.engine.connect() as connection:
            db = connection.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self.database},
            ).all()
        return app, list(db)

    @staticmethod
    def _ticks(pid: int) -> int:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone, or another user's (PostgreSQL elsewhere): not counted
            return 0
        return int(fields[11]) + int(fields[12])  # utime + stime

    def read(self) -> dict:
        app, db = self._pids()
        return {
            "app": {pid: self._ticks(pid) for pid in app},
            "db": {pid: self._ticks(pid) for pid in db},
            "client": time.process_time() * 1000,
        }

    def app_rss_mb(self) -> float:
        """Resident memory of gunicorn, master and workers (shared pages counted in each)."""
        total = 0
        for pid in self._pids()[0]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += next(
                (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")),
                0,
            )
        return total / 1024

    def since(self, before: dict) -> dict[str, float]:
        """Milliseconds of CPU each part used since ``before`` (a backend or worker started
        meanwhile counts from zero)."""
        now = self.read()
        used = {"client": now["client"] - before["client"]}
        for part in ("app", "db"):
            ticks = sum(t - before[part].get(pid, 0) for pid, t in now[part].items())
            used[part] = ticks * self.TICK_MS
        return used


class Result:
    """One run: the inspections sent, how many were acknowledged, how long it took."""

    def __init__(self, ids: list[str], acknowledged: int, seconds: float, latencies) -> None:
        self.ids, self.seconds, self.latencies = ids, seconds, latencies
        self.cpu_ms: dict[str, float] = {}
        self.rss_mb = 0.0
        self.per_s = acknowledged / seconds
        ordered = sorted(latencies)
        self.p99_ms = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def _measure(port: int, args, meter: CpuMeter) -> dict[str, Result]:
    phones = [Phone(port, name) for name in INSPECTORS]
    phones = [phone for phone in phones if phone.stalls]
    rng = random.Random(2025)
    results: dict[str, Result] = {}
    for concurrency in [int(c) for c in args.runs.split(",") if c]:
        name = f"c{concurrency}"
        results[name] = _run(port, phones, rng, args.size, concurrency, None, meter)
        _report(name, results[name])
    if args.photos:
        pictures = _pictures(args.size * 4)
        results["photos_c8" if args.photos == 8 else f"photos_c{args.photos}"] = result = _run(
            port, phones, rng, args.size, args.photos, pictures, meter
        )
        _report(f"photos_c{args.photos}", result)
    return results


def _report(name: str, result: Result) -> None:
    latencies = sorted(result.latencies)
    cpu = result.cpu_ms
    print(
        f"{name}: {len(result.ids)} in {result.seconds:.1f} s = {result.per_s:.1f}/s, "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {result.p99_ms:.0f} ms; "
        f"CPU per inspection: app {cpu['app']:.1f} ms, PostgreSQL {cpu['db']:.1f} ms, "
        f"this client {cpu['client']:.1f} ms; gunicorn RSS {result.rss_mb:.0f} MB",
        flush=True,
    )


def _plan(phone: Phone, rng: random.Random, photos) -> tuple[dict, list]:
    """One visit: about one failure in eight answers, photos for what needs one."""
    failed = {key for key in phone.on_fail + phone.never if rng.random() < 0.08}
    body = {
        "stall_id": rng.choice(phone.stalls),
        "checklist_version_id": phone.version,
        "answers": {
            key: {"result": "fail" if key in failed else "pass", "comment": ""}
            for key in phone.items
        },
    }
    wanted = phone.always + [key for key in phone.on_fail if key in failed]
    sent = []
    declared = []
    for key in wanted:
        if photos is None:
            declared.append({"item": key, "sha256": uuid.uuid4().hex * 2})
        else:
            data, sha = photos.pop()
            declared.append({"item": key, "sha256": sha})
            sent.append((key, sha, data))
    body["photos"] = declared
    return body, sent


def _run(port, phones, rng, size, concurrency, photos, meter: CpuMeter) -> Result:
    jobs = []
    for number in range(size):
        phone = phones[number % len(phones)]
        body, sent = _plan(phone, rng, photos)
        inspection_id = str(uuid.uuid4())
        path = f"/inspect/api/inspections/{inspection_id}"
        data = json.dumps(body).encode()
        # Every request is made here, before the clock starts: the run only sends them.
        head = _put_head(port, path, phone.cookie, "application/json", len(data))
        sent = [
            (
                _put_head(
                    port, f"{path}/photos/{key}/{sha}", phone.cookie, "image/jpeg", len(jpeg)
                ),
                jpeg,
            )
            for key, sha, jpeg in sent
        ]
        jobs.append((inspection_id, head, data, sent))
    print(f"sending {size} at concurrency {concurrency}", flush=True)
    latencies: list[float] = []
    done: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def submit(job) -> None:
        inspection_id, head, body, sent = job
        began = time.perf_counter()
        status, raw = 0, b"no answer"
        for _attempt in range(5):  # a phone retries by UUID until it hears back
            try:
                status, raw = _put(port, head, body)
            except OSError:
                continue
            if status in (200, 201):
                break
        else:
            errors.append(f"inspection {inspection_id}: {status} {raw[:300]!r}")
            return
        for photo_head, data in sent:
            status, raw = _put(port, photo_head, data)
            if status not in (200, 201):
                errors.append(f"photo of {inspection_id}: {status} {raw[:300]!r}")
                return
        elapsed = time.perf_counter() - began
        with lock:
            latencies.append(elapsed)
            done.append(inspection_id)

    before = meter.read()
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in pool.map(submit, jobs):
            pass
    seconds = time.perf_counter() - started
    used = meter.since(before)
    for error in errors[:5]:
        print(error, file=sys.stderr)
    # Counted as done; the check below finds in the database whether each one was stored.
    result = Result([job[0] for job in jobs], len(done), seconds, latencies)
    result.cpu_ms = {part: ms / size for part, ms in used.items()}
    result.rss_mb = meter.app_rss_mb()
    return result


def _pictures(n: int) -> list[tuple[bytes, str]]:
    """``n`` distinct 800x600 JPEGs of about 300 KB (the same noise, a distinct comment)."""
    noise = Image.effect_noise((800, 600), 64).convert("RGB")
    base = io.BytesIO()
    quality = 95
    noise.save(base, "JPEG", quality=quality)
    while base.tell() > PHOTO_BYTES * 1.1 and quality > 50:
        quality -= 5
        base = io.BytesIO()
        noise.save(base, "JPEG", quality=quality)
    data = base.getvalue()
    pictures = []
    for number in range(n):
        marker = f"bench {number} {uuid.uuid4()}".encode()
        # A COM segment right after SOI: other bytes, the same pixels.
        unique = data[:2] + b"\xff\xfe" + (len(marker) + 2).to_bytes(2, "big") + marker + data[2:]
        pictures.append((unique, hashlib.sha256(unique).hexdigest()))
    return pictures


# --- the check -----------------------------------------------------------------------------


def _check(url, results: dict[str, Result]) -> tuple[int, int]:
    """(lost, doubled): inspections missing or incomplete, and ones submitted twice."""
    engine = create_engine(url)
    lost = dup = 0
    with engine.connect() as connection:
        answers_per = None
        for result in results.values():
            ids = result.ids
            for chunk in range(0, len(ids), 500):
                part = ids[chunk : chunk + 500]
                found = connection.scalar(
                    select(func.count()).select_from(Inspection).where(Inspection.id.in_(part))
                )
                lost += len(part) - found
                counts = dict(
                    connection.execute(
                        select(Answer.inspection_id, func.count())
                        .where(Answer.inspection_id.in_(part))
                        .group_by(Answer.inspection_id)
                    ).all()
                )
                if answers_per is None and counts:
                    answers_per = max(counts.values())
                lost += sum(1 for i in part if counts.get(i, 0) != answers_per)
                submits = connection.execute(
                    select(AuditEvent.entity_id, func.count())
                    .where(AuditEvent.action == "inspection.submit", AuditEvent.entity_id.in_(part))
                    .group_by(AuditEvent.entity_id)
                ).all()
                dup += sum(n - 1 for _id, n in submits if n > 1)
    engine.dispose()
    return lost, dup


if __name__ == "__main__":
    main()
