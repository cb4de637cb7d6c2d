"""What a client sends is checked once, here, before any view or extension reads it.

Views may then trust that:

- **A request body is within ``MAX_CONTENT_LENGTH``.** A larger one is refused with a 413
  before anything reads it. If a body without a declared length turns out too large while it is
  read, the 413 is raised once and the request then looks empty, so the error page, the CSRF
  check or the rate limiter reading the form after it never raise it again.
- **No text holds a NUL character** (path, query string, form fields and file names, JSON
  strings and keys): a 400. PostgreSQL cannot store NUL in text (psycopg raises ``DataError``)
  while SQLite can; refusing it here gives the same answer on both.
- **An id fits the database's integer column** (signed 32 bits, the smaller of PostgreSQL's
  ``integer`` and SQLite's 64 bits): the ``int`` URL converter matches nothing beyond it (a
  404), and ``request.args.get(name, type=int)`` / ``request.form.get(..., type=int)`` refuse
  it with a 400 (a value that is not a number still gives the default). JSON fields are
  checked by the API with :func:`is_db_int`.
- **JSON nested too deep to parse is a 400** (unreadable JSON), never a ``RecursionError``.
- **Only a JSON API takes JSON** (a blueprint declared with :func:`json_api`, whose errors are
  JSON too). Elsewhere a JSON body is a 415: Flask-WTF would otherwise read it as the form, with
  numbers and lists where the views expect text.

Invalid UTF-8 needs nothing here: Werkzeug decodes the path, query string and form with
replacement characters, and JSON that is not UTF-8 fails to parse (a 400).
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, abort, current_app, request
from flask import Request as FlaskRequest
from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, ValidationError

DB_INT_MAX = 2**31 - 1
DB_INT_MIN = -(2**31)
_DIGITS = len(str(DB_INT_MAX))
_NUMBER = re.compile(r"[+-]?[0-9]+")


def is_db_int(value: Any) -> bool:
    """A JSON/Python integer (not a bool) that a database integer column can hold."""
    return (
        isinstance(value, int) and not isinstance(value, bool) and DB_INT_MIN <= value <= DB_INT_MAX
    )


class OutOfRange(BadRequest):
    """A number in the query string or a form beyond what the database holds."""

    message = _l("A number in what was sent is too large. Check it and try again.")


def param_int(text: str) -> int:
    """``type=int`` for query-string and form values.

    Not a number: ``ValueError`` (so ``.get`` gives its default, as before). A number the
    database cannot hold: :class:`OutOfRange`, a 400. The length is checked before ``int()``:
    a few thousand digits cost time, and beyond 4,300 Python refuses with its own error.
    """
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        raise ValueError("not a number")
    if len(stripped.lstrip("+-")) > _DIGITS or not DB_INT_MIN <= int(stripped) <= DB_INT_MAX:
        raise OutOfRange()
    return int(stripped)


class IdConverter(IntegerConverter):
    """Flask's ``<int:...>``, bounded to what the database holds: beyond, the URL is a 404."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        bound = DB_INT_MAX if max is None else builtins.min(max, DB_INT_MAX)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=bound, signed=signed)

    def to_python(self, value: str) -> int:
        if len(value.lstrip("-")) > _DIGITS:
            raise ValidationError()
        return super().to_python(value)


class Parameters(ImmutableMultiDict):
    """Query-string and form values where ``type=int`` means an integer the database holds."""

    def get(self, key, default=None, type=None):
        return super().get(key, default, param_int if type is int else type)

    def getlist(self, key, type=None):
        return super().getlist(key, param_int if type is int else type)


class Request(FlaskRequest):
    parameter_storage_class = Parameters

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except RequestEntityTooLarge:
            # Raised once; whoever reads the form next (the error page, an after-request
            # hook) finds it empty instead of raising again.
            self.__dict__.update(form=Parameters(), files=ImmutableMultiDict())
            raise


class JSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            # Flask turns a ValueError into "400 unreadable JSON" (or None when silent).
            raise ValueError("JSON nested too deeply") from None


class NulCharacter(BadRequest):
    """Text with a NUL character, which no field of this app can hold."""

    message = _l("What you sent contains a character that cannot be stored (NUL). Remove it.")


def _has_nul(values) -> bool:
    return any("\x00" in value for value in values if isinstance(value, str))


def _json_has_nul(data: Any) -> bool:
    # A loop, not recursion: the parsed JSON may be nested as deep as the parser allows.
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


_JSON_APIS = "soukcheck.json_apis"


def json_api(blueprint, render_error: Callable[[HTTPException], Any]) -> None:
    """Declare ``blueprint`` a JSON API: it takes JSON, and ``render_error`` answers its errors."""

    def record(state) -> None:
        prefix = (state.url_prefix or "").rstrip("/") + "/"
        state.app.extensions.setdefault(_JSON_APIS, []).append((prefix, render_error))

    blueprint.record_once(record)


def json_api_of(path: str) -> Callable[[HTTPException], Any] | None:
    """The error renderer of the JSON API that ``path`` is under, if any."""
    for prefix, render in current_app.extensions.get(_JSON_APIS, []):
        if path.startswith(prefix):
            return render
    return None


def _refuse_bad_input() -> None:
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)
    if request.is_json and json_api_of(request.path) is None:
        abort(415)
    if "\x00" in request.path or _has_nul(_all(request.args)):
        raise NulCharacter()
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if request.is_json:
        # A JSON body is no form and has no files (Werkzeug parses neither from it). In UTF-8
        # JSON a NUL can only be the escape \u0000 (a raw one does not parse): without it,
        # nothing to walk (the phones' submissions). Other encodings hold zero bytes: walked.
        body = request.get_data()
        if (b"\\u0000" in body or b"\x00" in body) and _json_has_nul(request.get_json(silent=True)):
            raise NulCharacter()
        return
    if _has_nul(_all(request.form)):
        raise NulCharacter()
    if _has_nul(f.filename for f in request.files.values()):
        raise NulCharacter()


def _all(multidict) -> list[str]:
    pairs = list(multidict.items(multi=True))
    return [key for key, _value in pairs] + [value for _key, value in pairs]


def init_app(app: Flask) -> None:
    """Install the checks; call before any extension adds its own before-request hooks."""
    app.request_class = Request
    app.json = JSONProvider(app)
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_bad_input)
