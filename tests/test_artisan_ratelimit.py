"""Guessing PINs and links is rate-limited, with memory storage and with Redis.

The Redis tests need Redis on 127.0.0.1:6379 (or SOUKCHECK_TEST_REDIS_URL). Without it they
are skipped — unless SOUKCHECK_REQUIRE_REDIS=1, when they fail: CI must not pass silently.
"""

from __future__ import annotations

import os
import uuid

import pytest

from compliance import create_app
from compliance.artisan import keys, ratelimit
from compliance.config import TestingConfig
from compliance.extensions import db

from . import factories
from .test_artisan_helpers import fresh_limits, slip  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_limits")

REDIS_URL = os.environ.get("SOUKCHECK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 10**6:06d}"


def attempt(client, card: str, pin: str, address: str = "203.0.113.7"):
    return client.post(
        "/a/login", data={"card_number": card, "pin": pin}, environ_base={"REMOTE_ADDR": address}
    )


# --- Memory storage (the default) --------------------------------------------------------------


def test_wrong_pins_on_one_card_are_limited(client, stall):
    pin = slip(stall.artisan).pin
    for _ in range(5):
        assert attempt(client, stall.artisan.nia, wrong(pin)).status_code == 401
    response = attempt(client, stall.artisan.nia, wrong(pin))
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    # Locked means locked: even the right PIN waits (the slip's QR code still works).
    assert attempt(client, stall.artisan.nia, pin).status_code == 429


def test_right_pins_are_not_counted(client, stall):
    pin = slip(stall.artisan).pin
    for _ in range(8):
        assert attempt(client, stall.artisan.nia, pin).status_code == 302


def test_card_limit_holds_whatever_the_address(client, stall):
    pin = slip(stall.artisan).pin
    for n in range(5):
        assert attempt(client, stall.artisan.nia, wrong(pin), f"198.51.100.{n}").status_code == 401
    assert attempt(client, stall.artisan.nia, wrong(pin), "198.51.100.99").status_code == 429


def test_card_number_typed_differently_is_the_same_card(client, region):
    stall = factories.stall(region=region, artisan_row=factories.artisan(nia="NIA-04-00000042"))
    pin = slip(stall.artisan).pin
    for typed in (
        "NIA-04-00000042",
        "nia 04 00000042",
        "NIA0400000042",
        " Nia-04-00000042",
        "NIA-04-00000042",
    ):
        assert attempt(client, typed, wrong(pin)).status_code == 401
    assert attempt(client, "NIA0400000042", wrong(pin)).status_code == 429


def test_one_locked_card_does_not_lock_another(client, region):
    locked = factories.stall(region=region)
    other = factories.stall(region=region)
    pin = slip(locked.artisan).pin
    for _ in range(6):
        attempt(client, locked.artisan.nia, wrong(pin))
    assert attempt(client, other.artisan.nia, slip(other.artisan).pin).status_code == 302


def test_many_cards_from_one_address_are_limited(client, stall):
    for n in range(30):
        assert attempt(client, f"NIA{n:08d}", "123456").status_code == 401
    assert attempt(client, stall.artisan.nia, slip(stall.artisan).pin).status_code == 429
    # Another address is not concerned.
    assert (
        attempt(client, stall.artisan.nia, slip(stall.artisan).pin, "192.0.2.1").status_code == 302
    )


def test_made_up_private_links_are_limited(client, stall):
    for n in range(60):
        response = client.get(f"/a/p/{keys.private_code('guess', n, 1)}")
        assert response.status_code == 404
    assert client.get(f"/a/p/{keys.private_code('guess', 99, 1)}").status_code == 429


def test_made_up_badge_codes_are_limited(client, stall):
    for n in range(60):
        assert client.get(f"/a/b/{keys.badge_code('guess', n, 1)}").status_code == 404
    assert client.get(f"/a/b/{keys.badge_code('guess', 99, 1)}").status_code == 429


def test_the_limit_is_explained_in_arabic_by_default(client, stall):
    pin = slip(stall.artisan).pin
    for _ in range(6):
        response = attempt(client, stall.artisan.nia, wrong(pin))
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert '<html lang="ar" dir="rtl">' in html
    assert 'role="alert"' in html


def test_the_limit_is_explained_in_the_chosen_language(client, stall):
    client.set_cookie("lang", "fr")
    pin = slip(stall.artisan).pin
    for _ in range(6):
        response = attempt(client, stall.artisan.nia, wrong(pin))
    assert response.status_code == 429
    assert '<html lang="fr" dir="ltr">' in response.get_data(as_text=True)


# --- Several app servers -----------------------------------------------------------------------


def server(app, storage_uri: str, prefix: str):
    """Another app server with its own limiter and storage (and its own small database)."""
    return other_server(
        app,
        RATELIMIT_STORAGE_URI=storage_uri,
        RATELIMIT_KEY_PREFIX=prefix,
        # A down Redis must show in this test, not be papered over by the memory fallback.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False,
    )


def other_server(app, **settings):
    """An app server of its own (its own small database), with these settings."""
    config = type(
        "ServerConfig",
        (TestingConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            **settings,
        },
    )
    other = create_app(config)
    with other.app_context():
        db.create_all()
    return other


@pytest.fixture
def servers(app):
    """Make app servers; what they count is keyed by the card number typed, not the database."""
    made = []

    def make(storage_uri: str, prefix: str):
        made.append(server(app, storage_uri, prefix))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


CARD = "NIA-07-00000077"


def test_memory_storage_counts_per_server(servers):
    """Why Redis: with memory storage each server counts alone."""
    prefix = f"test-{uuid.uuid4().hex}"
    one, two = servers("memory://", prefix), servers("memory://", prefix)
    for _ in range(5):
        assert attempt(one.test_client(), CARD, "111111").status_code == 401
    assert attempt(one.test_client(), CARD, "111111").status_code == 429
    assert attempt(two.test_client(), CARD, "111111").status_code == 401


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as exc:
        message = f"Redis is not reachable at {REDIS_URL}: {exc}"
        if os.environ.get("SOUKCHECK_REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url):
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis

    prefix = f"soukcheck-test-{uuid.uuid4().hex}"
    yield prefix
    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter(match=f"*{prefix}*"):
        connection.delete(key)


def test_redis_storage_shares_attempts_between_servers(servers, redis_url, redis_prefix):
    import redis

    one, two = servers(redis_url, redis_prefix), servers(redis_url, redis_prefix)
    assert type(ratelimit.limiter_of(one).storage).__name__ == "RedisStorage"
    for n in range(5):
        server_app = one if n % 2 else two
        assert attempt(server_app.test_client(), CARD, "111111").status_code == 401
    assert attempt(one.test_client(), CARD, "111111").status_code == 429
    assert attempt(two.test_client(), CARD, "111111").status_code == 429
    stored = list(redis.Redis.from_url(redis_url).scan_iter(match=f"*{redis_prefix}*"))
    assert stored, "the attempts should be counted in Redis"


def test_redis_storage_counts_only_failures(servers, redis_url, redis_prefix):
    one = servers(redis_url, redis_prefix)
    with one.app_context():
        stall = factories.stall(region=factories.region("MA-07"))
        pin = slip(stall.artisan).pin
        card = stall.artisan.nia
    for _ in range(8):
        assert attempt(one.test_client(), card, pin).status_code == 302
    assert attempt(one.test_client(), card, wrong(pin)).status_code == 401


# --- Routes without limits ---------------------------------------------------------------------


def limited_server(app, default: str):
    """An app server whose config adds a default limit to every route."""
    return other_server(
        app, RATELIMIT_DEFAULT=default, RATELIMIT_KEY_PREFIX=f"default-{uuid.uuid4().hex[:8]}"
    )


def test_sync_api_is_exempt_even_from_a_default_limit(app):
    other = limited_server(app, "1 per day")
    client = other.test_client()
    # Pages take the default limit...
    assert client.get("/login").status_code == 200
    assert client.get("/login").status_code == 429
    # ...the sync API (signed-in accounts, no key to guess) never counts.
    for _ in range(3):
        response = client.get("/inspect/api/bundle")
        assert response.status_code == 401
        assert "X-RateLimit-Limit" not in response.headers


def test_a_limit_on_an_unlimited_blueprint_is_refused(app, monkeypatch):
    spec = {"limit_value": "1 per day", "key_func": ratelimit.address}
    monkeypatch.setitem(ratelimit._declared, "inspect.api.bundle", [spec])
    with pytest.raises(ValueError, match=r"inspect\.api\.bundle"):
        limited_server(app, "100 per day")
