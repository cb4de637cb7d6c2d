"""Accounts: admins manage every staff account, coordinators the inspectors of their region.

The rules (who may give which role and region, invitations, the last admin) are in
``compliance/accounts.py``; accounts are loaded with :func:`access.account_or_404`, so an
account of another region, or of a role the user does not manage, is 404. An invitation link
is shown once, in the response to the POST that made it, and never stored: only its hash is.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from .. import access
from .. import accounts as account_rules
from ..artisan.badges import qr_svg
from ..extensions import db
from ..forms import EmptyForm
from ..labels import ACCOUNT_PROBLEMS, INVITATION_STATES, ROLES
from ..models import ADMIN, COORDINATOR, INSPECTOR, User
from ..site import localized
from . import bp, queries
from .forms import AccountForm, EditAccountForm

CHAMBER = access.roles_required(*access.CHAMBER)


def _isolated(text: str) -> str:
    """A username inside a sentence: isolated, so Arabic text around it keeps its order."""
    return f"\u2068{text}\u2069"


def _actor() -> account_rules.Actor:
    return account_rules.Actor.of(current_user)


def _with_choices(form: AccountForm | EditAccountForm, account: User | None = None):
    """The roles and regions this user may give; an admin may leave the region empty."""
    form.role.choices = [(role, str(ROLES[role])) for role in access.managed_roles(current_user)]
    regions = [(str(r.id), f"{r.code} · {localized(r)}") for r in queries.regions(current_user)]
    if access.region_scope(current_user) is None:
        regions.insert(0, ("", _("None: national (administrators)")))
    form.region.choices = regions
    if request.method == "GET":
        if account is not None:
            form.region.data = str(account.region_id or "")
        elif access.region_scope(current_user) is not None:
            form.region.data = str(current_user.region_id)
    return form


def _region_id(form) -> int | None:
    value = form.region.data
    return int(value) if value and str(value).isdigit() else None


def _problem_on(form, code: str) -> None:
    """Show a refusal of compliance/accounts.py under the field it is about."""
    field = {
        "username_taken": getattr(form, "username", None),
        "region_required": form.region,
        "region_not_yours": form.region,
    }.get(code) or form.role
    field.errors = [*field.errors, ACCOUNT_PROBLEMS[code]]


def _details(form) -> dict:
    """What the create and edit forms both set, as compliance/accounts.py takes it."""
    return dict(
        name=form.name.data,
        role=form.role.data,
        region_id=_region_id(form),
        language=form.language.data,
        actor=_actor(),
    )


_REFUSED = object()


def _committed(form, change):
    """Run ``change`` and commit; a refusal is rolled back and shown on the form (_REFUSED)."""
    try:
        result = change()
    except account_rules.AccountError as error:
        db.session.rollback()
        _problem_on(form, error.code)
        return _REFUSED
    db.session.commit()
    return result


@bp.get("/accounts")
@CHAMBER
def account_list():
    rows = queries.accounts(current_user)
    latest = account_rules.latest_invitations(db.session, [account.id for account in rows])
    states = {
        account.id: account_rules.invitation_state(latest.get(account.id)) for account in rows
    }
    return render_template(
        "admin/accounts.html", rows=rows, states=states, state_labels=INVITATION_STATES
    )


@bp.route("/accounts/new", methods=["GET", "POST"])
@CHAMBER
def account_new():
    form = _with_choices(AccountForm())
    if request.method == "GET":
        form.language.data = str(get_locale())
        # The account most often made: an admin invites coordinators, a coordinator inspectors.
        form.role.data = COORDINATOR if current_user.role == ADMIN else INSPECTOR
    if form.validate_on_submit():
        made = _committed(
            form,
            lambda: account_rules.create_account(
                db.session, current_user, username=form.username.data, **_details(form)
            ),
        )
        if made is not _REFUSED:
            account, token = made
            flash(
                _("Account %(username)s created.", username=_isolated(account.username)), "success"
            )
            return _invitation_page(account, token)
    return render_template("admin/accounts_form.html", form=form), (400 if form.errors else 200)


def _invitation_page(account: User, token: str):
    """The link and its QR code: shown this once, never cached, never stored."""
    link = url_for("auth.invitation", token=token, _external=True)
    page = render_template(
        "admin/accounts_invitation.html",
        account=account,
        link=link,
        qr=qr_svg(link, label=_("Invitation link of %(username)s", username=account.username)),
        expires_at=account_rules.latest_invitation(db.session, account).expires_at,
    )
    response = current_app.make_response(page)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/accounts/<int:account_id>", methods=["GET", "POST"])
@CHAMBER
def account(account_id: int):
    account = access.account_or_404(current_user, account_id)
    form = _with_choices(EditAccountForm(obj=account), account)
    if form.validate_on_submit():
        moved = _committed(
            form,
            lambda: account_rules.update_account(
                db.session, current_user, account, **_details(form)
            ),
        )
        if moved is not _REFUSED:
            flash(
                _("Account saved. Its sessions are ended: it must log in again.")
                if moved
                else _("Account saved."),
                "success",
            )
            return redirect(url_for("admin.account", account_id=account.id))
    latest = account_rules.latest_invitation(db.session, account)
    return render_template(
        "admin/accounts_edit.html",
        form=form,
        account=account,
        latest=latest,
        state=account_rules.invitation_state(latest),
        state_labels=INVITATION_STATES,
        button_form=EmptyForm(),
    ), (400 if form.errors else 200)


def _checked_button() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.post("/accounts/<int:account_id>/active")
@CHAMBER
def account_active(account_id: int):
    account = access.account_or_404(current_user, account_id)
    _checked_button()
    action = request.form.get("action")
    if action not in ("deactivate", "reactivate"):
        abort(400)
    try:
        account_rules.set_active(
            db.session, current_user, account, action == "reactivate", _actor()
        )
    except account_rules.AccountError as error:
        db.session.rollback()
        flash(str(ACCOUNT_PROBLEMS[error.code]), "error")
        return redirect(url_for("admin.account", account_id=account.id))
    db.session.commit()
    who = _isolated(account.username)
    if action == "reactivate":
        message = _(
            "%(username)s is active again: send a new invitation if they forgot their password.",
            username=who,
        )
    else:
        message = _("%(username)s is deactivated: their sessions are ended.", username=who)
    flash(message, "success")
    return redirect(url_for("admin.account", account_id=account.id))


@bp.post("/accounts/<int:account_id>/invite")
@CHAMBER
def account_invite(account_id: int):
    account = access.account_or_404(current_user, account_id)
    _checked_button()
    try:
        token = account_rules.invite(db.session, account, _actor())
    except account_rules.AccountError as error:
        db.session.rollback()
        flash(str(ACCOUNT_PROBLEMS[error.code]), "error")
        return redirect(url_for("admin.account", account_id=account.id))
    db.session.commit()
    return _invitation_page(account, token)


@bp.post("/accounts/<int:account_id>/revoke")
@CHAMBER
def account_revoke(account_id: int):
    account = access.account_or_404(current_user, account_id)
    _checked_button()
    if account_rules.revoke_invitations(db.session, account, _actor()):
        db.session.commit()
        flash(_("The invitation link is cancelled."), "success")
    else:
        flash(_("There was no invitation waiting."), "info")
    return redirect(url_for("admin.account", account_id=account.id))
