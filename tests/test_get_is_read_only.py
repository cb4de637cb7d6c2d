"""Nothing changes on GET: every GET route of the URL map, requested by every kind of principal
with objects of two regions, leaves every row of every table as it was.

A GET can be sent by any page the user opens elsewhere (a link, an image tag), with their
cookies: were it to write, another site could make a coordinator issue keys or write audit
rows. So the whole database is compared before and after, not only the tables we think of.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from compliance.extensions import db

from . import access_world
from .test_artisan_helpers import fresh_limits  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_limits")


def snapshot() -> dict[str, list[str]]:
    """Every row of every table, as text, in a stable order."""
    db.session.expire_all()
    with db.engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(select(table)))
            for table in db.metadata.sorted_tables
        }


def _changes(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [
        f"{name}: {len(before[name])} rows -> {len(after[name])}, "
        f"new {sorted(set(after[name]) - set(before[name]))[:2]}"
        for name in before
        if before[name] != after[name]
    ]


def _get_urls(app, objects) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        for code in access_world.REGIONS if access_world.scoped(rule) else ["MA-04"]:
            with app.test_request_context():
                urls.append(
                    app.url_for(rule.endpoint, **access_world.url_args(rule, objects[code]))
                )
    # Print pages of a stall whose badge and slip were never issued: they offer to issue them.
    for code in access_world.REGIONS:
        stall_id = objects[code]["unissued_stall_id"]
        urls += [
            f"/coordination/stalls/{stall_id}/badge",
            f"/coordination/stalls/{stall_id}/badge.png",
            f"/coordination/stalls/{stall_id}/badge.svg",
            f"/coordination/stalls/{stall_id}/slip",
        ]
    return urls


def test_no_get_route_changes_the_database(app, checklist_version):
    objects, principals = access_world.build()
    urls = _get_urls(app, objects)
    assert len(urls) > 40
    before = snapshot()
    wrote = []
    for url in urls:
        for who in principals:
            response = access_world.client_of(app, who).get(url)
            assert response.status_code < 500, (url, who.name)
        after = snapshot()
        if after != before:
            wrote.append(f"GET {url}: " + "; ".join(_changes(before, after)))
            before = after
    assert wrote == [], "\n".join(wrote)


def test_the_snapshot_sees_a_write(app, checklist_version):
    """The comparison above can fail: an audit row written outside a GET shows up."""
    from compliance.models import audit

    access_world.build()
    before = snapshot()
    audit("test", "probe", "nothing", 1)
    db.session.commit()
    assert _changes(before, snapshot()) != []
