"""The artisan answers a result: contest a failed item, or report it fixed; a coordinator decides.

- A contest is on a failed item of the stall's *current* result (its latest submitted
  inspection): once a newer inspection exists, that is the result that counts. There is at most
  one pending contest per inspection and item (a partial unique index), so a retried form never
  files two.
- Accepting amends that one answer to pass, recomputes the score, verdict and critical failures
  with the inspection's own checklist version, closes the item's open corrective action, and
  changes nothing else. The audit trail keeps the original answer and outcome.
- Rejecting needs a reason, which the artisan reads on their page. The decision stands: the
  same item of the same inspection cannot be contested again.
- "Fixed it" records a photo against an open corrective action and asks for a follow-up visit:
  the stall comes first on the inspectors' list until the next inspection.

No Flask request here; views parse the form, call these and redirect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .. import access, inspections, scoring
from ..chamber import tallies
from ..extensions import db
from ..models import (
    ACCEPTED,
    CLOSED,
    OPEN,
    PENDING,
    REJECTED,
    SUBMITTED,
    Answer,
    Artisan,
    Contest,
    CorrectiveAction,
    FixReport,
    Inspection,
    Stall,
    User,
    audit,
    utcnow,
)
from ..photos import N_, ProcessedPhoto
from ..storage import Storage, photo_key

MAX_MESSAGE = 1000
MAX_REASON = 1000


class ContestError(Exception):
    """A request that cannot be taken; ``message`` is an English source string (N_)."""

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


@dataclass(frozen=True)
class Filed:
    contest: Contest
    created: bool  # False when an identical pending contest was already there (a retry)


def _artisan_actor(artisan: Artisan) -> str:
    return f"artisan:{artisan.id}"


def _answer(inspection: Inspection, item_key: str) -> Answer | None:
    return next((a for a in inspection.answers if a.item_key == item_key), None)


def can_contest(inspection: Inspection, item_key: str) -> bool:
    """A failed item of a stall's current result that was never contested.

    One contest per item of an inspection: once the chamber has rejected it, its decision
    stands for that inspection (the next inspection is the artisan's next chance).
    """
    answer = _answer(inspection, item_key)
    return (
        inspection.status == SUBMITTED
        and inspection.campaign.state != CLOSED
        and inspection.stall.latest_inspection_id == inspection.id
        and answer is not None
        and answer.result == scoring.FAIL
        and filed(inspection.id, item_key) is None
    )


def filed(inspection_id: str, item_key: str) -> Contest | None:
    """The contest on this item of this inspection, pending or decided (the newest one)."""
    return db.session.scalar(
        select(Contest)
        .where(Contest.inspection_id == inspection_id, Contest.item_key == item_key)
        .order_by(Contest.id.desc())
        .limit(1)
    )


def pending_count(user: User) -> int:
    """Contests waiting for a decision in the user's region (the whole country for an admin)."""
    query = (
        select(func.count(Contest.id))
        .join(Inspection, Contest.inspection_id == Inspection.id)
        .join(Stall, Inspection.stall_id == Stall.id)
        .where(Contest.status == PENDING)
    )
    return db.session.scalar(access.scope_stalls(query, user)) or 0


def pending(inspection_id: str, item_key: str) -> Contest | None:
    return db.session.scalar(
        select(Contest).where(
            Contest.inspection_id == inspection_id,
            Contest.item_key == item_key,
            Contest.status == PENDING,
        )
    )


def _store_photo(processed: ProcessedPhoto, storage: Storage) -> str:
    # Bytes first, then the row: a row never points at missing bytes.
    storage.put(photo_key(processed.sha256, "display"), processed.display)
    storage.put(photo_key(processed.sha256, "thumb"), processed.thumbnail)
    return processed.sha256


def file_contest(
    artisan: Artisan,
    inspection: Inspection,
    item_key: str,
    message: str,
    photo: ProcessedPhoto | None,
    storage: Storage,
) -> Filed:
    """File a contest on a failed item (or return the pending one: a retry files nothing new)."""
    if inspection.stall.artisan_id != artisan.id or inspection.status != SUBMITTED:
        raise ContestError(N_("This result is not yours to contest."))
    _require_open(inspection)
    existing = filed(inspection.id, item_key)
    if existing is not None and existing.status == PENDING:
        return Filed(existing, created=False)
    if existing is not None:
        raise ContestError(
            N_("Your chamber already decided on this item: it cannot be contested again.")
        )
    if inspection.stall.latest_inspection_id != inspection.id:
        raise ContestError(N_("Only the latest result of your stall can be contested."))
    answer = _answer(inspection, item_key)
    if answer is None or answer.result != scoring.FAIL:
        raise ContestError(N_("Only an item marked as failed can be contested."))
    message = (message or "").strip()
    if not message:
        raise ContestError(N_("Say in a few words why the result is wrong."))
    if len(message) > MAX_MESSAGE:
        raise ContestError(
            N_("The message is too long (%(max)s characters at most)."), max=MAX_MESSAGE
        )
    contest = Contest(
        inspection_id=inspection.id,
        item_key=item_key,
        message=message,
        photo_sha256=_store_photo(photo, storage) if photo else None,
        status=PENDING,
    )
    db.session.add(contest)
    try:
        db.session.flush()
    except IntegrityError:  # the same form sent twice at once: the other one won
        db.session.rollback()
        existing = pending(inspection.id, item_key)
        if existing is None:
            raise
        return Filed(existing, created=False)
    audit(
        _artisan_actor(artisan),
        "contest.create",
        "contest",
        contest.id,
        after={
            "inspection": inspection.id,
            "item": item_key,
            "message": message,
            "photo": contest.photo_sha256,
        },
    )
    db.session.commit()
    return Filed(contest, created=True)


def _require_open(inspection: Inspection) -> None:
    """A closed campaign is read-only: no contest, decision or fix report changes it."""
    if inspection.campaign.state == CLOSED:
        raise ContestError(N_("This campaign is closed: its results can no longer change."))


def _claim(contest: Contest, status: str, decider: User, reason: str, now: datetime) -> None:
    """Move a pending contest to ``status``; exactly one of two simultaneous decisions wins."""
    moved = db.session.execute(
        update(Contest)
        .where(Contest.id == contest.id, Contest.status == PENDING)
        .values(status=status, decided_by_id=decider.id, decided_at=now, decision_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.rollback()
        raise ContestError(N_("This contest was already decided."))


def _outcome_record(inspection: Inspection) -> dict:
    return {
        "score": inspection.score,
        "verdict": inspection.verdict,
        "critical_failures": inspection.critical_failures,
    }


def accept(
    contest: Contest, decider: User, note: str = "", *, now: datetime | None = None
) -> Inspection:
    """Accept: the item becomes a pass and the inspection's outcome is recomputed."""
    now = now or utcnow()
    note = (note or "").strip()[:MAX_REASON]
    inspection = contest.inspection
    _require_open(inspection)
    answer = _answer(inspection, contest.item_key)
    if answer is None or answer.result != scoring.FAIL:
        raise ContestError(N_("This item is no longer marked as failed."))
    # The stall first, as a submission does: its result and actions change below.
    inspections.lock_stall(inspection.stall_id)
    _claim(contest, ACCEPTED, decider, note, now)
    # Out of the day tallies with its answers as they were; back in once rescored.
    tallies.uncount_inspection(inspection.id, inspection.campaign_id, inspection.submitted_day)
    before = {
        "answer": {"item": answer.item_key, "result": answer.result, "comment": answer.comment},
        **_outcome_record(inspection),
    }
    answer.result = scoring.PASS
    outcome = scoring.score(
        inspections.checklist_of(inspection), inspections.answers_of(inspection)
    )
    inspection.score = outcome.score
    inspection.verdict = outcome.verdict
    inspection.critical_failures = len(outcome.critical_failures)
    closed = None
    action = db.session.scalar(
        select(CorrectiveAction).where(
            CorrectiveAction.stall_id == inspection.stall_id,
            CorrectiveAction.item_key == contest.item_key,
            CorrectiveAction.status == OPEN,
        )
    )
    if action is not None:
        action.status = CLOSED
        action.closed_at = now
        action.closed_by_user_id = decider.id
        action.close_reason = f"contest {contest.id} accepted" + (f": {note}" if note else "")
        closed = action.id
    audit(
        f"user:{decider.id}",
        "contest.accept",
        "inspection",
        inspection.id,
        actor_id=decider.id,
        before=before,
        after={
            "answer": {"item": answer.item_key, "result": scoring.PASS},
            **_outcome_record(inspection),
            "contest": contest.id,
            "corrective_action_closed": closed,
            "note": note,
        },
    )
    db.session.flush()
    _recount(inspection)
    db.session.commit()
    db.session.refresh(contest)
    return inspection


def _recount(inspection: Inspection) -> None:
    """Count a rescored inspection again in the dashboards' tallies (its stall is locked)."""
    tallies.count_inspection(inspection.id)
    if inspection.stall.latest_inspection_id == inspection.id:
        tallies.refresh_stall(inspection.stall_id)


def reject(contest: Contest, decider: User, reason: str, *, now: datetime | None = None) -> None:
    """Reject with a reason the artisan will read; the result stays as it was."""
    _require_open(contest.inspection)
    reason = (reason or "").strip()
    if not reason:
        raise ContestError(N_("Give the artisan a reason for the rejection."))
    if len(reason) > MAX_REASON:
        raise ContestError(
            N_("The reason is too long (%(max)s characters at most)."), max=MAX_REASON
        )
    _claim(contest, REJECTED, decider, reason, now or utcnow())
    audit(
        f"user:{decider.id}",
        "contest.reject",
        "contest",
        contest.id,
        actor_id=decider.id,
        before={"status": PENDING},
        after={"status": REJECTED, "reason": reason},
    )
    db.session.commit()
    db.session.refresh(contest)


@dataclass(frozen=True)
class Reported:
    report: FixReport
    created: bool


def report_fix(
    artisan: Artisan,
    action: CorrectiveAction,
    photo: ProcessedPhoto | None,
    storage: Storage,
    message: str = "",
    *,
    now: datetime | None = None,
) -> Reported:
    """The artisan says an item is fixed, with a photo; the stall asks for a follow-up visit."""
    if action.stall.artisan_id != artisan.id:
        raise ContestError(N_("This item is not yours."))
    if action.status != OPEN:
        raise ContestError(N_("This item is already closed: nothing to report."))
    _require_open(action.opened_by)
    if photo is None:
        raise ContestError(N_("Add a photo that shows the item fixed."))
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise ContestError(
            N_("The message is too long (%(max)s characters at most)."), max=MAX_MESSAGE
        )
    existing = _fix_report(action.id, photo.sha256)
    if existing is not None:
        return Reported(existing, created=False)
    now = now or utcnow()
    report = FixReport(
        corrective_action_id=action.id, message=message, photo_sha256=_store_photo(photo, storage)
    )
    db.session.add(report)
    try:
        db.session.flush()
    except IntegrityError:  # the same photo sent twice at once
        db.session.rollback()
        existing = _fix_report(action.id, photo.sha256)
        if existing is None:
            raise
        return Reported(existing, created=False)
    action.fix_reported_at = now
    stall = action.stall
    # Keep the earliest request: the stall keeps its place at the top of the list.
    if stall.followup_requested_at is None:
        stall.followup_requested_at = now
    audit(
        _artisan_actor(artisan),
        "fix.report",
        "corrective_action",
        action.id,
        after={"item": action.item_key, "photo": report.photo_sha256, "message": message},
    )
    db.session.commit()
    return Reported(report, created=True)


def _fix_report(action_id: int, sha256: str) -> FixReport | None:
    return db.session.scalar(
        select(FixReport).where(
            FixReport.corrective_action_id == action_id, FixReport.photo_sha256 == sha256
        )
    )
