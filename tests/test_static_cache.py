"""Static files, the app's and the chamber's, are versioned, immutable and compressed once.

A coordinator opening the home page again must not download chamber.css and chamber.js again,
nor even ask whether they changed: their URLs carry their content hash.
"""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.conftest import PHONE, login


def chamber_assets(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/chamber/static/[^"]+)"', page)


def test_chamber_files_are_versioned_and_immutable(app, client, coordinator):
    home = login(client, coordinator).get("/chamber/").get_data(as_text=True)
    with app.test_request_context():
        stylesheet = app.jinja_env.globals["chamber_static"]("chamber.css")
    assets = chamber_assets(home)

    assert [url.split("?")[0] for url in assets] == ["/chamber/static/chamber.js"]
    for url in [*assets, stylesheet]:
        assert re.search(r"\?v=[0-9a-f]{10}$", url)
        response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "br"
        cache = response.cache_control
        assert cache.immutable and cache.max_age == 31536000 and not cache.no_cache
        assert ":zstd" not in response.headers.get("ETag", "")
        assert "Set-Cookie" not in response.headers


def test_an_old_version_of_a_chamber_file_is_not_kept_a_year(client):
    response = client.get("/chamber/static/chamber.css?v=0000000000")

    assert not response.cache_control.immutable


@pytest.mark.browser
def test_a_repeat_visit_of_the_coordinator_home_is_one_request(
    app, browser, live_server, region, monkeypatch
):
    factories.user("coordinator", region=region, username="coord.cache")
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "coord.cache")
    page.fill("input[name=password]", factories.PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url("**/chamber/")
    page.wait_for_load_state("networkidle")

    # What reaches the server on the second visit (a cached file would not).
    reached: list[str] = []
    serve = app.wsgi_app

    def counting(environ, start_response):
        reached.append(environ["PATH_INFO"])
        return serve(environ, start_response)

    monkeypatch.setattr(app, "wsgi_app", counting)
    page.goto(f"{live_server}/chamber/", wait_until="load")
    page.wait_for_load_state("networkidle")
    context.close()

    assert reached == ["/chamber/"]
