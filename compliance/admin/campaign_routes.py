"""Campaign pages: the list, an admin's form, start and close, and the venues taking part.

Admins create, edit, start and close campaigns; coordinators see every campaign and add or
remove their own region's venues (admins those of every region). The rules are in
compliance/campaigns.py: a refusal comes back as a ``CampaignError`` whose message is shown,
translated, beside the form, with nothing changed — 422 for what the user typed, 409 when the
campaign's state (or its inspections) is what refuses. A closed campaign's page is read-only.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from .. import access, campaigns, edge
from ..forms import EmptyForm
from ..models import CLOSED, PLANNED, RUNNING, Campaign
from ..site import localized
from . import bp
from . import campaign_queries as queries
from .forms import CampaignForm, CloseCampaignForm

CHAMBER = access.roles_required(*access.CHAMBER)
ADMIN = access.roles_required(access.ADMIN)

STATES = {
    PLANNED: _l("Not started yet"),
    RUNNING: _l("Running"),
    CLOSED: _l("Closed (read-only)"),
}


@bp.context_processor
def _campaign_helpers() -> dict:
    return {"campaign_state_label": lambda state: str(STATES.get(state, state))}


def _message(error: campaigns.CampaignError) -> str:
    return _(error.message, **error.params)


# --- the list and a campaign's page -----------------------------------------------------------


@bp.get("/campaigns")
@CHAMBER
def campaign_list():
    return render_template("admin/campaigns.html", rows=queries.campaigns(current_user))


def _campaign_page(campaign: Campaign, *, error: str | None = None, status: int = 200):
    return render_template(
        "admin/campaign.html",
        campaign=campaign,
        venues=queries.campaign_venues(campaign, current_user),
        form=EmptyForm(),
        error=error,
    ), status


@bp.get("/campaigns/<int:campaign_id>")
@CHAMBER
def campaign(campaign_id: int):
    return _campaign_page(access.campaign_or_404(current_user, campaign_id))


# --- admins: create, edit, start, close --------------------------------------------------------


def _campaign_form(campaign: Campaign | None = None) -> CampaignForm:
    form = CampaignForm(obj=campaign)
    form.checklist.choices = [
        (version.id, f"{version.key} v{version.version}")
        for version in queries.checklist_versions()
    ]
    if campaign is not None and request.method == "GET":
        form.checklist.data = campaign.checklist_version_id
    return form


def _data(form: CampaignForm) -> campaigns.CampaignData:
    return campaigns.CampaignData(
        code=form.code.data,
        name_ar=form.name_ar.data,
        name_fr=form.name_fr.data,
        name_en=form.name_en.data,
        first_day=form.first_day.data,
        last_day=form.last_day.data,
        checklist_version_id=form.checklist.data,
    )


def _form_page(form: CampaignForm, campaign: Campaign | None, error=None, status: int = 200):
    if status == 200 and form.errors:
        status = 422
    return render_template(
        "admin/campaign_form.html", form=form, campaign=campaign, error=error
    ), status


@bp.route("/campaigns/new", methods=["GET", "POST"])
@ADMIN
def campaign_new():
    form = _campaign_form()
    if not form.validate_on_submit():
        return _form_page(form, None)
    try:
        campaign = campaigns.create(_data(form), current_user)
    except campaigns.CampaignError as error:
        return _form_page(form, None, _message(error), 422)
    flash(_("Campaign “%(name)s” created.", name=localized(campaign)), "success")
    return redirect(url_for("admin.campaign", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@ADMIN
def campaign_edit(campaign_id: int):
    campaign = access.campaign_or_404(current_user, campaign_id)
    if campaign.closed:
        flash(_("This campaign is closed: its results can no longer change."), "error")
        return redirect(url_for("admin.campaign", campaign_id=campaign.id))
    form = _campaign_form(campaign)
    if not form.validate_on_submit():
        return _form_page(form, campaign)
    try:
        campaigns.update(campaign, _data(form), current_user)
    except campaigns.CampaignClosed as error:
        return _form_page(form, campaign, _message(error), 409)
    except campaigns.CampaignError as error:
        return _form_page(form, campaign, _message(error), 422)
    flash(_("Campaign saved."), "success")
    return redirect(url_for("admin.campaign", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/start")
@ADMIN
def campaign_start(campaign_id: int):
    campaign = access.campaign_or_404(current_user, campaign_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        campaigns.start(campaign, current_user)
    except campaigns.CampaignError as error:
        return _campaign_page(campaign, error=_message(error), status=409)
    flash(_("The campaign is running: inspectors can inspect its venues."), "success")
    return redirect(url_for("admin.campaign", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>/close", methods=["GET", "POST"])
@ADMIN
def campaign_close(campaign_id: int):
    """GET asks for confirmation (closing cannot be undone); POST with the box ticked closes."""
    campaign = access.campaign_or_404(current_user, campaign_id)
    form = CloseCampaignForm()
    error, status = None, 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                campaigns.close(campaign, current_user)
            except campaigns.CampaignError as refused:
                error, status = _message(refused), 409
            else:
                flash(_("The campaign is closed. Its results stay readable."), "success")
                return redirect(url_for("admin.campaign", campaign_id=campaign.id))
        else:
            status = 422
    return render_template(
        "admin/campaign_close.html", campaign=campaign, form=form, error=error
    ), status


# --- the venues taking part (coordinators: their region's) --------------------------------------


def _venue_ids() -> list[int]:
    """The ticked venues' ids; anything that is not an id is a bad request."""
    ids = []
    for value in request.form.getlist("venue"):
        try:
            ids.append(edge.param_int(value))
        except ValueError:
            abort(400)
    return ids


@bp.post("/campaigns/<int:campaign_id>/venues")
@CHAMBER
def campaign_add_venues(campaign_id: int):
    campaign = access.campaign_or_404(current_user, campaign_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    # Every id through the door first: another region's venue is 404 and nothing is added.
    chosen = [access.venue_or_404(current_user, venue_id) for venue_id in _venue_ids()]
    if not chosen:
        flash(_("Tick the venues that take part."), "error")
        return redirect(url_for("admin.campaign", campaign_id=campaign.id))
    added = 0
    try:
        for venue in chosen:
            added += campaigns.add_venue(campaign, venue, current_user)
    except campaigns.CampaignError as error:
        return _campaign_page(campaign, error=_message(error), status=409)
    flash(
        ngettext(
            "%(num)s venue added to the campaign.", "%(num)s venues added to the campaign.", added
        )
        if added
        else _("These venues already take part."),
        "success",
    )
    return redirect(url_for("admin.campaign", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/venues/<int:venue_id>/remove")
@CHAMBER
def campaign_remove_venue(campaign_id: int, venue_id: int):
    campaign = access.campaign_or_404(current_user, campaign_id)
    venue = access.venue_or_404(current_user, venue_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        removed = campaigns.remove_venue(campaign, venue, current_user)
    except campaigns.CampaignError as error:
        return _campaign_page(campaign, error=_message(error), status=409)
    if removed:
        flash(_("%(code)s no longer takes part in the campaign.", code=venue.code), "success")
    return redirect(url_for("admin.campaign", campaign_id=campaign.id))
