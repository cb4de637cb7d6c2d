"""Issuing, checking and reissuing the artisan's keys (see ``keys.py`` for how they are made).

A key works once it is *issued*: its hash is stored. Issuing is a deliberate step, a POST by a
coordinator (:func:`issue_badge` / :func:`issue_slip`, on record); looking at or printing what
was issued is a read (:func:`issued_badge_code` / :func:`issued_slip_code`), which derives the
code again and writes nothing. A slip's PIN is shown once, by the request that issued it; a
slip printed later carries no PIN (a lost PIN is a new slip: :func:`reissue_slip`).

Checking a key needs both its stored hash and its current derivation, so a bumped version or a
rotated SECRET_KEY makes old keys fail at once.

No Flask request here: the views pass ``SECRET_KEY`` in and commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Artisan, User, audit
from . import keys


@dataclass(frozen=True)
class Slip:
    """What the private slip carries besides the card number."""

    private_code: str
    pin: str


def ensure_badge(artisan: Artisan, secret: str) -> str:
    """The artisan's current badge code, its hash stored if it was not yet (caller commits)."""
    code = keys.badge_code(secret, artisan.id, artisan.badge_version)
    digest = keys.code_hash(code)
    if artisan.badge_code_hash != digest:
        artisan.badge_code_hash = digest
    return code


def ensure_slip(artisan: Artisan, secret: str) -> Slip:
    """The current private code and PIN, their hashes stored if needed (caller commits)."""
    code = keys.private_code(secret, artisan.id, artisan.private_version)
    pin = keys.pin(secret, artisan.id, artisan.private_version)
    digest = keys.code_hash(code)
    # The link and the PIN are always stored together: one matching means both do.
    if artisan.private_code_hash != digest or not artisan.pin_hash:
        artisan.private_code_hash = digest
        artisan.pin_hash = generate_password_hash(pin)
    return Slip(private_code=code, pin=pin)


def issued_badge_code(artisan: Artisan, secret: str) -> str | None:
    """The current badge code if it was issued, else None. Reads only."""
    code = keys.badge_code(secret, artisan.id, artisan.badge_version)
    return code if artisan.badge_code_hash == keys.code_hash(code) else None


def issued_slip_code(artisan: Artisan, secret: str) -> str | None:
    """The current private-link code if the slip was issued, else None. Reads only."""
    code = keys.private_code(secret, artisan.id, artisan.private_version)
    issued = artisan.private_code_hash == keys.code_hash(code) and artisan.pin_hash
    return code if issued else None


def issue_badge(artisan: Artisan, secret: str, actor: User) -> bool:
    """Issue the current badge if it was not yet, on record; True when it was issued now.

    The caller commits."""
    if issued_badge_code(artisan, secret) is not None:
        return False
    ensure_badge(artisan, secret)
    audit(
        f"user:{actor.id}",
        "artisan.badge_issue",
        "artisan",
        artisan.id,
        actor_id=actor.id,
        after={"badge_version": artisan.badge_version},
    )
    return True


def issue_slip(artisan: Artisan, secret: str, actor: User) -> Slip | None:
    """Issue the current slip if it was not yet, on record: its link and PIN (the only time
    the PIN is shown), or None when it was issued before. The caller commits."""
    if issued_slip_code(artisan, secret) is not None:
        return None
    slip = ensure_slip(artisan, secret)
    # The slip shows a PIN: who printed it, and when, is on record.
    audit(
        f"user:{actor.id}",
        "artisan.slip_print",
        "artisan",
        artisan.id,
        actor_id=actor.id,
        after={"private_version": artisan.private_version},
    )
    return slip


def by_badge_code(code: str | None, secret: str) -> Artisan | None:
    """The artisan whose *current* badge carries ``code``, else None."""
    code = keys.clean_code(code)
    if code is None:
        return None
    artisan = db.session.scalar(
        select(Artisan).where(Artisan.badge_code_hash == keys.code_hash(code))
    )
    if artisan is None or not keys.same(
        code, keys.badge_code(secret, artisan.id, artisan.badge_version)
    ):
        return None
    return artisan


def by_private_code(code: str | None, secret: str) -> Artisan | None:
    """The artisan whose *current* slip carries the private link ``code``, else None."""
    code = keys.clean_code(code)
    if code is None:
        return None
    artisan = db.session.scalar(
        select(Artisan).where(Artisan.private_code_hash == keys.code_hash(code))
    )
    if artisan is None or not keys.same(
        code, keys.private_code(secret, artisan.id, artisan.private_version)
    ):
        return None
    return artisan


@cache
def _decoy_hash() -> str:
    return generate_password_hash("000000")


def by_card_and_pin(card_number: str | None, pin: str | None, secret: str) -> Artisan | None:
    """The artisan with this card number and current PIN, else None.

    An unknown card costs the same hash check as a wrong PIN, so timing does not tell which.
    """
    card = keys.clean_card_number(card_number)
    pin = keys.clean_pin(pin)
    artisan = find_by_card_number(card) if card else None
    if artisan is None or not artisan.pin_hash or not keys.PIN_RE.fullmatch(pin):
        check_password_hash(_decoy_hash(), pin or "x")
        return None
    if not check_password_hash(artisan.pin_hash, pin):
        return None
    if not keys.same(pin, keys.pin(secret, artisan.id, artisan.private_version)):
        return None  # issued under another SECRET_KEY: reissued since
    return artisan


def find_by_card_number(card: str) -> Artisan | None:
    """Find a card number however it was typed (spaces, dashes, case)."""
    exact = db.session.scalar(select(Artisan).where(func.upper(Artisan.nia) == card))
    if exact is not None:
        return exact
    folded = func.upper(
        func.replace(func.replace(func.replace(Artisan.nia, " ", ""), "-", ""), ".", "")
    )
    return db.session.scalar(select(Artisan).where(folded == card).limit(1))


def session_artisan(artisan_id: object, version: object) -> Artisan | None:
    """The artisan of a session, unless their slip was reissued since they opened it."""
    if not isinstance(artisan_id, int) or not isinstance(version, int):
        return None
    artisan = db.session.get(Artisan, artisan_id)
    if artisan is None or artisan.private_version != version or not artisan.private_code_hash:
        return None
    return artisan


def _new_version(artisan: Artisan, counter: str, action: str, actor: User) -> None:
    """Count ``artisan.<counter>`` up (what the old version gave fails from now on), audited."""
    before = {counter: getattr(artisan, counter)}
    setattr(artisan, counter, before[counter] + 1)
    audit(
        f"user:{actor.id}",
        action,
        "artisan",
        artisan.id,
        actor_id=actor.id,
        before=before,
        after={counter: getattr(artisan, counter)},
    )


def reissue_badge(artisan: Artisan, secret: str, actor: User) -> str:
    """A lost badge: a new code; the old one fails from now on. Returns the new code."""
    _new_version(artisan, "badge_version", "artisan.badge_reissue", actor)
    code = ensure_badge(artisan, secret)
    db.session.commit()
    return code


def reissue_slip(artisan: Artisan, secret: str, actor: User) -> Slip:
    """A lost slip or PIN: a new private link and PIN; the old ones (and open sessions) end."""
    _new_version(artisan, "private_version", "artisan.slip_reissue", actor)
    slip = ensure_slip(artisan, secret)
    db.session.commit()
    return slip
