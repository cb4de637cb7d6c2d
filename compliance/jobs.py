"""Background jobs on a queue: what is too long for a web request (large exports) runs here.

Why RQ (on Redis) and not Celery: we have one kind of job, a handful a day, run in order;
Redis is already part of a production set-up (shared rate limits); RQ is a small, maintained
library whose jobs are plain functions, whose worker is one command, and which tests can run
in-process (``SimpleWorker`` in burst mode). Celery's broker choices, beat, result backends
and canvas would be configuration we do not need.

A job's state lives in Redis, not in a web process: its arguments, status, progress (in the
job's ``meta``) and result. Any web worker, including one started after the job was queued,
reads it by the job's id, so a restart of the web servers loses nothing; the file a job writes
is in ``EXPORT_DIR`` (storage every app server and the worker share). The worker is started by
``flask jobs worker`` (``make run`` starts it beside the web server).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, Worker, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

JOB_TTL = 24 * 3600  # job records (and their result or failure) stay as long as the file


class QueueUnavailable(RuntimeError):
    """Redis cannot be reached: a job can be neither queued nor looked up."""


def connection() -> Redis:
    return Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=3)


def queue() -> Queue:
    return Queue(current_app.config["JOB_QUEUE"], connection=connection())


def enqueue(function, *args, meta: dict, timeout: int = 3600) -> str:
    """Queue ``function(*args)``; return the job's id. ``meta`` travels with the job."""
    try:
        job = queue().enqueue_call(
            function,
            args=args,
            timeout=timeout,
            result_ttl=JOB_TTL,
            failure_ttl=JOB_TTL,
            meta=meta,
        )
    except RedisError as error:
        raise QueueUnavailable(str(error)) from error
    return job.id


# RQ's own rule for job ids (letters, digits, underscores, dashes); ours are UUIDs.
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@dataclass(frozen=True)
class State:
    """What a page needs to know about a job."""

    id: str
    status: str  # queued, started, finished, failed (stopped and canceled count as failed)
    meta: dict
    result: object

    @property
    def waiting(self) -> bool:
        return self.status in ("queued", "started")


def state(job_id: str) -> State | None:
    """The job's state, or None if there is no such job (or it has expired)."""
    if not _JOB_ID.fullmatch(job_id or ""):
        return None  # not an id RQ could have made (RQ itself raises ValueError on it)
    try:
        job = Job.fetch(job_id, connection=connection())
        status = job.get_status(refresh=True)
    except NoSuchJobError:
        return None
    except RedisError as error:
        raise QueueUnavailable(str(error)) from error
    if status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED, JobStatus.CREATED):
        name = "queued"
    elif status == JobStatus.STARTED:
        name = "started"
    elif status == JobStatus.FINISHED:
        name = "finished"
    else:
        name = "failed"
    return State(job.id, name, dict(job.meta), job.return_value() if name == "finished" else None)


def report(**values) -> None:
    """From inside a job: add ``values`` to its meta (progress), for the pages to read."""
    job = get_current_job()
    if job is not None:
        job.meta.update(values)
        job.save_meta()


def work(burst: bool = False, simple: bool = False) -> None:
    """Run a worker on our queue (inside the app context, so jobs use the app's settings).

    The default worker forks a fresh process per job, so the memory an export used is given
    back when it ends; ``simple`` runs jobs in this process (tests, debugging).
    """
    from .extensions import db

    if not simple:
        # A forked work horse must not share the parent's database connections.
        db.engine.dispose()
    worker_class = SimpleWorker if simple else Worker
    worker = worker_class([queue()], connection=connection())
    worker.work(burst=burst, logging_level="INFO")


jobs_cli = AppGroup("jobs", help="Background jobs (large exports).")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop.")
@click.option("--simple", is_flag=True, help="Run jobs in this process (no fork).")
def worker_command(burst: bool, simple: bool) -> None:
    """Run the job worker (``make run`` starts one beside the web server)."""
    work(burst=burst, simple=simple)


@jobs_cli.command("purge")
def purge_command() -> None:
    """Delete export files older than EXPORT_KEEP_HOURS (the worker also does it on each job)."""
    from .chamber import exports

    click.echo(f"{exports.purge()} export file(s) deleted")


def init_app(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
