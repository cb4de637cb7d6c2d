"""Every route of the URL map, sent every kind of bad input, by every kind of user: never a 5xx.

The kinds (each in the path, the query string, a form body and a JSON body, where it fits):
a body over the request limit, NUL characters, ids beyond the database's integer range, JSON
nested 50,000 deep, invalid UTF-8, and values of the wrong type. The users: anonymous, an
inspector, a coordinator, an admin and an artisan (through their slip).

Werkzeug's test client raises the view's exception when there is one (the app is in testing
mode), so a crash shows as a failure with its route, not as a 500 page. Under the sync API
every answer must also be JSON.
"""

from __future__ import annotations

import io
import re
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from compliance.extensions import db
from compliance.models import Contest, CorrectiveAction, FixReport, Photo

from . import factories, imagefactory
from .conftest import login
from .test_artisan_helpers import (  # noqa: F401
    badge_url,
    failing_clean_photo,
    fresh_limits,
    inspect,
    signed_in,
    tiny_checklist,
)

pytestmark = pytest.mark.usefixtures("fresh_limits")

HUGE = "2147483648"
HUGER = "9" * 40
NUL = "a\x00b"
BAD_UTF8 = "%FF%FE%C3%28"  # percent-encoded bytes that are not UTF-8
QUERY_NAMES = (
    "q",
    "venue",
    "province",
    "region",
    "page",
    "state",
    "next",
    "v",
    "date_from",
    "date_to",
    "kind",
    "city",
    "craft",
    "verdict",
)
FORM_NAMES = (
    "username",
    "password",
    "remember",
    "card_number",
    "pin",
    "lang",
    "next",
    "message",
    "reason",
    "due_date",
    "decision",
    "what",
    "action",
    "inspection_id",
    "r-clean",
    "c-clean",
    "r-welcome",
    "c-welcome",
    "stall_id",
)
API_PREFIX = "/inspect/api/"


@pytest.fixture
def world(app, region, checklist_version):
    """One of everything a route may point at, in one region."""
    version = tiny_checklist()
    stall = factories.stall(region=region)
    inspector = factories.user("inspector", region=region)
    coordinator = factories.user("coordinator", region=region)
    admin = factories.user("admin")
    done = inspect(
        stall,
        inspector,
        version,
        {"welcome": "fail", "prices": "fail", "clean": "fail"},
        photos=failing_clean_photo(),
    )
    draft = inspect(stall, inspector, version, {"welcome": "pass"}, submit=False)
    artisan = signed_in(app, stall.artisan)
    action = db.session.scalar(
        select(CorrectiveAction).where(CorrectiveAction.item_key == "prices")
    )
    photo = db.session.scalar(select(Photo).where(Photo.inspection_id == done.id))
    assert (
        artisan.post(
            f"/a/me/inspections/{done.id}/items/welcome/contest",
            data={"message": "Not true", "photo": (io.BytesIO(imagefactory.jpeg()), "c.jpg")},
            content_type="multipart/form-data",
        ).status_code
        == 302
    )
    clean = db.session.scalar(select(CorrectiveAction).where(CorrectiveAction.item_key == "clean"))
    assert (
        artisan.post(
            f"/a/me/actions/{clean.id}/fixed",
            data={"message": "Done", "photo": (io.BytesIO(imagefactory.jpeg(300, 200)), "f.jpg")},
            content_type="multipart/form-data",
        ).status_code
        == 302
    )
    values = {
        "stall_id": stall.id,
        "province_id": stall.venue.province_id,
        "venue_id": stall.venue_id,
        "action_id": action.id,
        "photo_id": photo.id,
        "contest_id": db.session.scalar(select(Contest.id)),
        "report_id": db.session.scalar(select(FixReport.id)),
        "item_key": "clean",
        "sha256": photo.sha256,
        "code": badge_url(stall.artisan).rsplit("/", 1)[1],
        "dataset": "stalls",
        "fmt": "csv",
        "rendition": "thumb",
        "filename": "app.css",
    }
    return {
        "values": values,
        "done": done.id,
        "draft": draft.id,
        "stall": stall,
        "users": {"inspector": inspector, "coordinator": coordinator, "admin": admin},
    }


PLACEHOLDER = re.compile(r"<(?:[^<>:]+:)?(\w+)>")


def _path(rule, values: dict, inspection: str, bad: dict | None = None) -> str:
    """The rule's URL with real values, or ``bad`` ones (already URL-encoded) where given."""

    def value(match) -> str:
        name = match.group(1)
        if bad and name in bad:
            return bad[name]
        if name == "inspection_id":
            return inspection
        if name == "code" and rule.endpoint == "chamber.region":
            return "MA-04"
        # A route added later with a name this walk does not know still gets a value.
        return quote(str(values.get(name, 1)))

    return PLACEHOLDER.sub(value, rule.rule)


def _inspection_for(endpoint: str, world) -> str:
    if endpoint == "inspect.api.put_inspection":
        return str(uuid.uuid4())
    if endpoint in (
        "inspect.checklist",
        "inspect.answer",
        "inspect.add_photo",
        "inspect.remove_photo",
        "inspect.submit",
    ):
        return world["draft"]
    return world["done"]


def _int_args(rule) -> list[str]:
    return [n for n, c in rule._converters.items() if type(c).__name__ == "IdConverter"]


def _text_args(rule) -> list[str]:
    return [
        n
        for n, c in rule._converters.items()
        if type(c).__name__ in ("UnicodeConverter", "PathConverter")
    ]


def _form(value) -> dict:
    return {name: value for name in FORM_NAMES}


def cases(rule, world, method: str):
    """(label, path, request kwargs) for every kind of bad input this route can receive."""
    values = world["values"]
    inspection = _inspection_for(rule.endpoint, world)
    good = _path(rule, values, inspection)
    ints, texts = _int_args(rule), _text_args(rule)
    body = method in ("POST", "PUT")

    for huge in (HUGE, HUGER):
        if ints:
            yield "huge id in path", _path(rule, values, inspection, dict.fromkeys(ints, huge)), {}
    yield "huge id in query", good + "?" + "&".join(f"{n}={HUGER}" for n in QUERY_NAMES), {}
    if texts:
        nul = {n: quote(NUL) for n in texts}
        yield "NUL in path", _path(rule, values, inspection, nul), {}
        bad_utf8 = dict.fromkeys(texts, BAD_UTF8)
        yield "invalid UTF-8 in path", _path(rule, values, inspection, bad_utf8), {}
    nul_query = "&".join(f"{n}={quote(NUL)}" for n in QUERY_NAMES)
    yield "NUL in query", f"{good}?a%00b=1&{nul_query}", {}
    yield (
        "invalid UTF-8 in query",
        good + "?" + "&".join(f"{n}={BAD_UTF8}" for n in QUERY_NAMES),
        {},
    )
    yield (
        "wrong types in query",
        good
        + "?venue=abc&province=-1&page=-5&date_from=9999-12-31&date_to=0001-01-01"
        + "&state=zzz&verdict=zzz&kind=%5B%5D&region=MA-99&q="
        + "x" * 5000
        + "&venue=1&venue=2",
        {},
    )
    yield (
        "impossible dates in query",
        good + "?date_from=0001-01-01&date_to=9999-12-31",
        {},
    )
    yield "oversize body", good, {"data": b"x" * (65 * 1024), "content_type": "text/plain"}
    if not body:
        return
    yield "NUL in form", good, {"data": _form(NUL)}
    yield (
        "NUL in a file name",
        good,
        {
            "data": {"photo": (io.BytesIO(imagefactory.jpeg()), "a\x00.jpg"), **_form("x")},
            "content_type": "multipart/form-data",
        },
    )
    yield "huge ids in form", good, {"data": _form(HUGE)}
    yield (
        "wrong types in form",
        good,
        {
            "data": MultiDict(
                [(name, value) for name in FORM_NAMES for value in ("1", "", "x" * 3000)]
                + [("due_date", "9999-12-31"), ("photo", "not a file")]
            ),
        },
    )
    yield (
        "invalid UTF-8 in form",
        good,
        {
            "data": "&".join(f"{n}={BAD_UTF8}" for n in FORM_NAMES),
            "content_type": "application/x-www-form-urlencoded",
        },
    )
    yield (
        "invalid UTF-8 in multipart",
        good,
        {
            "data": (
                b'--b\r\nContent-Disposition: form-data; name="message"\r\n\r\n\xff\xfe\r\n'
                b'--b\r\nContent-Disposition: form-data; name="photo"; filename="\xff.jpg"\r\n'
                b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n--b--\r\n"
            ),
            "content_type": "multipart/form-data; boundary=b",
        },
    )
    yield (
        "broken multipart",
        good,
        {
            "data": b'--b\r\nContent-Disposition: form-data; name="message"\r\n\r\nno end',
            "content_type": "multipart/form-data; boundary=b",
        },
    )
    if not rule.rule.startswith(API_PREFIX):
        # Only the sync API takes JSON; one body is enough to show a page form refuses it.
        yield "JSON to a page form", good, {"json": {"username": 1, "message": ["x"]}}
        return
    stall_id = values["stall_id"]
    for label, payload in (
        ("NUL in JSON", {"stall_id": stall_id, "answers": {"clean\x00": {"result": NUL}}}),
        ("NUL in a JSON key", {"a\x00": 1}),
        ("huge id in JSON", {"stall_id": 2**31, "checklist_version_id": 2**63, "answers": {}}),
        ("huger id in JSON", {"stall_id": 10**40, "checklist_version_id": -(10**40)}),
        ("wrong types in JSON", {"stall_id": "1", "answers": [], "photos": {"a": 1}}),
        ("wrong types in JSON answers", {"stall_id": stall_id, "answers": {"clean": "pass"}}),
        ("wrong types in JSON photos", {"stall_id": stall_id, "answers": {}, "photos": [1]}),
        ("a JSON list", [1, 2, 3]),
        ("a JSON string", "stall"),
        ("JSON null", None),
        ("a bool id in JSON", {"stall_id": True, "checklist_version_id": False}),
        ("a float id in JSON", {"stall_id": 1.5, "checklist_version_id": 1e308}),
    ):
        yield label, good, {"json": payload}
    yield (
        "deeply nested JSON",
        good,
        {
            "data": "[" * 50_000,
            "content_type": "application/json",
        },
    )
    yield (
        "deeply nested JSON object",
        good,
        {
            "data": '{"a":' * 50_000,
            "content_type": "application/json",
        },
    )
    yield (
        "invalid UTF-8 in JSON",
        good,
        {
            "data": b'{"stall_id": 1, "answers": {"\xff": {"result": "\xfe"}}}',
            "content_type": "application/json",
        },
    )
    yield "not JSON", good, {"data": b"{", "content_type": "application/json"}
    yield "an image that is not", good, {"data": b"\xff\xd8\xffjunk", "content_type": "image/jpeg"}


def _clients(app, world, role: str):
    """A client signed in as ``role`` and a function that signs it in again (after logout)."""
    if role == "anonymous":
        client = app.test_client()
        return client, lambda: client
    if role == "artisan":
        holder = {"client": signed_in(app, world["stall"].artisan)}

        def again():
            holder["client"] = signed_in(app, world["stall"].artisan)
            return holder["client"]

        return holder["client"], again
    user = world["users"][role]

    def fresh():
        return login(app.test_client(), user)

    return fresh(), fresh


LOGOUTS = {"auth.logout", "artisan.logout"}


@pytest.mark.parametrize("role", ["anonymous", "inspector", "coordinator", "admin", "artisan"])
def test_no_bad_input_gets_a_server_error(app, world, role, monkeypatch):
    # A small request limit, so that "over the limit" costs 65 KB a request, not 80 MB.
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    client, sign_in_again = _clients(app, world, role)
    failures, sent = [], 0
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for label, path, kwargs in cases(rule, world, method):
                sent += 1
                where = f"{method} {rule.rule} ({rule.endpoint}) as {role}: {label}"
                try:
                    response = client.open(path, method=method, **kwargs)
                except Exception as error:  # a crash is what this test looks for
                    failures.append(f"{where}: {type(error).__name__}: {error}"[:300])
                    db.session.rollback()
                    continue
                if response.status_code >= 500:
                    failures.append(f"{where}: {response.status_code}")
                elif (
                    path.startswith(API_PREFIX)
                    and response.status_code >= 400
                    and not response.is_json
                ):
                    failures.append(f"{where}: {response.status_code} not JSON")
                if rule.endpoint in LOGOUTS:
                    client = sign_in_again()
    assert sent > 600  # every route, every kind: a shrinking map would show here
    assert not failures, f"{len(failures)} of {sent} failed:\n" + "\n".join(failures)
