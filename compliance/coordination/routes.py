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
    audit,
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
    pending_count = db.session.scalar(
        _scoped_contests(select(func.count(Contest.id))).where(Contest.status == PENDING)
    )
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


@bp.get("/venues/<int:venue_id>")
@access.roles_required(*access.CHAMBER)
def venue(venue_id: int):
    row = access.venue_or_404(current_user, venue_id)
    return render_template("artisan/coordination/venue.html", venue=row, stalls=_venue_stalls(row))


def _name_sizes(artisan, arabic: float = 4.6, latin: float = 3.8) -> dict[str, str]:
    """Smaller type for names too long for two lines of a printed card (sizes as in print.css)."""
    return {
        "name_ar": badges.size_step(artisan.name_ar, arabic, bold=True),
        "name_latin": badges.size_step(artisan.name_latin, latin, bold=True),
    }


def _badge_sheets(stalls: list[Stall]) -> list[list[dict]]:
    labels = printing.badge_labels()
    cards = []
    for stall in stalls:
        badge = printing.badge_for(stall, _secret(), labels)
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
    db.session.commit()  # the codes just printed are now issued
    return [cards[i : i + BADGES_PER_SHEET] for i in range(0, len(cards), BADGES_PER_SHEET)]


@bp.get("/venues/<int:venue_id>/badges")
@access.roles_required(*access.CHAMBER)
def venue_badges(venue_id: int):
    """An A4 print page of a venue's badges: 8 per sheet, with crop marks."""
    row = access.venue_or_404(current_user, venue_id)
    return render_template(
        "artisan/coordination/badges.html", venue=row, sheets=_badge_sheets(_venue_stalls(row))
    )


@bp.get("/stalls/<int:stall_id>/badge")
@access.roles_required(*access.CHAMBER)
def stall_badge(stall_id: int):
    stall = _stall_with_artisan_or_404(stall_id)
    return render_template(
        "artisan/coordination/badges.html",
        venue=stall.venue,
        sheets=_badge_sheets([stall]),
        single=stall,
    )


@bp.get("/stalls/<int:stall_id>/badge.svg")
@access.roles_required(*access.CHAMBER)
def badge_svg(stall_id: int):
    stall = _stall_with_artisan_or_404(stall_id)
    badge = printing.badge_for(stall, _secret())
    db.session.commit()
    return _download(
        badges.badge_svg(badge, font=current_app.config.get("BADGE_FONT")),
        "image/svg+xml; charset=utf-8",
        f"badge-{stall.code}.svg",
    )


@bp.get("/stalls/<int:stall_id>/badge.png")
@access.roles_required(*access.CHAMBER)
def badge_png(stall_id: int):
    stall = _stall_with_artisan_or_404(stall_id)
    badge = printing.badge_for(stall, _secret())
    db.session.commit()
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


def _slip_sheets(stalls: list[Stall]) -> list[list[dict]]:
    cards = []
    seen = set()
    words = printing.slip_words()
    for stall in stalls:
        if stall.artisan_id in seen:  # one slip per artisan, even with two stalls
            continue
        seen.add(stall.artisan_id)
        slip = printing.slip_for(stall, _secret())
        cards.append(
            {
                "slip": slip,
                "words": words,
                "sizes": _name_sizes(stall.artisan, 3.8, 3.1),
                "qr": Markup(badges.qr_svg(slip.link, label=stall.artisan.name_latin)),
            }
        )
        # The slip shows a PIN: who printed it, and when, is on record.
        audit(
            f"user:{current_user.id}",
            "artisan.slip_print",
            "artisan",
            stall.artisan_id,
            actor_id=current_user.id,
            after={"private_version": stall.artisan.private_version},
        )
    db.session.commit()
    return [cards[i : i + SLIPS_PER_SHEET] for i in range(0, len(cards), SLIPS_PER_SHEET)]


@bp.get("/venues/<int:venue_id>/slips")
@access.roles_required(*access.CHAMBER)
def venue_slips(venue_id: int):
    """The private slips of a venue's artisans (card number, PIN, QR of the private link)."""
    row = access.venue_or_404(current_user, venue_id)
    return render_template(
        "artisan/coordination/slips.html", venue=row, sheets=_slip_sheets(_venue_stalls(row))
    )


@bp.get("/stalls/<int:stall_id>/slip")
@access.roles_required(*access.CHAMBER)
def stall_slip(stall_id: int):
    stall = _stall_with_artisan_or_404(stall_id)
    return render_template(
        "artisan/coordination/slips.html",
        venue=stall.venue,
        sheets=_slip_sheets([stall]),
        single=stall,
    )


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
            credentials.reissue_slip(stall.artisan, _secret(), current_user)
            flash(
                _(
                    "New slip issued: the old link and PIN no longer work. Print the new slip "
                    "now and give it to the artisan in person."
                ),
                "success",
            )
            return redirect(url_for("coordination.stall_slip", stall_id=stall.id))
        abort(400)
    return render_template("artisan/coordination/reissue.html", stall=stall, form=form)
