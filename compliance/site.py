"""Site-wide pieces: template helpers, error pages (JSON under the API) and security headers."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from functools import cache
from pathlib import Path

import brotli
from flask import Flask, Response, current_app, render_template, request, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_compress import Compress
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from . import dates, edge, locale_code, static_version, text_direction
from .extensions import db
from .forms import EmptyForm
from .labels import TEMPLATE_GLOBALS

# Our own files only: no CDN, no inline script, no web fonts. The one inline exception is our
# own stylesheets, inlined in the page's <head> (see ``inline_style``) and allowed by their
# SHA-256 hashes, computed at start-up: never 'unsafe-inline'.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'{styles}; "
    "script-src 'self'; connect-src 'self'; font-src 'none'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'; worker-src 'self'; "
    "manifest-src 'self'"
)

# The critical CSS: the stylesheets a page needs for its first paint, sent inside the HTML so
# that a phone on slow 3G paints after one round trip instead of two. The app's stylesheet is
# the critical CSS of every page: 8.5 KB raw, 2.5 KB compressed, and nearly each of its rules is
# above the fold on one page or another (the checklist uses most of them); the page, its
# stylesheet and its first screen fit in the first 14 KB the server sends. Coordinator pages
# add chamber.css (4.5 KB). Scripts stay files, deferred; print.css, which only the badge and
# slip sheets use, stays a file too.
INLINE_STYLES = {
    "app": Path(__file__).parent / "static" / "app.css",
    "chamber": Path(__file__).parent / "chamber" / "static" / "chamber.css",
    "rounds": Path(__file__).parent / "static" / "rounds.css",  # plan, coverage, grid, round
}


def _packed_css(text: str) -> str:
    """A stylesheet without its comments and indentation: it is sent inside every page."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _load_inline_styles() -> dict[str, tuple[Markup, str]]:
    """Each inline stylesheet as a <style> element, with the CSP source that allows it."""
    found = {}
    for name, path in INLINE_STYLES.items():
        text = _packed_css(path.read_text("utf-8"))
        if "</" in text:
            raise ValueError(f"{path} cannot be inlined: it contains '</'")
        digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
        found[name] = (Markup("<style>{}</style>").format(Markup(text)), f"'sha256-{digest}'")
    return found


# Responses are compressed (Flask-Compress); versioned static files are compressed once, as
# small as possible, and kept in memory: they never change under the same ?v=.
compress = Compress()
_PACKED: dict[tuple[str, str, str], bytes] = {}
_PACKABLE = {"text/css", "text/javascript", "application/javascript", "application/json"}


def _is_static() -> bool:
    """The app's static files or a blueprint's (``chamber.static``): no page, no session."""
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def static_file_version(endpoint: str, filename: str) -> str:
    """The content hash of a static file of the app (``static``) or of a blueprint."""
    if endpoint == "static":
        return static_version(filename)
    blueprint = current_app.blueprints.get(endpoint.removesuffix(".static"))
    if blueprint is None or not blueprint.static_folder:
        return "0"
    return _file_version(str(Path(blueprint.static_folder) / filename))


@cache
def _file_version(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def _current_version() -> bool:
    """Whether the request names a static file at its current version (``?v=<hash>``)."""
    version = request.args.get("v")
    filename = (request.view_args or {}).get("filename", "")
    return bool(version) and version == static_file_version(request.endpoint, filename)


def _pack_static(response: Response) -> Response:
    version = request.args.get("v")
    if (
        not _is_static()
        # Only the current version: any other ?v= would fill the memory and the CPU.
        or not _current_version()
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
    locale = locale_code()
    return getattr(row, f"{field}_{locale}", None) or getattr(row, f"{field}_fr")


def bdi(value) -> Markup:
    """Text of either script set apart from the sentence around it (a French comment on an
    Arabic page keeps its quotes and full stop where they belong)."""
    return Markup("<bdi>{}</bdi>").format(value) if value else Markup("")


def stall_location(stall) -> str:
    """Where the stall stands, in the page's language when the register gives it (Arabic or
    French), else in the one it has."""
    arabic, latin = getattr(stall, "location_ar", "") or "", stall.location or ""
    return (arabic or latin) if locale_code() == "ar" else (latin or arabic)


def colon() -> str:
    """What follows a label before its value: French sets a (no-break) space before ":"."""
    return "\u00a0: " if locale_code() == "fr" else ": "


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    # The locale's own pattern: in Arabic it keeps the sign beside the number (LRM), not "% 81".
    return format_percent(value)


def init_app(app: Flask) -> None:
    # Read once at start-up: the hash in the header and the bytes in the page always agree.
    styles = _load_inline_styles()
    csp = CSP.format(styles="".join(" " + source for _style, source in styles.values()))
    app.jinja_env.globals["inline_style"] = lambda name: styles[name][0]
    app.jinja_env.globals.update(
        static_url=static_url,
        localized=localized,
        text_direction=text_direction,
        languages=app.config["LANGUAGES"],
        empty_form=EmptyForm,
        colon=colon,
        stall_location=stall_location,
    )
    app.jinja_env.globals.update(TEMPLATE_GLOBALS)
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["bdi"] = bdi
    # Dates and times through one helper only (Morocco's time, one style per language): the
    # generic ones Flask-Babel adds would bring back UTC clocks and mixed styles.
    for name in ("dateformat", "datetimeformat", "timeformat", "timedeltaformat"):
        app.jinja_env.filters.pop(name, None)
    app.jinja_env.filters.update(day=dates.format_day, moment=dates.format_moment)
    app.jinja_env.globals["locale"] = locale_code
    app.jinja_env.globals["htmx_available"] = lambda: static_version("vendor/htmx.min.js") != "0"
    # Pages: Brotli where the browser takes it (smaller than gzip at the same speed).
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    compress.init_app(app)  # its after_request runs last, after the two below

    # The headers every response carries, with their values made once per app (not per response).
    hsts = app.config.get("HSTS_SECONDS")
    always = [("X-Content-Type-Options", "nosniff")]
    if hsts:
        always.append(("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains"))
    page = [
        *always,
        ("Content-Security-Policy", csp),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ]
    # Pages render differently for htmx requests; caches must keep both.
    page_vary = ("HX-Request", "Cookie")
    vary = ", ".join(page_vary)
    always = [(name.lower(), name, value) for name, value in always]
    page = [(name.lower(), name, value) for name, value in page]

    def add_missing(sent, wanted) -> None:
        """Add each header of ``wanted`` the response does not have (one pass over its own)."""
        present = {key.lower() for key, _value in sent}
        for lower, name, value in wanted:
            if lower not in present:
                sent.add(name, value)

    @app.after_request
    def headers(response: Response) -> Response:
        sent = response.headers
        # send_file marks what it sends public; a view that says private (photos) means it.
        control = sent.get("Cache-Control")
        if control and "private" in control and response.cache_control.private:
            response.cache_control.public = False
        if _is_static():
            add_missing(sent, always)
            # Our CSS, JavaScript and images (no page, nothing to frame): a phone on 3G pays
            # for every header, so they carry only what they need. A versioned name never
            # changes content: the browser keeps it a year without asking again.
            if _current_version():
                response.cache_control.no_cache = None
                response.cache_control.public = True
                response.cache_control.max_age = 31536000
                response.cache_control.immutable = True
                response.expires = None
            return response
        add_missing(sent, page)
        if response.mimetype == "text/html":
            response.cache_control.no_store = True
        if "Vary" in sent:  # a view's own Vary keeps its names, and gains ours
            for name in page_vary:
                response.vary.add(name)
        else:
            sent.add("Vary", vary)
        return response

    app.after_request(_pack_static)

    app.register_error_handler(HTTPException, _http_error)
    # A server failure is an HTTPException too (Flask wraps it in InternalServerError), so the
    # handler above answers it; this one only makes sure the failed transaction is not reused
    # by the error page.
    app.register_error_handler(InternalServerError, _server_error)


# --- Errors ------------------------------------------------------------------------------------
#
# One handler for every HTTP error, registered by class so that a blueprint's own handler for a
# class (the artisans' rate-limit page) still wins. Under a prefix registered with
# :func:`edge.json_api` (the phone's sync API) every error is JSON, even those raised before a
# blueprint is known (no route matched, wrong method) and server failures. Error pages never
# read the request's form: a 413 must not read the body it refused.


def error_text(error: HTTPException) -> tuple[str, str]:
    """A title and a message for ``error``, in the user's language."""
    message = getattr(error, "message", None)  # a typed error that says what was wrong
    code = error.code or 500
    if code == 400:
        return _("Not understood"), (
            str(message)
            if message
            else _("What was sent could not be read. Go back and try again.")
        )
    if code == 403:
        return _("Not allowed"), _("Your account cannot open this page.")
    if code == 404:
        return _("Not found"), _("This page does not exist or is not yours to see.")
    if code == 405:
        return _("Not allowed"), _(
            "This page cannot be used this way. Go back and use its buttons."
        )
    if code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return _("Too large"), _(
            "What you sent is larger than %(mb)s MB. Send fewer or smaller photos.", mb=limit
        )
    if code == 429:
        return _("Too many attempts"), _("Too many attempts. Wait a few minutes and try again.")
    if code >= 500:
        return _("Something went wrong"), _(
            "Something went wrong on our side. Try again in a moment."
        )
    return _("Not accepted"), _("This request could not be handled. Go back and try again.")


def _http_error(error: HTTPException):
    if error.code is None:  # not an error (a routing redirect): let Flask send it
        return error
    render = edge.json_api_of(request.path)
    if render is not None:
        return render(error)
    if isinstance(error, CSRFError):
        title, message = (
            _("Page expired"),
            _("This form has expired. Go back, reload the page and try again."),
        )
    else:
        title, message = error_text(error)
    code = error.code
    if request.headers.get("HX-Request"):
        body = Markup('<p class="flash error" role="alert">{}</p>').format(message)
        return body, code
    response = current_app.make_response(
        (render_template("error.html", code=code, title=title, message=message), code)
    )
    if error.code == 405 and isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.valid_methods or ())
    return response


def _server_error(error: InternalServerError):
    db.session.rollback()
    return _http_error(error)
