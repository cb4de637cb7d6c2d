"""Inspector views: thin wrappers around ``compliance.inspections``."""

from __future__ import annotations

import uuid

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import access, campaigns, checklist_store, inspections, scoring, search
from ..extensions import db, htmx
from ..models import (
    DRAFT,
    OPEN,
    SUBMITTED,
    CorrectiveAction,
    Inspection,
    Photo,
    Stall,
    Venue,
)
from ..photos import ACCEPT, PhotoError, process
from ..storage import photo_key, storage_from_config
from . import bp
from . import offline as offline_views


def _storage():
    return storage_from_config(current_app.config["UPLOAD_DIR"])


def _fragment_request() -> bool:
    # Boosted navigation also sends HX-Request; only targeted swaps get a fragment.
    return bool(htmx) and not htmx.boosted


def _translate(error) -> str:
    return _(error.message, **error.params)


@bp.get("/")
@access.roles_required(*access.FIELD)
def home():
    """Find a stall: by stall code, artisan name (Arabic or Latin) or card number."""
    query = request.args.get("q", "").strip()[:100]
    if _fragment_request() and "q" in request.args:  # typing: the list, never a jump away
        stalls = search.find_stalls(current_user, query, open_only=True)
        return render_template("inspect/_results.html", stalls=stalls, query=query)
    exact = search.exact_stall(current_user, query, open_only=True) if query else None
    if exact is not None:  # an exact stall code or card number: that stall, not a list of one
        return redirect(url_for("inspect.stall", stall_id=exact.id))
    stalls = search.find_stalls(current_user, query, open_only=True) if query else []
    followups = db.session.scalars(
        access.scope_stalls(select(Stall), current_user)
        .where(Stall.closed_at.is_(None))  # closed stalls leave the inspectors' lists
        .where(Stall.followup_requested_at.is_not(None))
        .options(joinedload(Stall.artisan), joinedload(Stall.venue))
        .order_by(Stall.followup_requested_at)
        .limit(20)
    ).all()
    drafts = db.session.scalars(
        select(Inspection)
        .where(Inspection.inspector_id == current_user.id, Inspection.status == DRAFT)
        .options(joinedload(Inspection.stall))
        .order_by(Inspection.updated_at.desc())
        .limit(10)
    ).all()
    return render_template(
        "inspect/home.html", query=query, stalls=stalls, followups=followups, drafts=drafts
    )


@bp.get("/stalls/<int:stall_id>")
@access.roles_required(*access.FIELD)
def stall(stall_id: int):
    stall = access.stall_or_404(current_user, stall_id)
    actions = db.session.scalars(
        select(CorrectiveAction)
        .where(CorrectiveAction.stall_id == stall.id, CorrectiveAction.status == OPEN)
        .order_by(CorrectiveAction.due_date)
    ).all()
    latest = stall.latest_inspection
    try:
        campaign = campaigns.for_stall(stall)
    except campaigns.NoCampaign:
        campaign = None  # the page says so instead of offering to start
    if latest is not None:
        checklist = inspections.checklist_of(latest)
    elif campaign is not None:
        checklist = checklist_store.definition(campaign.checklist_version)
    else:
        checklist = None
    return render_template(
        "inspect/stall.html",
        stall=stall,
        latest=latest,
        actions=actions,
        checklist=checklist,
        campaign=campaign,
        new_id=str(uuid.uuid4()),
    )


@bp.post("/stalls/<int:stall_id>/start")
@access.roles_required(*access.FIELD)
def start(stall_id: int):
    stall = access.stall_or_404(current_user, stall_id)
    try:
        inspection_id = str(uuid.UUID(request.form.get("inspection_id", "")))
    except ValueError:
        inspection_id = str(uuid.uuid4())
    try:
        campaign = campaigns.for_stall(stall)
        inspection = inspections.start(inspection_id, stall, current_user, campaign)
    except campaigns.CampaignError as error:
        flash(_(error.message, **error.params), "error")
        return redirect(url_for("inspect.stall", stall_id=stall.id))
    except inspections.InspectionError as error:
        flash(_translate(error), "error")
        return redirect(url_for("inspect.stall", stall_id=stall.id))
    return redirect(url_for("inspect.checklist", inspection_id=inspection.id))


@bp.get("/offline")
@access.roles_required(*access.FIELD)
def offline():
    """The app shell the service worker keeps: offline.js draws the views in it."""
    return render_template("inspect/offline.html", **offline_views.shell_context())


def _item_or_404(inspection: Inspection, item_key: str):
    try:
        return inspections.checklist_of(inspection).item(item_key)
    except KeyError:
        abort(404)


def _checklist_page(inspection: Inspection, *, missing=(), errors=None, status: int = 200):
    checklist = inspections.checklist_of(inspection)
    answers = {a.item_key: a for a in inspection.answers}
    photos: dict[str, list[Photo]] = {}
    for photo in inspection.photos:
        photos.setdefault(photo.item_key, []).append(photo)
    missing_by_item = {m.item_key: m.reason for m in missing}
    answered, total = scoring.progress(checklist, {k: a.result for k, a in answers.items()})
    return render_template(
        "inspect/checklist.html",
        inspection=inspection,
        checklist=checklist,
        answers=answers,
        photos=photos,
        missing=missing,
        missing_by_item=missing_by_item,
        errors=errors or {},
        answered=answered,
        total=total,
        accept=ACCEPT,
    ), status


@bp.get("/inspections/<inspection_id>")
@access.roles_required(*access.FIELD)
def checklist(inspection_id: str):
    if db.session.get(Inspection, inspection_id) is None and _is_uuid(inspection_id):
        # Perhaps started on the phone without network and not sent yet: the shell lets the
        # phone show it from what it keeps (still a 404 for anything else).
        return render_template("inspect/offline.html", **offline_views.shell_context()), 404
    inspection = access.inspection_or_404(current_user, inspection_id)
    if inspection.status == SUBMITTED:
        return redirect(url_for("inspect.result", inspection_id=inspection.id))
    return _checklist_page(inspection)


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _item_fragment(
    inspection: Inspection, item_key: str, *, error: str | None = None, status: int = 200
):
    checklist = inspections.checklist_of(inspection)
    item = checklist.item(item_key)
    answers = {a.item_key: a for a in inspection.answers}
    answered, total = scoring.progress(checklist, {k: a.result for k, a in answers.items()})
    return render_template(
        "inspect/_item_swap.html",
        inspection=inspection,
        item=item,
        answer=answers.get(item_key),
        item_photos=[p for p in inspection.photos if p.item_key == item_key],
        item_error=error,
        item_missing=None,
        answered=answered,
        total=total,
        accept=ACCEPT,
        saved=error is None,
    ), status


@bp.post("/inspections/<inspection_id>/items/<item_key>")
@access.roles_required(*access.FIELD)
def answer(inspection_id: str, item_key: str):
    """Autosave one answer (htmx), or save it from a plain form and come back."""
    inspection = access.inspection_or_404(current_user, inspection_id)
    _item_or_404(inspection, item_key)
    error = None
    try:
        inspections.save_answer(
            inspection,
            item_key,
            request.form.get(f"r-{item_key}"),
            request.form.get(f"c-{item_key}"),
        )
    except inspections.InspectionError as exc:
        error = _translate(exc)
    if _fragment_request():
        return _item_fragment(inspection, item_key, error=error, status=422 if error else 200)
    if error:
        flash(error, "error")
    return redirect(
        url_for("inspect.checklist", inspection_id=inspection.id, _anchor=f"item-{item_key}")
    )


@bp.post("/inspections/<inspection_id>/items/<item_key>/photos")
@access.roles_required(*access.FIELD)
def add_photo(inspection_id: str, item_key: str):
    inspection = access.inspection_or_404(current_user, inspection_id)
    _item_or_404(inspection, item_key)
    upload = request.files.get(f"p-{item_key}")
    error = None
    if upload is None or not upload.filename:
        error = _("Choose or take a photo first.")
    else:
        try:
            _attach(inspection, item_key, upload)
        except (PhotoError, inspections.InspectionError) as exc:
            error = _translate(exc)
    if _fragment_request():
        return _item_fragment(inspection, item_key, error=error, status=422 if error else 200)
    if error:
        flash(error, "error")
    return redirect(
        url_for("inspect.checklist", inspection_id=inspection.id, _anchor=f"item-{item_key}")
    )


def _attach(inspection: Inspection, item_key: str, upload) -> Photo:
    config = current_app.config
    processed = process(
        upload.stream,  # read in place, never copied
        filename=upload.filename,
        max_bytes=config["MAX_PHOTO_MB"] * 1024 * 1024,
        max_pixels=config["MAX_PHOTO_PIXELS"],
    )
    return inspections.attach_photo(inspection, item_key, processed, _storage())


@bp.post("/inspections/<inspection_id>/photos/<int:photo_id>/remove")
@access.roles_required(*access.FIELD)
def remove_photo(inspection_id: str, photo_id: int):
    inspection = access.inspection_or_404(current_user, inspection_id)
    photo = access.photo_or_404(current_user, photo_id)
    if photo.inspection_id != inspection.id:
        abort(404)
    item_key = photo.item_key
    try:
        inspections.remove_photo(inspection, photo_id)
    except inspections.InspectionError as exc:
        flash(_translate(exc), "error")
    if _fragment_request():
        return _item_fragment(inspection, item_key)
    return redirect(
        url_for("inspect.checklist", inspection_id=inspection.id, _anchor=f"item-{item_key}")
    )


@bp.post("/inspections/<inspection_id>/submit")
@access.roles_required(*access.FIELD)
def submit(inspection_id: str):
    inspection = access.inspection_or_404(current_user, inspection_id)
    checklist = inspections.checklist_of(inspection)
    carried: dict[str, tuple[str, str]] = {}
    for item in checklist.items():
        result = request.form.get(f"r-{item.key}")
        if result is not None:
            carried[item.key] = (result, request.form.get(f"c-{item.key}", ""))
    if inspection.status == SUBMITTED:
        try:
            inspections.submit(inspection, answers=carried, actor=current_user)
        except inspections.InspectionError as exc:
            flash(_translate(exc), "error")
            return render_template("inspect/conflict.html", inspection=inspection), 409
        return redirect(url_for("inspect.result", inspection_id=inspection.id))

    errors: dict[str, str] = {}
    for item_key, (result, comment) in carried.items():
        try:
            inspections.save_answer(inspection, item_key, result, comment)
        except inspections.InspectionError as exc:
            errors[item_key] = _translate(exc)
    for item in checklist.items():  # photos sent with the form (the no-JavaScript path)
        upload = request.files.get(f"p-{item.key}")
        if upload is not None and upload.filename:
            try:
                _attach(inspection, item.key, upload)
            except (PhotoError, inspections.InspectionError) as exc:
                errors[item.key] = _translate(exc)
    if request.form.get("action") == "save" and not errors:
        flash(_("Saved. You can finish this inspection later."), "success")
        return redirect(url_for("inspect.checklist", inspection_id=inspection.id))
    if errors:
        return _checklist_page(inspection, errors=errors, status=422)
    try:
        inspections.submit(inspection, actor=current_user)
    except inspections.Incomplete as exc:
        return _checklist_page(inspection, missing=exc.missing, status=422)
    except inspections.InspectionError as exc:
        flash(_translate(exc), "error")
        return _checklist_page(inspection, status=422)
    return redirect(url_for("inspect.result", inspection_id=inspection.id))


@bp.get("/inspections/<inspection_id>/result")
@access.roles_required(*access.FIELD)
def result(inspection_id: str):
    inspection = access.inspection_or_404(current_user, inspection_id)
    if inspection.status != SUBMITTED:
        return redirect(url_for("inspect.checklist", inspection_id=inspection.id))
    checklist = inspections.checklist_of(inspection)
    actions = {
        ca.item_key: ca
        for ca in db.session.scalars(
            select(CorrectiveAction).where(
                CorrectiveAction.stall_id == inspection.stall_id, CorrectiveAction.status == OPEN
            )
        )
    }
    answers = {a.item_key: a for a in inspection.answers}
    failed = [checklist.item(k) for k, a in answers.items() if a.result == scoring.FAIL]
    failed.sort(key=lambda item: [i.key for i in checklist.items()].index(item.key))
    return render_template(
        "inspect/result.html",
        inspection=inspection,
        checklist=checklist,
        failed=failed,
        actions=actions,
        answers=answers,
    )


@bp.get("/photos/<int:photo_id>/<any(display, thumb):rendition>")
# Photos are shared with coordinators; the walk itself is for inspectors (and admins).
@access.roles_required(*access.STAFF)
def photo(photo_id: int, rendition: str):
    """Serve a photo rendition to staff allowed to see the stall; never a public folder."""
    photo = access.photo_or_404(current_user, photo_id)
    try:
        stream = _storage().open(photo_key(photo.sha256, rendition))
    except KeyError:
        abort(404)
    response = send_file(
        stream, mimetype="image/jpeg", etag=photo.sha256 + rendition, max_age=3600, conditional=True
    )
    response.cache_control.private = True
    return response


@bp.app_template_global()
def item_label(item) -> str:
    return item.label(get_locale())


@bp.app_template_global()
def venue_label(venue: Venue) -> str:
    return getattr(venue, f"name_{get_locale()}", None) or venue.name_fr
