"""SoukCheck: compliance follow-up of artisans' sale spaces in Morocco, one campaign at a time."""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

from flask import Flask, current_app, g, request
from flask_babel import get_locale, get_translations
from flask_login import current_user

from . import edge
from .config import Config, check_production_secret, config_for_environment
from .extensions import babel, csrf, db, htmx, login_manager, migrate

STATIC = Path(__file__).parent / "static"


def create_app(config: type[Config] | dict | None = None) -> Flask:
    """Application factory. ``config`` is a Config class or a dict of overrides."""
    app = Flask(__name__, template_folder=str(Path(__file__).parent.parent / "templates"))
    base = config if isinstance(config, type) else config_for_environment()
    app.config.from_object(base)
    if isinstance(config, dict):
        app.config.update(config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # The dashboards run short aggregates; PostgreSQL's JIT spent 390 ms compiling one of
        # them (995 ms in all, at 2 million inspections) and never pays back on queries this
        # size, so the app's connections run without it.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"options": "-c jit=off"})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if os.environ.get("SOUKCHECK_ENV") == "production" and not app.testing:
        check_production_secret(app.config.get("SECRET_KEY"))

    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    edge.init_app(app)  # first: its checks run before any extension reads the request
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: None)
    # Templates' _() and ngettext() read this request's catalogue once (see page_translations).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: page_translations().ugettext(s),
        ngettext=lambda s, p, n: page_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: page_translations().unpgettext(c, s, p, n),
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page says it itself, translated
    # "strong" would log inspectors out each time their phone changes cell (new IP).
    login_manager.session_protection = "basic"

    from . import (
        access,
        admin,
        artisan,
        auth,
        chamber,
        cli,
        coordination,
        inspect,
        jobs,
        models,  # noqa: F401  (register tables with the metadata)
        rounds_views,
        site,
    )
    from .artisan import ratelimit

    app.register_blueprint(auth.bp)
    app.register_blueprint(inspect.bp, url_prefix="/inspect")
    app.register_blueprint(chamber.bp, url_prefix="/chamber")
    app.register_blueprint(artisan.bp, url_prefix="/a")
    app.register_blueprint(coordination.bp, url_prefix="/coordination")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(rounds_views.bp, url_prefix="/rounds")
    cli.init_app(app)
    jobs.init_app(app)
    site.init_app(app)
    # Static files (ours and any blueprint's) are public: the CSS and icons of the login page.
    access.public_endpoints(
        app, *[e for e in app.view_functions if e == "static" or e.endswith(".static")]
    )
    _sweep_photo_store(app)
    # After the routes: the limiter wraps view functions that must already be registered.
    ratelimit.init_app(app)
    return app


def _sweep_photo_store(app: Flask) -> None:
    """Remove the temporary files of photo writes killed midway (a crash, a SIGKILL).

    Cheap (one small folder) and safe with other servers sharing the store: only files older
    than any write in progress are removed. ``flask photos check`` does the thorough pass.
    """
    from .storage import storage_from_config

    try:
        removed = storage_from_config(app.config["UPLOAD_DIR"]).sweep()
    except OSError as error:  # an unreadable store must not stop the app from starting
        app.logger.warning("photo store sweep failed: %s", error)
        return
    if removed:
        app.logger.info("removed %d unfinished photo write(s)", removed)


def select_locale() -> str:
    """The user's saved language, else the browser's cookie, else Accept-Language."""
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    cookie = request.cookies.get("lang")
    if cookie in languages:
        return cookie
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


@cache
def _static_version(filename: str) -> str:
    path = STATIC / filename
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    except (OSError, ValueError):  # ValueError: a NUL in a requested name
        return "0"


def static_version(filename: str) -> str:
    return _static_version(filename)


def page_translations():
    """Flask-Babel's ``get_translations()``, looked up once per request and locale.

    A chamber page calls it a few hundred times (each Flask-Babel lookup ~5 µs).
    """
    return _once_per_locale("soukcheck_translations", get_translations)


def locale_code() -> str:
    """``str(get_locale())`` ("ar", "fr", "en"), made once per request and locale
    (get_locale() walks ``g`` three times)."""
    return _once_per_locale("soukcheck_locale_code", lambda: str(get_locale()))


def _once_per_locale(key: str, make):
    """``make()``, kept beside Flask-Babel's own state on ``g`` with the locale it was made
    for: ``force_locale`` and ``refresh`` replace that locale, so the next call makes it again.
    """
    try:
        state = g._flask_babel.__dict__
    except (AttributeError, RuntimeError):  # not chosen yet, or no app context
        return make()
    cached = state.get(key)
    locale = state.get("babel_locale")
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    value = make()
    state[key] = (get_locale(), value)
    return value


def text_direction() -> str:
    return "rtl" if locale_code() == "ar" else "ltr"
