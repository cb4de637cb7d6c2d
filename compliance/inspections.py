"""Running an inspection: start it, save answers and photos, submit it exactly once.

No Flask request here: views parse the request and call these functions. Every function is
safe to repeat with the same input (a phone on a bad network retries), and a retry never
stores anything twice.

Offline submissions (:func:`receive`, :func:`receive_photo`). A phone that ran an inspection
without network sends it later in two steps: first the answers, with the list of photos it
holds for them ("declared photos", item key and SHA-256 of each shrunk JPEG), then each photo
on its own. So that a slow or failing photo never holds back the answers:

- the answers are accepted, scored and counted at once when they are complete, counting a
  declared photo as present for the "photo required" rule. The inspection is submitted, with
  ``photos_pending`` set to the number of declared photos the server does not hold yet;
- a photo is accepted only if it was declared, and only if its bytes hash to the SHA-256 it
  was declared with; each arrival lowers ``photos_pending``, and 0 means complete;
- arriving photos never score the inspection again, open or close corrective actions, or
  move the stall's latest result: the stall's compliance and the region's figures count the
  inspection once, when its answers were accepted, never again when its evidence completes;
- ``submitted_at`` is when the inspector pressed Submit on the phone (bounded to the last
  7 days and never in the future), ``received_at`` when the server accepted it. A visit
  that arrives after a later visit of the same stall is recorded and scored, but the later
  visit stays the stall's current result and keeps its corrective actions.

The inspection's UUID is made on the phone, so the same submission sent twice (a retry, a
replayed queue, two tabs) is one inspection; the same UUID with other content is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Set
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Executable, Row, bindparam, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from . import checklist_store, dates, scoring
from .checklist import Checklist
from .extensions import db
from .models import (
    CLOSED,
    DRAFT,
    OPEN,
    SUBMITTED,
    Answer,
    Artisan,
    AuditEvent,
    Campaign,
    ChecklistVersion,
    CorrectiveAction,
    Inspection,
    Photo,
    Stall,
    User,
    utcnow,
)
from .photos import N_, ProcessedPhoto
from .storage import Storage, photo_key

if TYPE_CHECKING:
    from .access import StallRef

MOROCCO = dates.MOROCCO  # kept for the modules that import it from here
RESULTS = (scoring.PASS, scoring.FAIL, scoring.NA)
MAX_COMMENT = 2000
# How far back a phone's "submitted at" time is believed; older means a wrong clock.
MAX_OFFLINE_AGE = timedelta(days=7)
MAX_DECLARED_PHOTOS = 60
_SHA256_CHARS = frozenset("0123456789abcdef")


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


class CampaignClosed(InspectionError):
    """The inspection's campaign is closed: its data no longer changes."""

    def __init__(self) -> None:
        super().__init__(N_("This campaign is closed: its results can no longer change."))


def checklist_of(inspection: Inspection) -> Checklist:
    return checklist_store.definition(inspection.checklist_version)


def start(inspection_id: str, stall: Stall, inspector: User, campaign: Campaign) -> Inspection:
    """Create the draft inspection ``inspection_id`` (a client-made UUID), or return it again.

    ``campaign`` is the running campaign that takes the stall (:func:`campaigns.for_stall`);
    the draft uses its checklist.
    """
    existing = db.session.get(Inspection, inspection_id)
    if existing is not None:
        _check_owner(existing, stall, inspector)
        return existing
    inspection = Inspection(
        id=inspection_id,
        stall=stall,
        inspector=inspector,
        campaign=campaign,
        checklist_version_id=campaign.checklist_version_id,
        status=DRAFT,
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


class OtherVisit(InspectionError):
    """The inspection's id is already another stall's or another inspector's visit."""


def _check_owner(inspection: Inspection, stall: Stall | StallRef, inspector: User) -> None:
    if inspection.stall_id != stall.id or inspection.inspector_id != inspector.id:
        raise OtherVisit(N_("This inspection number is already used for another visit."))


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
    if inspection.campaign.state == CLOSED:
        raise CampaignClosed()


def save_answer(
    inspection: Inspection, item_key: str, result: str | None, comment: str | None = None
) -> Answer | None:
    """Record one answer (and its comment) on a draft. ``result`` None keeps the current one."""
    _require_draft(inspection)
    answer = _set_answer(inspection, checklist_of(inspection), item_key, result, comment)
    inspection.updated_at = utcnow()
    db.session.commit()
    return answer


def _set_answer(
    inspection: Inspection,
    checklist: Checklist,
    item_key: str,
    result: str | None,
    comment: str | None,
) -> Answer | None:
    """Validate and set one answer in the session, without committing."""
    result, comment = _checked_answer(checklist, item_key, result, comment)
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
    return answer


def _checked_answer(
    checklist: Checklist, item_key: str, result: str | None, comment: str | None
) -> tuple[str | None, str]:
    """(result, comment) if they may be recorded for this item; InspectionError otherwise."""
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
    return result, comment


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
    _store_renditions(processed, storage)
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


def _store_renditions(processed: ProcessedPhoto, storage: Storage) -> None:
    storage.put_many(
        [
            (photo_key(processed.sha256, "display"), processed.display),
            (photo_key(processed.sha256, "thumb"), processed.thumbnail),
        ]
    )


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
    _require_draft(inspection)
    if answers:
        checklist = checklist_of(inspection)
        for key, (result, comment) in answers.items():
            _set_answer(inspection, checklist, key, result, comment)
        inspection.updated_at = utcnow()
    return _submit_draft(
        inspection, answers=answers, declared=[], actor=actor, now=now or utcnow(), done_at=None
    )


def _submit_draft(
    inspection: Inspection,
    *,
    answers: dict[str, tuple[str, str]] | None,
    declared: list[tuple[str, str]],
    actor: User | None,
    now: datetime,
    done_at: datetime | None,
) -> Submitted:
    """Score a draft whose answers are in the session and move it to submitted, once."""
    checklist = checklist_of(inspection)
    given = answers_of(inspection)
    stored = {(p.item_key, p.sha256) for p in inspection.photos}
    pending = [pair for pair in declared if pair not in stored]
    counts = photo_counts(inspection)
    for item_key, _sha in pending:  # declared photos count as present: they are on their way
        counts[item_key] = counts.get(item_key, 0) + 1
    missing = scoring.missing(checklist, given, counts)
    if missing:
        db.session.commit()  # keep the answers on the draft: nothing typed is lost
        raise Incomplete(missing)
    outcome = scoring.score(checklist, given)
    if outcome.verdict is None:
        db.session.commit()
        raise InspectionError(
            N_("Every item is N/A: nothing was checked. Answer at least one item Pass or Fail.")
        )
    submitted_at = done_at or now
    day = _local_day(submitted_at)
    # Only one request may move the draft to submitted, however many arrive at once.
    moved = db.session.execute(
        update(Inspection)
        .where(Inspection.id == inspection.id, Inspection.status == DRAFT)
        .values(
            status=SUBMITTED,
            submitted_at=submitted_at,
            submitted_day=day,
            received_at=now,
            score=outcome.score,
            verdict=outcome.verdict,
            critical_failures=len(outcome.critical_failures),
            fingerprint=_current_fingerprint(inspection),
            declared_photos=[list(pair) for pair in declared] or None,
            photos_pending=len(pending),
            updated_at=now,
        )
        # The values are set on the object in hand too: nothing is read back.
        .execution_options(synchronize_session="evaluate")
    ).rowcount
    if moved != 1:
        db.session.rollback()
        db.session.refresh(inspection)
        return _resubmitted(inspection, answers)
    _record(
        inspection.id,
        stall_id=inspection.stall_id,
        venue_id=inspection.stall.venue_id,
        campaign_id=inspection.campaign_id,
        version_id=inspection.checklist_version_id,
        checklist=checklist,
        given=given,
        outcome=outcome,
        submitted_at=submitted_at,
        day=day,
        actor=actor,
        pending=len(pending),
    )
    db.session.commit()
    return Submitted(inspection, created=True)


def _local_day(moment: datetime) -> date:
    return dates.local_day(moment)


def _resubmitted(inspection: Inspection, answers: dict[str, tuple[str, str]] | None) -> Submitted:
    if answers and fingerprint(answers) != inspection.fingerprint:
        stored = {a.item_key: (a.result, a.comment or "") for a in inspection.answers}
        # A retry may carry only some answers (the rest were autosaved): compare those.
        if any(
            stored.get(k, (None, ""))[0] != r or stored[k][1].strip() != c.strip()
            for k, (r, c) in answers.items()
        ):
            raise _different_content()
    return Submitted(inspection, created=False)


def _different_content() -> InspectionError:
    return InspectionError(
        N_(
            "This inspection was already submitted with different answers. "
            "Start a new inspection to record a new visit."
        )
    )


# --- offline submissions: answers first, then each photo on its own -------------------------


@dataclass(frozen=True)
class PhotoStatus:
    """What the server holds of an inspection's declared photos."""

    received: list[tuple[str, str]]
    missing: list[tuple[str, str]]


def photo_status(declared_photos: list | None, stored: Set[tuple[str, str]]) -> PhotoStatus:
    """The declared photos (as stored on the inspection) split by whether ``stored`` (pairs
    of item key and SHA-256) holds them."""
    declared = [(k, h) for k, h in declared_photos or []]
    return PhotoStatus(
        received=[pair for pair in declared if pair in stored],
        missing=[pair for pair in declared if pair not in stored],
    )


def clamp_phone_time(moment: datetime | None, now: datetime) -> datetime | None:
    """A time told by a phone, kept only if plausible (not ahead, at most 7 days old)."""
    if moment is None or moment > now or moment < now - MAX_OFFLINE_AGE:
        return None
    return moment


def receive(
    inspection_id: str,
    stall: Stall | StallRef,
    inspector: User,
    version: ChecklistVersion | checklist_store.VersionRef,
    answers: dict[str, tuple[str, str]],
    declared: list[tuple[str, str]],
    *,
    campaign_id: int,
    done_at: datetime | None = None,
    now: datetime | None = None,
) -> Submitted:
    """Accept an inspection sent by a phone (maybe made offline): the answers, exactly once.

    ``answers`` must hold every item (item -> (result, comment)); ``declared`` lists the photos
    (item key, SHA-256) that will follow with :func:`receive_photo`. The inspection may
    already exist as a draft started online on this phone; it is then completed with these
    answers. Sending the same content again returns the accepted inspection unchanged
    (``created`` False); the same id with other content, another stall or another inspector
    is refused. ``campaign_id`` is the running campaign that takes the stall, whose checklist
    ``version`` is; a draft of a campaign since closed is refused (:class:`CampaignClosed`).
    Raises :class:`Incomplete` or :class:`InspectionError`.

    One transaction, committed here. A new, complete inspection (the usual case) is written
    with a handful of statements and nothing read back; the rest (a retry, a draft started
    online, something missing) goes through the draft.
    """
    now = now or utcnow()
    checklist = checklist_store.definition(version)
    declared = _checked_declaration(checklist, declared)
    done_at = clamp_phone_time(done_at, now)
    fresh = _fresh(
        inspection_id,
        stall,
        inspector,
        campaign_id,
        version,
        checklist,
        answers,
        declared,
        done_at,
        now,
    )
    if fresh is not None:
        return fresh
    for attempt in range(3):
        try:
            return _receive(
                inspection_id,
                stall,
                inspector,
                campaign_id,
                version,
                checklist,
                answers,
                declared,
                done_at=done_at,
                now=now,
            )
        except IntegrityError:
            # Two copies of the same submission racing (two tabs, a replayed queue): the
            # other one won; this one now finds it and answers as a retry.
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _fresh(
    inspection_id: str,
    stall: Stall | StallRef,
    inspector: User,
    campaign_id: int,
    version: ChecklistVersion | checklist_store.VersionRef,
    checklist: Checklist,
    answers: dict[str, tuple[str, str]],
    declared: list[tuple[str, str]],
    done_at: datetime | None,
    now: datetime,
) -> Submitted | None:
    """Submit a complete inspection this server has never seen; None if it is not that case.

    The row is inserted as submitted (INSERT ... ON CONFLICT DO NOTHING): if the id exists,
    nothing is written and the caller takes the general path, which knows retries and drafts.
    """
    checked = {}
    for key, (result, comment) in answers.items():
        checked[key] = _checked_answer(checklist, key, result, comment)
    given = {key: result for key, (result, _comment) in checked.items()}
    counts: dict[str, int] = {}
    for item_key, _sha in declared:  # declared photos count as present: they are on their way
        counts[item_key] = counts.get(item_key, 0) + 1
    if scoring.missing(checklist, given, counts):
        return None  # the general path keeps the answers on a draft and says what is missing
    outcome = scoring.score(checklist, given)
    if outcome.verdict is None:
        return None
    submitted_at = done_at or now
    day = _local_day(submitted_at)
    row = {
        "id": inspection_id,
        "stall_id": stall.id,
        "inspector_id": inspector.id,
        "checklist_version_id": version.id,
        "campaign_id": campaign_id,
        "status": SUBMITTED,
        "started_at": now,
        "updated_at": now,
        "submitted_at": submitted_at,
        "submitted_day": day,
        "received_at": now,
        "score": outcome.score,
        "verdict": outcome.verdict,
        "critical_failures": len(outcome.critical_failures),
        "fingerprint": fingerprint(answers),
        "declared_photos": [list(pair) for pair in declared] or None,
        "photos_pending": len(declared),
    }
    inserted = _run("insert_submitted", row).first()
    if inserted is None:
        return None
    _insert_answers(inspection_id, checked, now)
    _record(
        inspection_id,
        stall_id=stall.id,
        venue_id=stall.venue_id,
        campaign_id=campaign_id,
        version_id=version.id,
        checklist=checklist,
        given=given,
        outcome=outcome,
        submitted_at=submitted_at,
        day=day,
        actor=inspector,
        pending=len(declared),
        place=_place(stall),
    )
    db.session.commit()
    # What was written, as an object (never added to the session, so nothing is read back).
    return Submitted(Inspection(**row), created=True)


def _place(stall: Stall | StallRef) -> tuple[int, str | None] | None:
    """The stall's region and craft when its row came with them (the sync API's StallRef)."""
    from .access import StallRef

    if isinstance(stall, StallRef) and stall.region_id is not None:
        return stall.region_id, stall.craft
    return None


def _receive(
    inspection_id: str,
    stall: Stall | StallRef,
    inspector: User,
    campaign_id: int,
    version: ChecklistVersion | checklist_store.VersionRef,
    checklist: Checklist,
    answers: dict[str, tuple[str, str]],
    declared: list[tuple[str, str]],
    *,
    done_at: datetime | None,
    now: datetime,
) -> Submitted:
    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None:
        inspection = Inspection(
            id=inspection_id,
            stall_id=stall.id,
            inspector_id=inspector.id,
            campaign_id=campaign_id,
            checklist_version_id=version.id,
            status=DRAFT,
        )
        db.session.add(inspection)
        db.session.flush()  # a copy racing with this one fails here; receive() retries
    else:
        _check_owner(inspection, stall, inspector)
        if inspection.status != SUBMITTED:  # a draft: completed by one request at a time
            inspection = _locked(inspection.id)
            if inspection.status != SUBMITTED and inspection.campaign_id != campaign_id:
                raise CampaignClosed()  # one campaign runs at a time: the draft's has closed
    if inspection.checklist_version_id != version.id:
        raise InspectionError(
            N_("This inspection was started with another version of the checklist.")
        )
    if inspection.status == SUBMITTED:
        submitted = _resubmitted(inspection, answers)
        if fingerprint(answers) != inspection.fingerprint or sorted(declared) != sorted(
            (k, h) for k, h in inspection.declared_photos or []
        ):
            raise _different_content()
        return submitted
    for key, (result, comment) in answers.items():
        _set_answer(inspection, checklist, key, result, comment)
    inspection.updated_at = now
    db.session.flush()
    return _submit_draft(
        inspection, answers=answers, declared=declared, actor=inspector, now=now, done_at=done_at
    )


def _locked(inspection_id: str) -> Inspection:
    """The inspection, re-read after taking a write lock that lasts until commit.

    A write that changes nothing is the lock both engines have: PostgreSQL locks the row,
    SQLite the database. A second copy of the same submission waits here, then reads what the
    first one committed, so it is answered as a retry.
    """
    db.session.execute(
        update(Inspection)
        .where(Inspection.id == inspection_id)
        .values(status=Inspection.status)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(
        select(Inspection)
        .where(Inspection.id == inspection_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def _checked_declaration(
    checklist: Checklist, declared: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    unique: list[tuple[str, str]] = []
    for item_key, sha256 in declared:
        try:
            item = checklist.item(item_key)
        except KeyError:
            raise InspectionError(N_("This item is not on the checklist.")) from None
        if item.photo == "never":
            raise InspectionError(N_("This item takes no photo."))
        if len(sha256) != 64 or not set(sha256) <= _SHA256_CHARS:
            raise InspectionError(N_("A photo's fingerprint is not valid."))
        if (item_key, sha256) not in unique:
            unique.append((item_key, sha256))
    if len(unique) > MAX_DECLARED_PHOTOS:
        raise InspectionError(N_("Too many photos (%(max)s at most)."), max=MAX_DECLARED_PHOTOS)
    return unique


class NotDeclared(InspectionError):
    """A photo the submission did not announce: refused, so nothing unasked is stored."""


def expects_photo(inspection: Inspection | Row, item_key: str, sha256: str) -> None:
    """Raise unless this photo was declared with the inspection's answers."""
    if inspection.status != SUBMITTED:
        raise NotDeclared(N_("Send the answers of this inspection before its photos."))
    if [item_key, sha256] not in (inspection.declared_photos or []):
        raise NotDeclared(N_("This photo was not announced with the inspection's answers."))


@dataclass(frozen=True)
class PhotoReceipt:
    """What :func:`receive_photo` did: ``created`` False when the photo was already stored;
    ``stored`` every (item key, SHA-256) the inspection holds now, this photo included."""

    created: bool
    stored: frozenset[tuple[str, str]]


def receive_photo(
    inspection: Inspection | Row, item_key: str, processed: ProcessedPhoto, storage: Storage
) -> PhotoReceipt:
    """Store a declared photo of a submitted inspection. Safe to repeat, and to race.

    ``inspection`` needs ``id``, ``status`` and ``declared_photos`` (the ORM object, or the
    row of :func:`access.own_inspection_row_or_404`: neither changes once submitted).
    The files are written first, then the row, in one transaction of four statements.
    """
    expects_photo(inspection, item_key, processed.sha256)
    _store_renditions(processed, storage)
    now = utcnow()
    # One arrival at a time per inspection: the UPDATE takes the row's write lock (PostgreSQL;
    # SQLite locks the database) and reads the count as the previous arrival left it.
    was = db.session.execute(
        _statement("lock_inspection"), {"b_id": inspection.id, "updated_at": now}
    ).scalar_one()
    # The same photo arriving twice at once: the unique key keeps one row, nobody fails.
    created = (
        db.session.execute(
            _statement("insert_photo"), _photo_values(inspection.id, item_key, processed, now)
        ).first()
        is not None
    )
    stored = frozenset(
        (k, h) for k, h in db.session.execute(_statement("stored_photos"), {"b_id": inspection.id})
    )
    pending = sum(1 for k, h in inspection.declared_photos or [] if (k, h) not in stored)
    if pending != was:
        db.session.execute(
            _statement("set_pending"), {"b_id": inspection.id, "photos_pending": pending}
        )
        if was and not pending:
            _audit(None, "inspection.photos_complete", "inspection", inspection.id)
    db.session.commit()
    return PhotoReceipt(created, stored)


def _photo_values(
    inspection_id: str, item_key: str, processed: ProcessedPhoto, now: datetime
) -> dict:
    return {
        "inspection_id": inspection_id,
        "item_key": item_key,
        "sha256": processed.sha256,
        "source_format": processed.source_format,
        "size_bytes": processed.size_bytes,
        "width": processed.width,
        "height": processed.height,
        "taken_at": processed.taken_at,
        "gps_lat": processed.gps[0] if processed.gps else None,
        "gps_lon": processed.gps[1] if processed.gps else None,
        "created_at": now,
    }


def lock_stall(stall_id: int) -> None:
    """Take the stall's row lock until commit (PostgreSQL locks the row, SQLite the database).

    Whoever changes a stall's latest result or its corrective actions takes it first, then
    reads: so two submissions for one stall follow each other, and the second sees the first.
    """
    db.session.execute(
        update(Stall)
        .where(Stall.id == stall_id)
        .values(id=Stall.id)
        .execution_options(synchronize_session=False)
    )


def _record(
    inspection_id: str,
    *,
    stall_id: int,
    venue_id: int,
    campaign_id: int,
    version_id: int,
    checklist: Checklist,
    given: dict[str, str],
    outcome: scoring.Outcome,
    submitted_at: datetime,
    day: date,
    actor: User | None,
    pending: int,
    place: tuple[int, str | None] | None = None,
) -> None:
    """What a submitted inspection changes besides itself, in the caller's transaction.

    ``place``: the stall's region and its artisan's craft when the caller has them (the sync
    API's stall row): the day tallies are then written without reading anything back.

    The stall's latest result and corrective actions, the dashboards' tallies, the audit
    trail. A visit that reaches the server after a later visit of the same stall (it was made
    offline) is counted on its day but changes neither the stall's result nor its actions: the
    later visit is the stall's current state.

    Lock order: the UPDATE below makes this inspection the stall's latest only if no later one
    is, and in doing so takes the stall's row lock. On PostgreSQL a concurrent submission for
    the same stall waits there and then re-checks the condition on the row as committed, so
    every statement after it (closing and opening actions) sees what the other one wrote.
    """
    tallies = _tallies()
    became_latest = (
        _run(
            "become_latest",
            {
                "b_stall_id": stall_id,
                "b_at": submitted_at,
                "latest_inspection_id": inspection_id,
                "followup_requested_at": None,
                **tallies.current_values(
                    version_id=version_id,
                    verdict=outcome.verdict,
                    score=outcome.score,
                    critical=len(outcome.critical_failures),
                    day=day,
                    at=submitted_at,
                    campaign_id=campaign_id,
                ),
            },
        ).rowcount
        == 1
    )
    if became_latest:
        previous = tallies.replace_current(
            stall_id,
            venue_id=venue_id,
            campaign_id=campaign_id,
            version_id=version_id,
            verdict=outcome.verdict,
            score=outcome.score,
            failures={key: result for key, result in given.items() if result != scoring.PASS},
        )
        # An action is open only while the stall's latest visit has not passed its item, so
        # only an item the previous latest failed (or found N/A) can have one to close.
        fixed = [key for key, result in given.items() if result == scoring.PASS and key in previous]
        if fixed:
            _run(
                "close_actions",
                {
                    "b_stall_id": stall_id,
                    "b_items": fixed,
                    "b_closed_at": submitted_at,
                    "b_inspection_id": inspection_id,
                },
            )
        due = scoring.corrective_actions(checklist, outcome, day)
        again = {action.item_key: action.due for action in due if action.item_key in previous}
        if again:
            _failed_again(stall_id, again, inspection_id, actor)
        if due:
            craft = place[1] if place is not None else _craft_of(stall_id)
            # A repeated failure keeps its open action (moved above, never opened twice).
            _run(
                "open_actions",
                [
                    {
                        "stall_id": stall_id,
                        "item_key": action.item_key,
                        "opened_by_id": inspection_id,
                        "campaign_id": campaign_id,
                        "opened_day": day,
                        "craft": craft,
                        "opened_verdict": outcome.verdict,
                        "due_date": action.due,
                        "status": OPEN,
                        "created_at": submitted_at,
                    }
                    for action in due
                ],
            )
    tallies.count_inspection(
        inspection_id,
        None
        if place is None
        else tallies.Counted(
            campaign_id=campaign_id,
            venue_id=venue_id,
            region_id=place[0],
            craft=place[1],
            day=day,
            version_id=version_id,
            verdict=outcome.verdict,
            score=outcome.score,
            results=given,
        ),
    )
    _audit(
        actor,
        "inspection.submit",
        "inspection",
        inspection_id,
        after={
            "score": outcome.score,
            "verdict": outcome.verdict,
            "answers": given,
            **({"photos_pending": pending} if pending else {}),
        },
    )


def _craft_of(stall_id: int) -> str | None:
    """The craft of the stall's artisan, which its corrective actions carry (None: no artisan)."""
    return db.session.scalar(
        select(Artisan.craft)
        .join(Stall, Stall.artisan_id == Artisan.id)
        .where(Stall.id == stall_id)
    )


def _failed_again(
    stall_id: int, again: dict[str, date], inspection_id: str, actor: User | None
) -> None:
    """Items failed again: the open action takes this visit's fix date if it is later.

    The artisan is told the later visit's date (the old one is often past); never an earlier
    one, so a date a coordinator moved later stands. Audited per action.
    """
    for action_id, item_key, due_date in _run(
        "open_actions_of", {"b_stall_id": stall_id, "b_items": list(again)}
    ):
        due = again[item_key]
        if due > due_date:
            _audit(
                actor,
                "corrective_action.failed_again",
                "corrective_action",
                action_id,
                before={"due_date": due_date.isoformat()},
                after={"due_date": due.isoformat(), "inspection": inspection_id},
            )
            _run("move_due", {"b_id": action_id, "due_date": due})


def _audit(
    actor: User | None,
    action: str,
    entity: str,
    entity_id: object,
    *,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """The row models.audit() would add for ``actor`` (None: the system), inserted at once
    (no unit of work to flush)."""
    _run(
        "audit",
        {
            "at": utcnow(),
            "actor": f"user:{actor.id}" if actor else "system",
            "actor_id": actor.id if actor else None,
            "action": action,
            "entity": entity,
            "entity_id": str(entity_id),
            "before": before,
            "after": after,
        },
    )


# --- the statements of a submission, built once ---------------------------------------------
#
# Building a statement and computing its cache key cost more CPU than running it: a submission
# runs these from objects built once per engine kind (SQLAlchemy memoizes the cache key on the
# object, then finds the compiled form in its cache).

_STATEMENTS: dict[tuple[str, str], Executable] = {}


def _statement(name: str) -> Executable:
    dialect = db.session.get_bind().dialect.name
    statement = _STATEMENTS.get((name, dialect))
    if statement is None:
        statement = _STATEMENTS[(name, dialect)] = _BUILDERS[name](dialect)
    return statement


def _run(name: str, parameters=None):
    """Execute the statement ``name`` in the session's transaction, on its connection: these
    are Core statements on tables, which need nothing of the ORM's execution step (half the
    CPU of ``Session.execute`` for each of them)."""
    return db.session.connection().execute(_statement(name), parameters)


def _upsert(dialect: str, table):
    """An INSERT with ON CONFLICT for ``dialect`` (see extensions.dialect_insert)."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _insert_submitted(dialect: str) -> Executable:
    table = Inspection.__table__
    return (
        _upsert(dialect, table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
    )


def _insert_answers_pg(_dialect: str) -> Executable:
    # One statement and one row of parameters whatever the number of answers: three arrays.
    return text(
        "INSERT INTO answer (inspection_id, item_key, result, comment, updated_at) "
        "SELECT :inspection_id, a.item_key, a.result, a.comment, :updated_at "
        "FROM unnest(CAST(:item_keys AS VARCHAR[]), CAST(:results AS VARCHAR[]), "
        "CAST(:comments AS TEXT[])) AS a(item_key, result, comment)"
    ).bindparams(bindparam("updated_at", type_=DateTime()))


def _insert_answers_rows(_dialect: str) -> Executable:
    return insert(Answer.__table__)


def _insert_answers(inspection_id: str, checked: dict, now: datetime) -> None:
    """INSERT a new inspection's answers: one statement on PostgreSQL, an executemany on
    SQLite (where a statement is a function call, not a round trip)."""
    if db.session.get_bind().dialect.name == "postgresql":
        _run(
            "insert_answers_pg",
            {
                "inspection_id": inspection_id,
                "updated_at": now,
                "item_keys": list(checked),
                "results": [result for result, _comment in checked.values()],
                "comments": [comment for _result, comment in checked.values()],
            },
        )
        return
    _run(
        "insert_answers_rows",
        [
            {
                "inspection_id": inspection_id,
                "item_key": key,
                "result": result,
                "comment": comment,
                "updated_at": now,
            }
            for key, (result, comment) in checked.items()
        ],
    )


def _become_latest(_dialect: str) -> Executable:
    # The SET clause comes from the parameters (column names); the WHERE from b_* ones.
    table = Stall.__table__
    return update(table).where(
        table.c.id == bindparam("b_stall_id"),
        or_(table.c.current_at.is_(None), table.c.current_at <= bindparam("b_at")),
    )


def _close_actions(_dialect: str) -> Executable:
    table = CorrectiveAction.__table__
    return (
        update(table)
        .where(
            table.c.stall_id == bindparam("b_stall_id"),
            table.c.status == OPEN,
            table.c.item_key.in_(bindparam("b_items", expanding=True)),
        )
        .values(
            status=CLOSED,
            closed_at=bindparam("b_closed_at"),
            closed_by_inspection_id=bindparam("b_inspection_id"),
        )
    )


def _open_actions(dialect: str) -> Executable:
    return _upsert(dialect, CorrectiveAction.__table__).on_conflict_do_nothing(
        index_elements=["stall_id", "item_key"],
        # A literal, not a parameter: PostgreSQL matches it to the partial index.
        index_where=text("status = 'open'"),
    )


def _insert_audit(_dialect: str) -> Executable:
    return insert(AuditEvent.__table__)


def _open_actions_of(_dialect: str) -> Executable:
    table = CorrectiveAction.__table__
    return select(table.c.id, table.c.item_key, table.c.due_date).where(
        table.c.stall_id == bindparam("b_stall_id"),
        table.c.status == OPEN,
        table.c.item_key.in_(bindparam("b_items", expanding=True)),
    )


def _move_due(_dialect: str) -> Executable:
    table = CorrectiveAction.__table__
    return update(table).where(table.c.id == bindparam("b_id"))


def _lock_inspection(_dialect: str) -> Executable:
    table = Inspection.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(updated_at=bindparam("updated_at"))
        .returning(table.c.photos_pending)
    )


def _insert_photo(dialect: str) -> Executable:
    table = Photo.__table__
    return (
        _upsert(dialect, table)
        .on_conflict_do_nothing(index_elements=["inspection_id", "item_key", "sha256"])
        .returning(table.c.id)
    )


def _stored_photos(_dialect: str) -> Executable:
    table = Photo.__table__
    return select(table.c.item_key, table.c.sha256).where(
        table.c.inspection_id == bindparam("b_id")
    )


def _set_pending(_dialect: str) -> Executable:
    table = Inspection.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(photos_pending=bindparam("photos_pending"))
    )


_BUILDERS: dict[str, Callable[[str], Executable]] = {
    "insert_submitted": _insert_submitted,
    "insert_answers_pg": _insert_answers_pg,
    "insert_answers_rows": _insert_answers_rows,
    "become_latest": _become_latest,
    "close_actions": _close_actions,
    "open_actions": _open_actions,
    "audit": _insert_audit,
    "open_actions_of": _open_actions_of,
    "move_due": _move_due,
    "lock_inspection": _lock_inspection,
    "insert_photo": _insert_photo,
    "stored_photos": _stored_photos,
    "set_pending": _set_pending,
}


def _tallies():
    """The dashboards' tallies module (imported late: the chamber package imports this one)."""
    from .chamber import tallies as module

    return module
