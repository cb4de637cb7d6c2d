"""Bad input gets a clear 4xx in the user's language (JSON on the sync API), and changes nothing.

Each class of input that used to end in a 500: a body over the request limit, NUL characters
(PostgreSQL refuses them in text), ids beyond the database's integer range, deeply nested JSON.
test_hostile_input.py sends all of them to every route; these tests check the answers.
"""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import func, select

from compliance.extensions import db
from compliance.models import Answer, Contest, CorrectiveAction, FixReport, Inspection, User

from .test_api_sync import payload, put
from .test_artisan_helpers import (  # noqa: F401
    failing_clean_photo,
    fresh_limits,
    inspect,
    signed_in,
    tiny_checklist,
)

pytestmark = pytest.mark.usefixtures("fresh_limits")

MB = 1024 * 1024


class Endless(io.RawIOBase):
    """A request body of ``size`` bytes made as it is read: a real 90 MB upload, not in memory."""

    def __init__(self, size: int, head: bytes = b""):
        self.head, self.size, self.pos = head, len(head) + size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the body by seeking to its end
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: 0, 1: self.pos, 2: self.size}[whence] + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.pos)
        head = self.head[self.pos : self.pos + n]
        buffer[:n] = head + b"a" * (n - len(head))
        self.pos += n
        return n


MULTIPART_HEAD = (
    b'--x\r\nContent-Disposition: form-data; name="photo"; filename="big.jpg"\r\n'
    b"Content-Type: image/jpeg\r\n\r\n"
)


def oversized(client, url: str, *, declared: bool = True, size: int = 90 * MB):
    """POST a multipart form of ``size`` bytes; without ``declared``, chunked (no length)."""
    chunked = {"headers": {"Transfer-Encoding": "chunked"}} if not declared else {}
    environ = {} if declared else {"wsgi.input_terminated": True}
    return client.post(
        url,
        input_stream=io.BufferedReader(Endless(size, MULTIPART_HEAD)),
        content_type="multipart/form-data; boundary=x",
        environ_overrides=environ,
        **chunked,
    )


def counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Inspection, Answer, Contest, FixReport, CorrectiveAction)
    )


@pytest.fixture
def failed(stall, inspector):
    """A submitted inspection with two failures (one corrective action needs a photo)."""
    return inspect(
        stall,
        inspector,
        tiny_checklist(),
        {"welcome": "pass", "prices": "fail", "clean": "fail"},
        photos=failing_clean_photo(),
    )


# --- Larger than the request limit ---------------------------------------------------------------


def test_oversized_login_is_a_413_page_in_french(client):
    client.set_cookie("lang", "fr")
    response = oversized(client, "/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert '<html lang="fr" dir="ltr">' in html
    assert "Envoi trop volumineux" in html
    assert "Votre envoi dépasse 80 Mo" in html


def test_oversized_login_is_explained_in_arabic(client):
    client.set_cookie("lang", "ar")
    response = oversized(client, "/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert '<html lang="ar" dir="rtl">' in html
    assert "الحجم كبير جدا" in html


@pytest.mark.parametrize("url", ["/login", "/language", "/a/login", "/logout", "/a/logout"])
def test_oversized_posts_to_public_forms_are_413(client, url):
    assert oversized(client, url).status_code == 413


def test_oversized_body_without_a_length_is_413_too(client, monkeypatch, app):
    # Chunked: the limit is found while reading. (A 2 MB limit keeps the test light.)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * MB)
    response = oversized(client, "/login", declared=False, size=3 * MB)
    assert response.status_code == 413
    assert "larger than 2 MB" in response.get_data(as_text=True)


def test_oversized_submit_form_changes_nothing(as_inspector, stall, checklist_version):
    inspection_id = str(uuid.uuid4())
    as_inspector.post(f"/inspect/stalls/{stall.id}/start", data={"inspection_id": inspection_id})
    before = counts()
    response = oversized(as_inspector, f"/inspect/inspections/{inspection_id}/submit")
    assert response.status_code == 413
    assert counts() == before
    assert db.session.get(Inspection, inspection_id).status == "draft"


def test_oversized_contest_and_fix_forms_change_nothing(app, stall, failed):
    phone = signed_in(app, stall.artisan)
    action = db.session.scalar(select(CorrectiveAction).where(CorrectiveAction.item_key == "clean"))
    before = counts()
    contest = oversized(phone, f"/a/me/inspections/{failed.id}/items/clean/contest")
    fixed = oversized(phone, f"/a/me/actions/{action.id}/fixed")
    assert (contest.status_code, fixed.status_code) == (413, 413)
    assert counts() == before
    # The artisan's pages are Arabic first; the refusal speaks their language too.
    assert '<html lang="ar" dir="rtl">' in fixed.get_data(as_text=True)


def test_oversized_sync_request_is_json(as_inspector):
    response = oversized(as_inspector, f"/inspect/api/inspections/{uuid.uuid4()}")
    assert response.status_code == 413
    assert response.is_json and response.json["error"] == "request_entity_too_large"


# --- NUL characters ------------------------------------------------------------------------------


def test_nul_in_login_username_is_refused(client, inspector):
    response = client.post("/login", data={"username": "ad\x00min", "password": "x"})
    assert response.status_code == 400
    assert "(NUL)" in response.get_data(as_text=True)


def test_nul_is_explained_in_french(client):
    client.set_cookie("lang", "fr")
    response = client.post("/a/login", data={"card_number": "NIA\x00", "pin": "123456"})
    assert response.status_code == 400
    assert "(NUL)" in response.get_data(as_text=True)
    assert '<html lang="fr"' in response.get_data(as_text=True)


def test_nul_in_search_is_refused(as_inspector, checklist_version):
    assert as_inspector.get("/inspect/?q=RBT%00").status_code == 400


def test_nul_in_an_answer_comment_saves_nothing(as_inspector, stall, checklist_version):
    inspection_id = str(uuid.uuid4())
    as_inspector.post(f"/inspect/stalls/{stall.id}/start", data={"inspection_id": inspection_id})
    response = as_inspector.post(
        f"/inspect/inspections/{inspection_id}/items/shop_clean",
        data={"r-shop_clean": "fail", "c-shop_clean": "dirty\x00floor"},
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Answer.id))) == 0


def test_nul_in_a_synced_comment_is_json_and_stores_nothing(as_inspector, stall, checklist_version):
    body = payload(stall, checklist_version)
    first = next(iter(body["answers"]))
    body["answers"][first]["comment"] = "bad\x00comment"
    response = put(as_inspector, str(uuid.uuid4()), body)
    assert response.status_code == 400
    assert response.is_json and "(NUL)" in response.json["message"]
    assert counts()[0] == 0


def test_nul_in_a_path_is_refused(as_inspector):
    assert as_inspector.get("/inspect/inspections/a%00b").status_code == 400


# --- Ids beyond the database's integer range -----------------------------------------------------

HUGE = 2**31


@pytest.mark.parametrize(
    "url",
    [
        f"/chamber/stalls/{HUGE}",
        f"/chamber/actions/{HUGE}",
        f"/chamber/venues/{HUGE}",
        f"/inspect/photos/{HUGE}/thumb",
        f"/coordination/fixes/{HUGE}/thumb",
        f"/chamber/stalls/{'9' * 5000}",
    ],
)
def test_huge_ids_in_staff_paths_are_404(as_admin, url):
    assert as_admin.get(url).status_code == 404


def test_the_largest_database_id_is_still_a_plain_404(as_admin):
    assert as_admin.get(f"/chamber/stalls/{HUGE - 1}").status_code == 404


@pytest.mark.parametrize(
    "url",
    [f"/a/me/photos/{HUGE}/thumb", f"/a/me/actions/{HUGE}/fixed", f"/a/me/fixes/{HUGE}/thumb"],
)
def test_huge_ids_in_artisan_paths_are_404(app, stall, url):
    assert signed_in(app, stall.artisan).get(url).status_code == 404


@pytest.mark.parametrize("name", ["venue", "province"])
def test_huge_id_in_a_filter_is_a_400(as_admin, name):
    response = as_admin.get(f"/chamber/stalls?{name}={HUGE}")
    assert response.status_code == 400
    assert "too large" in response.get_data(as_text=True)


def test_a_filter_that_is_not_a_number_is_still_ignored(as_coordinator):
    assert as_coordinator.get("/chamber/stalls?venue=abc").status_code == 200


@pytest.mark.parametrize("stall_id", [HUGE, -(HUGE + 1), 10**30])
def test_huge_stall_id_in_the_sync_api_is_a_json_400(
    as_inspector, stall, checklist_version, stall_id
):
    body = payload(stall, checklist_version)
    body["stall_id"] = stall_id
    response = put(as_inspector, str(uuid.uuid4()), body)
    assert response.status_code == 400
    assert response.is_json and response.json["error"] == "bad_request"
    assert counts()[0] == 0


def test_huge_checklist_version_in_the_sync_api_is_a_json_422(
    as_inspector, stall, checklist_version
):
    body = payload(stall, checklist_version)
    body["checklist_version_id"] = 2**63
    response = put(as_inspector, str(uuid.uuid4()), body)
    assert response.status_code == 422 and response.is_json


# --- JSON that is not what the API reads ---------------------------------------------------------


@pytest.mark.parametrize("text", ["[" * 50_000, '{"a":' * 50_000, "[" * 50_000 + "]" * 50_000])
def test_deeply_nested_json_is_a_json_400(as_inspector, text):
    response = as_inspector.put(
        f"/inspect/api/inspections/{uuid.uuid4()}", data=text, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.is_json and response.json["error"] == "bad_request"


def test_json_that_is_not_utf8_is_a_json_400(as_inspector):
    response = as_inspector.put(
        f"/inspect/api/inspections/{uuid.uuid4()}",
        data=b'{"stall_id": 1, "answers": {"\xff": 1}}',
        content_type="application/json",
    )
    assert response.status_code == 400 and response.is_json


def test_a_page_form_does_not_take_json(client, inspector):
    """Flask-WTF would read a JSON body as the form, with numbers where it expects text."""
    response = client.post("/login", json={"username": 1, "password": ["x"]})
    assert response.status_code == 415
    assert db.session.get(User, inspector.id) is not None


# --- Every answer of the sync API is JSON --------------------------------------------------------


def test_an_unknown_api_url_is_a_json_404(as_inspector):
    response = as_inspector.get("/inspect/api/nothing-here")
    assert response.status_code == 404 and response.is_json


def test_a_wrong_method_on_the_api_is_a_json_405(as_inspector):
    response = as_inspector.delete(f"/inspect/api/inspections/{uuid.uuid4()}")
    assert response.status_code == 405 and response.is_json
    assert "GET" in response.headers["Allow"]


def test_a_server_failure_in_the_api_is_json(app, as_inspector, monkeypatch):
    """Flask re-raises in testing mode; a server in production answers with the handler."""

    def broken():
        raise RuntimeError("the database went away")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "inspect.api.bundle", broken)
    response = as_inspector.get("/inspect/api/bundle")
    assert response.status_code == 500
    assert response.is_json and response.json["error"] == "internal_server_error"
    assert "phone" in response.json["message"]


def test_a_server_failure_on_a_page_is_a_page(app, as_inspector, monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "inspect.home", broken)
    response = as_inspector.get("/inspect/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)


def test_api_errors_in_french(as_inspector, inspector):
    inspector.language = "fr"
    db.session.commit()
    response = as_inspector.put(
        f"/inspect/api/inspections/{uuid.uuid4()}",
        data="[" * 50_000,
        content_type="application/json",
    )
    assert "téléphone" in response.json["message"]


def test_oversized_body_with_csrf_checks_on_is_413(client, app, monkeypatch):
    """In production the CSRF check reads the form first; it must not turn the 413 into a 500."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * MB)
    assert oversized(client, "/login", declared=False, size=3 * MB).status_code == 413
    assert oversized(client, "/a/login").status_code == 413
