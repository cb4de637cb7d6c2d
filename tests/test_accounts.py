"""Accounts (compliance/accounts.py, compliance/admin/account_routes.py, /invite, /password).

- A new account has no password: its invitation link (valid 72 hours, shown once, only its
  hash stored) is where its owner chooses one. Expired, used, revoked or unknown links get one
  page (410) and change nothing; inviting again revokes the earlier link.
- Passwords: minimum length, common ones refused, the two copies must match.
- Role, region and deactivation end the account's sessions at once and are audited; the last
  active admin can be neither deactivated nor demoted.
- Everyone changes their own password: their other sessions end, this one stays.
- Coordinators manage the inspectors of their region only.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from compliance import accounts
from compliance.accounts import AccountError, Actor
from compliance.extensions import db
from compliance.models import AuditEvent, Invitation, User, utcnow

from . import factories
from .conftest import login
from .test_artisan_helpers import fresh_limits  # noqa: F401

GOOD = "olive tree at the souk 7"
_numbers = itertools.count(1)


def token_of(page: str) -> str:
    return re.search(r"/invite/([A-Za-z0-9_-]+)", page).group(1)


def audited(action: str, account: User) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == action, AuditEvent.entity_id == str(account.id)
            )
        )
    )


def invited(manager: User, role: str = "inspector", region=None, **kwargs) -> tuple[User, str]:
    account, token = accounts.create_account(
        db.session,
        manager,
        username=kwargs.pop("username", f"new.{role}{next(_numbers)}"),
        name="Karima Benali",
        role=role,
        region_id=region.id if region else None,
        language=kwargs.pop("language", "fr"),
        actor=Actor.of(manager),
        **kwargs,
    )
    db.session.commit()
    return account, token


def logged_in_client(app, user: User):
    client = app.test_client()
    return login(client, user)


def can_load(client, url: str = "/password") -> bool:
    return client.get(url).status_code == 200


# --- creating an account and its invitation -----------------------------------------------


def test_creating_an_account_shows_its_link_once_and_stores_only_its_hash(as_admin, region):
    response = as_admin.post(
        "/admin/accounts/new",
        data={"username": "K.Benali", "name": "Karima Benali", "role": "coordinator",
              "region": str(region.id), "language": "ar"},
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<svg" in page and 'class="qr"' in page
    assert response.headers["Cache-Control"] == "no-store"
    token = token_of(page)
    account = db.session.scalar(select(User).where(User.username == "k.benali"))
    assert (account.role, account.region_id, account.language) == ("coordinator", region.id, "ar")
    invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == account.id))
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr([(i.token_hash,) for i in db.session.scalars(select(Invitation))])
    assert invitation.expires_at - invitation.created_at == timedelta(hours=72)
    assert audited("account.create", account) and audited("invitation.create", account)


def test_the_account_list_shows_the_invitation_state(as_admin, region):
    admin = db.session.scalar(select(User).where(User.role == "admin"))
    account, _token = invited(admin, region=region)
    page = as_admin.get("/admin/accounts").get_data(as_text=True)
    assert account.username in page and "invitation waiting" in page


def test_a_taken_username_is_refused_in_any_case(as_admin, region, inspector):
    response = as_admin.post(
        "/admin/accounts/new",
        data={"username": inspector.username.upper(), "name": "X", "role": "inspector",
              "region": str(region.id), "language": "fr"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Another account already has this username." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_a_coordinator_or_inspector_needs_a_region(admin):
    with pytest.raises(AccountError, match="region_required"):
        invited(admin, role="inspector", region=None)


# --- accepting an invitation ------------------------------------------------------------------


def test_the_invitation_sets_the_password_and_logs_in(client, admin, region):
    account, token = invited(admin, region=region)
    assert client.get(f"/invite/{token}").status_code == 200
    response = client.post(f"/invite/{token}", data={"password": GOOD, "confirm": GOOD})
    assert response.status_code == 302 and response.headers["Location"] == "/inspect/round"
    assert client.get("/inspect/").status_code == 200
    assert account.check_password(GOOD)
    assert audited("invitation.accept", account)
    # The link is used up: nothing changes the second time.
    again = client.post(f"/invite/{token}", data={"password": GOOD + "x", "confirm": GOOD + "x"})
    # (in French: the account's language, now that its owner is logged in)
    assert again.status_code == 410 and "déjà servi" in again.get_data(as_text=True)
    assert account.check_password(GOOD)


def test_the_invitation_page_speaks_the_accounts_language(client, admin, region):
    _account, token = invited(admin, region=region, language="ar")
    page = client.get(f"/invite/{token}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short1", "short1", "At least 10 characters"),
        ("password123", "password123", "among the most common"),
        ("azertyuiop", "azertyuiop", "among the most common"),
        (GOOD, GOOD + "!", "The two passwords differ."),
    ],
)
def test_the_invitation_refuses_a_weak_or_mistyped_password(
    client, admin, region, password, confirm, message
):
    account, token = invited(admin, region=region, language="en")
    before = account.password_hash
    response = client.post(f"/invite/{token}", data={"password": password, "confirm": confirm})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert account.password_hash == before
    assert accounts.open_invitation(db.session, token) is not None  # still usable


def test_an_expired_invitation_is_refused_and_changes_nothing(client, admin, region):
    long_ago = utcnow() - timedelta(hours=72, minutes=1)
    account, token = invited(admin, region=region, now=long_ago)
    before = account.password_hash
    for response in (
        client.get(f"/invite/{token}"),
        client.post(f"/invite/{token}", data={"password": GOOD, "confirm": GOOD}),
    ):
        assert response.status_code == 410
        assert "has expired" in response.get_data(as_text=True)
    assert account.password_hash == before
    assert client.get("/inspect/").status_code == 302  # not logged in


def test_expiry_is_at_72_hours(admin, region):
    start = utcnow()
    _account, token = invited(admin, region=region, now=start)
    assert accounts.open_invitation(db.session, token, start + timedelta(hours=71, minutes=59))
    with pytest.raises(AccountError, match="invitation_expired"):
        accounts.open_invitation(db.session, token, start + timedelta(hours=72))
    with pytest.raises(AccountError, match="invitation_expired"):
        accounts.accept_invitation(db.session, token, GOOD, start + timedelta(hours=73))


def test_an_unknown_invitation_gets_the_same_page_in_french(client):
    response = client.get("/invite/not-a-token", headers={"Accept-Language": "fr"})
    page = response.get_data(as_text=True)
    assert response.status_code == 410 and "Ce lien d'invitation est inconnu" in page
    assert client.get("/invite/" + "x" * 200).status_code == 410


def test_inviting_again_revokes_the_earlier_link(as_admin, admin, region):
    account, first = invited(admin, region=region)
    response = as_admin.post(f"/admin/accounts/{account.id}/invite")
    second = token_of(response.get_data(as_text=True))
    assert second != first
    with pytest.raises(AccountError, match="invitation_revoked"):
        accounts.open_invitation(db.session, first)
    refused = as_admin.application.test_client().get(f"/invite/{first}")
    assert refused.status_code == 410 and "cancelled" in refused.get_data(as_text=True)
    assert accounts.open_invitation(db.session, second).user_id == account.id
    assert audited("invitation.revoke", account)


def test_a_revoked_invitation_is_refused(as_admin, admin, region):
    account, token = invited(admin, region=region)
    assert as_admin.post(f"/admin/accounts/{account.id}/revoke").status_code == 302
    response = as_admin.application.test_client().post(
        f"/invite/{token}", data={"password": GOOD, "confirm": GOOD}
    )
    assert response.status_code == 410
    assert not account.check_password(GOOD)
    assert accounts.invitation_state(accounts.latest_invitation(db.session, account)) == "revoked"


def test_an_invitation_is_used_once_even_when_raced(admin, region):
    account, token = invited(admin, region=region)
    invitation = accounts.open_invitation(db.session, token)
    # Another request used it between this one's check and its update.
    db.session.execute(
        Invitation.__table__.update().where(Invitation.id == invitation.id).values(used_at=utcnow())
    )
    with pytest.raises(AccountError, match="invitation_used"):
        accounts.accept_invitation(db.session, token, GOOD)
    db.session.rollback()
    assert not account.check_password(GOOD)


def test_the_invitation_page_is_rate_limited_per_address(client, fresh_limits):  # noqa: F811
    statuses = [client.get(f"/invite/made-up-{n}").status_code for n in range(31)]
    assert statuses[:30] == [410] * 30 and statuses[30] == 429


# --- roles, regions, deactivation ---------------------------------------------------------------


def test_changing_the_role_ends_the_accounts_sessions(app, as_admin, inspector, region):
    theirs = logged_in_client(app, inspector)
    assert can_load(theirs)
    response = as_admin.post(
        f"/admin/accounts/{inspector.id}",
        data={"name": inspector.name, "role": "coordinator", "region": str(region.id),
              "language": "fr"},
    )  # fmt: skip
    assert response.status_code == 302
    assert inspector.role == "coordinator"
    assert not can_load(theirs)
    (event,) = audited("account.update", inspector)
    assert event.before["role"] == "inspector" and event.after["role"] == "coordinator"


def test_changing_the_region_ends_the_accounts_sessions(app, as_admin, inspector, other_region):
    theirs = logged_in_client(app, inspector)
    as_admin.post(
        f"/admin/accounts/{inspector.id}",
        data={"name": inspector.name, "role": "inspector", "region": str(other_region.id),
              "language": "fr"},
    )  # fmt: skip
    assert inspector.region_id == other_region.id
    assert not can_load(theirs)


def test_renaming_keeps_the_accounts_sessions(app, as_admin, inspector, region):
    theirs = logged_in_client(app, inspector)
    as_admin.post(
        f"/admin/accounts/{inspector.id}",
        data={"name": "A New Name", "role": "inspector", "region": str(region.id),
              "language": "ar"},
    )  # fmt: skip
    assert inspector.name == "A New Name" and inspector.language == "ar"
    assert can_load(theirs)


def test_deactivating_ends_sessions_and_cancels_the_invitation(app, as_admin, admin, region):
    account, token = invited(admin, region=region)
    other = factories.user("inspector", region=region)
    theirs = logged_in_client(app, other)
    as_admin.post(f"/admin/accounts/{other.id}/active", data={"action": "deactivate"})
    assert not other.active and not can_load(theirs)
    assert audited("account.deactivate", other)
    as_admin.post(f"/admin/accounts/{account.id}/active", data={"action": "deactivate"})
    with pytest.raises(AccountError, match="invitation_revoked"):
        accounts.open_invitation(db.session, token)
    # Reactivated: no old cookie comes back, a new login works.
    as_admin.post(f"/admin/accounts/{other.id}/active", data={"action": "reactivate"})
    assert other.active and not can_load(theirs)
    assert can_load(logged_in_client(app, other))
    assert audited("account.activate", other)


def test_the_last_admin_cannot_be_deactivated_or_demoted(admin, region):
    colleague = factories.user("admin")
    accounts.set_active(db.session, colleague, admin, False, Actor.of(colleague))
    db.session.commit()
    # ``colleague`` is now the last active admin: nobody can remove it.
    with pytest.raises(AccountError, match="last_admin"):
        accounts.set_active(db.session, admin, colleague, False, Actor.of(admin))
    with pytest.raises(AccountError, match="last_admin"):
        accounts.update_account(db.session, admin, colleague, name="x", role="coordinator",
                                region_id=region.id, language=None,
                                actor=Actor.of(admin))  # fmt: skip
    db.session.rollback()
    assert colleague.active and colleague.role == "admin"


def test_the_last_admin_is_told_they_cannot_demote_themselves(as_admin, admin, region):
    response = as_admin.post(
        f"/admin/accounts/{admin.id}",
        data={"name": admin.name, "role": "coordinator", "region": str(region.id),
              "language": "en"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "This is the last active administrator" in response.get_data(as_text=True)
    assert admin.role == "admin" and can_load(as_admin)


def test_an_admin_may_hand_over_to_another_admin(app, as_admin, admin, region):
    successor = factories.user("admin")
    response = as_admin.post(
        f"/admin/accounts/{admin.id}",
        data={"name": admin.name, "role": "coordinator", "region": str(region.id),
              "language": "en"},
    )  # fmt: skip
    assert response.status_code == 302 and admin.role == "coordinator"
    assert not can_load(as_admin)  # its own sessions ended too
    assert successor.active


def test_nobody_deactivates_themselves(as_admin, admin):
    factories.user("admin")
    response = as_admin.post(f"/admin/accounts/{admin.id}/active", data={"action": "deactivate"})
    assert response.status_code == 302 and admin.active
    page = as_admin.get(f"/admin/accounts/{admin.id}").get_data(as_text=True)
    assert "You cannot deactivate your own account." in page


def test_an_admin_deactivates_another_admin(app, admin):
    other = factories.user("admin")
    client = logged_in_client(app, other)
    response = client.post(f"/admin/accounts/{admin.id}/active", data={"action": "deactivate"})
    assert response.status_code == 302 and not admin.active


# --- one's own password -----------------------------------------------------------------------


def test_changing_ones_password_keeps_this_session_and_ends_the_others(app, inspector):
    here = logged_in_client(app, inspector)
    # (A login ends the account's earlier sessions: "elsewhere" is a copy of this session.)
    elsewhere = app.test_client()
    elsewhere.set_cookie("session", here.get_cookie("session").value)
    assert can_load(elsewhere)
    response = here.post(
        "/password",
        data={"current": factories.PASSWORD, "password": GOOD, "confirm": GOOD},
    )
    assert response.status_code == 302
    assert can_load(here) and can_load(here, "/inspect/")
    assert not can_load(elsewhere)
    assert inspector.check_password(GOOD)
    assert audited("account.password", inspector)


@pytest.mark.parametrize(
    ("current", "password", "message", "status"),
    [
        ("wrong password", GOOD, "The current password is wrong.", 401),
        (factories.PASSWORD, "password1234", "among the most common", 400),
        (factories.PASSWORD, "short", "At least 10 characters", 400),
    ],
)
def test_a_wrong_current_or_weak_new_password_is_refused(
    as_coordinator, coordinator, current, password, message, status
):
    before = coordinator.password_hash
    response = as_coordinator.post(
        "/password", data={"current": current, "password": password, "confirm": password}
    )
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert coordinator.password_hash == before


def test_the_password_may_not_contain_the_username(as_inspector, inspector):
    password = f"my {inspector.username} pass"
    response = as_inspector.post(
        "/password",
        data={"current": factories.PASSWORD, "password": password, "confirm": password},
    )
    assert response.status_code == 400 and "must not contain the username" in response.get_data(
        as_text=True
    )


def test_an_admin_changes_their_own_password(as_admin, admin):
    response = as_admin.post(
        "/password", data={"current": factories.PASSWORD, "password": GOOD, "confirm": GOOD}
    )
    assert response.status_code == 302 and can_load(as_admin)


# --- scoping ------------------------------------------------------------------------------------


def test_a_coordinator_sees_only_their_regions_inspectors(as_coordinator, region, other_region):
    mine = factories.user("inspector", region=region)
    theirs = factories.user("inspector", region=other_region)
    colleague = factories.user("coordinator", region=region)
    page = as_coordinator.get("/admin/accounts").get_data(as_text=True)
    assert mine.username in page
    assert theirs.username not in page and colleague.username not in page


def test_a_coordinator_gets_404_for_another_regions_account(as_coordinator, other_region):
    theirs = factories.user("inspector", region=other_region)
    for method, url in [
        ("GET", f"/admin/accounts/{theirs.id}"),
        ("POST", f"/admin/accounts/{theirs.id}"),
        ("POST", f"/admin/accounts/{theirs.id}/active"),
        ("POST", f"/admin/accounts/{theirs.id}/invite"),
        ("POST", f"/admin/accounts/{theirs.id}/revoke"),
    ]:
        response = as_coordinator.open(url, method=method, data={"action": "deactivate"})
        assert response.status_code == 404, url
    assert theirs.active


def test_a_coordinator_cannot_touch_a_coordinator_or_admin(as_coordinator, region, admin):
    colleague = factories.user("coordinator", region=region)
    assert as_coordinator.get(f"/admin/accounts/{colleague.id}").status_code == 404
    assert as_coordinator.get(f"/admin/accounts/{admin.id}").status_code == 404


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_a_coordinator_cannot_create_a_coordinator_or_admin(as_coordinator, region, role):
    response = as_coordinator.post(
        "/admin/accounts/new",
        data={"username": "chief", "name": "X", "role": role, "region": str(region.id),
              "language": "fr"},
    )  # fmt: skip
    assert response.status_code == 400
    assert db.session.scalar(select(User).where(User.username == "chief")) is None


def test_a_coordinator_cannot_create_an_inspector_in_another_region(
    as_coordinator, coordinator, other_region
):
    response = as_coordinator.post(
        "/admin/accounts/new",
        data={"username": "elsewhere", "name": "X", "role": "inspector",
              "region": str(other_region.id), "language": "fr"},
    )  # fmt: skip
    assert response.status_code == 400
    assert db.session.scalar(select(User).where(User.username == "elsewhere")) is None
    with pytest.raises(AccountError, match="region_not_yours"):
        invited(coordinator, region=other_region)


def test_a_coordinator_cannot_move_an_inspector_to_another_region(
    as_coordinator, region, other_region
):
    mine = factories.user("inspector", region=region)
    response = as_coordinator.post(
        f"/admin/accounts/{mine.id}",
        data={"name": mine.name, "role": "inspector", "region": str(other_region.id),
              "language": "fr"},
    )  # fmt: skip
    assert response.status_code == 400 and mine.region_id == region.id


def test_a_coordinators_form_offers_inspectors_of_their_region_only(
    as_coordinator, region, other_region
):
    page = as_coordinator.get("/admin/accounts/new").get_data(as_text=True)
    roles = re.search(r'<select[^>]*name="role".*?</select>', page, re.S).group(0)
    regions = re.search(r'<select[^>]*name="region".*?</select>', page, re.S).group(0)
    assert re.findall(r'value="(\w+)"', roles) == ["inspector"]
    assert f'value="{region.id}"' in regions and f'value="{other_region.id}"' not in regions


def test_an_admins_form_starts_with_a_coordinator(as_admin):
    page = as_admin.get("/admin/accounts/new").get_data(as_text=True)
    assert re.search(r'<option selected value="coordinator">|value="coordinator" selected', page)


def test_guessing_the_current_password_is_limited(as_inspector, inspector):
    data = {"current": "not my password", "password": GOOD, "confirm": GOOD}
    statuses = [as_inspector.post("/password", data=data).status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    assert not inspector.check_password(GOOD)


def test_an_inspector_cannot_manage_accounts(as_inspector, inspector):
    assert as_inspector.get("/admin/accounts").status_code == 403
    assert as_inspector.get("/admin/accounts/new").status_code == 403


# --- from the first admin to an inspector in the field ------------------------------------------


def test_a_national_admin_invites_a_coordinator_who_invites_an_inspector(app, runner, region):
    result = runner.invoke(
        args=["users", "create", "chief", "--name", "Chief", "--role", "admin", "--password", GOOD]
    )
    assert result.exit_code == 0, result.output
    chief = app.test_client()
    assert chief.post("/login", data={"username": "chief", "password": GOOD}).status_code == 302
    page = chief.post(
        "/admin/accounts/new",
        data={"username": "coord.rabat", "name": "Coordinator", "role": "coordinator",
              "region": str(region.id), "language": "fr"},
    ).get_data(as_text=True)  # fmt: skip
    coordinator_phone = app.test_client()
    token = token_of(page)
    coordinator_phone.post(f"/invite/{token}", data={"password": GOOD, "confirm": GOOD})
    page = coordinator_phone.post(
        "/admin/accounts/new",
        data={"username": "insp.one", "name": "Inspector", "role": "inspector",
              "language": "ar"},
    ).get_data(as_text=True)  # fmt: skip
    inspector_phone = app.test_client()
    token = token_of(page)
    response = inspector_phone.post(f"/invite/{token}", data={"password": GOOD, "confirm": GOOD})
    assert response.headers["Location"] == "/inspect/round"
    inspector = db.session.scalar(select(User).where(User.username == "insp.one"))
    assert inspector.region_id == region.id and inspector.language == "ar"
    assert inspector_phone.get("/inspect/").status_code == 200


def test_a_fields_hint_and_error_are_read_out_with_it(as_inspector):
    """Screen readers announce the rule ("at least 10 characters") with the field, and the
    error after a refusal, through aria-describedby."""
    page = as_inspector.get("/password").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="password"[^>]*>', page)[0]
    assert 'aria-describedby="password-hint"' in field
    assert 'id="password-hint"' in page

    refused = as_inspector.post(
        "/password",
        data={"current": factories.PASSWORD, "password": "short", "confirm": "short"},
    ).get_data(as_text=True)
    field = re.search(r'<input[^>]*id="password"[^>]*>', refused)[0]
    assert 'aria-describedby="password-hint password-error"' in field
    assert 'aria-invalid="true"' in field
