from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_user, logout_user

from .. import access
from ..artisan import ratelimit
from ..extensions import db, login_manager
from ..forms import EmptyForm
from ..models import INSPECTOR, User
from . import accounts, bp
from .forms import LoginForm


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    return accounts.from_session_id(session_id)


@bp.errorhandler(RateLimitExceeded)
def _too_many(_error: RateLimitExceeded):
    """Locked: said the same way whether or not the account exists (the lock is on the name)."""
    wait = ratelimit.retry_after()
    flash(
        _(
            "Too many wrong passwords for this username or from this network. "
            "Try again in %(wait)s.",
            wait=format_timedelta(timedelta(seconds=wait), granularity="minute", threshold=1.5),
        ),
        "error",
    )
    response = current_app.make_response(
        (render_template("auth/login.html", form=LoginForm(formdata=None)), 429)
    )
    response.headers["Retry-After"] = str(wait)
    return response


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
@ratelimit.limit(
    ratelimit.STAFF_PER_ACCOUNT, key=ratelimit.username, endpoint="auth.login", methods=["POST"]
)
@ratelimit.limit(
    ratelimit.STAFF_PER_ADDRESS, key=ratelimit.address, endpoint="auth.login", methods=["POST"]
)
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is None:
            # 401 is what the rate limit counts; the same words for a wrong user or password.
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 401
        # A language chosen on this phone before logging in wins, and is kept on the account.
        cookie_lang = request.cookies.get("lang")
        if cookie_lang in current_app.config["LANGUAGES"] and cookie_lang != user.language:
            user.language = cookie_lang
        # A new session version: the cookies this login sets differ from any copied before.
        user.end_sessions()
        db.session.commit()
        _renew_session()
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
        # Ends this session, its remember-me cookie and any copy of them, on every device.
        current_user.end_sessions()
        db.session.commit()
        _renew_session()
        logout_user()
    return redirect(url_for("auth.login"))


def _renew_session() -> None:
    """Nothing from before carries over: a new CSRF token, no leftover keys."""
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF's token for this request, made from the old session


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
