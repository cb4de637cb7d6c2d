"""Site-wide pieces: template helpers, error pages and security headers."""

from __future__ import annotations

from flask import Flask, Response, render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import Markup

from . import static_version, text_direction
from .forms import EmptyForm
from .labels import TEMPLATE_GLOBALS

# Our own files only: no CDN, no inline script, no web fonts.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'none'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'; worker-src 'self'; manifest-src 'self'"
)


def static_url(filename: str) -> str:
    """URL of a static file with its content hash, so it can be cached for a year."""
    return url_for("static", filename=filename, v=static_version(filename))


def localized(row, field: str = "name") -> str:
    """``row.name_ar`` / ``name_fr`` / ``name_en`` in the current language."""
    locale = str(get_locale())
    return getattr(row, f"{field}_{locale}", None) or getattr(row, f"{field}_fr")


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return format_decimal(value * 100, format="#,##0") + "\u00a0%"


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        static_url=static_url,
        localized=localized,
        text_direction=text_direction,
        languages=app.config["LANGUAGES"],
        empty_form=EmptyForm,
    )
    app.jinja_env.globals.update(TEMPLATE_GLOBALS)
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.globals["locale"] = lambda: str(get_locale())
    app.jinja_env.globals["htmx_available"] = lambda: static_version("vendor/htmx.min.js") != "0"

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint == "static" and request.args.get("v"):
            response.cache_control.public = True
            response.cache_control.max_age = 31536000
            response.cache_control.immutable = True
        elif response.mimetype == "text/html":
            response.cache_control.no_store = True
        # Pages render differently for htmx requests; caches must keep both.
        response.vary.add("HX-Request")
        response.vary.add("Cookie")
        return response

    def error_page(code: int, title: str, message: str):
        if request.headers.get("HX-Request"):
            body = Markup('<p class="flash error" role="alert">{}</p>').format(message)
            return body, code
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(403)
    def forbidden(_error):
        return error_page(403, _("Not allowed"), _("Your account cannot open this page."))

    @app.errorhandler(404)
    def not_found(_error):
        return error_page(
            404, _("Not found"), _("This page does not exist or is not yours to see.")
        )

    @app.errorhandler(413)
    def too_large(_error):
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return error_page(
            413,
            _("Too large"),
            _("What you sent is larger than %(mb)s MB. Send fewer or smaller photos.", mb=limit),
        )

    @app.errorhandler(CSRFError)
    def csrf_failed(_error):
        return error_page(
            400,
            _("Page expired"),
            _("This form has expired. Go back, reload the page and try again."),
        )
