"""Chamber views: thin wrappers around ``figures``, ``follow_up`` and ``exports``.

Coordinators see their own region only: every view declares its rule and loads what a URL names
through the loaders of ``compliance.access``, so another region's id gives 404. Admins see the
country.
Filters ride in the query string; an htmx request (not boosted, not a history restore) gets
just the fragment that changed, any other request the whole page that includes it.

Every overview, list and export shows one campaign: ``?campaign=<code>`` if it names one, else
the running campaign, else the latest begun (``campaigns.chosen``). A campaign named in the URL
stays in every link that keeps the filters. With no campaign at all, the pages say so.
"""

from __future__ import annotations

import functools
import tempfile
from dataclasses import replace
from datetime import date

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
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import ServiceUnavailable

from .. import access, campaigns, dates, inspections, jobs, search, text_direction
from ..extensions import db, htmx
from ..models import (
    ADMIN,
    OPEN,
    SUBMITTED,
    Campaign,
    CorrectiveAction,
    Inspection,
    Province,
    Region,
    Stall,
    Venue,
)
from ..site import percent, static_file_version
from . import bp, charts, exports, figures, follow_up, rowtext
from .forms import CloseActionForm, FilterForm, MoveDueForm

LIST_LIMIT = 10
PAGE_SIZE = 50
LIST_STATES = ("failing", "never", "all")
ACTION_STATES = ("overdue", "open", "closed")


def _fragment_request() -> bool:
    # Boosted links and history restores also send HX-Request: they need the whole page.
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _rtl() -> bool:
    return text_direction() == "rtl"


# -- scope and filters -------------------------------------------------------------------------


def _scope_from_args() -> tuple[figures.Scope, dict[str, object], object]:
    """The scope named by ``region``/``province``/``venue`` in the query string, checked.

    Returns the scope, the arguments that name it (for links) and the place itself (None for
    the country). With none given, a coordinator gets their region and an admin the country.
    """
    venue_id = request.args.get("venue", type=int)
    province_id = request.args.get("province", type=int)
    code = request.args.get("region", "").strip()
    if venue_id is not None:
        venue = access.venue_or_404(current_user, venue_id)
        return figures.Scope(venue_id=venue.id), {"venue": venue.id}, venue
    if province_id is not None:
        province = access.province_or_404(current_user, province_id)
        return figures.Scope(province_id=province.id), {"province": province.id}, province
    if code:
        region = access.region_or_404(current_user, code)
        return figures.Scope(region_id=region.id), {"region": region.code}, region
    own = access.region_scope(current_user)
    if own is None:
        return figures.Scope(), {}, None
    region = db.session.get(Region, own)
    return figures.Scope(region_id=own), {"region": region.code}, region


def _filter_form(found: dict[int, figures.Place]) -> FilterForm:
    form = FilterForm(request.args, cities=figures.cities(found))
    form.validate()
    return form


# -- the campaign a page shows ------------------------------------------------------------------

# Arguments a campaign link drops: another campaign has other days and other pages.
_NOT_KEPT_ACROSS_CAMPAIGNS = ("campaign", "page", "date_from", "date_to")


class NoCampaignYet(Exception):
    """No campaign exists: the chamber pages have nothing to show yet."""


@bp.errorhandler(NoCampaignYet)
def _no_campaign(_error):
    return render_template("chamber/no_campaign.html"), 200


def _campaign() -> tuple[Campaign, figures.CampaignView]:
    """The campaign this page shows (``?campaign=<code>`` or the default), or NoCampaignYet."""
    code = request.args.get("campaign", "").strip()
    found = campaigns.chosen(code)
    if found is None:
        raise NoCampaignYet()
    return found, figures.campaign_view(found, asked=found.code == code)


def _campaign_context(campaign: Campaign) -> dict[str, object]:
    """The heading's campaign and the selector: every campaign, linked to this same page."""
    kept = {
        key: value
        for key, value in request.args.items()
        if key not in _NOT_KEPT_ACROSS_CAMPAIGNS and value
    }
    endpoint = request.endpoint or "chamber.home"
    links = [
        (row, url_for(endpoint, **(request.view_args or {}), **kept, campaign=row.code))
        for row in campaigns.all_campaigns()
    ]
    return {"campaign": campaign, "campaign_links": links}


def _filters(form: FilterForm, view: figures.CampaignView) -> figures.Filters:
    return replace(form.filters(), campaign=view)


def _filter_args(filters: figures.Filters) -> dict[str, str]:
    """The query-string form of the filters, for links that keep them."""
    campaign = filters.campaign
    values = {
        "campaign": campaign.code if campaign is not None and campaign.asked else None,
        "date_from": filters.date_from.isoformat() if filters.date_from else None,
        "date_to": filters.date_to.isoformat() if filters.date_to else None,
        "kind": filters.kind,
        "city": filters.city,
        "craft": filters.craft,
        "verdict": filters.verdict,
    }
    return {key: value for key, value in values.items() if value}


def _parent(node: object, found: dict[int, figures.Place] | None = None) -> object | None:
    """The place above ``node``: from ``found`` (the page's figures.places) when it holds it
    (no statement), else through the relationship."""
    if isinstance(node, Stall):
        return node.venue
    if isinstance(node, Venue):
        place = found.get(node.id) if found else None
        return place.province if place is not None else node.province
    if isinstance(node, (Province, figures.ProvinceRow)):
        for place in (found or {}).values():
            if place.province.id == node.id:
                return place.region
        return node.region
    return None


def _crumbs(place: object, found: dict[int, figures.Place] | None = None) -> list[tuple[str, str]]:
    """Breadcrumbs from the country (admins only) down to ``place``."""
    locale = str(get_locale())
    chain: list[object] = []
    node = place
    while node is not None:
        chain.append(node)
        node = _parent(node, found)
    crumbs: list[tuple[str, str]] = []
    if current_user.role == ADMIN:
        crumbs.append((_("Morocco"), url_for("chamber.home")))
    for node in reversed(chain):
        if isinstance(node, (Region, figures.RegionRow)):
            crumbs.append((node.name(locale), url_for("chamber.region", code=node.code)))
        elif isinstance(node, (Province, figures.ProvinceRow)):
            crumbs.append((node.name(locale), url_for("chamber.province", province_id=node.id)))
        elif isinstance(node, Venue):
            crumbs.append((node.name(locale), url_for("chamber.venue", venue_id=node.id)))
        elif isinstance(node, Stall):
            crumbs.append(
                (_("Stall %(code)s", code=node.code), url_for("chamber.stall", stall_id=node.id))
            )
    return crumbs


# -- the overview pages ----------------------------------------------------------------------


def _bars(board: figures.Dashboard, level: str, filter_args: dict) -> list[charts.Bar]:
    locale = str(get_locale())
    bars = []
    for row, tally in board.groups(level):
        if level == "region":
            href = url_for("chamber.region", code=row.code, **filter_args)
        elif level == "province":
            href = url_for("chamber.province", province_id=row.id, **filter_args)
        else:
            href = url_for("chamber.venue", venue_id=row.id, **filter_args)
        rate = tally.compliance_rate
        bars.append(
            charts.Bar(
                label=row.name(locale),
                value=rate,
                text=percent(rate)
                if rate is not None
                else _("not inspected")
                if tally.stalls or board.filters.dated  # a period counts inspections
                else _("no stall"),
                note=f"{tally.compliant}/{tally.inspected}",
                href=href,
            )
        )
    # Worst first; groups with nothing inspected go last.
    bars.sort(key=lambda bar: (bar.value is None, bar.value if bar.value is not None else 0))
    return bars


def _rule_bars(board: figures.Dashboard) -> list[charts.Bar]:
    locale = str(get_locale())
    return [
        charts.Bar(
            label=rate.label(locale),
            value=rate.rate,
            text=percent(rate.rate) if rate.rate is not None else "—",
            note=f"{rate.passed}/{rate.applicable}",
        )
        for rate in board.rules
    ]


def _overview(level: str, scope: figures.Scope, place: object, scope_args: dict):
    """Render the overview of a scope (national, region, province or venue)."""
    campaign, view = _campaign()
    found = figures.places(scope, view)
    form = _filter_form(found)
    filters = _filters(form, view)
    board = figures.dashboard(scope, filters, found)
    filter_args = _filter_args(filters)
    child = {"national": "region", "region": "province", "province": "venue"}.get(level)
    rtl = _rtl()
    context = {
        "level": level,
        "place": place,
        "scope_args": scope_args,
        "board": board,
        "form": form,
        "filters": filters,
        "filter_args": filter_args,
        "child": child,
        "groups": board.groups(child) if child else [],
        "group_chart": charts.bar_chart(
            _chart_title(child),
            _bars(board, child, filter_args),
            rtl=rtl,
        )
        if child
        else None,
        "venue_chart": charts.bar_chart(
            _("Compliance rate by venue"), _bars(board, "venue", filter_args), rtl=rtl
        )
        if level in ("region",)
        else None,
        "rule_chart": charts.bar_chart(_("Pass rate by rule"), _rule_bars(board), rtl=rtl),
        "trend_chart": charts.trend_chart(
            _("Inspections per day"),
            [
                charts.Point(day.day, day.inspections, dates.format_day(day.day))
                for day in board.trend
            ],
            rtl=rtl,
        ),
        "failing_items": figures.failing_most(board.items),
        # A venue page lists its stalls instead; the national page, the regions. With
        # dates the list is read stall by stall (each one's latest inspection within them):
        # the overview links to its own page instead of reading it.
        "worst": figures.worst_stalls(scope, filters, "failing", LIST_LIMIT)
        if level in ("region", "province") and not filters.dated
        else [],
        "overdue": figures.rows(
            figures.actions_query(scope, filters, board.today, "overdue"), LIST_LIMIT
        ),
        # A venue's worst stalls, one list page of them: the paged list has every one.
        "venue_stalls": figures.worst_stalls(scope, filters, "all", PAGE_SIZE + 1)
        if level == "venue"
        else [],
        "page_size": PAGE_SIZE,
        "crumbs": _crumbs(place, found),
        **_campaign_context(campaign),
    }
    if _fragment_request():
        return render_template("chamber/_figures.html", **context)
    return render_template("chamber/overview.html", **context)


def _chart_title(level: str | None) -> str:
    # Whole sentences, not a word slotted into one: each language has its own grammar.
    if level == "region":
        return _("Compliance rate by region")
    if level == "province":
        return _("Compliance rate by prefecture or province")
    return _("Compliance rate by venue")


@bp.get("/")
@access.roles_required(*access.CHAMBER)
def home():
    """A coordinator's region, or the whole country for an admin."""
    own = access.region_scope(current_user)
    if own is None:
        return _overview("national", figures.Scope(), None, {})
    # With its chamber, whose name heads the page (one statement, not two).
    region = db.session.get(Region, own, options=[joinedload(Region.chamber)])
    if region is None:
        abort(404)
    return _overview("region", figures.Scope(region_id=region.id), region, {"region": region.code})


@bp.get("/regions/<code>")
@access.roles_required(*access.CHAMBER)
def region(code: str):
    region = access.region_or_404(current_user, code)
    return _overview("region", figures.Scope(region_id=region.id), region, {"region": region.code})


@bp.get("/provinces/<int:province_id>")
@access.roles_required(*access.CHAMBER)
def province(province_id: int):
    province = access.province_or_404(current_user, province_id)
    return _overview(
        "province", figures.Scope(province_id=province.id), province, {"province": province.id}
    )


@bp.get("/venues/<int:venue_id>")
@access.roles_required(*access.CHAMBER)
def venue(venue_id: int):
    venue = access.venue_or_404(current_user, venue_id)
    return _overview("venue", figures.Scope(venue_id=venue.id), venue, {"venue": venue.id})


# -- lists ----------------------------------------------------------------------------------------


def _paged(fetch) -> dict[str, object]:
    """One page of a list (``?page=``), fetching one row more to know if another page follows.

    ``fetch(limit, offset)`` reads the rows.
    """
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
    found = fetch(PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
    return {"page": page, "found": found[:PAGE_SIZE], "more": len(found) > PAGE_SIZE}


@bp.get("/stalls")
@access.roles_required(*access.CHAMBER)
def stalls():
    """Stalls of a scope with their current result, worst first (or never inspected)."""
    query = request.args.get("q", "").strip()[:100]
    if query or (_fragment_request() and "q" in request.args):
        return _stall_search(query)
    scope, scope_args, place = _scope_from_args()
    state = request.args.get("state", "failing")
    if state not in LIST_STATES:
        state = "failing"
    campaign, view = _campaign()
    found = figures.places(scope, view)
    form = _filter_form(found)
    filters = _filters(form, view)
    paged = _paged(functools.partial(figures.worst_stalls, scope, filters, state))
    context = {
        "scope_args": scope_args,
        "place": place,
        "state": state,
        "form": form,
        "filters": filters,
        "filter_args": _filter_args(filters),
        "page": paged["page"],
        "stall_rows": paged["found"],
        "more": paged["more"],
        "crumbs": _crumbs(place, found),
        "list_endpoint": "chamber.stalls",
        **_campaign_context(campaign),
    }
    if _fragment_request():
        return render_template("chamber/_stall_list.html", **context)
    return render_template("chamber/stalls.html", **context)


def _stall_search(query: str):
    """A stall by code, artisan name (either script) or card number, as inspectors find one."""
    if not _fragment_request():
        exact = search.exact_stall(current_user, query)
        if exact is not None:  # an exact code or card number: the stall, not a list of one
            return redirect(url_for("chamber.stall", stall_id=exact.id))
    context = {
        "query": query,
        "stalls": search.find_stalls(current_user, query),
        "stall_endpoint": "chamber.stall",
    }
    if _fragment_request():
        return render_template("inspect/_results.html", **context)
    return render_template("chamber/search.html", **context)


@bp.get("/actions")
@access.roles_required(*access.CHAMBER)
def actions():
    """Corrective actions of a scope: overdue first, then open, or those closed lately."""
    scope, scope_args, place = _scope_from_args()
    state = request.args.get("state", "overdue")
    if state not in ACTION_STATES:
        state = "overdue"
    campaign, view = _campaign()
    found = figures.places(scope, view)
    form = _filter_form(found)
    filters = _filters(form, view)
    on = figures.today()
    listed = figures.actions_query(scope, filters, on, state)
    paged = _paged(functools.partial(figures.rows, listed))
    context = {
        "scope_args": scope_args,
        "place": place,
        "state": state,
        "form": form,
        "filters": filters,
        "filter_args": _filter_args(filters),
        "page": paged["page"],
        "action_rows": paged["found"],
        "more": paged["more"],
        "today": on,
        "items": _item_labels(),
        "crumbs": _crumbs(place, found),
        "list_endpoint": "chamber.actions",
        **_campaign_context(campaign),
    }
    if _fragment_request():
        return render_template("chamber/_action_list.html", **context)
    return render_template("chamber/actions.html", **context)


def _item_labels() -> dict[str, object]:
    return figures.item_labels(figures.checklists())


# -- a stall, an inspection, a corrective action ------------------------------------------------


@bp.get("/stalls/<int:stall_id>")
@access.roles_required(*access.CHAMBER)
def stall(stall_id: int):
    stall = access.stall_or_404(current_user, stall_id)
    history = db.session.scalars(
        select(Inspection)
        .where(Inspection.stall_id == stall.id, Inspection.status == SUBMITTED)
        .options(joinedload(Inspection.inspector))
        .order_by(Inspection.submitted_at.desc())
        .limit(50)
    ).all()
    stall_actions = db.session.scalars(
        select(CorrectiveAction)
        .where(CorrectiveAction.stall_id == stall.id)
        .order_by((CorrectiveAction.status == OPEN).desc(), CorrectiveAction.due_date)
        .limit(100)
    ).all()
    return render_template(
        "chamber/stall.html",
        stall=stall,
        history=history,
        actions=stall_actions,
        trail=follow_up.history([a.id for a in stall_actions]),
        items=_item_labels(),
        today=figures.today(),
        crumbs=_crumbs(stall),
    )


@bp.get("/inspections/<inspection_id>")
@access.roles_required(*access.CHAMBER)
def inspection(inspection_id: str):
    inspection = access.inspection_or_404(current_user, inspection_id)
    if inspection.status != SUBMITTED:
        abort(404)  # a draft is the inspector's alone
    checklist = inspections.checklist_of(inspection)
    answers = {answer.item_key: answer for answer in inspection.answers}
    photos: dict[str, list] = {}
    for photo in inspection.photos:
        photos.setdefault(photo.item_key, []).append(photo)
    opened = db.session.scalars(
        select(CorrectiveAction).where(CorrectiveAction.opened_by_id == inspection.id)
    ).all()
    return render_template(
        "chamber/inspection.html",
        inspection=inspection,
        checklist=checklist,
        answers=answers,
        photos=photos,
        opened={action.item_key: action for action in opened},
        crumbs=[*_crumbs(inspection.stall), (_("Inspection"), request.path)],
    )


def _action_page(action: CorrectiveAction, close_form=None, due_form=None, status: int = 200):
    context = {
        "action": action,
        "close_form": close_form or CloseActionForm(formdata=None),
        "due_form": due_form or MoveDueForm(formdata=None, due_date=action.due_date),
        "trail": follow_up.history([action.id]).get(action.id, []),
        "items": _item_labels(),
        "today": figures.today(),
        "crumbs": [*_crumbs(action.stall), (_("Corrective action"), request.path)],
    }
    if _fragment_request():
        return render_template("chamber/_action.html", **context), status
    return render_template("chamber/action.html", **context), status


@bp.get("/actions/<int:action_id>")
@access.roles_required(*access.CHAMBER)
def action(action_id: int):
    return _action_page(access.action_or_404(current_user, action_id))


@bp.post("/actions/<int:action_id>/close")
@access.roles_required(*access.CHAMBER)
def close_action(action_id: int):
    action = access.action_or_404(current_user, action_id)
    form = CloseActionForm()
    if action.status != OPEN:
        flash(_("This corrective action is already closed."), "warning")
    elif not form.validate_on_submit():
        return _action_page(action, close_form=form, status=422)
    else:
        try:
            follow_up.close(action, current_user, form.reason.data)
            flash(_("Corrective action closed."), "success")
        except follow_up.NotOpen:
            db.session.refresh(action)
            flash(_("This corrective action is already closed."), "warning")
    if _fragment_request():
        return _action_page(action)
    return redirect(url_for("chamber.action", action_id=action.id))


@bp.post("/actions/<int:action_id>/due")
@access.roles_required(*access.CHAMBER)
def move_due(action_id: int):
    action = access.action_or_404(current_user, action_id)
    form = MoveDueForm(opened_on=_opened_on(action))
    if action.status != OPEN:
        flash(_("This corrective action is already closed."), "warning")
    elif not form.validate_on_submit():
        return _action_page(action, due_form=form, status=422)
    else:
        try:
            if follow_up.move_due_date(
                action, current_user, form.due_date.data, form.reason.data or ""
            ):
                flash(
                    _("Due date moved to %(date)s.", date=dates.format_day(form.due_date.data)),
                    "success",
                )
        except follow_up.NotOpen:
            db.session.refresh(action)
            flash(_("This corrective action is already closed."), "warning")
    if _fragment_request():
        return _action_page(action)
    return redirect(url_for("chamber.action", action_id=action.id))


def _opened_on(action: CorrectiveAction) -> date | None:
    return action.opened_by.submitted_day if action.opened_by else None


# -- exports ------------------------------------------------------------------------------------

EXPORT_URL = (
    "/export/<any(stalls, inspections, answers, 'open-data'):dataset>"
    ".<any(xlsx, 'fr.csv', csv, 'csv.gz'):fmt>"
)


def _export_request(dataset: str, fmt: str):
    """The dataset named in the URL, for the scope and filters in the query string, checked."""
    if dataset == "open-data" and fmt != "csv":
        abort(404)  # open data is one standard CSV
    scope, scope_args, place = _scope_from_args()
    if dataset == "open-data" and (scope.province_id is not None or scope.venue_id is not None):
        abort(404)  # open data is published per region and for the country only
    campaign, view = _campaign()
    found = figures.places(scope, view)
    form = _filter_form(found)
    filters = _filters(form, view)
    on = figures.today()
    name = "-".join(
        [
            "soukcheck",
            dataset,
            campaign.code,
            *[str(v) for v in scope_args.values()],
            on.isoformat(),
        ]
    )
    return scope, filters, on, f"{name}.{fmt}", _region_of(place, found)


def _region_of(place: object, found: dict[int, figures.Place]) -> int | None:
    if isinstance(place, Region):
        return place.id
    if isinstance(place, Province):
        return place.region_id
    if isinstance(place, Venue):
        return found[place.id].region.id if place.id in found else place.province.region_id
    return None


@bp.get(EXPORT_URL)
@access.roles_required(*access.CHAMBER)
def export(dataset: str, fmt: str):
    """A small export straight away; for a large one, a page that offers to prepare it.

    Rows are counted first (stopping past ``DIRECT_ROWS``): a large export never runs inside
    a web request. A direct one is written whole to a temporary file, then sent with its
    length, so a cut connection shows as a failed download, never as a shorter file.
    """
    scope, filters, on, download_name, _region = _export_request(dataset, fmt)
    data = exports.build(dataset, scope, filters, on)
    rows = data.count(exports.DIRECT_ROWS)
    if rows > exports.DIRECT_ROWS:
        return render_template(
            "chamber/export_start.html",
            dataset=dataset,
            fmt=fmt,
            title=data.title,
            limit=exports.DIRECT_ROWS,
        )
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it once sent)
    exports.write(data, fmt, spool)
    size = spool.tell()
    spool.seek(0)
    response = send_file(
        spool,
        mimetype=exports.MIMETYPES[fmt],
        as_attachment=True,
        download_name=download_name,
        max_age=0,
    )
    response.content_length = size
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post(EXPORT_URL)
@access.roles_required(*access.CHAMBER)
def start_export(dataset: str, fmt: str):
    """Queue a large export as a background job, then show its progress (POST, redirect, GET)."""
    scope, filters, on, download_name, region_id = _export_request(dataset, fmt)
    meta = {
        "owner_id": current_user.id,
        "region_id": region_id,
        "dataset": dataset,
        "fmt": fmt,
        "download_name": download_name,
    }
    try:
        job_id = jobs.enqueue(
            exports.run_job, dataset, fmt, scope, filters, on, str(get_locale()), meta=meta
        )
    except jobs.QueueUnavailable:
        return _exports_unavailable()
    return redirect(url_for("chamber.export_job", job_id=job_id))


def _exports_unavailable():
    message = _("Large exports cannot be prepared right now. Try again in a few minutes.")
    if _fragment_request():
        return Markup('<p class="flash error" role="alert">{}</p>').format(message), 503
    return render_template("error.html", code=503, title=_("Exports"), message=message), 503


def _export_or_404(job_id: str):
    try:
        return access.export_or_404(current_user, job_id)
    except jobs.QueueUnavailable:
        abort(503)


@bp.get("/exports/<job_id>")
@access.roles_required(*access.CHAMBER)
def export_job(job_id: str):
    """A background export: its progress while it runs, its file once it is whole."""
    try:
        found = _export_or_404(job_id)
    except ServiceUnavailable:
        return _exports_unavailable()
    path = exports.file_path(found.id, found.meta["fmt"])
    context = {
        "job": found,
        "ready": found.status == "finished" and exports.fresh(path),
        "expired": found.status == "finished" and not exports.fresh(path),
        "total": found.meta.get("total"),
        "done": found.meta.get("done") or 0,
        "keep_hours": current_app.config["EXPORT_KEEP_HOURS"],
    }
    if _fragment_request():
        return render_template("chamber/_export_job.html", **context)
    return render_template("chamber/export_job.html", **context)


@bp.get("/exports/<job_id>/file")
@access.roles_required(*access.CHAMBER)
def export_file(job_id: str):
    """The finished file of a background export, to whoever may open it, for a day."""
    try:
        found = _export_or_404(job_id)
    except ServiceUnavailable:
        return _exports_unavailable()
    path = exports.file_path(found.id, found.meta["fmt"])
    if found.status != "finished" or not exports.fresh(path):
        abort(404)
    response = send_file(
        path,
        mimetype=exports.MIMETYPES[found.meta["fmt"]],
        as_attachment=True,
        download_name=found.meta["download_name"],
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.app_template_global()
def chamber_url(endpoint: str, args: dict, **more) -> str:
    """``url_for`` with a dict of query arguments merged with keyword ones."""
    merged = {**args, **more}
    return url_for(endpoint, **{key: value for key, value in merged.items() if value})


bp.add_app_template_global(rowtext.row_text, "chamber_row_text")


@bp.app_template_global()
def chamber_static(filename: str) -> str:
    """URL of a chamber static file, with its content hash: cached for a year, like the app's."""
    return url_for(
        "chamber.static", filename=filename, v=static_file_version("chamber.static", filename)
    )
