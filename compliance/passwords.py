"""What makes a password acceptable: long enough, not common, not the username.

A short list of common passwords is shipped in ``common_passwords.txt`` (where it comes from
is said at its top). Returns problem codes; compliance/labels.py words them.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

MIN_LENGTH = 10
_TAIL = re.compile(r"[\d\W_]+$")


@cache
def common() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def problem(password: str, username: str = "") -> str | None:
    """``too_short``, ``common``, ``username`` or ``repetitive``; None when acceptable."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    lowered = password.lower()
    stem = _TAIL.sub("", lowered)
    if lowered in common() or stem in common() or lowered.replace(" ", "") in common():
        return "common"
    if username and username.lower() in lowered:
        return "username"
    if len(set(lowered)) <= 3:
        return "repetitive"
    return None
