"""Large exports run as jobs on a real RQ queue (Redis), never inside a web request.

Most tests run the jobs with RQ's SimpleWorker in burst mode, in this process; one starts the
real worker command in its own process. Each test has a queue of its own on the shared Redis
(database 10 unless SOUKCHECK_TEST_REDIS_URL says otherwise), deleted afterwards. Without Redis
these tests are skipped locally and fail in CI (SOUKCHECK_REQUIRE_REDIS=1).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job

from compliance import create_app, jobs
from compliance.chamber import exports
from tests import factories
from tests.chamber_helpers import answers, inspect, small_checklist
from tests.conftest import RequestClient, login

ROOT = Path(__file__).resolve().parent.parent
DAY = datetime(2025, 12, 28, 11)


@pytest.fixture
def job_queue(app, monkeypatch):
    """A queue of this test's own; exports of more than 2 rows become jobs."""
    try:
        Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2).ping()
    except RedisError as exc:
        message = f"Redis is not reachable at {app.config['REDIS_URL']}: {exc}"
        if os.environ.get("SOUKCHECK_REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    monkeypatch.setitem(app.config, "JOB_QUEUE", f"soukcheck-test-{uuid.uuid4().hex}")
    monkeypatch.setattr(exports, "DIRECT_ROWS", 2)
    queue = jobs.queue()
    yield queue
    _delete(queue)


def _delete(queue: Queue) -> None:
    registries = (
        queue.finished_job_registry,
        queue.failed_job_registry,
        queue.started_job_registry,
    )
    for job_id in {job_id for r in registries for job_id in r.get_job_ids()}:
        with contextlib.suppress(Exception):  # already gone
            Job.fetch(job_id, connection=queue.connection).delete()
    queue.delete(delete_jobs=True)


@pytest.fixture
def data(region, other_region, inspector):
    version = small_checklist()
    for n in range(1, 4):
        stall = factories.stall(region=region, code=f"RBT-00{n}")
        inspect(stall, inspector, version, answers(), DAY)
    elsewhere = factories.user("inspector", region=other_region)
    inspect(
        factories.stall(region=other_region, code="MRK-001"), elsewhere, version, answers(), DAY
    )


def start(client, url: str) -> str:
    """Ask for a large export the way the page does; return the job page's path."""
    offer = client.get(url)
    assert offer.status_code == 200 and offer.mimetype == "text/html"
    response = client.post(url)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def job_id_of(page: str) -> str:
    return page.rstrip("/").split("/")[-1]


def test_a_large_export_offers_to_prepare_it_and_a_get_queues_nothing(
    as_coordinator, data, job_queue
):
    response = as_coordinator.get("/chamber/export/inspections.csv")

    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "attachment" not in response.headers.get("Content-Disposition", "")
    assert b'method="post"' in response.data
    assert job_queue.count == 0


def test_a_large_export_is_prepared_by_the_worker_and_downloaded(as_coordinator, data, job_queue):
    page = start(as_coordinator, "/chamber/export/inspections.xlsx")
    waiting = as_coordinator.get(page)

    assert "Refresh" in waiting.get_data(as_text=True)
    assert job_queue.count == 1

    jobs.work(burst=True, simple=True)
    done = as_coordinator.get(page).get_data(as_text=True)
    download = as_coordinator.get(f"{page}/file")

    assert "Download" in done and "Refresh" not in done
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].endswith(".xlsx")
    assert int(download.headers["Content-Length"]) == len(download.data)
    sheet = load_workbook(io.BytesIO(download.data)).active
    stalls = sorted(row[7] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert stalls == ["RBT-001", "RBT-002", "RBT-003"]  # the coordinator's region only


def test_progress_polls_with_htmx_until_the_file_is_ready(as_coordinator, data, job_queue):
    page = start(as_coordinator, "/chamber/export/answers.csv")
    fragment = as_coordinator.get(page, headers={"HX-Request": "true"}).get_data(as_text=True)

    assert "<html" not in fragment
    assert 'hx-trigger="every 2s"' in fragment

    jobs.work(burst=True, simple=True)
    fragment = as_coordinator.get(page, headers={"HX-Request": "true"}).get_data(as_text=True)

    assert "hx-trigger" not in fragment  # polling stops once the file is there
    assert f'href="{page}/file"' in fragment
    state = jobs.state(job_id_of(page))
    assert (state.meta["total"], state.meta["done"], state.result["rows"]) == (12, 12, 12)


def test_a_csv_job_can_be_gzipped(as_coordinator, data, job_queue):
    import gzip

    page = start(as_coordinator, "/chamber/export/inspections.csv.gz")
    jobs.work(burst=True, simple=True)
    body = gzip.decompress(as_coordinator.get(f"{page}/file").data).decode("utf-8-sig")

    assert len(list(csv.DictReader(io.StringIO(body)))) == 3


def test_the_file_is_for_its_owner_and_the_same_regions_staff_only(
    client, app, region, other_region, coordinator, data, job_queue
):
    owner = login(client, coordinator)
    page = start(owner, "/chamber/export/inspections.csv")
    jobs.work(burst=True, simple=True)

    def status(user) -> int:
        other = app.test_client()
        login(other, user)
        return other.get(f"{page}/file").status_code

    assert status(factories.user("coordinator", region=region)) == 200
    assert status(factories.user("admin")) == 200
    assert status(factories.user("coordinator", region=other_region)) == 404
    assert status(factories.user("inspector", region=region)) == 403
    assert app.test_client().get(f"{page}/file").status_code == 302  # to the login page
    assert owner.get("/chamber/exports/no-such-job/file").status_code == 404


def test_a_national_export_is_for_admins_and_its_owner(client, app, region, admin, data, job_queue):
    page = start(login(client, admin), "/chamber/export/stalls.csv")
    jobs.work(burst=True, simple=True)
    coordinator = app.test_client()
    login(coordinator, factories.user("coordinator", region=region))

    assert coordinator.get(page).status_code == 404
    assert client.get(f"{page}/file").status_code == 200


def test_the_job_survives_a_restart_of_the_web_server(app, coordinator, data, job_queue):
    first = app.test_client()
    page = start(login(first, coordinator), "/chamber/export/answers.csv")

    # The web server restarts while the job waits: a new app, nothing of the first one's
    # memory, only Redis, the database and the files.
    again = create_app(app.config.copy())
    again.test_client_class = RequestClient
    client = login(again.test_client(), coordinator)
    with again.app_context():
        waiting = client.get(page).get_data(as_text=True)
        jobs.work(burst=True, simple=True)
        download = client.get(f"{page}/file")

    assert "Refresh" in waiting
    assert download.status_code == 200
    assert len(list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))) == 13


def test_a_file_still_being_written_is_never_served(as_coordinator, data, job_queue, monkeypatch):
    page = start(as_coordinator, "/chamber/export/answers.csv")
    job_id = job_id_of(page)
    written = exports.write
    seen: dict[str, object] = {}

    def write_then_look(dataset, fmt, out, progress=None):
        count = written(dataset, fmt, out, progress)
        # Every row is in the file; it is not yet synced, renamed, nor the job finished.
        seen["download"] = as_coordinator.get(f"{page}/file").status_code
        seen["files"] = sorted(path.name for path in exports.folder().glob(f"{job_id}*"))
        return count

    monkeypatch.setattr(exports, "write", write_then_look)
    jobs.work(burst=True, simple=True)

    assert seen == {"download": 404, "files": [f"{job_id}.csv.part"]}
    assert as_coordinator.get(f"{page}/file").status_code == 200
    assert [path.name for path in exports.folder().glob(f"{job_id}*")] == [f"{job_id}.csv"]


def test_files_are_deleted_after_a_day(as_coordinator, data, job_queue):
    page = start(as_coordinator, "/chamber/export/inspections.csv")
    jobs.work(burst=True, simple=True)
    path = exports.file_path(job_id_of(page), "csv")
    day_ago = time.time() - 24 * 3600 - 1
    os.utime(path, (day_ago, day_ago))

    assert as_coordinator.get(f"{page}/file").status_code == 404
    assert "deleted" in as_coordinator.get(page).get_data(as_text=True)
    assert exports.purge() == 1
    assert not path.exists()


def test_a_failed_job_says_so_and_leaves_no_file(as_coordinator, data, job_queue, monkeypatch):
    page = start(as_coordinator, "/chamber/export/inspections.xlsx")

    def broken(*args, **kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr(exports, "write", broken)
    jobs.work(burst=True, simple=True)
    response = as_coordinator.get(page)

    assert "failed" in response.get_data(as_text=True)
    assert as_coordinator.get(f"{page}/file").status_code == 404
    assert list(exports.folder().glob(f"{job_id_of(page)}*")) == []


def test_without_redis_a_large_export_is_refused_clearly(
    as_coordinator, data, job_queue, app, monkeypatch
):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    response = as_coordinator.post("/chamber/export/answers.csv")

    assert response.status_code == 503
    assert "cannot be prepared right now" in response.get_data(as_text=True)


def test_the_worker_command_runs_a_job_in_its_own_process(
    app, as_coordinator, data, job_queue, database_url
):
    page = start(as_coordinator, "/chamber/export/answers.xlsx")
    env = dict(
        os.environ,
        FLASK_APP="compliance:create_app",
        DATABASE_URL=database_url,
        REDIS_URL=app.config["REDIS_URL"],
        JOB_QUEUE=app.config["JOB_QUEUE"],
        EXPORT_DIR=app.config["EXPORT_DIR"],
    )
    flask = str(Path(sys.executable).parent / "flask")
    finished = subprocess.run(
        [flask, "jobs", "worker", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert finished.returncode == 0, finished.stderr
    download = as_coordinator.get(f"{page}/file")
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(download.data)).active
    assert sum(1 for _row in sheet.iter_rows(min_row=2)) == 12
