"""Coordinators find a stall the way inspectors do (compliance/search.py), within their region."""

from __future__ import annotations

from tests import factories


def test_coordinator_finds_a_stall_by_artisan_name_in_either_script(as_coordinator, region):
    stall = factories.stall(
        region=region,
        artisan_row=factories.artisan(name_ar="أَحْمَد الإدريسي", name_latin="Ahmed El Idrissi"),
    )
    for query in ("احمد الادريسي", "ahmed el idrissi", "IDRISSI"):
        page = as_coordinator.get("/chamber/stalls", query_string={"q": query}).text
        assert f"/chamber/stalls/{stall.id}" in page, query


def test_coordinator_finds_a_stall_by_part_of_its_card_number(as_coordinator, region):
    stall = factories.stall(region=region, artisan_row=factories.artisan(nia="NIA-04-55554444"))
    page = as_coordinator.get("/chamber/stalls?q=55554444").text
    assert f"/chamber/stalls/{stall.id}" in page


def test_an_exact_code_or_card_number_opens_the_stall_for_a_coordinator(as_coordinator, region):
    stall = factories.stall(region=region, artisan_row=factories.artisan(nia="NIA-04-11112222"))
    for query in (stall.code.lower(), "NIA-04-11112222"):
        response = as_coordinator.get("/chamber/stalls", query_string={"q": query})
        assert response.headers["Location"] == f"/chamber/stalls/{stall.id}", query


def test_typing_in_the_coordinators_box_returns_the_list_fragment(as_coordinator, region):
    stall = factories.stall(region=region)
    response = as_coordinator.get(
        "/chamber/stalls", query_string={"q": stall.code}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "<html" not in response.text
    assert f"/chamber/stalls/{stall.id}" in response.text


def test_coordinator_search_stays_in_the_region(as_coordinator, other_region):
    far = factories.stall(region=other_region)
    response = as_coordinator.get("/chamber/stalls", query_string={"q": far.code})
    assert response.status_code == 200 and f"/chamber/stalls/{far.id}" not in response.text


def test_the_search_box_has_a_visible_label(as_coordinator):
    page = as_coordinator.get("/chamber/stalls").text
    assert '<label for="q">Stall code, artisan name or card number</label>' in page
