"""The one door (compliance/access.py): every route declares who may call it, and every route,
requested by every kind of principal with objects of two regions, answers what its rule says.

The expected outcome of each request is derived from the rule the view declared and the
region (or artisan) its URL's objects belong to, never written by hand per route, so a new
route is checked the day it is added.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from compliance import access
from compliance.extensions import db
from compliance.models import Photo

from . import access_world, factories, imagefactory
from .test_artisan_helpers import (
    fresh_limits,  # noqa: F401
    inspect,
    tiny_checklist,
)

pytestmark = pytest.mark.usefixtures("fresh_limits")

# Views that load the caller's own inspection (``access.draft_or_404``): the phone's status
# and photo uploads. Even an admin gets 404 for another inspector's.
OWN_INSPECTION = {"inspect.api.inspection_status", "inspect.api.put_photo"}
# Their job, when allowed, is to send you to a login page.
SEND_TO_LOGIN = {"auth.index", "auth.logout", "artisan.logout"}


def test_every_endpoint_declares_an_access_rule(app):
    undeclared = sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if access.rule_of(app.view_functions[rule.endpoint]) is None
    )
    assert undeclared == [], f"routes without an access rule: {undeclared}"


def test_the_walk_catches_an_undeclared_view():
    probe = Flask("probe")
    probe.add_url_rule("/open", "open", lambda: "x")
    probe.add_url_rule("/door", "door", access.public(lambda: "x"))
    assert [
        rule.endpoint
        for rule in probe.url_map.iter_rules()
        if rule.endpoint != "static" and access.rule_of(probe.view_functions[rule.endpoint]) is None
    ] == ["open"]


def test_a_view_cannot_declare_two_rules():
    with pytest.raises(TypeError):
        access.roles_required(access.ADMIN)(access.public(lambda: "x"))
    with pytest.raises(ValueError):
        access.roles_required("janitor")


def test_rules_are_what_each_audience_needs(app):
    rule = {endpoint: access.rule_of(view) for endpoint, view in app.view_functions.items()}
    assert rule["chamber.home"].roles == {"coordinator", "admin"}
    assert rule["coordination.venue_slips"].roles == {"coordinator", "admin"}
    assert rule["coordination.fix_photo"].roles == {"inspector", "coordinator", "admin"}
    assert rule["inspect.home"].roles == {"inspector", "admin"}
    assert rule["inspect.photo"].roles == {"inspector", "coordinator", "admin"}
    assert rule["inspect.api.bundle"].json and not rule["inspect.home"].json
    assert rule["artisan.me"].kind == access.ARTISAN
    for endpoint in ("auth.login", "auth.language", "artisan.badge", "static", "service_worker"):
        assert rule[endpoint].kind == access.PUBLIC


# --- the table: every route x every principal x objects of two regions --------------------------


def _expected(rule_decl: access.AccessRule, endpoint: str, scoped: bool, region: str, who, owner):
    """ "allowed", "login" (redirect to the staff login), "artisan-login", 401, 403 or 404."""
    if rule_decl.kind == access.PUBLIC:
        return "allowed"
    if rule_decl.kind == access.ARTISAN:
        if who.kind != "artisan":
            return "artisan-login"
        return 404 if scoped and who.region != region else "allowed"
    if who.kind != "staff":
        return 401 if rule_decl.json else "login"
    if not rule_decl.allows_role(who.role):
        return 403
    if scoped and who.region is not None and who.region != region:
        return 404
    if endpoint in OWN_INSPECTION and who.row.id != owner:
        return 404
    return "allowed"


def _outcome(response) -> str | int:
    status = response.status_code
    location = urlsplit(response.headers.get("Location", "")).path
    if status in (301, 302, 303):
        if location == "/login":
            return "login"
        if location == "/a/login":
            return "artisan-login"
    if status in (401, 403, 404) or status >= 500:
        return status
    return "allowed"


def _send(client, method: str, url: str):
    if method == "PUT":
        return client.put(url, data=b"", headers={"Content-Type": "application/json"})
    return client.open(url, method=method, data={})


@pytest.fixture
def own_queue(app, monkeypatch):
    """Exports of this test on a queue of its own (the shared Redis), deleted afterwards."""
    import uuid

    from compliance import jobs

    monkeypatch.setitem(app.config, "JOB_QUEUE", f"soukcheck-test-{uuid.uuid4().hex}")
    yield
    queue = jobs.queue()
    for registry in (queue.finished_job_registry, queue.failed_job_registry):
        for job_id in registry.get_job_ids():
            jobs.Job.fetch(job_id, connection=queue.connection).delete()
    queue.delete(delete_jobs=True)


def test_every_route_answers_every_principal_as_its_rule_says(app, checklist_version, own_queue):
    objects, principals = access_world.build()
    cases = []
    for rule in app.url_map.iter_rules():
        declared = access.rule_of(app.view_functions[rule.endpoint])
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        # GETs first: an allowed POST may change what a later GET finds.
        for method in sorted(methods, key=lambda m: m != "GET"):
            for code in (
                access_world.REGIONS if access_world.scoped(rule) else access_world.REGIONS[:1]
            ):
                with app.test_request_context():
                    url = app.url_for(rule.endpoint, **access_world.url_args(rule, objects[code]))
                cases.append((method, rule, declared, code, url))
    cases.sort(key=lambda case: case[0] != "GET")
    assert len(cases) > 60

    wrong = []
    for method, rule, declared, code, url in cases:
        for who in principals:
            expected = _expected(
                declared,
                rule.endpoint,
                access_world.scoped(rule),
                code,
                who,
                objects[code]["inspector_id"],
            )
            response = _send(access_world.client_of(app, who), method, url)
            got = _outcome(response)
            if expected == "allowed" and rule.endpoint in SEND_TO_LOGIN:
                got = "allowed" if got in ("login", "artisan-login") else got
            if got != expected:
                wrong.append(f"{method} {url} as {who.name}: expected {expected}, got {got}")
    assert wrong == [], "\n".join(wrong)


# --- the draft rule: an inspection being made is its inspector's alone ----------------------


def test_a_draft_is_its_inspectors_alone(app, region, checklist_version):
    stall = factories.stall(region=region)
    mine = factories.user("inspector", region=region)
    colleague = factories.user("inspector", region=region)
    admin = factories.user("admin")
    coordinator = factories.user("coordinator", region=region)
    draft = inspect(
        stall,
        mine,
        tiny_checklist(),
        {"clean": "fail"},
        photos={"clean": imagefactory.jpeg(300, 200)},
        submit=False,
    )
    photo = db.session.scalar(select(Photo).where(Photo.inspection_id == draft.id))
    urls = [
        ("GET", f"/inspect/inspections/{draft.id}"),
        ("GET", f"/inspect/inspections/{draft.id}/result"),
        ("POST", f"/inspect/inspections/{draft.id}/items/clean"),
        ("POST", f"/inspect/inspections/{draft.id}/photos/{photo.id}/remove"),
        ("POST", f"/inspect/inspections/{draft.id}/submit"),
        ("GET", f"/inspect/photos/{photo.id}/thumb"),
        ("GET", f"/inspect/api/inspections/{draft.id}"),
    ]
    for who in (colleague, admin):
        client = access_world.client_of(app, access_world.Principal("x", "staff", who, who.role))
        for method, url in urls:
            assert client.open(url, method=method).status_code == 404, (who.role, url)
    chamber = access_world.client_of(
        app, access_world.Principal("x", "staff", coordinator, "coordinator")
    )
    assert chamber.get(f"/chamber/inspections/{draft.id}").status_code == 404
    assert chamber.get(f"/inspect/photos/{photo.id}/thumb").status_code == 404
    owner = access_world.client_of(app, access_world.Principal("x", "staff", mine, "inspector"))
    assert owner.get(f"/inspect/inspections/{draft.id}").status_code == 200
    assert owner.get(f"/inspect/photos/{photo.id}/thumb").status_code == 200
    assert owner.get(f"/inspect/api/inspections/{draft.id}").status_code == 200
    assert db.session.scalar(select(Photo).where(Photo.id == photo.id)) is not None


@pytest.mark.parametrize(
    "url",
    [
        "/chamber/stalls/2147483648",
        "/chamber/actions/99999999999999999999",
        "/inspect/photos/2147483648/thumb",
        "/coordination/fixes/2147483648/thumb",
    ],
)
def test_an_id_beyond_the_integer_range_is_not_found(as_admin, url):
    assert as_admin.get(url).status_code == 404


def test_an_id_beyond_the_integer_range_in_a_filter_is_refused(as_admin):
    # A field, not a path: a 400 at the edge (compliance/edge.py; tests/test_bad_input.py).
    assert as_admin.get("/chamber/stalls?venue=2147483648").status_code == 400
