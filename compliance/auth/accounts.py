"""Staff accounts: checking a password, and which session cookies still stand for an account.

A session (and a remember-me cookie) names the account *and* its session version
(:meth:`User.get_id`). Logging in, logging out, changing the password or deactivating the
account bumps the version (:meth:`User.end_sessions`), so every cookie issued before, copied
or not, stops working at once, on every server, with nothing to store per session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, fields
from functools import cache

from flask_login import UserMixin
from sqlalchemy import bindparam, func, select
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
    named = _named(value)
    user = db.session.get(User, named[0]) if named else None
    return user if user is not None and _stands(user, named[1]) else None


def _named(value: str) -> tuple[int, str] | None:
    """(account id, session version) of a session id; None for anything else."""
    user_id, _, version = (value or "").partition(":")
    if not (user_id.isdigit() and version.isdigit()) or len(user_id) > 10:
        return None  # also a cookie from before session versions: log in again
    return int(user_id), version


def _stands(user: User | AccountRow, version: str) -> bool:
    return user.active and version == str(user.session_version or 0)


@dataclass(frozen=True)
class AccountRow(UserMixin):
    """An account as read for the phone's sync API: its columns, no ORM object (the API reads
    nothing else of it, and loading a row costs a quarter of loading the object)."""

    id: int
    username: str
    name: str
    role: str
    region_id: int | None
    language: str | None
    active: bool
    session_version: int

    is_active = User.is_active
    get_id = User.get_id


_ACCOUNT_ROW = select(*(User.__table__.c[f.name] for f in fields(AccountRow))).where(
    User.__table__.c.id == bindparam("user_id")
)


def row_from_session_id(value: str) -> AccountRow | None:
    """:func:`from_session_id`, the same rule, read as an :class:`AccountRow`."""
    named = _named(value)
    if named is None:
        return None
    row = db.session.connection().execute(_ACCOUNT_ROW, {"user_id": named[0]}).first()
    user = AccountRow(*row) if row is not None else None
    return user if user is not None and _stands(user, named[1]) else None
