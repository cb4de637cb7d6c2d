"""The one door: who may open which page, and which rows each may see.

Two halves, both here so the rules can be read (and tested) in one place:

- **Who may call a view.** Every view declares its rule with one decorator: :func:`public`,
  :func:`roles_required` (staff roles) or :func:`artisan_required` (an artisan's session). The
  decorator records the rule on the view as ``view.access_rule``; ``tests/test_access_door.py``
  walks the URL map and fails on any endpoint without one.
- **Which rows.** Views load what a URL names through the ``*_or_404`` loaders below, passing
  the *principal* (a staff :class:`User` or an :class:`Artisan`). Coordinators and inspectors
  see their own region, admins the country, an artisan their own stalls' submitted results; a
  draft inspection belongs to its inspector alone. Anything else gives 404, never the data and
  never a hint that it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Union

from flask import Flask, abort, current_app, flash, g, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from .edge import DB_INT_MAX
from .extensions import db
from .models import (
    ADMIN,
    COORDINATOR,
    DRAFT,
    INSPECTOR,
    RUNNING,
    SUBMITTED,
    Artisan,
    Campaign,
    CampaignVenue,
    Contest,
    CorrectiveAction,
    FixReport,
    Inspection,
    Photo,
    Province,
    Region,
    RegisterUpload,
    Stall,
    User,
    Venue,
)

Principal = Union[User, Artisan]  # noqa: UP007  (a runtime alias)

# Roles by audience, for ``roles_required(*STAFF)`` and friends.
STAFF = (INSPECTOR, COORDINATOR, ADMIN)
CHAMBER = (COORDINATOR, ADMIN)
FIELD = (INSPECTOR, ADMIN)

PUBLIC, ROLES, ARTISAN = "public", "roles", "artisan"

# An artisan's session: their id and the version of the slip that opened it.
ARTISAN_SESSION_ID = "artisan_id"
ARTISAN_SESSION_VERSION = "artisan_key_version"

# Ids beyond the database's integer range are nobody's: 404 before the database sees them.
_MAX_ID = DB_INT_MAX


@dataclass(frozen=True)
class AccessRule:
    """What a view declared: ``kind`` is public, roles or artisan.

    ``json``: the view answers anonymous callers with a 401 (the sync API's JSON errors)
    rather than a redirect to the login page.
    """

    kind: str
    roles: frozenset[str] = frozenset()
    json: bool = False

    def allows_role(self, role: str) -> bool:
        return role in self.roles


def _declare(view: Callable, rule: AccessRule) -> Callable:
    if getattr(view, "access_rule", None) is not None:
        raise TypeError(f"{view.__name__} already declares an access rule")
    view.access_rule = rule
    return view


def rule_of(view: Callable) -> AccessRule | None:
    return getattr(view, "access_rule", None)


# --- who may call a view --------------------------------------------------------------------


def public(view: Callable) -> Callable:
    """Anyone, signed in or not (login, language, the public badge page, static files)."""
    return _declare(view, AccessRule(PUBLIC))


def roles_required(*roles: str, json: bool = False) -> Callable[[Callable], Callable]:
    """A signed-in staff user with one of ``roles``; else the login page (401 if ``json``)
    for anonymous callers and 403 for other roles."""
    if not roles or any(role not in STAFF for role in roles):
        raise ValueError(f"unknown roles: {roles!r}")
    rule = AccessRule(ROLES, frozenset(roles), json)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if json:
                    abort(401)
                return current_app.login_manager.unauthorized()
            if current_user.role not in rule.roles:
                abort(403)
            return view(*args, **kwargs)

        return _declare(wrapped, rule)

    return decorate


def current_artisan() -> Artisan | None:
    """The artisan of this browser session, unless their slip was reissued since."""
    if ARTISAN_SESSION_ID not in session:
        return None
    from .artisan import credentials  # the artisan package imports this module

    artisan = credentials.session_artisan(
        session.get(ARTISAN_SESSION_ID), session.get(ARTISAN_SESSION_VERSION)
    )
    if artisan is None:  # the slip was reissued (or the artisan removed): sign out for good
        sign_out_artisan()
        flash(_("Your slip was replaced. Use your new slip to open your page."), "warning")
    return artisan


def sign_in_artisan(artisan: Artisan) -> None:
    session[ARTISAN_SESSION_ID] = artisan.id
    session[ARTISAN_SESSION_VERSION] = artisan.private_version


def sign_out_artisan() -> None:
    session.pop(ARTISAN_SESSION_ID, None)
    session.pop(ARTISAN_SESSION_VERSION, None)


def artisan_required(view: Callable) -> Callable:
    """The artisan's own pages: a valid artisan session (as ``g.artisan``), or the PIN page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        artisan = current_artisan()
        if artisan is None:
            return redirect(url_for("artisan.login"))
        g.artisan = artisan
        return view(*args, **kwargs)

    return _declare(wrapped, AccessRule(ARTISAN))


def public_endpoints(app: Flask, *endpoints: str) -> None:
    """Declare views we do not write ourselves public (Flask's static file views)."""
    for endpoint in endpoints:
        view = app.view_functions[endpoint]

        @wraps(view)
        def served(*args, _view=view, **kwargs):
            return _view(*args, **kwargs)

        app.view_functions[endpoint] = public(served)


# --- which rows: the region a staff user sees -------------------------------------------------


def region_scope(user: User) -> int | None:
    """The region a user is limited to, or None for a national (admin) account."""
    return None if user.role == ADMIN else user.region_id


def scope_stalls(query: Select, user: User) -> Select:
    """Limit a query that selects from Stall to the stalls the user may see."""
    region_id = region_scope(user)
    if region_id is None:
        return query
    return (
        query.join(Venue, Stall.venue_id == Venue.id)
        .join(Province, Venue.province_id == Province.id)
        .where(Province.region_id == region_id)
    )


def visible_stalls(user: User) -> Select:
    return scope_stalls(select(Stall), user)


def stall_region_id(stall: Stall) -> int:
    return stall.venue.province.region_id


def _in_region(user: User, region_id: int) -> bool:
    scope = region_scope(user)
    return scope is None or scope == region_id


def can_see_stall(principal: Principal, stall: Stall) -> bool:
    if isinstance(principal, Artisan):
        return stall.artisan_id == principal.id
    return _in_region(principal, stall_region_id(stall))


def can_see_inspection(principal: Principal, inspection: Inspection) -> bool:
    if isinstance(principal, Artisan):
        # An artisan sees results, never an inspection still being made.
        return inspection.status == SUBMITTED and inspection.stall.artisan_id == principal.id
    if inspection.status == DRAFT and inspection.inspector_id != principal.id:
        return False  # a draft is its inspector's alone
    return _in_region(principal, stall_region_id(inspection.stall))


def _get(model, row_id: object, *options):
    if isinstance(row_id, bool) or not isinstance(row_id, int) or not 0 < row_id <= _MAX_ID:
        return None
    return db.session.get(model, row_id, options=options)


# --- the loaders -----------------------------------------------------------------------------


def stall_or_404(principal: Principal, stall_id: int) -> Stall:
    # With its venue and province in the same query: the region check needs both; and the
    # venue's running campaign, which a new inspection of the stall goes to.
    venue = joinedload(Stall.venue)
    stall = _get(
        Stall,
        stall_id,
        venue.joinedload(Venue.province),
        venue.joinedload(Venue.running_campaign),
    )
    if stall is None or not can_see_stall(principal, stall):
        abort(404)
    return stall


@dataclass(frozen=True)
class StallRef:
    """What a phone's submission needs of a stall: its ids and the running campaign taking it
    (``campaign_id`` None when none does)."""

    id: int
    venue_id: int
    campaign_id: int | None
    campaign_version_id: int | None
    # For the day tallies the submission writes (not read again there).
    region_id: int | None = None
    craft: str | None = None


# Built once: the sync API asks it on every submission (compiled once, cached by SQLAlchemy).
_STALL_REF = (
    select(
        Stall.id,
        Stall.venue_id,
        Province.region_id,
        Campaign.id.label("campaign_id"),
        Campaign.checklist_version_id,
        Artisan.craft,
    )
    .join(Venue, Venue.id == Stall.venue_id)
    .join(Province, Province.id == Venue.province_id)
    .outerjoin(Artisan, Artisan.id == Stall.artisan_id)
    .outerjoin(CampaignVenue, CampaignVenue.venue_id == Venue.id)
    .outerjoin(Campaign, (Campaign.id == CampaignVenue.campaign_id) & (Campaign.state == RUNNING))
    .where(Stall.id == bindparam("stall_id"))
    # Other campaigns' rows of the venue come out with no campaign: the running one first.
    .order_by(Campaign.id.is_(None))
    .limit(1)
)


def stall_ref_or_404(user: User, stall_id: int) -> StallRef:
    """:func:`stall_or_404` for the sync API: the same rule, in one row and no ORM object."""
    if isinstance(stall_id, bool) or not isinstance(stall_id, int) or not 0 < stall_id <= _MAX_ID:
        abort(404)
    row = db.session.connection().execute(_STALL_REF, {"stall_id": stall_id}).first()
    if row is None or not _in_region(user, row.region_id):
        abort(404)
    return StallRef(
        row.id,
        row.venue_id,
        row.campaign_id,
        row.checklist_version_id,
        region_id=row.region_id,
        craft=row.craft,
    )


def inspection_or_404(principal: Principal, inspection_id: str) -> Inspection:
    inspection = (
        db.session.get(Inspection, inspection_id)
        if isinstance(inspection_id, str) and len(inspection_id) <= 36
        else None
    )
    if inspection is None or not can_see_inspection(principal, inspection):
        abort(404)
    return inspection


def draft_or_404(user: User, inspection_id: str) -> Inspection:
    """An inspection as its inspector's own work: the draft they are making, or one they sent
    (the phone asks what the server holds of it). Anyone else's gives 404."""
    inspection = inspection_or_404(user, inspection_id)
    if isinstance(user, Artisan) or inspection.inspector_id != user.id:
        abort(404)
    return inspection


# Built once: every photo a phone sends asks it.
_OWN_INSPECTION = (
    select(
        Inspection.id,
        Inspection.inspector_id,
        Inspection.status,
        Inspection.declared_photos,
        Inspection.verdict,
        Inspection.score,
        Province.region_id,
    )
    .join(Stall, Stall.id == Inspection.stall_id)
    .join(Venue, Venue.id == Stall.venue_id)
    .join(Province, Province.id == Venue.province_id)
    .where(Inspection.id == bindparam("inspection_id"))
)


def own_inspection_row_or_404(user: User, inspection_id: str):
    """:func:`draft_or_404` for the sync API's photo uploads: the same rule (the inspector's
    own, in their region), read as one row (id, inspector_id, status, declared_photos,
    verdict, score) with no ORM object."""
    if not isinstance(inspection_id, str) or len(inspection_id) > 36:
        abort(404)
    row = db.session.execute(_OWN_INSPECTION, {"inspection_id": inspection_id}).first()
    if row is None or row.inspector_id != user.id or not _in_region(user, row.region_id):
        abort(404)
    return row


def photo_or_404(principal: Principal, photo_id: int) -> Photo:
    photo = _get(Photo, photo_id)
    if photo is None:
        abort(404)
    inspection_or_404(principal, photo.inspection_id)
    return photo


def action_or_404(principal: Principal, action_id: int) -> CorrectiveAction:
    """A corrective action of a stall the principal sees."""
    action = _get(CorrectiveAction, action_id)
    if action is None or not can_see_stall(principal, action.stall):
        abort(404)
    return action


def contest_or_404(principal: Principal, contest_id: int) -> Contest:
    contest = _get(Contest, contest_id)
    if contest is None:
        abort(404)
    inspection_or_404(principal, contest.inspection_id)
    return contest


def fix_report_or_404(principal: Principal, report_id: int) -> FixReport:
    report = _get(FixReport, report_id)
    if report is None:
        abort(404)
    action_or_404(principal, report.corrective_action_id)
    return report


def _staff_only(principal: Principal) -> User:
    if not isinstance(principal, User):
        abort(404)  # places are the chambers' view of the country, not an artisan's
    return principal


def venue_or_404(principal: Principal, venue_id: int) -> Venue:
    user = _staff_only(principal)
    venue = _get(Venue, venue_id)
    if venue is None or not _in_region(user, venue.province.region_id):
        abort(404)
    return venue


def province_or_404(principal: Principal, province_id: int) -> Province:
    user = _staff_only(principal)
    province = _get(Province, province_id)
    if province is None or not _in_region(user, province.region_id):
        abort(404)
    return province


def campaign_or_404(principal: Principal, campaign_id: int) -> Campaign:
    """A campaign, for the chamber staff who follow it up: admins and every coordinator.

    Campaigns are national (no region), so every coordinator sees each one; what of it they
    may change (their region's venues) is checked with :func:`venue_or_404`. Inspectors never
    open these pages (they inspect in the running campaign without choosing it), artisans
    neither.
    """
    user = _staff_only(principal)
    campaign = _get(Campaign, campaign_id)
    if campaign is None or user.role not in CHAMBER:
        abort(404)
    return campaign


def region_or_404(principal: Principal, code: str) -> Region:
    user = _staff_only(principal)
    region = db.session.scalar(select(Region).where(Region.code == code[:16]))
    if region is None or not _in_region(user, region.id):
        abort(404)
    return region


# --- set-up (compliance/admin/): register files and accounts --------------------------------

# Who manages whom: admins every staff account, coordinators the inspectors of their region.
MANAGES = {ADMIN: (ADMIN, COORDINATOR, INSPECTOR), COORDINATOR: (INSPECTOR,)}


def managed_roles(user: User) -> tuple[str, ...]:
    return MANAGES.get(user.role, ())


def upload_or_404(principal: Principal, upload_id: str) -> RegisterUpload:
    """A register file waiting for (or past) its confirmation: its region's chamber's."""
    user = _staff_only(principal)
    upload = db.session.get(RegisterUpload, upload_id[:36])
    if upload is None or upload.region_id is None or not _in_region(user, upload.region_id):
        abort(404)
    return upload


def account_or_404(principal: Principal, account_id: int) -> User:
    """An account the user manages (see :data:`MANAGES`), in their region."""
    user = _staff_only(principal)
    account = _get(User, account_id)
    if account is None or account.role not in managed_roles(user):
        abort(404)
    if region_scope(user) is not None and account.region_id != region_scope(user):
        abort(404)
    return account


def can_open_export(principal: Principal, owner_id: int | None, region_id: int | None) -> bool:
    """A prepared export file: the user who asked for it, or staff who may see all it covers.

    That is an admin, or a coordinator of the export's region (a national export has no
    region: only admins besides its owner). Inspectors and artisans never open another's.
    """
    if not isinstance(principal, User):
        return False
    if owner_id is not None and principal.id == owner_id:
        return True
    if principal.role not in CHAMBER:
        return False
    scope = region_scope(principal)
    return scope is None or (region_id is not None and scope == region_id)


def export_or_404(principal: Principal, job_id: str):
    """A background export (its job's state) that the principal may open; else 404.

    Raises ``jobs.QueueUnavailable`` when Redis cannot be reached.
    """
    from . import jobs  # jobs imports nothing of ours at module level; keep it that way

    found = jobs.state(job_id) if isinstance(job_id, str) and len(job_id) <= 64 else None
    if found is None or not can_open_export(
        principal, found.meta.get("owner_id"), found.meta.get("region_id")
    ):
        abort(404)
    return found
