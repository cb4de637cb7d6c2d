"""Contesting a failed item, the coordinator's decision, and "fixed it".

Scores on the tiny checklist (welcome ×2 critical, prices ×1, clean ×1; compliant ≥ 0.85,
follow-up ≥ 0.60), computed by hand:

    welcome fail, prices pass, clean pass  → 2/4 = 0.50, non-compliant (critical failure)
      accept the contest on welcome        → 4/4 = 1.00, compliant, 0 critical failures
    welcome pass, prices fail, clean fail  → 2/4 = 0.50, non-compliant (below 0.60)
      accept the contest on prices         → 3/4 = 0.75, needs follow-up
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from compliance.artisan import contests
from compliance.extensions import db
from compliance.models import (
    Answer,
    AuditEvent,
    Contest,
    CorrectiveAction,
    FixReport,
    Inspection,
    Stall,
)
from compliance.photos import process

from . import factories, imagefactory
from .conftest import login
from .test_artisan_helpers import (
    failing_clean_photo,
    forget_request_user,
    fresh_limits,  # noqa: F401
    inspect,
    signed_in,
    storage,
    tiny_checklist,
)

pytestmark = pytest.mark.usefixtures("fresh_limits")


@pytest.fixture
def version():
    return tiny_checklist()


@pytest.fixture
def critical_failure(stall, inspector, version):
    return inspect(
        stall,
        inspector,
        version,
        {"welcome": "fail", "prices": "pass", "clean": "pass"},
        comments={"welcome": "Did not greet"},
    )


@pytest.fixture
def two_failures(stall, inspector, version):
    return inspect(
        stall,
        inspector,
        version,
        {"welcome": "pass", "prices": "fail", "clean": "fail"},
        photos=failing_clean_photo(),
    )


def contest_url(inspection, item):
    return f"/a/me/inspections/{inspection.id}/items/{item}/contest"


def file(phone, inspection, item, message="The inspector came during prayer time", photo=None):
    data = {"message": message}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "proof.jpg")
    return phone.post(contest_url(inspection, item), data=data, content_type="multipart/form-data")


def outcome(inspection_id):
    row = db.session.get(Inspection, inspection_id)
    db.session.refresh(row)
    return row.score, row.verdict, row.critical_failures


# --- Filing ------------------------------------------------------------------------------------


def test_hand_computed_starting_points(critical_failure, two_failures):
    assert outcome(critical_failure.id) == (0.5, "non_compliant", 1)
    assert outcome(two_failures.id) == (0.5, "non_compliant", 0)


def test_artisan_contests_a_failed_item(app, stall, critical_failure):
    phone = signed_in(app, stall.artisan)
    response = file(phone, critical_failure, "welcome", photo=imagefactory.jpeg(400, 300))
    assert response.status_code == 302
    contest = db.session.scalar(select(Contest))
    assert (contest.item_key, contest.status) == ("welcome", "pending")
    assert contest.photo_sha256 and storage().exists(
        f"{contest.photo_sha256[:2]}/{contest.photo_sha256[2:4]}/{contest.photo_sha256}-thumb.jpg"
    )
    assert phone.get(f"/a/me/contests/{contest.id}/display").status_code == 200
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contest.create"))
    assert event.actor == f"artisan:{stall.artisan.id}"


def test_a_retried_contest_is_filed_once(app, stall, critical_failure):
    phone = signed_in(app, stall.artisan)
    assert file(phone, critical_failure, "welcome").status_code == 302
    assert file(phone, critical_failure, "welcome", "Sent again").status_code == 200
    assert db.session.scalar(select(func.count(Contest.id))) == 1


def test_the_database_refuses_a_second_pending_contest(stall, critical_failure):
    first = contests.file_contest(
        stall.artisan, critical_failure, "welcome", "one", None, storage()
    )
    again = contests.file_contest(
        stall.artisan, critical_failure, "welcome", "two", None, storage()
    )
    assert again.contest.id == first.contest.id and not again.created
    db.session.add(
        Contest(
            inspection_id=critical_failure.id, item_key="welcome", message="raced", status="pending"
        )
    )
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        db.session.commit()
    db.session.rollback()


def test_a_passed_item_cannot_be_contested(app, stall, critical_failure):
    phone = signed_in(app, stall.artisan)
    response = file(phone, critical_failure, "prices")
    assert response.status_code == 302
    assert db.session.scalar(select(Contest)) is None


def test_only_the_latest_result_can_be_contested(app, stall, inspector, version, critical_failure):
    inspect(stall, inspector, version, {"welcome": "fail", "prices": "pass", "clean": "pass"})
    phone = signed_in(app, stall.artisan)
    file(phone, critical_failure, "welcome")
    assert db.session.scalar(select(Contest)) is None


def test_a_contest_needs_a_message(app, stall, critical_failure):
    phone = signed_in(app, stall.artisan)
    response = file(phone, critical_failure, "welcome", message="   ")
    assert response.status_code == 422
    assert db.session.scalar(select(Contest)) is None


def test_a_bad_photo_is_refused_with_a_message_and_nothing_filed(app, stall, critical_failure):
    phone = signed_in(app, stall.artisan)
    response = phone.post(
        contest_url(critical_failure, "welcome"),
        data={"message": "see photo", "photo": (io.BytesIO(b"not a photo"), "proof.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Contest)) is None


# --- Deciding --------------------------------------------------------------------------------


def test_accepting_recomputes_score_and_verdict(client, stall, coordinator, critical_failure):
    contest = contests.file_contest(
        stall.artisan, critical_failure, "welcome", "I did greet", None, storage()
    ).contest
    stall_before = (stall.latest_inspection_id, stall.followup_requested_at)
    submitted_before = critical_failure.submitted_at
    fingerprint_before = critical_failure.fingerprint
    login(client, coordinator)
    response = client.post(
        f"/coordination/contests/{contest.id}",
        data={"decision": "accept", "reason": "Seen on the video"},
    )
    assert response.status_code == 302
    assert outcome(critical_failure.id) == (1.0, "compliant", 0)
    answer = db.session.scalar(
        select(Answer).where(
            Answer.inspection_id == critical_failure.id, Answer.item_key == "welcome"
        )
    )
    assert answer.result == "pass" and answer.comment == "Did not greet"
    action = db.session.scalar(
        select(CorrectiveAction).where(CorrectiveAction.item_key == "welcome")
    )
    assert action.status == "closed" and action.closed_by_user_id == coordinator.id
    db.session.refresh(contest)
    assert (contest.status, contest.decided_by_id, contest.decision_reason) == (
        "accepted",
        coordinator.id,
        "Seen on the video",
    )
    # Nothing else changed.
    row = db.session.get(Inspection, critical_failure.id)
    stall = db.session.get(Stall, stall.id)
    assert (stall.latest_inspection_id, stall.followup_requested_at) == stall_before
    assert row.submitted_at == submitted_before and row.fingerprint == fingerprint_before
    others = {a.item_key: a.result for a in row.answers if a.item_key != "welcome"}
    assert others == {"prices": "pass", "clean": "pass"}


def test_accepting_keeps_the_original_in_the_audit_trail(stall, coordinator, critical_failure):
    contest = contests.file_contest(
        stall.artisan, critical_failure, "welcome", "I did greet", None, storage()
    ).contest
    contests.accept(contest, coordinator, "ok")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contest.accept"))
    assert event.entity == "inspection" and event.entity_id == critical_failure.id
    assert event.before == {
        "answer": {"item": "welcome", "result": "fail", "comment": "Did not greet"},
        "score": 0.5,
        "verdict": "non_compliant",
        "critical_failures": 1,
    }
    assert event.after["score"] == 1.0 and event.after["verdict"] == "compliant"
    assert event.after["critical_failures"] == 0
    assert event.after["answer"] == {"item": "welcome", "result": "pass"}


def test_accepting_one_of_two_failures(stall, coordinator, two_failures):
    contest = contests.file_contest(
        stall.artisan, two_failures, "prices", "Prices were there", None, storage()
    ).contest
    contests.accept(contest, coordinator)
    assert outcome(two_failures.id) == (0.75, "needs_follow_up", 0)
    still_open = db.session.scalars(
        select(CorrectiveAction.item_key).where(CorrectiveAction.status == "open")
    ).all()
    assert still_open == ["clean"]


def test_rejecting_keeps_score_and_verdict(client, stall, coordinator, critical_failure):
    contest = contests.file_contest(
        stall.artisan, critical_failure, "welcome", "I did greet", None, storage()
    ).contest
    login(client, coordinator)
    response = client.post(
        f"/coordination/contests/{contest.id}",
        data={"decision": "reject", "reason": "The inspector's note is clear"},
    )
    assert response.status_code == 302
    assert outcome(critical_failure.id) == (0.5, "non_compliant", 1)
    db.session.refresh(contest)
    assert contest.status == "rejected"
    assert db.session.scalar(select(CorrectiveAction.status)) == "open"


def test_rejecting_needs_a_reason(client, stall, coordinator, critical_failure):
    contest = contests.file_contest(
        stall.artisan, critical_failure, "welcome", "I did greet", None, storage()
    ).contest
    login(client, coordinator)
    response = client.post(
        f"/coordination/contests/{contest.id}", data={"decision": "reject", "reason": ""}
    )
    assert response.status_code == 422
    db.session.refresh(contest)
    assert contest.status == "pending"


def test_a_contest_is_decided_once(stall, coordinator, critical_failure):
    contest = contests.file_contest(
        stall.artisan, critical_failure, "welcome", "I did greet", None, storage()
    ).contest
    contests.reject(contest, coordinator, "no")
    with pytest.raises(contests.ContestError):
        contests.accept(contest, coordinator)
    assert outcome(critical_failure.id) == (0.5, "non_compliant", 1)


def test_the_artisan_reads_the_decision(app, client, stall, coordinator, critical_failure):
    contest = contests.file_contest(
        stall.artisan, critical_failure, "welcome", "I did greet", None, storage()
    ).contest
    contests.reject(contest, coordinator, "The inspector's note is clear")
    phone = signed_in(app, stall.artisan)
    html = phone.get("/a/me").get_data(as_text=True)
    assert "The inspector&#39;s note is clear" in html


def test_after_a_rejection_the_same_item_cannot_be_contested_again(
    app, stall, coordinator, critical_failure
):
    contest = contests.file_contest(
        stall.artisan, critical_failure, "welcome", "I did greet", None, storage()
    ).contest
    contests.reject(contest, coordinator, "Send a photo")
    phone = signed_in(app, stall.artisan)
    page = phone.get("/a/me").get_data(as_text=True)
    assert "Send a photo" in page
    assert contest_url(critical_failure, "welcome") not in page  # no "This is wrong" button
    again = phone.get(contest_url(critical_failure, "welcome")).get_data(as_text=True)
    assert "Send a photo" in again and "<textarea" not in again
    assert file(phone, critical_failure, "welcome", photo=imagefactory.jpeg()).status_code == 200
    assert db.session.scalar(select(func.count(Contest.id))) == 1
    with pytest.raises(contests.ContestError):
        contests.file_contest(stall.artisan, critical_failure, "welcome", "Again", None, storage())


# --- "Fixed it" --------------------------------------------------------------------------------


def fixed(phone, action, photo=None, message=""):
    data = {"message": message}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "fixed.jpg")
    return phone.post(
        f"/a/me/actions/{action.id}/fixed", data=data, content_type="multipart/form-data"
    )


def test_fixed_it_asks_for_a_follow_up_visit(app, client, region, stall, two_failures):
    action = db.session.scalar(select(CorrectiveAction).where(CorrectiveAction.item_key == "clean"))
    phone = signed_in(app, stall.artisan)
    assert fixed(phone, action, imagefactory.jpeg(500, 400), "All clean now").status_code == 302
    db.session.refresh(action)
    stall = db.session.get(Stall, stall.id)
    assert action.fix_reported_at is not None and stall.followup_requested_at is not None
    report = db.session.scalar(select(FixReport))
    assert report.message == "All clean now" and report.photo_sha256
    # The stall now comes first on the inspectors' list.
    forget_request_user()
    login(client, factories.user("inspector", region=region))
    home = client.get("/inspect/").get_data(as_text=True)
    assert f'href="/inspect/stalls/{stall.id}"' in home  # no search: only the follow-up list


def test_fixed_it_needs_a_photo(app, stall, two_failures):
    action = db.session.scalar(select(CorrectiveAction).where(CorrectiveAction.item_key == "clean"))
    phone = signed_in(app, stall.artisan)
    response = fixed(phone, action)
    assert response.status_code == 422
    assert db.session.scalar(select(FixReport)) is None


def test_fixed_it_twice_with_the_same_photo_is_one_report(app, stall, two_failures):
    action = db.session.scalar(select(CorrectiveAction).where(CorrectiveAction.item_key == "clean"))
    phone = signed_in(app, stall.artisan)
    photo = imagefactory.jpeg(300, 300)
    fixed(phone, action, photo)
    fixed(phone, action, photo)
    assert db.session.scalar(select(func.count(FixReport.id))) == 1


def test_the_next_inspection_clears_the_follow_up_request(stall, inspector, version, two_failures):
    action = db.session.scalar(select(CorrectiveAction).where(CorrectiveAction.item_key == "clean"))
    contests.report_fix(stall.artisan, action, process(imagefactory.jpeg()), storage())
    inspect(stall, inspector, version, {"welcome": "pass", "prices": "pass", "clean": "pass"})
    assert db.session.get(Stall, stall.id).followup_requested_at is None
