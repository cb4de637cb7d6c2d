"""Artisan views: the public badge page, and the artisan's own pages behind their slip.

An artisan is not a staff user: their session is ``session["artisan_id"]`` with the slip's
version (``session["artisan_key_version"]``), set by the private link or by card number + PIN,
and checked on every request, so reissuing the slip ends every session opened with the old one.

The artisan's own pages are Arabic first: Arabic unless the person chose another language
with the switch at the bottom of the page (the ``lang`` cookie).
"""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from datetime import timedelta

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, format_timedelta
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user

from .. import access, inspections
from ..models import INSPECTOR
from ..photos import PhotoError, ProcessedPhoto, process
from ..storage import storage_from_config
from . import bp, contests, credentials, own, ratelimit
from .evidence import send_rendition
from .forms import ContestForm, FixForm, PinLoginForm

ARABIC_FIRST = frozenset(
    {
        "artisan.login",
        "artisan.private_link",
        "artisan.logout",
        "artisan.me",
        "artisan.inspection",
        "artisan.contest",
        "artisan.fixed",
    }
)


# --- Language, session, errors -----------------------------------------------------------------


# A URL-value preprocessor, not a before-request hook: those of the app run first, and one of
# them may refuse the request at the edge (a body too large); the refusal speaks Arabic too.
@bp.url_value_preprocessor
def _arabic_first(endpoint: str | None, _values: dict | None) -> None:
    """Arabic unless the person switched language (the switch sets the ``lang`` cookie)."""
    if endpoint not in ARABIC_FIRST:
        return
    chosen = request.cookies.get("lang")
    stack = ExitStack()
    stack.enter_context(force_locale(chosen if chosen in current_app.config["LANGUAGES"] else "ar"))
    g.artisan_locale = stack


@bp.teardown_request
def _end_locale(_error=None):
    stack = g.pop("artisan_locale", None)
    if stack is not None:
        stack.close()


@bp.errorhandler(RateLimitExceeded)
def _too_many(error: RateLimitExceeded):
    wait = ratelimit.retry_after()
    response = current_app.make_response(
        (
            render_template(
                "artisan/too_many.html",
                wait=format_timedelta(timedelta(seconds=wait), granularity="minute", threshold=1.5),
            ),
            429,
        )
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _storage():
    return storage_from_config(current_app.config["UPLOAD_DIR"])


def _translate(error) -> str:
    return _(error.message, **error.params)


def _processed(upload) -> ProcessedPhoto | None:
    """Process an uploaded photo; None when none was sent. Raises PhotoError."""
    if upload is None or not upload.filename:
        return None
    config = current_app.config
    limit = config["MAX_PHOTO_MB"] * 1024 * 1024
    return process(
        upload.stream,  # read in place, never copied
        filename=upload.filename,
        max_bytes=limit,
        max_pixels=config["MAX_PHOTO_PIXELS"],
    )


# --- The public badge page -------------------------------------------------------------------


@bp.get("/b/<code>")
@access.public
@ratelimit.limit(ratelimit.CODE_PER_ADDRESS, key=ratelimit.address, endpoint="artisan.badge")
def badge(code: str):
    """What anyone scanning the worn badge sees: registered, name, craft, stall. Nothing more."""
    artisan = credentials.by_badge_code(code, _secret())
    if artisan is None:
        return render_template("artisan/badge_invalid.html"), 404
    stalls = own.stalls(artisan)
    inspectable = set()
    if current_user.is_authenticated and current_user.role == INSPECTOR:
        inspectable = {s.id for s in stalls if access.can_see_stall(current_user, s)}
    return render_template(
        "artisan/badge.html",
        artisan=artisan,
        stalls=stalls,
        inspectable=inspectable,
        new_id=str(uuid.uuid4()),
    )


# --- Signing in ----------------------------------------------------------------------------


@bp.get("/p/<code>")
@access.public
@ratelimit.limit(ratelimit.CODE_PER_ADDRESS, key=ratelimit.address, endpoint="artisan.private_link")
def private_link(code: str):
    """The QR code on the slip: opens the artisan's page on this phone."""
    artisan = credentials.by_private_code(code, _secret())
    if artisan is None:
        return render_template("artisan/link_invalid.html"), 404
    access.sign_in_artisan(artisan)
    return redirect(url_for("artisan.me"))


@bp.route("/login", methods=["GET", "POST"])
@access.public
@ratelimit.limit(
    ratelimit.PIN_PER_CARD, key=ratelimit.card_number, endpoint="artisan.login", methods=["POST"]
)
@ratelimit.limit(
    ratelimit.PIN_PER_ADDRESS, key=ratelimit.address, endpoint="artisan.login", methods=["POST"]
)
def login():
    """Card number + PIN, for when the QR code on the slip is not at hand."""
    form = PinLoginForm()
    if request.method == "GET":
        if access.current_artisan() is not None:
            return redirect(url_for("artisan.me"))
        return render_template("artisan/login.html", form=form)
    if not form.validate_on_submit():
        return render_template("artisan/login.html", form=form), 422
    artisan = credentials.by_card_and_pin(form.card_number.data, form.pin.data, _secret())
    if artisan is None:
        # 401 is what the rate limit counts; the same words for a wrong card or a wrong PIN.
        error = _("This card number and PIN do not match. Check both on your slip.")
        return render_template("artisan/login.html", form=form, error=error), 401
    access.sign_in_artisan(artisan)
    return redirect(url_for("artisan.me"))


@bp.post("/logout")
@access.public
def logout():
    access.sign_out_artisan()
    flash(_("You left your page. Scan your slip to come back."), "success")
    return redirect(url_for("artisan.login"))


# --- The artisan's own pages -------------------------------------------------------------------


@bp.get("/me")
@access.artisan_required
def me():
    """The artisan's results in one campaign: ``?campaign=<code>``, else the current one."""
    theirs = own.artisan_campaigns(g.artisan)
    campaign = own.chosen_campaign(request.args.get("campaign", "").strip(), theirs)
    return render_template(
        "artisan/me.html",
        artisan=g.artisan,
        results=own.overview(g.artisan, campaign),
        campaign=campaign,
        campaign_links=[(row, url_for("artisan.me", campaign=row.code)) for row in theirs],
    )


@bp.get("/me/inspections/<inspection_id>")
@access.artisan_required
def inspection(inspection_id: str):
    row = access.inspection_or_404(g.artisan, inspection_id)
    checklist = inspections.checklist_of(row)
    return render_template(
        "artisan/inspection.html",
        artisan=g.artisan,
        inspection=row,
        checklist=checklist,
        answers={a.item_key: a for a in row.answers},
        photos=row.photos,
        failures=own.failures_of(row, checklist),
        show_comments=own.show_comments(checklist),
        is_latest=row.stall.latest_inspection_id == row.id,
    )


@bp.route("/me/inspections/<inspection_id>/items/<item_key>/contest", methods=["GET", "POST"])
@access.artisan_required
def contest(inspection_id: str, item_key: str):
    row = access.inspection_or_404(g.artisan, inspection_id)
    checklist = inspections.checklist_of(row)
    try:
        item = checklist.item(item_key)
    except KeyError:
        abort(404)
    answer = next((a for a in row.answers if a.item_key == item_key), None)
    waiting = contests.filed(row.id, item_key)  # pending, or decided: then it shows why
    if waiting is None and not contests.can_contest(row, item_key):
        flash(
            _("This item cannot be contested: only a failed item of your latest result can."),
            "warning",
        )
        return redirect(url_for("artisan.inspection", inspection_id=row.id))
    form = ContestForm()
    error = None
    if waiting is None and form.validate_on_submit():
        try:
            filed = contests.file_contest(
                g.artisan, row, item_key, form.message.data, _processed(form.photo.data), _storage()
            )
        except (PhotoError, contests.ContestError) as exc:
            error = _translate(exc)
        else:
            flash(
                _("Sent. Your chamber will check it and answer here.")
                if filed.created
                else _("Already sent. Your chamber will answer here."),
                "success",
            )
            return redirect(url_for("artisan.me", _anchor=f"item-{item_key}"))
    status = 422 if request.method == "POST" and waiting is None else 200
    return render_template(
        "artisan/contest.html",
        artisan=g.artisan,
        inspection=row,
        item=item,
        answer=answer,
        form=form,
        error=error,
        waiting=waiting,
        show_comments=own.show_comments(checklist),
        photos=[p for p in row.photos if p.item_key == item_key],
    ), status


@bp.route("/me/actions/<int:action_id>/fixed", methods=["GET", "POST"])
@access.artisan_required
def fixed(action_id: int):
    action = access.action_or_404(g.artisan, action_id)
    checklist = inspections.checklist_of(action.opened_by)
    item = checklist.item(action.item_key)
    if action.status != "open":
        flash(_("This item is already closed: nothing to report."), "warning")
        return redirect(url_for("artisan.me"))
    form = FixForm()
    error = None
    if form.validate_on_submit():
        try:
            photo = _processed(form.photo.data)
            reported = contests.report_fix(g.artisan, action, photo, _storage(), form.message.data)
        except (PhotoError, contests.ContestError) as exc:
            error = _translate(exc)
        else:
            flash(
                _("Thank you. An inspector will come to check it.")
                if reported.created
                else _("Already sent. An inspector will come to check it."),
                "success",
            )
            return redirect(url_for("artisan.me", _anchor=f"item-{action.item_key}"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "artisan/fixed.html", artisan=g.artisan, action=action, item=item, form=form, error=error
    ), status


@bp.get("/me/photos/<int:photo_id>/<any(display, thumb):rendition>")
@access.artisan_required
def photo(photo_id: int, rendition: str):
    """Photos of the artisan's own stall, from submitted inspections only."""
    row = access.photo_or_404(g.artisan, photo_id)
    return send_rendition(row.sha256, rendition)


@bp.get("/me/contests/<int:contest_id>/<any(display, thumb):rendition>")
@access.artisan_required
def contest_photo(contest_id: int, rendition: str):
    row = access.contest_or_404(g.artisan, contest_id)
    return send_rendition(row.photo_sha256, rendition)


@bp.get("/me/fixes/<int:report_id>/<any(display, thumb):rendition>")
@access.artisan_required
def fix_photo(report_id: int, rendition: str):
    row = access.fix_report_or_404(g.artisan, report_id)
    return send_rendition(row.photo_sha256, rendition)
