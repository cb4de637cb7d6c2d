"""The artisan's keys: the badge code, the private-link code and the PIN.

Every key is *derived*, never drawn at random::

    badge code   = HMAC-SHA256(SECRET_KEY, "badge:{artisan_id}:{badge_version}")   (128 bits)
    private code = HMAC-SHA256(SECRET_KEY, "private:{artisan_id}:{private_version}") (128 bits)
    PIN          = HMAC-SHA256(SECRET_KEY, "pin:{artisan_id}:{private_version}") mod 10^6

Why derived rather than issued and shown once: a chamber prints a whole venue's badges and
slips, and printers jam, run out of toner or print the wrong page. With derived keys the
coordinator simply prints again and gets the same badge, the same link and the same PIN, while
the database still holds only hashes (SHA-256 of the codes, for lookup; a salted werkzeug hash
of the PIN). Nothing secret has to sit in the database, in a session or in a one-time page
waiting to be printed. Revoking a key is bumping its version: the old value no longer matches
its derivation, so it fails at once, everywhere.

The badge code and the private code are separate on purpose: the badge is worn in public and
anyone can photograph its QR code; the private link and the PIN are on a slip the artisan keeps.
A lost badge revokes only the badge, a lost slip revokes the link and the PIN together.

Whoever holds SECRET_KEY can compute every key, exactly as they could already forge any
session cookie, so deriving adds no new secret to guard. **Rotating SECRET_KEY reissues every
badge, private link and PIN at once**: all printed badges and slips stop working and must be
printed again.

Plain Python: no Flask, no database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

PIN_DIGITS = 6
# 128 bits: far beyond guessing, and 26 characters of base32 keep the QR code small.
CODE_BYTES = 16
CODE_RE = re.compile(r"[a-z2-7]{26}")
PIN_RE = re.compile(rf"[0-9]{{{PIN_DIGITS}}}")

# Arabic phone keyboards often type Arabic-Indic digits (٠١٢… or ۰۱۲…); they mean the same.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_CARD_SEPARATORS = re.compile(r"[\s\-_./]+")


def _mac(secret: str | bytes, message: str) -> bytes:
    if not secret:
        raise ValueError("a secret key is required to derive artisan keys")
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _code(secret: str | bytes, message: str) -> str:
    raw = _mac(secret, message)[:CODE_BYTES]
    return base64.b32encode(raw).decode().rstrip("=").lower()


def badge_code(secret: str | bytes, artisan_id: int, version: int) -> str:
    """The code in the public badge URL (26 lowercase base32 characters)."""
    return _code(secret, f"badge:{artisan_id}:{version}")


def private_code(secret: str | bytes, artisan_id: int, version: int) -> str:
    """The code in the private link printed on the artisan's slip."""
    return _code(secret, f"private:{artisan_id}:{version}")


def pin(secret: str | bytes, artisan_id: int, version: int) -> str:
    """The 6-digit PIN printed on the slip; changes with the private version."""
    number = int.from_bytes(_mac(secret, f"pin:{artisan_id}:{version}"), "big")
    return f"{number % 10**PIN_DIGITS:0{PIN_DIGITS}d}"


def code_hash(code: str) -> str:
    """SHA-256 (hex) of a code: what the database stores and looks codes up by.

    A plain hash is enough for a 128-bit random-looking code: nobody can search that space.
    """
    return hashlib.sha256(code.encode()).hexdigest()


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of two keys."""
    return hmac.compare_digest(given.encode(), expected.encode())


def clean_code(value: str | None) -> str | None:
    """A code as typed or scanned, lower-cased; None when it cannot be one of ours."""
    value = (value or "").strip().lower()
    return value if CODE_RE.fullmatch(value) else None


def clean_pin(value: str | None) -> str:
    """Digits only, Arabic-Indic digits made ASCII, spaces dropped."""
    return re.sub(r"\s+", "", (value or "").translate(_DIGITS))


def clean_card_number(value: str | None) -> str:
    """A card number as typed: upper case, no spaces or dashes, ASCII digits."""
    return _CARD_SEPARATORS.sub("", (value or "").translate(_DIGITS)).upper()
