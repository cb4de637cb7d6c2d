"""Benchmark the national answers export, CSV and XLSX, as the job worker makes it.

Fills the database named by ``DATABASE_URL`` like ``bench/dashboard.py`` (its generator:
20,000 stalls, 200,000 inspections, about 3.2 million answers), then, for each format, queues
the national answers export as an admin would (an RQ job on Redis, queue of its own), starts
the real worker (``flask jobs worker --burst``) in its own process and waits for it to end.
Time to done is from queueing to the worker's exit (the worker's start-up included); peak RSS
is the largest resident size of the worker and the process it forks for the job (from
``wait4``). The file is checked: as many rows as answers in the database, and for XLSX the
sheets that Excel's 1,048,576-row limit requires.

    DATABASE_URL=sqlite:////tmp/bench.db .venv/bin/python bench/exports.py [--reuse]

Redis on ``REDIS_URL`` (default redis://127.0.0.1:6379/0). The last line is::

    exports inspections=200000 csv_s=<n> xlsx_s=<n> peak_rss_mb=<n>

Targets: each ≤ 60 s, peak RSS ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dashboard  # noqa: E402  (the same generator and fill)

from compliance import campaigns, create_app, jobs, xlsx  # noqa: E402
from compliance.chamber import exports, figures  # noqa: E402
from compliance.extensions import db  # noqa: E402
from compliance.models import ADMIN, Answer, Inspection, User  # noqa: E402


def run_worker(env: dict[str, str]) -> tuple[float, int]:
    """Run ``flask jobs worker --burst`` to its end: seconds, peak RSS in bytes."""
    flask = str(Path(sys.executable).parent / "flask")
    began = time.perf_counter()
    worker = subprocess.Popen(
        [flask, "jobs", "worker", "--burst"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # wait4 gives this process's peak RSS, the largest of it and the children it waited for.
    _pid, status, usage = os.wait4(worker.pid, 0)
    elapsed = time.perf_counter() - began
    worker.returncode = os.waitstatus_to_exitcode(status)
    errors = worker.stderr.read().decode(errors="replace")
    if worker.returncode != 0:
        sys.exit(f"worker failed ({worker.returncode}):\n{errors[-3000:]}")
    return elapsed, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--stalls", type=int, default=dashboard.STALLS)
    parser.add_argument("--inspections", type=int, default=dashboard.INSPECTIONS)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the data of a previous run if it is there"
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL to a scratch database, e.g. sqlite:////tmp/bench.db")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    queue_name = f"soukcheck-bench-{uuid.uuid4().hex[:8]}"
    folder = tempfile.mkdtemp(prefix="soukcheck-exports-")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret-bench-secret",
            "REDIS_URL": redis_url,
            "JOB_QUEUE": queue_name,
            "EXPORT_DIR": folder,
        }
    )
    env = dict(
        os.environ,
        FLASK_APP="compliance:create_app",
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        JOB_QUEUE=queue_name,
        EXPORT_DIR=folder,
        SECRET_KEY="bench-secret-bench-secret",
    )
    results: dict[str, float] = {}
    peak = 0
    with app.app_context():
        filled = False
        if args.reuse:
            try:
                count = db.session.scalar(select(func.count()).select_from(Inspection))
                filled = count == args.inspections
            except Exception:  # no schema yet
                db.session.rollback()
        if filled:
            dashboard.catch_up()
        else:
            dashboard.reset_schema()
            dashboard.fill(random.Random(args.seed), args.stalls, args.inspections)
        dashboard.analyze()
        inspections = db.session.scalar(select(func.count()).select_from(Inspection))
        answers = db.session.scalar(select(func.count()).select_from(Answer))
        admin = db.session.scalar(select(User.id).where(User.role == ADMIN).limit(1))
        on = figures.today()
        # The campaign the pages show by default (the bench's one campaign), as an export has.
        filters = figures.Filters(campaign=figures.campaign_view(campaigns.chosen(None)))
        db.session.remove()
        for fmt in ("csv", "xlsx"):
            job_id = jobs.enqueue(
                exports.run_job,
                "answers",
                fmt,
                figures.Scope(),
                filters,
                on,
                "fr",
                meta={"owner_id": admin, "region_id": None, "fmt": fmt},
            )
            dashboard.log(f"{fmt}: worker started")
            seconds, rss = run_worker(env)
            state = jobs.state(job_id)
            if state is None or state.status != "finished":
                sys.exit(f"{fmt}: the job did not finish ({state})")
            path = exports.file_path(job_id, fmt)
            rows = state.result["rows"]
            if rows != answers:
                sys.exit(f"{fmt}: {rows} rows written, {answers} answers in the database")
            if fmt == "xlsx":
                with zipfile.ZipFile(path) as book:
                    sheets = sum(1 for n in book.namelist() if n.startswith("xl/worksheets/"))
                expected = -(-answers // (xlsx.MAX_ROWS - 1))
                if sheets != expected:
                    sys.exit(f"xlsx: {sheets} sheets, {expected} expected")
            dashboard.log(
                f"{fmt}: {rows} rows, {path.stat().st_size / 1e6:.0f} MB in {seconds:.1f} s, "
                f"peak RSS {rss / 1e6:.0f} MB"
            )
            results[fmt] = seconds
            peak = max(peak, rss)
            path.unlink()
        jobs.queue().delete(delete_jobs=True)
    os.rmdir(folder)
    print(
        f"exports inspections={inspections} csv_s={results['csv']:.1f} "
        f"xlsx_s={results['xlsx']:.1f} peak_rss_mb={peak / 1e6:.0f}"
    )


if __name__ == "__main__":
    main()
