"""Logging in and out; who lands where; production settings."""

from __future__ import annotations

import pytest

from compliance import create_app
from compliance.config import DEV_SECRET, check_production_secret

from . import factories
from .conftest import login


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200 and 'name="password"' in response.get_data(as_text=True)


def test_wrong_password_and_unknown_user_get_the_same_message(client, inspector):
    wrong_password = client.post("/login", data={"username": inspector.username, "password": "x"})
    unknown_user = client.post("/login", data={"username": "nobody", "password": "x"})
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert "Wrong username or password" in wrong_password.get_data(as_text=True)
    assert "Wrong username or password" in unknown_user.get_data(as_text=True)


def test_password_is_stored_hashed(inspector):
    assert factories.PASSWORD not in inspector.password_hash
    assert inspector.check_password(factories.PASSWORD)


def test_username_is_case_insensitive(client, inspector):
    response = client.post(
        "/login", data={"username": inspector.username.upper(), "password": factories.PASSWORD}
    )
    assert response.status_code == 302


def test_inspector_lands_on_todays_round(client, inspector):
    response = client.post(
        "/login", data={"username": inspector.username, "password": factories.PASSWORD}
    )
    assert response.headers["Location"] == "/inspect/round"


def test_coordinator_lands_on_chamber(client, coordinator):
    response = client.post(
        "/login", data={"username": coordinator.username, "password": factories.PASSWORD}
    )
    assert response.headers["Location"] == "/chamber/"


def test_login_follows_only_local_next(client, inspector):
    response = client.post(
        "/login?next=https://evil.example/x",
        data={"username": inspector.username, "password": factories.PASSWORD},
    )
    assert response.headers["Location"] == "/inspect/round"


def test_inactive_account_cannot_log_in(client, inspector):
    inspector.active = False
    from compliance.extensions import db

    db.session.commit()
    response = client.post(
        "/login", data={"username": inspector.username, "password": factories.PASSWORD}
    )
    assert response.status_code == 401


def test_logout_needs_post(as_inspector):
    assert as_inspector.get("/logout").status_code == 405
    as_inspector.post("/logout")
    assert as_inspector.get("/inspect/").status_code == 302


def test_csrf_is_checked_when_enabled(app, inspector):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        response = client.post(
            "/login", data={"username": inspector.username, "password": factories.PASSWORD}
        )
        assert response.status_code == 400
        assert "expired" in response.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_are_versioned_and_cached(client):
    page = client.get("/login").get_data(as_text=True)
    assert "/static/app.js?v=" in page
    version = page.split('src="/static/app.js?v=')[1].split('"')[0]
    response = client.get(f"/static/app.js?v={version}")
    assert "immutable" in response.headers["Cache-Control"]


@pytest.mark.parametrize("secret", [None, "", DEV_SECRET, "short"])
def test_production_refuses_weak_secret(secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        check_production_secret(secret)


def test_production_app_refuses_dev_secret(monkeypatch):
    monkeypatch.setenv("SOUKCHECK_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": DEV_SECRET})


def test_unknown_page_is_404_in_users_language(client):
    response = client.get("/nowhere", headers={"Accept-Language": "fr"})
    assert response.status_code == 404


def test_login_as_each_role_works(client, admin):
    login(client, admin)
    assert client.get("/").headers["Location"] == "/chamber/"
