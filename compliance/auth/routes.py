from contextlib import nullcontext
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import force_locale, format_timedelta
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_user, logout_user

from .. import access
from .. import accounts as account_rules
from ..admin.forms import ChangePasswordForm, SetPasswordForm
from ..artisan import ratelimit
from ..extensions import db, login_manager
from ..forms import EmptyForm
from ..labels import ACCOUNT_PROBLEMS, PASSWORD_PROBLEMS
from ..models import INSPECTOR, User
from . import accounts, bp
from .forms import LoginForm


@login_manager.user_loader
def load_user(session_id: str) -> User | accounts.AccountRow | None:
    # The phone's sync API (every submission goes through it) reads only the account's
    # columns: a row is enough there, and cheaper than the ORM object the pages need.
    if request.blueprint == "inspect.api":
        return accounts.row_from_session_id(session_id)
    return accounts.from_session_id(session_id)


@bp.errorhandler(RateLimitExceeded)
def _too_many(_error: RateLimitExceeded):
    """Locked: said the same way whether or not the account exists (the lock is on the name)."""
    wait = ratelimit.retry_after()
    if request.endpoint in ("auth.invitation", "auth.password"):
        return _locked(wait)
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
        return url_for("inspect.round")  # today's round first (compliance/rounds.py)
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


def _wait_text(wait: int) -> str:
    return format_timedelta(timedelta(seconds=wait), granularity="minute", threshold=1.5)


def _locked(wait: int):
    """Too many refused invitation links or current passwords from here: wait."""
    message = _(
        "For safety, this is locked for a while after several wrong tries. Try again in %(wait)s.",
        wait=_wait_text(wait),
    )
    if request.endpoint == "auth.password":
        flash(message, "error")
        page = render_template("auth/password.html", form=ChangePasswordForm(formdata=None))
    else:
        page = render_template("auth/invitation_refused.html", message=message)
    response = current_app.make_response((page, 429))
    response.headers["Retry-After"] = str(wait)
    return _private(response)


def _private(response):
    """Pages with a secret in their URL or form: never cached, never named to another site."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- invitations: a new account's owner chooses the password ---------------------------------


@bp.route("/invite/<token>", methods=["GET", "POST"])
@access.public
@ratelimit.limit(
    ratelimit.INVITATION_PER_ADDRESS,
    key=ratelimit.address,
    endpoint="auth.invitation",
    deduct_when=ratelimit.refused_link,
)
def invitation(token: str):
    """The one-time link of an invitation (compliance/accounts.py).

    Refused links (unknown, used, cancelled, expired) all get one page, 410, nothing changed.
    """
    try:
        invited = account_rules.open_invitation(db.session, token)
    except account_rules.AccountError as error:
        return _invitation_refused(error.code)
    account = invited.user
    # The language the inviter chose for the account, unless this phone already chose one.
    language = account.language if request.cookies.get("lang") is None else None
    with force_locale(language) if language else nullcontext():
        form = SetPasswordForm()
        form.username_hint = account.username
        if form.validate_on_submit():
            try:
                user = account_rules.accept_invitation(db.session, token, form.password.data)
            except account_rules.AccountError as error:
                db.session.rollback()
                if error.code not in PASSWORD_PROBLEMS:
                    return _invitation_refused(error.code)
                form.password.errors = [PASSWORD_PROBLEMS[error.code]]
            else:
                db.session.commit()
                _renew_session()
                login_user(user)
                flash(_("Your password is set. Welcome to SoukCheck."), "success")
                return redirect(home_for(user))
        page = render_template("auth/invitation.html", form=form, account=account)
    return _private(current_app.make_response((page, 400 if form.errors else 200)))


def _invitation_refused(code: str):
    page = render_template(
        "auth/invitation_refused.html", message=ACCOUNT_PROBLEMS[code], code=code
    )
    return _private(current_app.make_response((page, 410)))


# --- one's own password ---------------------------------------------------------------------


def _password_key() -> str:
    return f"password:{current_user.id if current_user.is_authenticated else '-'}"


@bp.route("/password", methods=["GET", "POST"])
@access.roles_required(*access.STAFF)
@ratelimit.limit(
    ratelimit.STAFF_PER_ACCOUNT, key=_password_key, endpoint="auth.password", methods=["POST"]
)
def password():
    """Change one's own password: the other sessions of the account end, this one stays."""
    form = ChangePasswordForm()
    form.username_hint = current_user.username
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            account_rules.change_own_password(
                db.session, user, form.current.data, form.password.data
            )
        except account_rules.AccountError as error:
            db.session.rollback()
            table = PASSWORD_PROBLEMS if error.code in PASSWORD_PROBLEMS else ACCOUNT_PROBLEMS
            field = form.current if error.code == "wrong_password" else form.password
            field.errors = [table[error.code]]
            # 401 is what the rate limit counts: guessing the current password is limited.
            status = 401 if error.code == "wrong_password" else 400
        else:
            db.session.commit()
            remember = bool(request.cookies.get(current_app.config.get(
                "REMEMBER_COOKIE_NAME", "remember_token")))  # fmt: skip
            _renew_session()
            login_user(user, remember=remember)  # this session, under the new version
            flash(_("Your password is changed. Your other sessions are ended."), "success")
            return redirect(url_for("auth.password"))
    elif form.errors:
        status = 400
    return _private(
        current_app.make_response((render_template("auth/password.html", form=form), status))
    )
