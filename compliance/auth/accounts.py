"""Staff accounts: checking a password, and which session cookies still stand for an account.

A session (and a remember-me cookie) names the account *and* its session version
(:meth:`User.get_id`). Logging in, logging out, changing the password or deactivating the
account bumps the version (:meth:`User.end_sessions`), so every cookie issued before, copied
or not, stops working at once, on every server, with nothing to store per session.
"""

from __future__ import annotations

import secrets
from functools import cache

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import User


@cache
def _dummy_hash() -> str:
    # Made with the same method and cost as real passwords, once per process.
    return generate_password_hash(secrets.token_hex(16))


def authenticate(username: str, password: str) -> User | None:
    """The active account with this username (any case) and password, else None.

    A wrong username costs one password check too (against a dummy hash), so the time taken
    does not tell whether the account exists.
    """
    user = db.session.scalar(
        select(User).where(func.lower(User.username) == username.strip().lower())
    )
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def from_session_id(value: str) -> User | None:
    """The account a session or remember-me cookie names, if that session still stands."""
    user_id, _, version = (value or "").partition(":")
    if not (user_id.isdigit() and version.isdigit()) or len(user_id) > 10:
        return None  # also a cookie from before session versions: log in again
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or version != str(user.session_version or 0):
        return None
    return user
