"""Site-wide pieces: template helpers, error pages and security headers."""

from __future__ import annotations

import gzip

import brotli
from flask import Flask, Response, render_template, request, url_for
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_compress import Compress
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


# Responses are compressed (Flask-Compress); versioned static files are compressed once, as
# small as possible, and kept in memory: they never change under the same ?v=.
compress = Compress()
_PACKED: dict[tuple[str, str, str], bytes] = {}
_PACKABLE = {"text/css", "text/javascript", "application/javascript", "application/json"}


def _pack_static(response: Response) -> Response:
    version = request.args.get("v")
    if (
        request.endpoint != "static"
        # Only the current version: any other ?v= would fill the memory and the CPU.
        or version != static_version((request.view_args or {}).get("filename", ""))
        or response.status_code != 200
        or response.mimetype not in _PACKABLE
    ):
        return response
    accept = request.accept_encodings
    encoding = "br" if accept["br"] else "gzip" if accept["gzip"] else None
    if encoding is None:
        return response
    key = (request.path, version, encoding)
    if key not in _PACKED:
        response.direct_passthrough = False
        raw = response.get_data()
        _PACKED[key] = (
            brotli.compress(raw, quality=11) if encoding == "br" else gzip.compress(raw, 9, mtime=0)
        )
    response.direct_passthrough = False
    response.set_data(_PACKED[key])
    response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(f"{etag}-{encoding}", weak=weak)
    return response


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
    # The locale's own pattern: in Arabic it keeps the sign beside the number (LRM), not "% 81".
    return format_percent(value)


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
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.globals["locale"] = lambda: str(get_locale())
    app.jinja_env.globals["htmx_available"] = lambda: static_version("vendor/htmx.min.js") != "0"
    # Pages: Brotli where the browser takes it (smaller than gzip at the same speed).
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    compress.init_app(app)  # its after_request runs last, after the two below

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.endpoint == "static":
            # Our CSS, JavaScript and images (no page, nothing to frame): a phone on 3G pays
            # for every header, so they carry only what they need.
            if request.args.get("v"):
                response.cache_control.no_cache = None
                response.cache_control.public = True
                response.cache_control.max_age = 31536000
                response.cache_control.immutable = True
                response.expires = None
            return response
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            response.cache_control.no_store = True
        # Pages render differently for htmx requests; caches must keep both.
        response.vary.add("HX-Request")
        response.vary.add("Cookie")
        return response

    app.after_request(_pack_static)

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
