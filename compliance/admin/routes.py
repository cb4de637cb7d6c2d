"""Set-up views: the register import, venues and stalls (accounts are in accounts.py).

Coordinators manage their own region, admins every region. The register import is two
POSTs, each answered by a streamed page: the progress of the work is written as it goes (each
step a line the CSS shows alone, so it works with no JavaScript), then the result. The file
waits between the two in the database (:class:`~compliance.models.RegisterUpload`), never in
the cookie; ``GET /admin/register/<id>`` shows the last result again.
"""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_template,
    url_for,
)
from flask_babel import format_number, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, venues
from ..chamber import tallies
from ..extensions import db
from ..forms import EmptyForm
from ..labels import STALL_PROBLEMS, UPLOAD_STATES
from ..models import RegisterUpload, Stall, Venue, audit
from ..site import localized
from ..venues import Actor, VenueError
from . import bp, importing, queries
from .forms import MoveForm, RegisterUploadForm, StallForm, VenueForm

CHAMBER = access.roles_required(*access.CHAMBER)


@bp.context_processor
def _helpers() -> dict:
    return {
        "fmt_number": format_number,
        "upload_state_label": lambda state: str(UPLOAD_STATES.get(state, state)),
    }


def _actor() -> Actor:
    return Actor(f"user:{current_user.id}", current_user.id)


@bp.get("/")
@CHAMBER
def home():
    return render_template("admin/home.html")


# --- the register -----------------------------------------------------------------------------


def _region_choices() -> list[tuple[str, str]]:
    return [(str(r.id), f"{r.code} · {localized(r)}") for r in queries.regions(current_user)]


def _upload_form() -> RegisterUploadForm:
    form = RegisterUploadForm()
    form.region.choices = _region_choices()
    if access.region_scope(current_user) is not None:
        form.region.data = str(current_user.region_id)
    return form


@bp.get("/register")
@CHAMBER
def register():
    return render_template(
        "admin/register.html", form=_upload_form(), uploads=queries.uploads(current_user)
    )


@bp.get("/register/template.xlsx")
@CHAMBER
def register_template():
    language = str(get_locale())
    data = importing.template_file(language)
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="soukcheck-register-{language}.xlsx"'
        },
    )


@bp.post("/register")
@CHAMBER
def register_upload():
    form = _upload_form()
    if not form.validate_on_submit():
        return render_template(
            "admin/register.html", form=form, uploads=queries.uploads(current_user)
        ), 400
    region = queries.region_in_scope(current_user, form.region.data)
    if access.region_scope(current_user) is not None:
        region = current_user.region
    if region is None:
        form.region.errors = [_("Choose a region.")]
        return render_template(
            "admin/register.html", form=form, uploads=queries.uploads(current_user)
        ), 400
    upload = importing.save_upload(
        form.file.data.read(), form.file.data.filename, current_user.id, region.id
    )
    return _streamed(upload, importing.run_preview(upload.id), "preview")


@bp.get("/register/<upload_id>")
@CHAMBER
def register_result(upload_id: str):
    upload = access.upload_or_404(current_user, upload_id)
    return render_template("admin/register_result.html", w=_result_words(upload))


@bp.post("/register/<upload_id>/confirm")
@CHAMBER
def register_confirm(upload_id: str):
    upload = access.upload_or_404(current_user, upload_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if upload.state != importing.PREVIEWED:
        # Already stored (a second click) or refused: show what happened, store nothing.
        return redirect(url_for("admin.register_result", upload_id=upload.id))
    steps = importing.run_commit(upload.id, f"user:{current_user.id}", current_user.id)
    return _streamed(upload, steps, "commit")


def _streamed(upload, steps, kind: str) -> Response:
    """A page written as the work goes: progress lines, then the result.

    The page is written after this request's database session is closed (Flask ends the
    request before the response is sent): the work and the result read their rows again by
    id, and what the layout reads of the user is loaded now.
    """
    upload_id, filename = upload.id, upload.filename
    db.session.refresh(current_user._get_current_object())

    def progress():
        for step in steps:
            yield {"phase": importing.phase_text(step), "done": step.done, "total": step.total}

    def result() -> dict:
        return _result_words(db.session.get(RegisterUpload, upload_id))

    response = Response(
        stream_template(
            "admin/register_stream.html",
            filename=filename,
            progress=progress(),
            kind=kind,
            result=result,
        ),
        mimetype="text/html",
    )
    # Not compressed, not buffered by a proxy: each progress line must leave at once.
    response.headers["Content-Encoding"] = "identity"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _result_words(upload) -> dict:
    """The upload's summary with every message in the user's language."""
    summary = upload.result or upload.summary or {}
    problems = summary.get("problems", [])
    shown = [
        {
            "row": p["row"],
            "column": importing.column_text(p["column"]),
            "reason": importing.row_problem_text(p),
        }
        for p in problems[: importing.SHOWN_PROBLEMS]
    ]
    file_problem = summary.get("file_problem")
    return {
        "summary": summary,
        "problems": shown,
        "more_problems": max(0, len(problems) - len(shown)),
        "file_problem": importing.file_problem_text(file_problem) if file_problem else None,
        "confirm_form": EmptyForm(),
        "upload": upload,
    }


# --- venues -----------------------------------------------------------------------------------


@bp.get("/venues")
@CHAMBER
def venue_list():
    return render_template("admin/venues.html", rows=queries.venues(current_user))


def _venue_form(venue: Venue | None = None) -> VenueForm:
    form = VenueForm(obj=venue)
    form.province.choices = [
        (p.id, f"{localized(p)} ({p.region.code})") for p in queries.provinces(current_user)
    ]
    if venue is not None and request.method == "GET":
        form.province.data = venue.province_id
    return form


def _save_venue(form: VenueForm, venue: Venue | None):
    province = queries.province_in_scope(current_user, form.province.data)
    if province is None:
        form.province.errors = [_("Choose a prefecture or province of your region.")]
        return None
    code = form.code.data or venues.next_code(db.session, form.city.data, form.kind.data)
    if venues.code_taken(db.session, code, venue.id if venue else None):
        form.code.errors = [_("Another venue already has this code.")]
        return None
    before = venues.venue_state(venue) if venue else None
    if venue is None:
        venue = Venue()
        db.session.add(venue)
    venue.code, venue.kind, venue.city = code, form.kind.data, form.city.data.strip()
    venue.province_id = province.id
    venue.name_fr, venue.name_ar = form.name_fr.data.strip(), form.name_ar.data.strip()
    venue.name_en = (form.name_en.data or "").strip() or venue.name_fr
    db.session.flush()
    action = "venue.update" if before else "venue.create"
    audit(f"user:{current_user.id}", action, "venue", venue.id, before=before,
          after=venues.venue_state(venue), actor_id=current_user.id)  # fmt: skip
    db.session.commit()
    return venue


@bp.route("/venues/new", methods=["GET", "POST"])
@CHAMBER
def venue_new():
    form = _venue_form()
    if form.validate_on_submit():
        venue = _save_venue(form, None)
        if venue is not None:
            flash(_("Venue %(code)s created.", code=venue.code), "success")
            return redirect(url_for("admin.venue", venue_id=venue.id))
    return render_template("admin/venue_form.html", form=form, venue=None), (
        400 if form.errors else 200
    )


@bp.get("/venues/<int:venue_id>")
@CHAMBER
def venue(venue_id: int):
    venue = access.venue_or_404(current_user, venue_id)
    return render_template(
        "admin/venue.html", venue=venue, stalls=queries.venue_stalls(venue), form=EmptyForm()
    )


@bp.route("/venues/<int:venue_id>/edit", methods=["GET", "POST"])
@CHAMBER
def venue_edit(venue_id: int):
    venue = access.venue_or_404(current_user, venue_id)
    form = _venue_form(venue)
    if form.validate_on_submit() and _save_venue(form, venue) is not None:
        flash(_("Venue saved."), "success")
        return redirect(url_for("admin.venue", venue_id=venue.id))
    return render_template("admin/venue_form.html", form=form, venue=venue), (
        400 if form.errors else 200
    )


# --- stalls -----------------------------------------------------------------------------------


def _save_stall(form: StallForm, venue: Venue, stall: Stall | None):
    if venues.stall_code_taken(db.session, form.code.data, stall.id if stall else None):
        form.code.errors = [_("Another stall already has this code.")]
        return None
    artisan = None
    if form.card_number.data:
        artisan = queries.artisan_by_card(form.card_number.data)
        if artisan is None:
            form.card_number.errors = [
                _("No artisan has this card number: import them with the register first.")
            ]
            return None
    before = venues.stall_state(stall) if stall else None
    if stall is None:
        stall = Stall(venue_id=venue.id)
        db.session.add(stall)
    # Another artisan may have another craft: the stall's inspections are counted again.
    recounted = [stall.id] if stall.id and stall.artisan_id != (artisan and artisan.id) else []
    tallies.uncount_stalls(recounted)
    stall.code = form.code.data
    stall.location = (form.location.data or "").strip()
    stall.location_ar = (form.location_ar.data or "").strip()
    stall.artisan_id = artisan.id if artisan else None
    db.session.flush()
    tallies.count_stalls(recounted)
    audit(f"user:{current_user.id}", "stall.update" if before else "stall.create", "stall",
          stall.id, before=before, after=venues.stall_state(stall),
          actor_id=current_user.id)  # fmt: skip
    db.session.commit()
    return stall


@bp.route("/venues/<int:venue_id>/stalls/new", methods=["GET", "POST"])
@CHAMBER
def stall_new(venue_id: int):
    venue = access.venue_or_404(current_user, venue_id)
    form = StallForm()
    if form.validate_on_submit():
        stall = _save_stall(form, venue, None)
        if stall is not None:
            flash(_("Stall %(code)s created.", code=stall.code), "success")
            return redirect(url_for("admin.venue", venue_id=venue.id))
    return render_template("admin/stall_form.html", form=form, venue=venue, stall=None), (
        400 if form.errors else 200
    )


@bp.route("/stalls/<int:stall_id>", methods=["GET", "POST"])
@CHAMBER
def stall(stall_id: int):
    stall = access.stall_or_404(current_user, stall_id)
    form = StallForm(obj=stall)
    if request.method == "GET" and stall.artisan:
        form.card_number.data = stall.artisan.nia
    if form.validate_on_submit() and _save_stall(form, stall.venue, stall) is not None:
        flash(_("Stall saved."), "success")
        return redirect(url_for("admin.venue", venue_id=stall.venue_id))
    return render_template(
        "admin/stall_form.html",
        form=form,
        venue=stall.venue,
        stall=stall,
        move_form=MoveForm(formdata=None),
        close_form=EmptyForm(),
    ), (400 if form.errors else 200)


@bp.post("/stalls/<int:stall_id>/close")
@CHAMBER
def stall_close(stall_id: int):
    stall = access.stall_or_404(current_user, stall_id)
    action = request.form.get("action")
    if EmptyForm().validate_on_submit() and action in ("close", "reopen"):
        if action == "reopen":
            venues.reopen_stall(stall, _actor())
            flash(_("Stall %(code)s is open again.", code=stall.code), "success")
        else:
            venues.close_stall(stall, _actor())
            flash(
                _("Stall %(code)s is closed: inspectors no longer see it.", code=stall.code),
                "success",
            )
        db.session.commit()
    return redirect(url_for("admin.venue", venue_id=stall.venue_id))


@bp.post("/stalls/<int:stall_id>/move")
@CHAMBER
def stall_move(stall_id: int):
    stall = access.stall_or_404(current_user, stall_id)
    form = MoveForm()
    if stall.artisan is None:
        flash(_("This stall has no artisan to move."), "error")
        return redirect(url_for("admin.stall", stall_id=stall.id))
    if form.validate_on_submit():
        target = queries.stall_by_code(current_user, form.target.data)
        try:
            if target is None:
                raise VenueError("stall_unknown", code=form.target.data)
            artisan = stall.artisan
            venues.move_artisan(db.session, artisan, stall, target, _actor())
        except VenueError as error:
            db.session.rollback()
            flash(str(STALL_PROBLEMS[error.code]) % error.params, "error")
            return redirect(url_for("admin.stall", stall_id=stall.id))
        db.session.commit()
        flash(
            _("%(name)s moved to stall %(code)s.", name=artisan.name_latin, code=target.code),
            "success",
        )
        return redirect(url_for("admin.venue", venue_id=target.venue_id))
    flash(_("Type the code of the stall the artisan moves to."), "error")
    return redirect(url_for("admin.stall", stall_id=stall.id))
