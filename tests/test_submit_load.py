"""Submissions under load: few statements each, and nothing lost or doubled when they race.

The sync API's PUT is what every phone sends; at national scale it is the hot path. These
tests count its SQL statements, and send many submissions at once from threads (each its own
connection), for one venue-day and for one stall: the daily tallies must count every one of
them (no ``UniqueViolation`` on PostgreSQL), a stall must end with one open corrective action
per failed item and none for an item its latest visit passed, and every tally must still equal
a rebuild from the base tables.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.pool import StaticPool

from compliance import checklist_store, inspections
from compliance.chamber import tallies
from compliance.extensions import db
from compliance.models import (
    OPEN,
    Answer,
    ChecklistVersion,
    CorrectiveAction,
    Inspection,
    Stall,
    User,
    utcnow,
)

from . import factories
from .conftest import login
from .test_chamber_tallies import snapshot

API = "/inspect/api"
# The one photo every visit needs (the whole stall), declared with the answers; answers-only
# submissions never send it, so it stays pending.
DECLARED = [("shop_clean", "ab" * 32)]


def body(stall, version, failed=(), done_at=None):
    items = checklist_store.definition(version).items()
    return {
        "stall_id": stall.id,
        "checklist_version_id": version.id,
        "answers": {
            item.key: {"result": "fail" if item.key in failed else "pass", "comment": ""}
            for item in items
        },
        "photos": [{"item": item, "sha256": sha} for item, sha in DECLARED],
        "submitted_at": (done_at or utcnow()).isoformat() + "Z",
    }


def put(client, inspection_id, data):
    return client.put(
        f"{API}/inspections/{inspection_id}",
        data=json.dumps(data),
        content_type="application/json",
    )


def failable(version, n):
    """``n`` items that take no photo (an answers-only submission can fail them)."""
    items = checklist_store.definition(version).items()
    return [item.key for item in items if item.photo == "never"][:n]


@contextlib.contextmanager
def counted_statements():
    statements: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_an_answers_only_submission_takes_at_most_ten_statements(
    client, inspector, stall, checklist_version
):
    login(client, inspector)
    failed = failable(checklist_version, 3)
    earlier = utcnow() - timedelta(hours=1)
    # A stall seen before (passed then), found failing now: a repeat visit with failures.
    # One more statement when an item failed before is fixed now, or fails again.
    assert (
        put(client, str(uuid.uuid4()), body(stall, checklist_version, (), earlier)).status_code
        == 201
    )
    again = body(stall, checklist_version, failed)
    with counted_statements() as statements:
        response = put(client, str(uuid.uuid4()), again)
    assert response.status_code == 201, response.get_json()
    assert len(statements) <= 10, "\n".join(statements)
    assert sum(s.lstrip().upper().startswith("SELECT") for s in statements) <= 2
    # A retry of the same content reads, writes nothing, and says so.
    inspection_id = response.get_json()["id"]
    with counted_statements() as statements:
        retried = put(client, inspection_id, again)
    assert retried.status_code == 200
    assert not any(s.lstrip().upper().startswith(("UPDATE", "DELETE")) for s in statements)


def _threads(target, n):
    """Run ``target(i)`` in ``n`` threads released together; re-raise the first error."""
    barrier, errors = threading.Barrier(n), []

    def run(i):
        try:
            barrier.wait()
            target(i)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _receive_in_thread(app, stall_id, inspector_id, version_id, answers, done_at):
    with app.app_context():
        try:
            stall = db.session.get(Stall, stall_id)
            inspector = db.session.get(User, inspector_id)
            version = db.session.get(ChecklistVersion, version_id)
            inspections.receive(
                str(uuid.uuid4()),
                stall,
                inspector,
                version,
                answers,
                DECLARED,
                campaign_id=factories.running_campaign(version).id,
                done_at=done_at,
            )
        finally:
            db.session.remove()


def _answers(version, failed):
    return {
        item.key: ("fail" if item.key in failed else "pass", "")
        for item in checklist_store.definition(version).items()
    }


@pytest.fixture
def threaded(app):
    if isinstance(db.engine.pool, StaticPool):
        pytest.fail("needs a real database (one connection per thread), not sqlite://")
    return app


THREADS = 12


def test_first_inspections_of_a_venue_day_from_many_threads_all_count(
    threaded, region, inspector, checklist_version
):
    venue_stall = factories.stall(region=region)
    stalls = [venue_stall] + [
        factories.stall(region=region, venue_row=venue_stall.venue) for _ in range(THREADS - 1)
    ]
    stall_ids, inspector_id, version_id = [s.id for s in stalls], inspector.id, checklist_version.id
    failed = failable(checklist_version, 2)
    answers = [_answers(checklist_version, failed if i % 2 else ()) for i in range(THREADS)]
    at = utcnow() - timedelta(minutes=5)
    db.session.commit()

    _threads(
        lambda i: _receive_in_thread(
            threaded, stall_ids[i], inspector_id, version_id, answers[i], at
        ),
        THREADS,
    )

    db.session.expire_all()
    assert tallies.counted_inspections() == THREADS
    kept = snapshot()
    tallies.rebuild()
    assert snapshot() == kept


def test_concurrent_visits_of_one_stall_leave_its_actions_consistent(
    threaded, stall, inspector, checklist_version
):
    keys = failable(checklist_version, 3)
    start = utcnow() - timedelta(hours=2)
    # Visits alternate between failing and passing the same items, at distinct times; they all
    # reach the server at once, in whatever order the threads run.
    plans = [
        (
            _answers(checklist_version, keys if i % 2 == 0 else keys[:1]),
            start + timedelta(minutes=i),
        )
        for i in range(THREADS)
    ]
    stall_id, inspector_id, version_id = stall.id, inspector.id, checklist_version.id
    db.session.commit()

    _threads(
        lambda i: _receive_in_thread(
            threaded,
            stall_id,
            inspector_id,
            version_id,
            plans[i][0],
            plans[i][1],
        ),
        THREADS,
    )

    db.session.expire_all()
    stall = db.session.get(Stall, stall_id)
    latest = db.session.get(Inspection, stall.latest_inspection_id)
    assert latest.submitted_at == plans[-1][1]  # the last visit made is the current result
    latest_results = dict(
        db.session.execute(
            select(Answer.item_key, Answer.result).where(Answer.inspection_id == latest.id)
        ).all()
    )
    open_items = db.session.scalars(
        select(CorrectiveAction.item_key).where(
            CorrectiveAction.stall_id == stall_id, CorrectiveAction.status == OPEN
        )
    ).all()
    assert len(open_items) == len(set(open_items))  # never two open actions for one item
    assert not [key for key in open_items if latest_results[key] == "pass"]
    assert {k for k, (result, _c) in plans[-1][0].items() if result == "fail"} <= set(open_items)
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == THREADS
    kept = snapshot()
    tallies.rebuild()
    assert snapshot() == kept


def test_tallies_rebuild_command_recomputes_every_tally(
    runner, stall, inspector, checklist_version
):
    inspections.receive(
        str(uuid.uuid4()),
        stall,
        inspector,
        checklist_version,
        _answers(checklist_version, failable(checklist_version, 1)),
        DECLARED,
        campaign_id=factories.running_campaign(checklist_version).id,
    )
    kept = snapshot()
    db.session.execute(tallies.DayTally.__table__.delete())
    db.session.execute(tallies.CurrentTally.__table__.delete())
    db.session.commit()
    assert snapshot() != kept

    result = runner.invoke(args=["tallies", "rebuild"])

    assert result.exit_code == 0, result.output
    assert "1 submitted inspections counted" in result.output
    assert snapshot() == kept


def test_sync_api_submissions_count_as_a_rebuild_would(
    client, inspector, region, checklist_version
):
    """The sync API writes the day rows from what it holds (the stall's region, its artisan's
    craft, the answers), without reading them back: the same rows as a rebuild."""
    login(client, inspector)
    potter = factories.stall(region=region)
    weaver = factories.stall(
        region=region, venue_row=potter.venue, artisan_row=factories.artisan(craft="weaving")
    )
    elsewhere = factories.stall(region=region)
    items = checklist_store.definition(checklist_version).items()
    na = [item.key for item in items if item.na_allowed and item.photo != "always"][:2]
    failed = failable(checklist_version, 3)
    assert na, "the checklist should allow N/A on some item"
    visits = [(potter, ()), (potter, failed), (weaver, failed[:1]), (elsewhere, failed[1:])]
    for n, (stall, fails) in enumerate(visits):
        data = body(stall, checklist_version, fails, utcnow() - timedelta(minutes=n))
        if n % 2:
            for key in na:
                if key not in fails:
                    data["answers"][key]["result"] = "na"
        with counted_statements() as statements:
            assert put(client, str(uuid.uuid4()), data).status_code == 201
        # Nothing read back: the day rows' upsert takes its values as parameters.
        upsert = [s for s in statements if "day_tally" in s and "INSERT" in s.upper()]
        reads = re.compile(r"\b(FROM|JOIN)\s+(inspection|answer|stall|venue|province|artisan)\b")
        assert upsert and not any(reads.search(s) for s in upsert), upsert
    db.session.expire_all()
    assert tallies.counted_inspections() == len(visits)
    kept = snapshot()
    assert any(row for row in kept)
    tallies.rebuild()
    assert snapshot() == kept
