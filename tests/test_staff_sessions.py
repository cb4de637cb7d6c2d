"""Staff logins resist guessing; a session or remember-me cookie ends when it should.

- Wrong passwords are limited per account and per address (memory and Redis storage), with
  Retry-After, and a lock reads the same whether or not the account exists.
- A wrong username costs one password check, like a wrong password.
- Cookies carry the account's session version: a new login, a logout, a new password or a
  deactivation ends every cookie issued before, copied or not.
- The CSRF token and the session are new at login; production refuses a guessable secret,
  sends HSTS and marks the remember-me cookie Secure; photos are cached privately only.
"""

from __future__ import annotations

import re
import secrets
import uuid

import pytest

from compliance import create_app
from compliance.artisan import ratelimit
from compliance.auth import accounts
from compliance.config import ProductionConfig, check_production_secret
from compliance.extensions import db
from compliance.models import Photo, User

from . import factories
from .conftest import login
from .test_artisan_helpers import failing_clean_photo, inspect, signed_in, tiny_checklist
from .test_artisan_ratelimit import redis_prefix, redis_url, server, servers  # noqa: F401

ADDRESS = "203.0.113.9"


def attempt(client, username: str, password: str = "wrong", address: str = ADDRESS, **kwargs):
    return client.post(
        "/login",
        data={"username": username, "password": password, **kwargs},
        environ_base={"REMOTE_ADDR": address},
    )


# --- Guessing passwords ---------------------------------------------------------------------


def test_wrong_passwords_on_one_account_are_limited(client, inspector):
    for _ in range(10):
        assert attempt(client, inspector.username).status_code == 401
    locked = attempt(client, inspector.username)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) >= 60
    assert "Too many wrong passwords for this username" in locked.get_data(as_text=True)
    # Locked means locked: the right password waits too.
    assert attempt(client, inspector.username, factories.PASSWORD).status_code == 429


def test_the_account_limit_holds_whatever_the_address_and_case(client, inspector):
    for n in range(10):
        name = inspector.username.upper() if n % 2 else f" {inspector.username} "
        assert attempt(client, name, address=f"198.51.100.{n}").status_code == 401
    assert attempt(client, inspector.username, address="192.0.2.50").status_code == 429


def test_a_lock_does_not_tell_whether_the_account_exists(client, inspector):
    for name in (inspector.username, "nobody.here"):
        for _ in range(10):
            attempt(client, name)
    real = attempt(client, inspector.username)
    made_up = attempt(client, "nobody.here")
    assert real.status_code == made_up.status_code == 429
    # The wait runs from each name's first wrong try; both are within the 15-minute window.
    for response in (real, made_up):
        assert 60 <= int(response.headers["Retry-After"]) <= 15 * 60

    def message(response):
        # The same words; only the wait, counted from each name's first try, may differ.
        found = re.search(r'role="alert">([^<]*)<', response.get_data(as_text=True)).group(1)
        return re.sub(r"\d+", "N", found)

    assert message(real) == message(made_up)


def test_one_locked_account_does_not_lock_another(client, inspector, coordinator):
    for _ in range(11):
        attempt(client, inspector.username)
    assert attempt(client, coordinator.username, factories.PASSWORD).status_code == 302


def test_many_accounts_from_one_address_are_limited(client, inspector):
    for n in range(30):
        assert attempt(client, f"guess{n}").status_code == 401
    assert attempt(client, inspector.username, factories.PASSWORD).status_code == 429
    assert attempt(client, inspector.username, factories.PASSWORD, "192.0.2.1").status_code == 302


def test_right_passwords_are_not_counted(app, inspector):
    for _ in range(12):
        client = app.test_client()
        assert attempt(client, inspector.username, factories.PASSWORD).status_code == 302


def test_the_lock_is_explained_in_french(client, inspector):
    client.set_cookie("lang", "fr")
    for _ in range(11):
        response = attempt(client, inspector.username)
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert '<html lang="fr"' in html
    assert "Trop de mots de passe erronés" in html


def test_memory_storage_counts_per_server(servers):  # noqa: F811
    prefix = f"test-{uuid.uuid4().hex}"
    one, two = servers("memory://", prefix), servers("memory://", prefix)
    for _ in range(10):
        assert attempt(one.test_client(), "coord.x").status_code == 401
    assert attempt(one.test_client(), "coord.x").status_code == 429
    assert attempt(two.test_client(), "coord.x").status_code == 401


def test_redis_storage_shares_wrong_passwords_between_servers(
    servers,  # noqa: F811
    redis_url,  # noqa: F811
    redis_prefix,  # noqa: F811
):
    import redis

    one, two = servers(redis_url, redis_prefix), servers(redis_url, redis_prefix)
    assert type(ratelimit.limiter_of(one).storage).__name__ == "RedisStorage"
    for n in range(10):
        assert attempt((one if n % 2 else two).test_client(), "coord.x").status_code == 401
    for server_app in (one, two):
        locked = attempt(server_app.test_client(), "coord.x")
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 60
    assert list(redis.Redis.from_url(redis_url).scan_iter(match=f"*{redis_prefix}*"))


# --- A wrong username costs what a wrong password costs ---------------------------------------


@pytest.fixture
def hash_checks(monkeypatch):
    calls = []
    real = accounts.check_password_hash

    def counting(pwhash, password):
        calls.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    return calls


def test_a_wrong_username_checks_one_password_hash(client, inspector, hash_checks):
    assert attempt(client, "nobody").status_code == 401
    assert attempt(client, inspector.username).status_code == 401
    assert len(hash_checks) == 2
    dummy, real = hash_checks
    assert dummy != inspector.password_hash and real == inspector.password_hash


def test_the_dummy_hash_costs_what_a_real_one_costs(inspector):
    # Same method and parameters (e.g. "scrypt:32768:8:1"): the same work per check. A password
    # set as the app sets it (the factories store a cheaper hash to keep the suite fast).
    inspector.set_password("a password set by the app")
    assert accounts._dummy_hash().split("$")[0] == inspector.password_hash.split("$")[0]


def test_an_inactive_account_checks_its_hash_and_is_refused(client, inspector, hash_checks):
    inspector.active = False
    db.session.commit()
    assert attempt(client, inspector.username, factories.PASSWORD).status_code == 401
    assert len(hash_checks) == 1


# --- Session versions ------------------------------------------------------------------------


def remembered(app, user):
    """A client logged in with "keep me signed in"; returns it and its remember-me cookie."""
    client = app.test_client()
    response = attempt(client, user.username, factories.PASSWORD, remember="y")
    assert response.status_code == 302
    return client, client.get_cookie("remember_token").value


def with_cookie(app, name: str, value: str):
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def signed_in_page(client) -> bool:
    return client.get("/inspect/").status_code == 200


def test_the_remember_cookie_signs_in_a_new_browser(app, inspector):
    _client, cookie = remembered(app, inspector)
    assert signed_in_page(with_cookie(app, "remember_token", cookie))


def test_the_remember_cookie_changes_at_each_login(app, inspector):
    _first, one = remembered(app, inspector)
    _second, two = remembered(app, inspector)
    assert one != two
    # The one issued before the new login no longer works.
    assert not signed_in_page(with_cookie(app, "remember_token", one))
    assert signed_in_page(with_cookie(app, "remember_token", two))


def test_logout_ends_the_remember_cookie_and_copies_of_the_session(app, inspector):
    client, remember = remembered(app, inspector)
    session_cookie = client.get_cookie("session").value
    assert signed_in_page(with_cookie(app, "session", session_cookie))
    client.post("/logout")
    assert not signed_in_page(client)
    assert not signed_in_page(with_cookie(app, "session", session_cookie))
    assert not signed_in_page(with_cookie(app, "remember_token", remember))


def test_a_new_password_ends_every_session(app, inspector):
    client, remember = remembered(app, inspector)
    inspector.set_password("a new password 2026")
    db.session.commit()
    assert not signed_in_page(client)
    assert not signed_in_page(with_cookie(app, "remember_token", remember))


def test_deactivation_ends_every_session(app, inspector):
    client, remember = remembered(app, inspector)
    inspector.deactivate()
    db.session.commit()
    assert not signed_in_page(client)
    assert not signed_in_page(with_cookie(app, "remember_token", remember))


def test_an_inactive_account_is_refused_even_with_a_current_cookie(app, inspector):
    client, _remember = remembered(app, inspector)
    inspector.active = False  # set directly, without deactivate()
    db.session.commit()
    assert not signed_in_page(client)


def test_end_sessions_is_what_other_pages_call(app, inspector):
    """Role changes and the like call User.end_sessions(): it ends the cookies issued before."""
    client, _remember = remembered(app, inspector)
    db.session.get(User, inspector.id).end_sessions()
    db.session.commit()
    assert not signed_in_page(client)


def test_a_session_id_from_before_versions_is_not_accepted(inspector):
    assert accounts.from_session_id(str(inspector.id)) is None
    assert accounts.from_session_id(inspector.get_id()) == inspector
    for value in ("", ":", "x:1", f"{inspector.id}:x", "9" * 40 + ":0", f"{inspector.id}:-1"):
        assert accounts.from_session_id(value) is None


# --- Login renews the session and the CSRF token ------------------------------------------------


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_the_csrf_token_changes_at_login(app, client, inspector, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    before = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"username": inspector.username, "password": factories.PASSWORD, "csrf_token": before},
    )
    assert response.status_code == 302
    page = client.get("/inspect/").get_data(as_text=True)
    after = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    assert after != before
    # A form kept from before the login is refused; one from after it is taken.
    assert client.post("/language", data={"lang": "fr", "csrf_token": before}).status_code == 400
    assert client.post("/language", data={"lang": "fr", "csrf_token": after}).status_code == 302


def test_login_starts_a_new_session(client, inspector):
    with client.session_transaction() as session:
        session["left_over"] = "from before"
    login(client, inspector)
    with client.session_transaction() as session:
        assert "left_over" not in session
        assert session["_user_id"] == db.session.get(User, inspector.id).get_id()


# --- Production settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret", ["aaaaaaaaaaaaaaaa", "abababababababababababab", "0123456789abcdef", "a" * 64]
)
def test_production_refuses_a_guessable_secret(secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        check_production_secret(secret)


@pytest.mark.parametrize("make", [secrets.token_hex, secrets.token_urlsafe])
def test_production_takes_a_random_secret(make):
    secret = make(32)
    check_production_secret(secret)


@pytest.fixture
def production(app):
    """An app with the production settings (its own small database)."""
    config = type(
        "ProductionTestConfig",
        (ProductionConfig,),
        {
            "TESTING": True,
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
        },
    )
    other = create_app(config)
    with other.app_context():
        db.create_all()
        factories.user("inspector", region=factories.region("MA-04"), username="insp.prod")
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_production_sends_secure_cookies_and_hsts(production):
    client = production.test_client()
    response = client.post(
        "/login",
        data={"username": "insp.prod", "password": factories.PASSWORD, "remember": "y"},
        base_url="https://soukcheck.example",
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    session = next(c for c in cookies if c.startswith("session="))
    for cookie in (remember, session):
        assert "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


# --- Photos are cached by the browser only --------------------------------------------------------


def test_photos_are_cached_privately(app, stall, inspector):
    done = inspect(
        stall,
        inspector,
        tiny_checklist(),
        {"welcome": "pass", "prices": "pass", "clean": "fail"},
        photos=failing_clean_photo(),
    )
    photo = db.session.scalar(db.select(Photo).where(Photo.inspection_id == done.id))
    staff = login(app.test_client(), inspector).get(f"/inspect/photos/{photo.id}/thumb")
    artisan = signed_in(app, stall.artisan).get(f"/a/me/photos/{photo.id}/thumb")
    for response in (staff, artisan):
        assert response.status_code == 200
        directives = {d.strip() for d in response.headers["Cache-Control"].split(",")}
        assert directives == {"private", "max-age=3600"}
