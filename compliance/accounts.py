"""Staff accounts as admins and coordinators manage them: invitations, roles, regions, passwords.

No Flask here: the views in ``compliance/admin/account_routes.py`` and ``compliance/auth``
call these with the database session and the time (``now``), so tests can move the clock.

- **Nobody types a password for someone else.** Creating an account (or inviting it again)
  makes a one-time invitation link, valid :data:`INVITATION_VALID`, shown once to whoever
  invited; only the SHA-256 of its token is stored. Its owner opens it and chooses a
  password. A new invitation revokes the account's earlier ones; deactivating the account
  revokes them too. An invitation is used at most once, even by two requests at the same
  instant (a conditional UPDATE decides).
- **Who manages whom** is :data:`compliance.access.MANAGES`: admins every staff account of any
  region, coordinators the inspectors of their own region. The views load accounts through
  :func:`compliance.access.account_or_404`; the rules below check the *new* role and region.
- **Changing an account's role or region, or deactivating it, ends its sessions at once**
  (:meth:`User.end_sessions`), on every device. The last active admin can be neither
  deactivated nor demoted (an admin may demote themselves while another one remains); nobody
  deactivates their own account.
- **Every change is audited** (:func:`compliance.models.audit`), in the same transaction.

Refusals raise :class:`AccountError`; its ``code`` keys the message in
``compliance/labels.py`` (``ACCOUNT_PROBLEMS`` and ``PASSWORD_PROBLEMS``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from . import passwords
from .access import managed_roles, region_scope
from .models import ADMIN, Invitation, User, audit, utcnow

INVITATION_VALID = timedelta(hours=72)
TOKEN_BYTES = 32  # 256 bits: 43 characters in the link
MAX_TOKEN_LENGTH = 64  # longer is nobody's token: refused before hashing
LANGUAGES = ("ar", "fr", "en")

# The state of an account's latest invitation, as the list shows it.
PENDING, ACCEPTED, EXPIRED, REVOKED, NONE = "pending", "accepted", "expired", "revoked", "none"


class AccountError(Exception):
    """A change the rules refuse; ``code`` names the message shown to the user."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the audit trail writes it."""

    label: str  # "user:7", "cli"
    user_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(f"user:{user.id}", user.id)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def account_state(account: User) -> dict:
    """What the audit trail records of an account (never its password hash)."""
    return {
        "username": account.username,
        "name": account.name,
        "role": account.role,
        "region_id": account.region_id,
        "language": account.language,
        "active": bool(account.active),
    }


# --- the rules on roles and regions -----------------------------------------------------------


def _check_placement(manager: User, role: str, region_id: int | None) -> int | None:
    """The region an account of ``role`` gets when ``manager`` places it in ``region_id``."""
    if role not in managed_roles(manager):
        raise AccountError("role_not_allowed")
    if role == ADMIN:
        return None  # admins are national
    scope = region_scope(manager)
    if scope is not None:
        if region_id is not None and region_id != scope:
            raise AccountError("region_not_yours")
        return scope
    if region_id is None:
        raise AccountError("region_required")
    return region_id


def _other_active_admins(session: Session, account: User) -> int:
    # Locks the admins' rows (PostgreSQL): two admins demoting each other at the same instant
    # cannot both pass this check.
    ids = session.scalars(
        select(User.id)
        .where(User.role == ADMIN, User.active.is_(True), User.id != account.id)
        .with_for_update()
    ).all()
    return len(ids)


def _keep_an_admin(session: Session, account: User) -> None:
    if account.role == ADMIN and account.active and _other_active_admins(session, account) == 0:
        raise AccountError("last_admin")


def username_taken(session: Session, username: str) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(func.lower(User.username) == username.strip().lower())
        )
    )


# --- creating accounts and inviting ------------------------------------------------------------


def create_account(
    session: Session,
    manager: User,
    *,
    username: str,
    name: str,
    role: str,
    region_id: int | None,
    language: str | None,
    actor: Actor,
    now: datetime | None = None,
) -> tuple[User, str]:
    """A new account with no usable password, and the token of its invitation link."""
    username = username.strip().lower()
    region_id = _check_placement(manager, role, region_id)
    if username_taken(session, username):
        raise AccountError("username_taken")
    account = User(
        username=username,
        name=name.strip(),
        role=role,
        region_id=region_id,
        language=language if language in LANGUAGES else None,
        active=True,
        # A random secret nobody knows: the account cannot log in until its owner accepts the
        # invitation, and a login attempt costs the same time as for any other account.
        password_hash=generate_password_hash(secrets.token_hex(32)),
    )
    session.add(account)
    try:
        session.flush()
    except IntegrityError as error:  # the same username, created at the same instant
        raise AccountError("username_taken") from error
    audit(actor.label, "account.create", "user", account.id, after=account_state(account),
          actor_id=actor.user_id)  # fmt: skip
    return account, invite(session, account, actor, now=now)


def invite(session: Session, account: User, actor: Actor, now: datetime | None = None) -> str:
    """A new invitation link for ``account`` (its token); earlier ones stop working."""
    now = now or utcnow()
    if not account.active:
        raise AccountError("account_inactive")
    _revoke_pending(session, account, actor, now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = Invitation(
        user_id=account.id,
        token_hash=hash_token(token),
        created_by_id=actor.user_id,
        created_at=now,
        expires_at=now + INVITATION_VALID,
    )
    session.add(invitation)
    session.flush()
    audit(actor.label, "invitation.create", "user", account.id,
          after={"invitation_id": invitation.id, "expires_at": invitation.expires_at.isoformat()},
          actor_id=actor.user_id)  # fmt: skip
    return token


def _revoke_pending(session: Session, account: User, actor: Actor, now: datetime) -> int:
    pending = session.scalars(
        select(Invitation).where(
            Invitation.user_id == account.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    ).all()
    for invitation in pending:
        _revoke(invitation, actor, now)
    return len(pending)


def _revoke(invitation: Invitation, actor: Actor, now: datetime) -> None:
    invitation.revoked_at = now
    audit(actor.label, "invitation.revoke", "user", invitation.user_id,
          before={"invitation_id": invitation.id}, after={"revoked_at": now.isoformat()},
          actor_id=actor.user_id)  # fmt: skip


def revoke_invitations(
    session: Session, account: User, actor: Actor, now: datetime | None = None
) -> int:
    """Revoke every unused invitation of ``account``; how many there were."""
    return _revoke_pending(session, account, actor, now or utcnow())


def latest_invitation(session: Session, account: User) -> Invitation | None:
    return session.scalar(
        select(Invitation)
        .where(Invitation.user_id == account.id)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        .limit(1)
    )


def invitation_state(invitation: Invitation | None, now: datetime | None = None) -> str:
    if invitation is None:
        return NONE
    if invitation.used_at is not None:
        return ACCEPTED
    if invitation.revoked_at is not None:
        return REVOKED
    if invitation.expires_at <= (now or utcnow()):
        return EXPIRED
    return PENDING


def latest_invitations(session: Session, account_ids: list[int]) -> dict[int, Invitation]:
    """Each account's latest invitation, in one query."""
    if not account_ids:
        return {}
    rows = session.scalars(
        select(Invitation)
        .where(Invitation.user_id.in_(account_ids))
        .order_by(Invitation.user_id, Invitation.created_at, Invitation.id)
    )
    return {invitation.user_id: invitation for invitation in rows}  # the last one wins


# --- accepting an invitation ------------------------------------------------------------------


def open_invitation(session: Session, token: str, now: datetime | None = None) -> Invitation:
    """The invitation of ``token`` if it can still be used; else :class:`AccountError`
    (``invitation_unknown``, ``invitation_used``, ``invitation_revoked``,
    ``invitation_expired``)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise AccountError("invitation_unknown")
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    )
    state = invitation_state(invitation, now)
    if invitation is not None and state == PENDING and not invitation.user.active:
        state = REVOKED  # deactivated since (deactivating revokes; this is belt and braces)
    if state != PENDING:
        raise AccountError(
            {
                NONE: "invitation_unknown",
                ACCEPTED: "invitation_used",
                REVOKED: "invitation_revoked",
                EXPIRED: "invitation_expired",
            }[state]
        )
    return invitation


def password_problem(password: str, username: str = "") -> str | None:
    """A key of ``labels.PASSWORD_PROBLEMS``, or None when the password is acceptable."""
    return passwords.problem(password or "", username)


def accept_invitation(
    session: Session, token: str, password: str, now: datetime | None = None
) -> User:
    """Set the password of the invitation's account and use the invitation up.

    The password is checked first (:class:`AccountError` with a ``PASSWORD_PROBLEMS`` code).
    Whatever is refused, nothing changes.
    """
    now = now or utcnow()
    invitation = open_invitation(session, token, now)
    account = invitation.user
    problem = password_problem(password, account.username)
    if problem:
        raise AccountError(problem)
    # Only one request can use it: the UPDATE matches only while it is still unused.
    used = session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise AccountError("invitation_used")
    account.set_password(password)  # also ends any session the account had
    audit(f"user:{account.id}", "invitation.accept", "user", account.id,
          after={"invitation_id": invitation.id}, actor_id=account.id)  # fmt: skip
    return account


# --- changing accounts --------------------------------------------------------------------------


def update_account(
    session: Session,
    manager: User,
    account: User,
    *,
    name: str,
    role: str,
    region_id: int | None,
    language: str | None,
    actor: Actor,
) -> bool:
    """Change an account's name, language, role or region; whether its sessions were ended.

    A new role or region ends the account's sessions: what it may see has changed.
    """
    region_id = _check_placement(manager, role, region_id)
    moves = role != account.role or region_id != account.region_id
    if moves and account.role == ADMIN and role != ADMIN:
        _keep_an_admin(session, account)
    before = account_state(account)
    account.name = name.strip()
    account.role, account.region_id = role, region_id
    if language in LANGUAGES:
        account.language = language
    if moves:
        account.end_sessions()
    after = account_state(account)
    if after != before:
        audit(actor.label, "account.update", "user", account.id, before=before, after=after,
              actor_id=actor.user_id)  # fmt: skip
    return moves


def set_active(
    session: Session,
    manager: User,
    account: User,
    active: bool,
    actor: Actor,
    now: datetime | None = None,
) -> None:
    """Deactivate (ends its sessions, revokes its invitations) or reactivate an account."""
    if account.id == manager.id:
        raise AccountError("own_account")
    if bool(account.active) == active:
        return
    before = account_state(account)
    if active:
        account.active = True
        account.end_sessions()  # nothing from before the deactivation comes back
    else:
        _keep_an_admin(session, account)
        account.deactivate()
        _revoke_pending(session, account, actor, now or utcnow())
    audit(actor.label, "account.activate" if active else "account.deactivate", "user",
          account.id, before=before, after=account_state(account),
          actor_id=actor.user_id)  # fmt: skip


def change_own_password(session: Session, user: User, current: str, new: str) -> None:
    """The user's own new password; their sessions end (the caller signs this one in again)."""
    if not user.check_password(current or ""):
        raise AccountError("wrong_password")
    problem = password_problem(new, user.username)
    if problem:
        raise AccountError(problem)
    user.set_password(new)
    audit(f"user:{user.id}", "account.password", "user", user.id, actor_id=user.id)
