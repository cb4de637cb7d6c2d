"""Running an inspection: start it, save answers and photos, submit it exactly once.

No Flask request here: views parse the request and call these functions. Every function is
safe to repeat with the same input (a phone on a bad network retries), and a retry never
stores anything twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from . import checklist_store, scoring
from .checklist import Checklist
from .extensions import db
from .models import (
    DRAFT,
    OPEN,
    SUBMITTED,
    Answer,
    ChecklistVersion,
    CorrectiveAction,
    Inspection,
    Photo,
    Stall,
    User,
    audit,
    utcnow,
)
from .photos import N_, ProcessedPhoto
from .storage import Storage, photo_key

MOROCCO = ZoneInfo("Africa/Casablanca")
RESULTS = (scoring.PASS, scoring.FAIL, scoring.NA)
MAX_COMMENT = 2000


class InspectionError(Exception):
    """A request the inspection cannot take; ``message`` is an English source string (N_)."""

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class Incomplete(InspectionError):
    """Submit refused: ``missing`` lists exactly what is left to do."""

    def __init__(self, missing: list[scoring.Missing]):
        super().__init__(N_("The inspection is not complete yet."))
        self.missing = missing


def checklist_of(inspection: Inspection) -> Checklist:
    return checklist_store.definition(inspection.checklist_version)


def start(
    inspection_id: str, stall: Stall, inspector: User, version: ChecklistVersion
) -> Inspection:
    """Create the draft inspection ``inspection_id`` (a client-made UUID), or return it again."""
    existing = db.session.get(Inspection, inspection_id)
    if existing is not None:
        _check_owner(existing, stall, inspector)
        return existing
    inspection = Inspection(
        id=inspection_id, stall=stall, inspector=inspector, checklist_version=version, status=DRAFT
    )
    db.session.add(inspection)
    try:
        db.session.commit()
    except IntegrityError:  # the same id started at the same moment (double tap, two tabs)
        db.session.rollback()
        existing = db.session.get(Inspection, inspection_id)
        if existing is None:
            raise
        _check_owner(existing, stall, inspector)
        return existing
    return inspection


def _check_owner(inspection: Inspection, stall: Stall, inspector: User) -> None:
    if inspection.stall_id != stall.id or inspection.inspector_id != inspector.id:
        raise InspectionError(N_("This inspection number is already used for another visit."))


def answers_of(inspection: Inspection) -> dict[str, str]:
    return {a.item_key: a.result for a in inspection.answers}


def photo_counts(inspection: Inspection) -> dict[str, int]:
    counts: dict[str, int] = {}
    for photo in inspection.photos:
        counts[photo.item_key] = counts.get(photo.item_key, 0) + 1
    return counts


def _require_draft(inspection: Inspection) -> None:
    if inspection.status != DRAFT:
        raise InspectionError(N_("This inspection was already submitted; it can no longer change."))


def save_answer(
    inspection: Inspection, item_key: str, result: str | None, comment: str | None = None
) -> Answer | None:
    """Record one answer (and its comment) on a draft. ``result`` None keeps the current one."""
    _require_draft(inspection)
    checklist = checklist_of(inspection)
    try:
        item = checklist.item(item_key)
    except KeyError:
        raise InspectionError(N_("This item is not on the checklist.")) from None
    if result is not None and result not in RESULTS:
        raise InspectionError(N_("Choose Pass, Fail or N/A."))
    if result == scoring.NA and not item.na_allowed:
        raise InspectionError(N_("N/A is not possible for this item: choose Pass or Fail."))
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InspectionError(
            N_("The comment is too long (%(max)s characters at most)."), max=MAX_COMMENT
        )
    answer = next((a for a in inspection.answers if a.item_key == item_key), None)
    if answer is None:
        if result is None:
            return None
        answer = Answer(item_key=item_key, result=result, comment=comment)
        inspection.answers.append(answer)
    else:
        if result is not None:
            answer.result = result
        if comment is not None:
            answer.comment = comment
    inspection.updated_at = utcnow()
    db.session.commit()
    return answer


def attach_photo(
    inspection: Inspection, item_key: str, processed: ProcessedPhoto, storage: Storage
) -> Photo:
    """Store a processed photo for an item. The same photo twice is stored once."""
    _require_draft(inspection)
    try:
        checklist_of(inspection).item(item_key)
    except KeyError:
        raise InspectionError(N_("This item is not on the checklist.")) from None
    existing = _photo(inspection.id, item_key, processed.sha256)
    if existing is not None:
        return existing
    # Bytes first, then the row: a row never points at missing bytes.
    storage.put(photo_key(processed.sha256, "display"), processed.display)
    storage.put(photo_key(processed.sha256, "thumb"), processed.thumbnail)
    photo = Photo(
        inspection_id=inspection.id,
        item_key=item_key,
        sha256=processed.sha256,
        source_format=processed.source_format,
        size_bytes=processed.size_bytes,
        width=processed.width,
        height=processed.height,
        taken_at=processed.taken_at,
        gps_lat=processed.gps[0] if processed.gps else None,
        gps_lon=processed.gps[1] if processed.gps else None,
    )
    db.session.add(photo)
    try:
        db.session.commit()
    except IntegrityError:  # the same upload retried concurrently
        db.session.rollback()
        existing = _photo(inspection.id, item_key, processed.sha256)
        if existing is None:
            raise
        return existing
    return photo


def _photo(inspection_id: str, item_key: str, sha256: str) -> Photo | None:
    return db.session.scalar(
        select(Photo).where(
            Photo.inspection_id == inspection_id,
            Photo.item_key == item_key,
            Photo.sha256 == sha256,
        )
    )


def remove_photo(inspection: Inspection, photo_id: int) -> None:
    """Take a photo off a draft (the bytes stay: another inspection may share them)."""
    _require_draft(inspection)
    photo = next((p for p in inspection.photos if p.id == photo_id), None)
    if photo is not None:
        inspection.photos.remove(photo)
        db.session.commit()


def fingerprint(answers: dict[str, tuple[str, str]]) -> str:
    """SHA-256 of the answers (item -> (result, comment)): tells a retry from other content."""
    canonical = json.dumps(
        sorted((k, r, c.strip()) for k, (r, c) in answers.items()),
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _current_fingerprint(inspection: Inspection) -> str:
    return fingerprint({a.item_key: (a.result, a.comment or "") for a in inspection.answers})


@dataclass(frozen=True)
class Submitted:
    inspection: Inspection
    created: bool  # False when this was a retry of an accepted submission


def submit(
    inspection: Inspection,
    *,
    answers: dict[str, tuple[str, str]] | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> Submitted:
    """Submit a draft, exactly once.

    ``answers`` (item -> (result, comment)) are the answers the request carried, if any. A
    retry of an accepted submission with the same answers returns it unchanged; with other
    answers it is refused. Incomplete inspections are refused with what is missing (the
    answers carried are kept on the draft, so nothing typed is lost).
    """
    if inspection.status == SUBMITTED:
        return _resubmitted(inspection, answers)
    if answers:
        for key, (result, comment) in answers.items():
            save_answer(inspection, key, result, comment)
    checklist = checklist_of(inspection)
    given = answers_of(inspection)
    missing = scoring.missing(checklist, given, photo_counts(inspection))
    if missing:
        raise Incomplete(missing)
    outcome = scoring.score(checklist, given)
    if outcome.verdict is None:
        raise InspectionError(
            N_("Every item is N/A: nothing was checked. Answer at least one item Pass or Fail.")
        )
    now = now or utcnow()
    # Only one request may move the draft to submitted, however many arrive at once.
    moved = db.session.execute(
        update(Inspection)
        .where(Inspection.id == inspection.id, Inspection.status == DRAFT)
        .values(
            status=SUBMITTED,
            submitted_at=now,
            submitted_day=now.replace(tzinfo=ZoneInfo("UTC")).astimezone(MOROCCO).date(),
            score=outcome.score,
            verdict=outcome.verdict,
            critical_failures=len(outcome.critical_failures),
            fingerprint=_current_fingerprint(inspection),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.rollback()
        db.session.refresh(inspection)
        return _resubmitted(inspection, answers)
    _follow_up(inspection, checklist, outcome, now)
    audit(
        f"user:{actor.id}" if actor else "system",
        "inspection.submit",
        "inspection",
        inspection.id,
        actor_id=actor.id if actor else None,
        after={"score": outcome.score, "verdict": outcome.verdict, "answers": given},
    )
    db.session.commit()
    db.session.refresh(inspection)
    return Submitted(inspection, created=True)


def _resubmitted(inspection: Inspection, answers: dict[str, tuple[str, str]] | None) -> Submitted:
    if answers and fingerprint(answers) != inspection.fingerprint:
        stored = {a.item_key: (a.result, a.comment or "") for a in inspection.answers}
        # A retry may carry only some answers (the rest were autosaved): compare those.
        if any(
            stored.get(k, (None, ""))[0] != r or stored[k][1].strip() != c.strip()
            for k, (r, c) in answers.items()
        ):
            raise InspectionError(
                N_(
                    "This inspection was already submitted with different answers. "
                    "Start a new inspection to record a new visit."
                )
            )
    return Submitted(inspection, created=False)


def _follow_up(
    inspection: Inspection, checklist: Checklist, outcome: scoring.Outcome, now: datetime
) -> None:
    """Open corrective actions for failures, close those now passing, update the stall."""
    stall_id = inspection.stall_id
    open_actions = {
        ca.item_key: ca
        for ca in db.session.scalars(
            select(CorrectiveAction).where(
                CorrectiveAction.stall_id == stall_id, CorrectiveAction.status == OPEN
            )
        )
    }
    day = inspection.submitted_day or now.date()
    for due in scoring.corrective_actions(checklist, outcome, day):
        if due.item_key not in open_actions:  # a repeated failure keeps its first due date
            db.session.add(
                CorrectiveAction(
                    stall_id=stall_id,
                    item_key=due.item_key,
                    opened_by_id=inspection.id,
                    due_date=due.due,
                    status=OPEN,
                )
            )
    given = answers_of(inspection)
    for key, action in open_actions.items():
        if given.get(key) == scoring.PASS:
            action.status = "closed"
            action.closed_at = now
            action.closed_by_inspection_id = inspection.id
    # The latest submitted inspection is the stall's current compliance.
    later = select(Inspection.id).where(
        Inspection.stall_id == stall_id, Inspection.submitted_at > now
    )
    db.session.execute(
        update(Stall)
        .where(
            Stall.id == stall_id,
            or_(Stall.latest_inspection_id.is_(None), and_(~Stall.latest_inspection_id.in_(later))),
        )
        .values(latest_inspection_id=inspection.id, followup_requested_at=None)
        .execution_options(synchronize_session=False)
    )
