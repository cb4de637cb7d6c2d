"""Coordinator views: the contest queue, printing badges and slips, reissuing lost keys."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import access, inspections
from ..artisan import badges, contests, credentials
from ..artisan.evidence import send_rendition
from ..extensions import db
from ..forms import EmptyForm
from ..models import (
    PENDING,
    Contest,
    Inspection,
    Province,
    Stall,
    Venue,
)
from . import bp, printing
from .forms import DecisionForm

BADGES_PER_SHEET = 8
SLIPS_PER_SHEET = 6


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _translate(error) -> str:
    return _(error.message, **error.params)


def _stall_with_artisan_or_404(stall_id: int) -> Stall:
    stall = access.stall_or_404(current_user, stall_id)
    if stall.artisan is None:
        abort(404)
    return stall


def _venue_stalls(venue: Venue) -> list[Stall]:
    return list(
        db.session.scalars(
            select(Stall)
            .where(Stall.venue_id == venue.id, Stall.artisan_id.is_not(None))
            .options(joinedload(Stall.artisan))
            .order_by(Stall.code)
        )
    )


# --- Home: venues of the region -------------------------------------------------------------


@bp.get("/")
@access.roles_required(*access.CHAMBER)
def home():
    scope = access.region_scope(current_user)
    query = (
        select(Venue, func.count(Stall.id))
        .join(Province, Venue.province_id == Province.id)
        .outerjoin(Stall, Stall.venue_id == Venue.id)
        .group_by(Venue.id)
        .order_by(Venue.city, Venue.name_fr)
    )
    if scope is not None:
        query = query.where(Province.region_id == scope)
    pending_count = contests.pending_count(current_user)
    return render_template(
        "artisan/coordination/home.html",
        venues=db.session.execute(query).all(),
        pending_count=pending_count,
    )


def _scoped_contests(query):
    query = query.join(Inspection, Contest.inspection_id == Inspection.id).join(
        Stall, Inspection.stall_id == Stall.id
    )
    return access.scope_stalls(query, current_user)


# --- Contests ------------------------------------------------------------------------------


@bp.get("/contests")
@access.roles_required(*access.CHAMBER)
def queue():
    pending = db.session.scalars(
        _scoped_contests(select(Contest))
        .where(Contest.status == PENDING)
        .order_by(Contest.created_at)
    ).all()
    decided = db.session.scalars(
        _scoped_contests(select(Contest))
        .where(Contest.status != PENDING)
        .order_by(Contest.decided_at.desc())
        .limit(30)
    ).all()
    return render_template(
        "artisan/coordination/queue.html",
        pending=pending,
        decided=decided,
        checklist_of=inspections.checklist_of,
    )


@bp.route("/contests/<int:contest_id>", methods=["GET", "POST"])
@access.roles_required(*access.CHAMBER)
def contest(contest_id: int):
    row = access.contest_or_404(current_user, contest_id)
    form = DecisionForm()
    error = None
    if request.method == "POST" and row.status != PENDING:
        error = _("This contest was already decided.")
    elif request.method == "POST" and form.validate_on_submit():
        decision = request.form.get("decision")
        try:
            if decision == "accept":
                contests.accept(row, current_user, form.reason.data or "")
                flash(
                    _("Contest accepted: the item is now a pass and the result was recomputed."),
                    "success",
                )
            elif decision == "reject":
                contests.reject(row, current_user, form.reason.data or "")
                flash(_("Contest rejected. The artisan will see your reason."), "success")
            else:
                abort(400)
        except contests.ContestError as exc:
            error = _translate(exc)
        else:
            return redirect(url_for("coordination.queue"))
    inspection = row.inspection
    checklist = inspections.checklist_of(inspection)
    answer = next((a for a in inspection.answers if a.item_key == row.item_key), None)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "artisan/coordination/contest.html",
        contest=row,
        inspection=inspection,
        item=checklist.item(row.item_key),
        answer=answer,
        form=form,
        error=error,
        photos=[p for p in inspection.photos if p.item_key == row.item_key],
    ), status


@bp.get("/contests/<int:contest_id>/<any(display, thumb):rendition>")
# Evidence photos are also for the inspector who goes back to check a fix.
@access.roles_required(*access.STAFF)
def contest_photo(contest_id: int, rendition: str):
    return send_rendition(access.contest_or_404(current_user, contest_id).photo_sha256, rendition)


@bp.get("/fixes/<int:report_id>/<any(display, thumb):rendition>")
# Evidence photos are also for the inspector who goes back to check a fix.
@access.roles_required(*access.STAFF)
def fix_photo(report_id: int, rendition: str):
    """The photo an artisan sent with "fixed it", for staff of the stall's region."""
    report = access.fix_report_or_404(current_user, report_id)
    return send_rendition(report.photo_sha256, rendition)


# --- Venues: badges and slips ------------------------------------------------------------------
#
# Nothing changes on GET: the print pages and the PNG/SVG show what was issued, derived again
# from SECRET_KEY (artisan/keys.py). Issuing is a POST, on record. A slip's PIN is shown once,
# in the response of the POST that issued it, which is the page to print; a slip printed again
# later has no PIN (a lost PIN is a new slip, see ``reissue``).


@bp.get("/venues/<int:venue_id>")
@access.roles_required(*access.CHAMBER)
def venue(venue_id: int):
    row = access.venue_or_404(current_user, venue_id)
    stalls = _venue_stalls(row)
    return render_template(
        "artisan/coordination/venue.html",
        venue=row,
        stalls=stalls,
        badge_issued={s.id for s in stalls if credentials.issued_badge_code(s.artisan, _secret())},
        slip_issued={s.id for s in stalls if credentials.issued_slip_code(s.artisan, _secret())},
        form=EmptyForm(),
    )


def _name_sizes(artisan, arabic: float = 4.6, latin: float = 3.8) -> dict[str, str]:
    """Smaller type for names too long for two lines of a printed card (sizes as in print.css)."""
    return {
        "name_ar": badges.size_step(artisan.name_ar, arabic, bold=True),
        "name_latin": badges.size_step(artisan.name_latin, latin, bold=True),
    }


def _badge_cards(stalls: list[Stall]) -> tuple[list[list[dict]], list[Stall]]:
    """Sheets of the issued badges, and the stalls whose badge was never issued."""
    labels = printing.badge_labels()
    cards, missing = [], []
    for stall in stalls:
        badge = printing.badge_for(stall, _secret(), labels)
        if badge is None:
            missing.append(stall)
            continue
        cards.append(
            {
                "stall": stall,
                "badge": badge,
                "sizes": {
                    **_name_sizes(stall.artisan),
                    "venue_fr": badges.size_step(badge.venue_fr, 2.7),
                    "venue_ar": badges.size_step(badge.venue_ar, 2.7),
                },
                "qr": Markup(badges.qr_svg(badge.url, label=badge.name_latin)),
            }
        )
    return [
        cards[i : i + BADGES_PER_SHEET] for i in range(0, len(cards), BADGES_PER_SHEET)
    ], missing


def _badges_page(venue: Venue, stalls: list[Stall], single: Stall | None = None):
    sheets, missing = _badge_cards(stalls)
    return render_template(
        "artisan/coordination/badges.html",
        venue=venue,
        sheets=sheets,
        missing=missing,
        single=single,
        form=EmptyForm(),
    )


def _issue_badges(stalls: list[Stall]) -> int:
    issued = sum(credentials.issue_badge(s.artisan, _secret(), current_user) for s in stalls)
    db.session.commit()
    return issued


@bp.get("/venues/<int:venue_id>/badges")
@access.roles_required(*access.CHAMBER)
def venue_badges(venue_id: int):
    """An A4 print page of a venue's issued badges: 8 per sheet, with crop marks."""
    row = access.venue_or_404(current_user, venue_id)
    return _badges_page(row, _venue_stalls(row))


@bp.post("/venues/<int:venue_id>/badges")
@access.roles_required(*access.CHAMBER)
def issue_venue_badges(venue_id: int):
    """Issue the badges of the venue's artisans that were never issued, then print them all."""
    row = access.venue_or_404(current_user, venue_id)
    if EmptyForm().validate_on_submit():
        issued = _issue_badges(_venue_stalls(row))
        flash(ngettext("%(num)s badge issued.", "%(num)s badges issued.", issued), "success")
    return redirect(url_for("coordination.venue_badges", venue_id=row.id))


@bp.get("/stalls/<int:stall_id>/badge")
@access.roles_required(*access.CHAMBER)
def stall_badge(stall_id: int):
    stall = _stall_with_artisan_or_404(stall_id)
    return _badges_page(stall.venue, [stall], single=stall)


@bp.post("/stalls/<int:stall_id>/badge")
@access.roles_required(*access.CHAMBER)
def issue_stall_badge(stall_id: int):
    stall = _stall_with_artisan_or_404(stall_id)
    if EmptyForm().validate_on_submit() and _issue_badges([stall]):
        flash(ngettext("%(num)s badge issued.", "%(num)s badges issued.", 1), "success")
    return redirect(url_for("coordination.stall_badge", stall_id=stall.id))


def _issued_badge_or_404(stall_id: int) -> tuple[Stall, badges.Badge]:
    stall = _stall_with_artisan_or_404(stall_id)
    badge = printing.badge_for(stall, _secret())
    if badge is None:
        abort(404)  # never issued: the badge page has the button to issue it
    return stall, badge


@bp.get("/stalls/<int:stall_id>/badge.svg")
@access.roles_required(*access.CHAMBER)
def badge_svg(stall_id: int):
    stall, badge = _issued_badge_or_404(stall_id)
    return _download(
        badges.badge_svg(badge, font=current_app.config.get("BADGE_FONT")),
        "image/svg+xml; charset=utf-8",
        f"badge-{stall.code}.svg",
    )


@bp.get("/stalls/<int:stall_id>/badge.png")
@access.roles_required(*access.CHAMBER)
def badge_png(stall_id: int):
    stall, badge = _issued_badge_or_404(stall_id)
    return _download(
        badges.badge_png(badge, font=current_app.config.get("BADGE_FONT")),
        "image/png",
        f"badge-{stall.code}.png",
    )


def _download(body: str | bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    # A badge carries a live code: never kept by a shared cache.
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


def _one_per_artisan(stalls: list[Stall]) -> list[Stall]:
    seen, kept = set(), []
    for stall in stalls:
        if stall.artisan_id not in seen:  # one slip per artisan, even with two stalls
            seen.add(stall.artisan_id)
            kept.append(stall)
    return kept


def _slips_page(
    venue: Venue,
    stalls: list[Stall],
    *,
    pins: dict[int, str] | None = None,
    single: Stall | None = None,
    status: int = 200,
):
    """The print page of the issued slips of ``stalls``, with the PINs in ``pins`` (by artisan
    id: those this very request issued) and without PIN for the others."""
    pins = pins or {}
    words = printing.slip_words()
    cards, missing = [], []
    for stall in _one_per_artisan(stalls):
        slip = printing.slip_for(stall, _secret(), pins.get(stall.artisan_id))
        if slip is None:
            missing.append(stall)
            continue
        cards.append(
            {
                "slip": slip,
                "words": words,
                "sizes": _name_sizes(stall.artisan, 3.8, 3.1),
                "qr": Markup(badges.qr_svg(slip.link, label=stall.artisan.name_latin)),
            }
        )
    sheets = [cards[i : i + SLIPS_PER_SHEET] for i in range(0, len(cards), SLIPS_PER_SHEET)]
    response = render_template(
        "artisan/coordination/slips.html",
        venue=venue,
        sheets=sheets,
        missing=missing,
        single=single,
        with_pins=bool(pins),
        without_pin=sum(1 for card in cards if card["slip"].pin is None),
        form=EmptyForm(),
    )
    return response, status


def _issue_slips(stalls: list[Stall]) -> dict[int, str]:
    """Issue the slips never issued; their PINs by artisan id (shown in this response only)."""
    pins = {}
    for stall in _one_per_artisan(stalls):
        slip = credentials.issue_slip(stall.artisan, _secret(), current_user)
        if slip is not None:
            pins[stall.artisan_id] = slip.pin
    db.session.commit()
    return pins


@bp.get("/venues/<int:venue_id>/slips")
@access.roles_required(*access.CHAMBER)
def venue_slips(venue_id: int):
    """The issued private slips of a venue's artisans, without their PINs (shown once)."""
    row = access.venue_or_404(current_user, venue_id)
    return _slips_page(row, _venue_stalls(row))


@bp.post("/venues/<int:venue_id>/slips")
@access.roles_required(*access.CHAMBER)
def issue_venue_slips(venue_id: int):
    """Issue the slips never issued and answer with them, PINs included, ready to print."""
    row = access.venue_or_404(current_user, venue_id)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("coordination.venue_slips", venue_id=row.id))
    stalls = _venue_stalls(row)
    pins = _issue_slips(stalls)
    if not pins:
        flash(_("Every slip of this venue was already issued: nothing new to print."), "warning")
        return redirect(url_for("coordination.venue_slips", venue_id=row.id))
    return _slips_page(row, [s for s in stalls if s.artisan_id in pins], pins=pins)


@bp.get("/stalls/<int:stall_id>/slip")
@access.roles_required(*access.CHAMBER)
def stall_slip(stall_id: int):
    stall = _stall_with_artisan_or_404(stall_id)
    return _slips_page(stall.venue, [stall], single=stall)


@bp.post("/stalls/<int:stall_id>/slip")
@access.roles_required(*access.CHAMBER)
def issue_stall_slip(stall_id: int):
    stall = _stall_with_artisan_or_404(stall_id)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("coordination.stall_slip", stall_id=stall.id))
    pins = _issue_slips([stall])
    if not pins:
        flash(
            _("This slip was already issued. To print its PIN again, issue a new slip."),
            "warning",
        )
        return redirect(url_for("coordination.stall_slip", stall_id=stall.id))
    return _slips_page(stall.venue, [stall], pins=pins, single=stall)


# --- Reissuing lost keys -----------------------------------------------------------------------


@bp.route("/stalls/<int:stall_id>/reissue", methods=["GET", "POST"])
@access.roles_required(*access.CHAMBER)
def reissue(stall_id: int):
    """A lost badge or slip: new keys; the old ones stop working at once."""
    stall = _stall_with_artisan_or_404(stall_id)
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        what = request.form.get("what")
        if what == "badge":
            credentials.reissue_badge(stall.artisan, _secret(), current_user)
            flash(
                _("New badge issued: the old one no longer works. Print the new one now."),
                "success",
            )
            return redirect(url_for("coordination.stall_badge", stall_id=stall.id))
        if what == "slip":
            slip = credentials.reissue_slip(stall.artisan, _secret(), current_user)
            flash(
                _(
                    "New slip issued: the old link and PIN no longer work. Print the new slip "
                    "now and give it to the artisan in person."
                ),
                "success",
            )
            # The new PIN is in this response only: it is the page to print.
            return _slips_page(
                stall.venue, [stall], pins={stall.artisan_id: slip.pin}, single=stall
            )
        abort(400)
    return render_template("artisan/coordination/reissue.html", stall=stall, form=form)
