from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from .. import access
from ..extensions import db, login_manager
from ..forms import EmptyForm
from ..models import INSPECTOR, User
from . import bp
from .forms import LoginForm


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def safe_next(target: str | None) -> str | None:
    """Only follow a ``next`` that stays on this site (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user: User) -> str:
    if user.role == INSPECTOR:
        return url_for("inspect.home")
    return url_for("chamber.home")


@bp.get("/")
@access.public
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@access.public
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.username) == username))
        # The same message whether the user or the password is wrong.
        if user is None or not user.check_password(form.password.data) or not user.active:
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 200
        # A language chosen on this phone before logging in wins, and is kept on the account.
        cookie_lang = request.cookies.get("lang")
        if cookie_lang in current_app.config["LANGUAGES"] and cookie_lang != user.language:
            user.language = cookie_lang
            db.session.commit()
        login_user(user, remember=form.remember.data)
        response = redirect(safe_next(request.args.get("next")) or home_for(user))
        if user.language and cookie_lang != user.language:
            _remember_language(response, user.language)
        return response
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@access.roles_required(*access.STAFF)
def logout():
    if EmptyForm().validate_on_submit():
        logout_user()
    return redirect(url_for("auth.login"))


@bp.post("/language")
@access.public
def language():
    """Switch language: remembered on the account and in a cookie for before login."""
    lang = request.form.get("lang")
    target = safe_next(request.form.get("next")) or url_for("auth.index")
    if not EmptyForm().validate_on_submit() or lang not in current_app.config["LANGUAGES"]:
        return redirect(target)
    if current_user.is_authenticated:
        current_user.language = lang
        db.session.commit()
    response = redirect(target)
    _remember_language(response, lang)
    return response


def _remember_language(response, lang: str) -> None:
    response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
