"""Coordinators' rounds pages (``/rounds/``): the week's plan, coverage, the venue's grid.

Thin views over :mod:`compliance.rounds`; who sees which region is :mod:`compliance.access`'s.
A coordinator plans and reads their region; an admin the country, or one region with
``?region=MA-04``.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from . import access, campaigns, dates, rounds
from .chamber import exports
from .labels import VERDICTS
from .models import Campaign, Venue

bp = Blueprint("rounds", __name__)

STATE_LABELS = {
    rounds.DUE: _l("Due again"),
    rounds.NEVER: _l("Never inspected"),
    **VERDICTS,
}
# A symbol for each state, so the grid reads without colour (and in print, in any language).
STATE_SYMBOLS = {
    rounds.DUE: "↻",
    rounds.NEVER: "○",
    "non_compliant": "✗",
    "needs_follow_up": "!",
    "compliant": "✓",
}
REASON_LABELS = {
    rounds.OVERDUE: _l("fix date passed"),
    rounds.FIX_REPORTED: _l("artisan reports it fixed"),
    rounds.CONTESTED: _l("contest accepted"),
}
# Drill-downs besides the states: what the coverage table's links ask for.
LISTS = {
    "todo": _l("To do"),
    "inspected": _l("Inspected"),
    "today": _l("Inspected today"),
}
LIST_LIMIT = 500  # on the page; the export has them all
BY = ("venue", "province", "inspector")


@bp.app_context_processor
def _globals() -> dict:
    return {
        "state_label": lambda code: str(STATE_LABELS.get(code, code)),
        "state_symbol": STATE_SYMBOLS.get,
        "reason_label": lambda code: str(REASON_LABELS.get(code, code)),
    }


def _parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return None


def _campaign() -> Campaign | None:
    return campaigns.chosen(request.values.get("campaign"))


def _region_id() -> int | None:
    """The region shown: the user's own, or for an admin the one asked for (None: all)."""
    scope = access.region_scope(current_user)
    if scope is not None:
        return scope
    code = request.values.get("region")
    return access.region_or_404(current_user, code).id if code else None


def _args(campaign: Campaign | None, **more) -> dict:
    args = {"campaign": campaign.code} if campaign is not None else {}
    if access.region_scope(current_user) is None and request.values.get("region"):
        args["region"] = request.values["region"]
    return {**args, **{k: v for k, v in more.items() if v is not None}}


def _no_campaign():
    return render_template("rounds/none.html"), 200


# --- the plan ---------------------------------------------------------------------------------


@bp.get("/")
@access.roles_required(*access.CHAMBER)
def plan():
    """The week's plan: the region's venues × seven days, each cell its inspectors."""
    campaign = _campaign()
    if campaign is None:
        return _no_campaign()
    region_id = _region_id()
    start = rounds.week_start(campaign, _parse_day(request.args.get("start")))
    venues = rounds.campaign_venues(campaign, region_id)
    week = rounds.plan(campaign, venues, start)
    return render_template(
        "rounds/plan.html",
        campaign=campaign,
        all_campaigns=campaigns.all_campaigns(),
        week=week,
        start=start,
        earlier=max(campaign.first_day, start - timedelta(days=rounds.WEEK)),
        later=start + timedelta(days=rounds.WEEK),
        args=_args(campaign),
        today=dates.today(),
        max_copy=rounds.MAX_COPY_DAYS,
    )


def _day_page(venue: Venue, campaign: Campaign, day: date, status: int = 200, form=None):
    return render_template(
        "rounds/day.html",
        venue=venue,
        campaign=campaign,
        day=day,
        assignments=rounds.day_of(venue, day),
        inspectors=rounds.inspectors(venue.province.region_id),
        args=_args(campaign),
        form=form or {},
    ), status


@bp.get("/venues/<int:venue_id>")
@access.roles_required(*access.CHAMBER)
def day(venue_id: int):
    """One venue on one day: who covers which stalls; add, change or remove."""
    venue = access.venue_or_404(current_user, venue_id)
    campaign = _campaign()
    if campaign is None:
        return _no_campaign()
    on = rounds.week_start(campaign, _parse_day(request.args.get("day")))
    return _day_page(venue, campaign, on)


@bp.post("/venues/<int:venue_id>/assign")
@access.roles_required(*access.CHAMBER)
def assign(venue_id: int):
    venue = access.venue_or_404(current_user, venue_id)
    campaign = _campaign()
    if campaign is None:
        return _no_campaign()
    on = _parse_day(request.form.get("day"))
    inspector = rounds.inspector_by_id(request.form.get("inspector", type=int))
    if on is None:
        flash(_("Choose a day."), "error")
        return _day_page(venue, campaign, campaign.first_day, 400, request.form)
    if inspector is None:
        flash(_("Choose an inspector of the sale space's region."), "error")
        return _day_page(venue, campaign, on, 400, request.form)
    try:
        rounds.assign(
            campaign,
            venue,
            on,
            inspector,
            current_user,
            request.form.get("code_from", ""),
            request.form.get("code_to", ""),
        )
    except rounds.RoundError as error:
        flash(_(error.message, **error.params), "error")
        return _day_page(venue, campaign, on, 400, request.form)
    flash(_("%(name)s is on the round.", name=inspector.name), "success")
    return redirect(url_for("rounds.day", venue_id=venue.id, day=on.isoformat(), **_args(campaign)))


@bp.post("/venues/<int:venue_id>/unassign")
@access.roles_required(*access.CHAMBER)
def unassign(venue_id: int):
    venue = access.venue_or_404(current_user, venue_id)
    campaign = _campaign()
    if campaign is None:
        return _no_campaign()
    on = _parse_day(request.form.get("day")) or campaign.first_day
    found = rounds.assignment_of(venue, on, request.form.get("inspector", type=int))
    if found is not None:
        name = found.inspector.name
        try:
            rounds.unassign(found, current_user)
        except rounds.RoundError as error:
            flash(_(error.message, **error.params), "error")
            return _day_page(venue, campaign, on, 400)
        flash(_("%(name)s is off the round.", name=name), "success")
    return redirect(url_for("rounds.day", venue_id=venue.id, day=on.isoformat(), **_args(campaign)))


@bp.post("/copy")
@access.roles_required(*access.CHAMBER)
def copy():
    """Copy a day's plan (of the region's venues, or of one venue) to the next days."""
    campaign = _campaign()
    if campaign is None:
        return _no_campaign()
    on = _parse_day(request.form.get("day"))
    days = request.form.get("days", type=int)
    venue_id = request.form.get("venue", type=int)
    if venue_id is not None:
        venues = [access.venue_or_404(current_user, venue_id)]
    else:
        venues = rounds.campaign_venues(campaign, _region_id())
    back = url_for("rounds.plan", start=on.isoformat() if on else None, **_args(campaign))
    if on is None or days is None:
        flash(_("Choose a day and how many days to copy it to."), "error")
        return redirect(back), 303
    try:
        copied = rounds.copy_day(campaign, venues, on, days, current_user)
    except rounds.RoundError as error:
        flash(_(error.message, **error.params), "error")
        return redirect(back), 303
    flash(
        _(
            "Copied to %(first)s – %(last)s: %(added)s added, %(changed)s changed, "
            "%(removed)s removed.",
            first=dates.format_day(copied.days[0]),
            last=dates.format_day(copied.days[-1]),
            added=copied.added,
            changed=copied.changed,
            removed=copied.removed,
        ),
        "success",
    )
    return redirect(back)


# --- coverage ---------------------------------------------------------------------------------


@bp.get("/coverage")
@access.roles_required(*access.CHAMBER)
def coverage():
    """Stalls inspected, never inspected and due again: per venue, province or inspector."""
    campaign = _campaign()
    if campaign is None:
        return _no_campaign()
    region_id = _region_id()
    by = request.args.get("by") if request.args.get("by") in BY else "venue"
    today = dates.today()
    places, total, people = [], None, []
    if by == "venue":
        places, total = rounds.coverage_by_venue(campaign, region_id, today)
    elif by == "province":
        places, total = rounds.coverage_by_province(campaign, region_id, today)
    else:
        people = rounds.coverage_by_inspector(campaign, region_id, today)
    return render_template(
        "rounds/coverage.html",
        campaign=campaign,
        all_campaigns=campaigns.all_campaigns(),
        by=by,
        places=places,
        total=total,
        people=people,
        today=today,
        args=_args(campaign),
    )


def _list_request():
    """The stalls a drill-down asks for: its scope (checked), its state and their facts."""
    campaign = _campaign()
    if campaign is None:
        abort(404)
    venue_id = request.args.get("venue", type=int)
    province_id = request.args.get("province", type=int)
    inspector_id = request.args.get("inspector", type=int)
    scope: dict = {"region_id": _region_id()}
    place = None
    if inspector_id is not None:
        # The stalls one inspector of the region inspected (the coverage page's drill-down).
        place = access.account_or_404(current_user, inspector_id)
        scope["inspector_id"] = place.id
    elif venue_id is not None:
        place = access.venue_or_404(current_user, venue_id)
        scope["venue_ids"] = [place.id]
    elif province_id is not None:
        place = access.province_or_404(current_user, province_id)
        scope["province_id"] = place.id
    state = request.args.get("state")
    if state not in (*rounds.STATES, *LISTS):
        state = None
    found = rounds.stalls_in_state(rounds.facts(campaign, **scope), state)
    return campaign, place, state, found


def _list_title(state: str | None) -> str:
    if state in LISTS:
        return str(LISTS[state])
    return state_label_text(state) if state else _("All stalls")


def state_label_text(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


@bp.get("/coverage/stalls")
@access.roles_required(*access.CHAMBER)
def stalls():
    campaign, place, state, found = _list_request()
    filters = {
        "venue": request.args.get("venue", type=int),
        "province": request.args.get("province", type=int),
        "inspector": request.args.get("inspector", type=int),
        "state": state,
    }
    return render_template(
        "rounds/stalls.html",
        campaign=campaign,
        place=place,
        state=state,
        title=_list_title(state),
        stalls=found[:LIST_LIMIT],
        count=len(found),
        limit=LIST_LIMIT,
        venues={v.id: v for v in rounds.campaign_venues(campaign, _region_id())},
        args=_args(campaign, **filters),
    )


@bp.get("/coverage/stalls.<any(csv, xlsx):fmt>")
@access.roles_required(*access.CHAMBER)
def export(fmt: str):
    """The drill-down's stalls as CSV or XLSX, like the chamber's other lists."""
    campaign, _place, state, found = _list_request()
    venues = {v.id: v for v in rounds.campaign_venues(campaign, _region_id())}
    dataset = rounds_dataset(found, venues, _list_title(state))
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it once sent)
    exports.write(dataset, fmt, spool)
    size = spool.tell()
    spool.seek(0)
    name = "-".join(
        ["soukcheck-coverage", campaign.code, state or "all", dates.today().isoformat()]
    )
    response = send_file(
        spool,
        mimetype=exports.MIMETYPES[fmt],
        as_attachment=True,
        download_name=f"{name}.{fmt}",
        max_age=0,
    )
    response.content_length = size
    response.headers["Cache-Control"] = "no-store"
    return response


def rounds_dataset(found: list[rounds.StallFact], venues: dict, title: str) -> exports.Dataset:
    from .site import localized

    columns = [
        exports.Column("stall_code", _l("Stall")),
        exports.Column("venue", _l("Venue"), repeats=True),
        exports.Column("location", _l("Location")),
        exports.Column("artisan_ar", _l("Name in Arabic")),
        exports.Column("artisan_latin", _l("Name in Latin letters")),
        exports.Column("state", _l("State"), words=STATE_LABELS, repeats=True),
        exports.Column("due_again_because", _l("Due again because")),
        exports.Column("inspected_today", _l("Inspected today"), kind=exports.YES_NO),
    ]

    def rows():
        for f in found:
            venue = venues.get(f.venue_id)
            yield [
                f.code,
                localized(venue) if venue is not None else "",
                f.location or f.location_ar,
                f.artisan_ar,
                f.artisan_latin,
                f.state,
                ", ".join(str(REASON_LABELS[r]) for r in f.reasons),
                f.visited_today,
            ]

    return exports.Dataset("coverage", title, columns, rows, count=lambda limit=None: len(found))


# --- the grid ---------------------------------------------------------------------------------


@bp.get("/venues/<int:venue_id>/grid")
@access.roles_required(*access.CHAMBER)
def grid(venue_id: int):
    """A venue's stalls coloured by state, with a symbol each: one A4 page for the briefing."""
    venue = access.venue_or_404(current_user, venue_id)
    campaign = _campaign()
    if campaign is None:
        return _no_campaign()
    found = rounds.facts(campaign, venue_ids=[venue.id])
    counts = {state: 0 for state in rounds.STATES}
    for fact in found:
        counts[fact.state] += 1
    today = dates.today()
    return render_template(
        "rounds/grid.html",
        venue=venue,
        campaign=campaign,
        stalls=found,
        counts=counts,
        today=today,
        on_round=rounds.day_of(venue, today),
        args=_args(campaign),
    )
