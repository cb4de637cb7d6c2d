"""The artisan's keys: derived, stored hashed, revoked at once when reissued."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from compliance.artisan import credentials, keys
from compliance.extensions import db
from compliance.models import Artisan, AuditEvent

from . import factories
from .conftest import login
from .test_artisan_helpers import (
    badge_url,
    forget_request_user,
    fresh_limits,  # noqa: F401
    private_url,
    secret,
    signed_in,
    slip,
)

pytestmark = pytest.mark.usefixtures("fresh_limits")


# --- Derivation (pure) -------------------------------------------------------------------------


def test_codes_are_stable_for_a_version_and_change_with_it():
    assert keys.badge_code("s", 7, 1) == keys.badge_code("s", 7, 1)
    assert keys.badge_code("s", 7, 1) != keys.badge_code("s", 7, 2)
    assert keys.badge_code("s", 7, 1) != keys.badge_code("s", 8, 1)


def test_badge_and_private_codes_differ():
    assert keys.badge_code("s", 7, 1) != keys.private_code("s", 7, 1)


def test_codes_depend_on_the_secret_key():
    assert keys.badge_code("one", 7, 1) != keys.badge_code("two", 7, 1)
    assert keys.private_code("one", 7, 1) != keys.private_code("two", 7, 1)


def test_codes_are_128_bit_base32():
    code = keys.badge_code("s", 1, 1)
    assert keys.CODE_RE.fullmatch(code) and len(code) == 26


def test_pin_is_six_digits():
    assert all(keys.PIN_RE.fullmatch(keys.pin("s", n, 1)) for n in range(1, 200))


def test_typed_pin_and_card_number_are_cleaned():
    assert keys.clean_pin("١٢٣ ٤٥٦") == "123456"
    assert keys.clean_pin("۱۲۳۴۵۶") == "123456"
    assert keys.clean_card_number(" nia-04 000 042 ") == "NIA04000042"


def test_no_secret_no_keys():
    with pytest.raises(ValueError):
        keys.badge_code("", 1, 1)


# --- Stored hashed -----------------------------------------------------------------------------


def test_only_hashes_are_stored(stall):
    artisan = stall.artisan
    issued = slip(artisan)
    code = badge_url(artisan).rsplit("/", 1)[1]
    db.session.refresh(artisan)
    stored = (artisan.badge_code_hash, artisan.private_code_hash, artisan.pin_hash)
    assert artisan.badge_code_hash == keys.code_hash(code)
    assert artisan.private_code_hash == keys.code_hash(issued.private_code)
    assert not any(value in stored for value in (code, issued.private_code, issued.pin))
    assert issued.pin not in artisan.pin_hash


def test_printing_again_gives_the_same_keys(stall):
    first, second = slip(stall.artisan), slip(stall.artisan)
    assert first == second
    assert badge_url(stall.artisan) == badge_url(stall.artisan)


# --- The badge code ----------------------------------------------------------------------------


def test_badge_code_opens_the_public_page(client, stall):
    response = client.get(badge_url(stall.artisan))
    assert response.status_code == 200
    assert stall.artisan.name_latin in response.get_data(as_text=True)


def test_unknown_badge_code_is_not_valid(client, stall):
    badge_url(stall.artisan)
    response = client.get("/a/b/" + keys.badge_code(secret(), stall.artisan.id, 99))
    assert response.status_code == 404
    assert stall.artisan.name_latin not in response.get_data(as_text=True)


def test_reissued_badge_revokes_the_old_code_at_once(client, stall, coordinator):
    old = badge_url(stall.artisan)
    assert client.get(old).status_code == 200
    login(client, coordinator)
    response = client.post(f"/coordination/stalls/{stall.id}/reissue", data={"what": "badge"})
    assert response.status_code == 302
    assert client.get(old).status_code == 404
    assert client.get(badge_url(stall.artisan)).status_code == 200
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "artisan.badge_reissue")
    )
    assert event.before == {"badge_version": 1} and event.after == {"badge_version": 2}
    assert event.actor_id == coordinator.id


def test_rotating_the_secret_key_revokes_printed_badges(stall):
    code = badge_url(stall.artisan).rsplit("/", 1)[1]
    assert credentials.by_badge_code(code, secret()) is not None
    assert credentials.by_badge_code(code, "a-new-secret-key-after-rotation") is None


# --- The private link and the PIN --------------------------------------------------------------


def test_private_link_opens_the_artisans_page(app, stall):
    client = signed_in(app, stall.artisan)
    response = client.get("/a/me")
    assert response.status_code == 200
    assert stall.code in response.get_data(as_text=True)


def test_pin_opens_the_artisans_page(client, stall):
    issued = slip(stall.artisan)
    response = client.post("/a/login", data={"card_number": stall.artisan.nia, "pin": issued.pin})
    assert response.status_code == 302 and response.headers["Location"].endswith("/a/me")
    assert client.get("/a/me").status_code == 200


def test_card_number_and_pin_may_be_typed_loosely(client, region):
    stall = factories.stall(region=region, artisan_row=factories.artisan(nia="NIA-04-00000042"))
    issued = slip(stall.artisan)
    arabic_pin = issued.pin.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = client.post(
        "/a/login",
        data={"card_number": " nia 04 00000042 ", "pin": arabic_pin[:3] + " " + arabic_pin[3:]},
    )
    assert response.status_code == 302


@pytest.mark.parametrize("wrong", ["card", "pin"])
def test_wrong_card_or_pin_is_refused_with_the_same_message(client, stall, wrong):
    issued = slip(stall.artisan)
    card, pin = stall.artisan.nia, issued.pin
    if wrong == "card":
        card = "NIA99999999"
    else:
        pin = f"{(int(pin) + 1) % 10**6:06d}"
    response = client.post("/a/login", data={"card_number": card, "pin": pin})
    assert response.status_code == 401
    assert 'role="alert"' in response.get_data(as_text=True)
    assert client.get("/a/me").status_code == 302


def test_pin_of_a_slip_never_printed_does_not_work(client, stall):
    pin = keys.pin(secret(), stall.artisan.id, stall.artisan.private_version)
    response = client.post("/a/login", data={"card_number": stall.artisan.nia, "pin": pin})
    assert response.status_code == 401


def test_reissued_slip_revokes_old_link_and_pin_at_once(app, client, stall, coordinator):
    artisan = stall.artisan
    old_link, old_pin = private_url(artisan), slip(artisan).pin
    login(client, coordinator)
    assert (
        client.post(f"/coordination/stalls/{stall.id}/reissue", data={"what": "slip"}).status_code
        == 200  # the new slip, with its PIN, to print at once
    )
    forget_request_user()
    visitor = app.test_client()
    assert visitor.get(old_link).status_code == 404
    response = visitor.post("/a/login", data={"card_number": artisan.nia, "pin": old_pin})
    assert response.status_code == 401
    new = slip(db.session.get(Artisan, artisan.id))
    assert new.private_code != old_link.rsplit("/", 1)[1]
    assert (
        visitor.post("/a/login", data={"card_number": artisan.nia, "pin": new.pin}).status_code
        == 302
    )


def test_reissued_slip_signs_the_artisan_out(app, stall, coordinator):
    phone = signed_in(app, stall.artisan)
    assert phone.get("/a/me").status_code == 200
    credentials.reissue_slip(stall.artisan, secret(), coordinator)
    response = phone.get("/a/me")
    assert response.status_code == 302 and response.headers["Location"].endswith("/a/login")
    # Signed out for good: the session no longer names the artisan.
    with phone.session_transaction() as session:
        assert "artisan_id" not in session


def test_reissued_badge_keeps_the_artisan_signed_in(app, stall, coordinator):
    phone = signed_in(app, stall.artisan)
    credentials.reissue_badge(stall.artisan, secret(), coordinator)
    assert phone.get("/a/me").status_code == 200


def test_leaving_the_page_ends_the_artisan_session(app, stall):
    phone = signed_in(app, stall.artisan)
    assert phone.post("/a/logout").status_code == 302
    assert phone.get("/a/me").status_code == 302


def test_slip_print_is_on_record(as_coordinator, stall, coordinator):
    response = as_coordinator.post(f"/coordination/stalls/{stall.id}/slip")
    assert response.status_code == 200
    assert slip(stall.artisan).pin[:3] in response.get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "artisan.slip_print"))
    assert event.entity_id == str(stall.artisan.id) and event.actor_id == coordinator.id
