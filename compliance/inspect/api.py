"""The phone's sync API: what it needs to work offline, and where it sends its queue.

- ``GET  /inspect/api/bundle`` — the current checklist and the stalls of the inspector's region,
  for the service worker to keep (ETag: a phone that has it already gets a 304).
- ``PUT  /inspect/api/inspections/<uuid>`` — the answers of an inspection made on the phone,
  with the photos it will send (item and SHA-256 of each). Idempotent: the UUID is made on the
  phone, so a retry, a replayed queue or a second tab gives one inspection.
- ``PUT  /inspect/api/inspections/<uuid>/photos/<item>/<sha256>`` — one declared photo, alone
  (the body is the shrunk JPEG; its SHA-256 must be the one in the URL).
- ``GET  /inspect/api/inspections/<uuid>`` — what the server holds: the answers were accepted,
  which declared photos it has and which it still misses.

Every answer is JSON, errors included (``error`` code and ``message`` in the user's language),
and the phone keeps an inspection in its queue until the server says it has everything. How
photos arriving after the answers are counted: see :mod:`compliance.inspections`.

Writes are PUT with a JSON or image body, which no other site can send from a browser without
a CORS preflight that this app never grants, so these routes need no CSRF token: a phone whose
cached page holds an old token can still send its queue.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import false, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .. import access, campaigns, checklist_store, edge, inspections, site
from ..artisan import ratelimit
from ..extensions import csrf, db
from ..labels import MISSING
from ..models import OPEN, SUBMITTED, ChecklistVersion, CorrectiveAction, Inspection, Stall
from ..photos import PhotoError, process
from ..site import localized, stall_location
from ..storage import storage_from_config
from .round import round_json

api = Blueprint("api", __name__)
csrf.exempt(api)
# Signed-in accounts only, and no key is guessed here: no rate limit, not even its check.
ratelimit.unlimited(api)

# A national (admin) bundle is capped: a phone cannot usefully carry every stall of Morocco.
BUNDLE_LIMIT = 3000


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


@api.errorhandler(ApiError)
def _api_error(error: ApiError):
    return jsonify(error=error.code, message=error.message, **error.extra), error.status


def _http_error(error: HTTPException):
    """Every HTTP error under the API, server failures included, as JSON."""
    messages = {
        401: _("Log in again to send what is waiting on this phone."),
        413: _("This photo is too big. Take the picture again."),
        500: _("The server failed to take this. It stays on this phone and will be sent again."),
    }
    code = error.code or 500
    message = messages.get(code) or site.error_text(error)[1]
    response = jsonify(error=error.name.lower().replace(" ", "_"), message=message)
    response.status_code = code
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.valid_methods or ())
    return _no_store(response)


edge.json_api(api, _http_error)


@api.before_request
def _same_origin_only():
    origin = request.headers.get("Origin")
    # Belt and braces: only this site's own pages send here. The host alone is compared: a
    # proxy that ends HTTPS in front of the app makes the scheme differ.
    if origin and urlsplit(origin).netloc != request.host:
        abort(403)


def _no_store(response):
    response.cache_control.no_store = True
    response.cache_control.private = True
    return response


# --- what the phone keeps for working offline ----------------------------------------------


@api.get("/bundle")
@access.roles_required(*access.FIELD, json=True)
def bundle():
    """The running campaign's checklist and the stalls of the inspector's region taking part."""
    campaign = campaigns.running()
    version = campaign.checklist_version if campaign else None
    stalls = db.session.scalars(
        access.scope_stalls(select(Stall), current_user)
        .where(Stall.closed_at.is_(None))  # closed stalls leave the inspectors' lists
        # No campaign running: nothing to inspect (the list is empty, the page says why).
        .where(Stall.venue_id.in_(campaigns.venue_ids(campaign)) if campaign else false())
        .options(
            joinedload(Stall.artisan),
            joinedload(Stall.venue),
            selectinload(Stall.latest_inspection),
        )
        .order_by(Stall.code)
        .limit(BUNDLE_LIMIT)
    ).all()
    actions: dict[int, list[dict]] = {}
    for action in db.session.scalars(
        select(CorrectiveAction)
        .where(
            CorrectiveAction.status == OPEN,
            CorrectiveAction.stall_id.in_([s.id for s in stalls]),
        )
        .order_by(CorrectiveAction.due_date)
    ):
        actions.setdefault(action.stall_id, []).append(
            {
                "item": action.item_key,
                "due": action.due_date.isoformat(),
                "fixed": action.fix_reported_at is not None,
            }
        )
    body = {
        "user": current_user.id,
        "locale": str(get_locale()),
        "checklist": _checklist_json(version) if version else None,
        "campaign": {"code": campaign.code, "name": localized(campaign)} if campaign else None,
        "stalls": [_stall_json(stall, actions.get(stall.id, [])) for stall in stalls],
        "truncated": len(stalls) == BUNDLE_LIMIT,
        # Today's round (compliance/inspect/round.py): offline.js draws it from here.
        "round": round_json(current_user),
    }
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    response = current_app.response_class(data, mimetype="application/json")
    response.set_etag(hashlib.sha256(data.encode()).hexdigest()[:32])
    response.cache_control.private = True
    response.cache_control.no_cache = True  # always revalidated: a 304 costs a few bytes
    return response.make_conditional(request)


def _checklist_json(version: ChecklistVersion) -> dict:
    return {
        "id": version.id,
        "key": version.key,
        "version": version.version,
        "definition": version.definition,
    }


def _stall_json(stall: Stall, actions: list[dict]) -> dict:
    artisan = stall.artisan
    latest = stall.latest_inspection
    return {
        "id": stall.id,
        "code": stall.code,
        "location": stall_location(stall),
        "venue": localized(stall.venue),
        "artisan": (
            {
                "ar": artisan.name_ar,
                "latin": artisan.name_latin,
                "nia": artisan.nia,
                "craft": artisan.craft,
                "category": artisan.category,
            }
            if artisan
            else None
        ),
        "search": artisan.search_text if artisan else "",
        "latest": (
            {
                "verdict": latest.verdict,
                "score": latest.score,
                "day": latest.submitted_day.isoformat() if latest.submitted_day else None,
            }
            if latest
            else None
        ),
        "actions": actions,
    }


# --- receiving what the phone queued --------------------------------------------------------


def _uuid(value: str) -> str:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        abort(404)
    if str(parsed) != value.lower():
        abort(404)
    return str(parsed)


def _own(inspection_id: str) -> Inspection:
    """The inspection if it exists, is in the user's region and is theirs; else 404."""
    return access.draft_or_404(current_user, _uuid(inspection_id))


def status_json(inspection: Inspection) -> dict:
    """What the server holds of an inspection: the phone sends only what is missing."""
    return _status(inspection, {(p.item_key, p.sha256) for p in inspection.photos})


def _status(inspection, stored) -> dict:
    """:func:`status_json` of anything with the inspection's columns, and its stored photos
    as (item key, SHA-256) pairs."""
    photos = inspections.photo_status(inspection.declared_photos, stored)
    submitted = inspection.status == "submitted"
    return {
        "id": inspection.id,
        "status": inspection.status,
        "answers_received": submitted,
        "complete": submitted and not photos.missing,
        "photos": {
            "received": [{"item": k, "sha256": h} for k, h in photos.received],
            "missing": [{"item": k, "sha256": h} for k, h in photos.missing],
        },
        "verdict": inspection.verdict,
        "score": inspection.score,
        "result_url": url_for("inspect.result", inspection_id=inspection.id),
    }


@api.get("/inspections/<inspection_id>")
@access.roles_required(*access.FIELD, json=True)
def inspection_status(inspection_id: str):
    return _no_store(jsonify(status_json(_own(inspection_id))))


def _bad(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # a phone's local time without its offset says nothing certain
    return moment.astimezone(UTC).replace(tzinfo=None)


def _payload() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise _bad(_("The phone sent something this server cannot read. Update the app."))
    return data


def _answers(data: dict) -> dict[str, tuple[str, str]]:
    raw = data.get("answers")
    if not isinstance(raw, dict):
        raise _bad(_("The phone sent something this server cannot read. Update the app."))
    answers: dict[str, tuple[str, str]] = {}
    for key, value in raw.items():
        if not isinstance(value, dict):
            raise _bad(_("The phone sent something this server cannot read. Update the app."))
        result, comment = value.get("result"), value.get("comment") or ""
        if not isinstance(result, str) or not isinstance(comment, str):
            raise _bad(_("The phone sent something this server cannot read. Update the app."))
        answers[str(key)] = (result, comment)
    return answers


def _declared(data: dict) -> list[tuple[str, str]]:
    raw = data.get("photos") or []
    if not isinstance(raw, list):
        raise _bad(_("The phone sent something this server cannot read. Update the app."))
    declared = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise _bad(_("The phone sent something this server cannot read. Update the app."))
        item, sha256 = entry.get("item"), entry.get("sha256")
        if not isinstance(item, str) or not isinstance(sha256, str):
            raise _bad(_("The phone sent something this server cannot read. Update the app."))
        declared.append((item, sha256))
    return declared


def _refusal(error: inspections.InspectionError) -> ApiError:
    message = _(error.message, **error.params)
    if isinstance(error, inspections.Incomplete):
        return ApiError(
            422,
            "incomplete",
            message,
            missing=[
                {"item": m.item_key, "reason": m.reason, "message": str(MISSING[m.reason])}
                for m in error.missing
            ],
        )
    if isinstance(error, inspections.NotDeclared):
        return ApiError(409, "not_declared", message)
    if isinstance(error, inspections.CampaignClosed):
        return ApiError(409, "campaign_closed", message)
    if error.message in _CONFLICTS:
        return ApiError(409, "conflict", message)
    return ApiError(422, "refused", message)


_CONFLICTS = {
    inspections.N_("This inspection number is already used for another visit."),
    inspections.N_(
        "This inspection was already submitted with different answers. "
        "Start a new inspection to record a new visit."
    ),
    inspections.N_("This inspection was started with another version of the checklist."),
}


@api.put("/inspections/<inspection_id>")
@access.roles_required(*access.FIELD, json=True)
def put_inspection(inspection_id: str):
    """Receive an inspection's answers and the list of its photos; 201 first time, then 200."""
    inspection_id = _uuid(inspection_id)
    try:
        return _receive(inspection_id)
    except (ApiError, HTTPException):
        # Another region's inspection is not found, whatever was sent. Looked up only on the
        # way out with a refusal: a new inspection (the usual case) costs no extra query, and
        # an existing id never gets past inspections.receive.
        db.session.rollback()
        existing = db.session.get(Inspection, inspection_id)
        if existing is not None and not access.can_see_stall(current_user, existing.stall):
            abort(404)
        raise


def _campaign_of(inspection_id: str, stall: access.StallRef) -> tuple[int, int]:
    """The campaign (id, checklist version id) a submission goes to.

    The running campaign that takes the stall (read with it); with none, a copy of an
    inspection already accepted is still answered as the retry it is (its campaign may have
    closed since).
    """
    if stall.campaign_id is not None:
        return stall.campaign_id, stall.campaign_version_id
    try:  # the rare case: the campaigns module says why, in the user's language
        campaign = campaigns.for_stall(db.session.get(Stall, stall.id))
    except campaigns.NoCampaign as error:
        accepted = db.session.execute(
            select(Inspection.campaign_id, Inspection.checklist_version_id).where(
                Inspection.id == inspection_id, Inspection.status == SUBMITTED
            )
        ).first()
        if accepted is None:
            raise ApiError(409, "no_campaign", _(error.message)) from None
        return accepted.campaign_id, accepted.checklist_version_id
    return campaign.id, campaign.checklist_version_id  # started a moment ago


def _receive(inspection_id: str):
    data = _payload()
    stall_id = data.get("stall_id")
    if not edge.is_db_int(stall_id):
        raise _bad(_("The phone sent something this server cannot read. Update the app."))
    stall = access.stall_ref_or_404(current_user, stall_id)
    campaign_id, expected_version = _campaign_of(inspection_id, stall)
    version_id = data.get("checklist_version_id")
    version = checklist_store.version_ref(version_id) if edge.is_db_int(version_id) else None
    if version is None or version.id != expected_version:
        raise ApiError(
            422, "unknown_checklist", _("This checklist is not known here. Update the app.")
        )
    try:
        submitted = inspections.receive(
            inspection_id,
            stall,
            current_user,
            version,
            _answers(data),
            _declared(data),
            campaign_id=campaign_id,
            done_at=_parse_time(data.get("submitted_at")),
        )
    except inspections.InspectionError as error:
        db.session.rollback()
        raise _refusal(error) from None
    response = jsonify(status_json(submitted.inspection))
    response.status_code = 201 if submitted.created else 200
    return _no_store(response)


@api.put("/inspections/<inspection_id>/photos/<item_key>/<sha256>")
@access.roles_required(*access.FIELD, json=True)
def put_photo(inspection_id: str, item_key: str, sha256: str):
    """Receive one declared photo; its bytes must hash to ``sha256``. Safe to repeat."""
    inspection = access.own_inspection_row_or_404(current_user, _uuid(inspection_id))
    sha256 = sha256.lower()
    try:
        inspections.expects_photo(inspection, item_key, sha256)
    except inspections.InspectionError as error:
        raise _refusal(error) from None
    config = current_app.config
    limit = config["MAX_PHOTO_MB"] * 1024 * 1024
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    data, digest = _read_hashed(limit)
    if digest != sha256:
        raise ApiError(
            422,
            "hash_mismatch",
            _("The photo arrived damaged (its fingerprint does not match). It will be sent again."),
        )
    # A photo sent again (its answer was lost) goes through the same steps: the store and
    # the unique key keep one copy of it, and the answer says it was already there.
    try:
        processed = process(
            data, max_bytes=limit, max_pixels=config["MAX_PHOTO_PIXELS"], sha256=sha256
        )
    except PhotoError as error:
        raise ApiError(422, f"photo_{error.code}", _(error.message, **error.params)) from None
    del data  # the renditions are all this request keeps (the display may be these very bytes)
    storage = storage_from_config(config["UPLOAD_DIR"])
    receipt = inspections.receive_photo(inspection, item_key, processed, storage)
    response = jsonify(_status(inspection, receipt.stored))
    response.status_code = 201 if receipt.created else 200
    return _no_store(response)


def _read_hashed(limit: int) -> tuple[bytes, str]:
    """The request body (at most ``limit`` bytes, else 413) and its SHA-256, hashed as it
    arrives into one buffer: the worker never holds a photo's bytes twice."""
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    stream = request.stream
    while chunk := stream.read(64 * 1024):
        digest.update(chunk)
        buffer.write(chunk)
        if buffer.tell() > limit:
            abort(413)
    # getvalue() hands over the buffer itself (trimmed, not copied) when nothing else views
    # it; a phone's photo with no metadata then becomes its display rendition as it is.
    with buffer:
        return buffer.getvalue(), digest.hexdigest()
