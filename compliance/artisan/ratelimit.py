"""Limits on guessing keys: artisans' PINs per card number and per address, staff passwords per
account and per address, failed codes per address.

Flask-Limiter does the counting. Each app gets its own :class:`~flask_limiter.Limiter`, made
by the factory, so the storage is the one *that* app's config names:
``RATELIMIT_STORAGE_URI`` — ``memory://`` by default (one process), a Redis URL such as
``redis://127.0.0.1:6379`` when several app servers must share the counts (otherwise each
server would allow the full number of attempts). If Redis goes down, each server falls back to
counting in its own memory rather than refusing everyone.

Views declare their limits with :func:`limit`; :func:`init_app` (called by the factory once
every blueprint is registered) wraps them with the app's limiter. Only *failed* attempts
count (``deduct_when``), so someone who types the right PIN or password is never slowed
down, and the limits per address stay generous enough for a fan zone where a whole mobile
network shares one public address (carrier-grade NAT).

Behind a reverse proxy the address is the proxy's unless the app is wrapped in Werkzeug's
``ProxyFix``; that is a deployment setting, not this module's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from . import keys

EXTENSION = "soukcheck.key_limiter"

# A PIN has a million values. Per card: 5 wrong tries in 15 minutes and 20 in a day, so even
# from many addresses, guessing one card's PIN takes some seventy years on average. (Anyone can
# spend a card's tries and lock its PIN for a day; the QR code on the slip still works.)
PIN_PER_CARD = "5 per 15 minutes;20 per day"
# Per address: several artisans may share one (carrier NAT), and one may mistype a few times.
PIN_PER_ADDRESS = "30 per 15 minutes;200 per day"
# Codes have 128 bits; this only stops a scanner hammering the server with made-up links.
CODE_PER_ADDRESS = "60 per 15 minutes"
# Staff passwords. Per account (the username typed, whether or not it exists, so that a lock
# says nothing about which accounts exist): 10 wrong tries in 15 minutes, 50 in a day. A day's
# lock costs an inspector a tournament day, hence more room than for a PIN; a guessed password
# still needs years at this rate. Per address: as for PINs (a chamber's office shares one).
STAFF_PER_ACCOUNT = "10 per 15 minutes;50 per day"
STAFF_PER_ADDRESS = "30 per 15 minutes;200 per day"
# Invitation links have 256 bits: only a scanner (or someone retrying a weak password) gets
# here, and each refused new password cost a hash. Per address, as for PINs.
INVITATION_PER_ADDRESS = "30 per 15 minutes;200 per day"

_declared: dict[str, list[dict[str, Any]]] = {}
_unlimited: list[Blueprint] = []


def failed_attempt(response: Response) -> bool:
    """Only wrong keys count: the views answer those with 401 (PIN, password) or 404 (link)."""
    return response.status_code in (401, 404)


def card_number() -> str:
    """The card number typed in the form; the limit key for PIN attempts on one card."""
    # Never empty: Flask-Limiter skips a limit whose key is empty.
    return "card:" + (keys.clean_card_number(request.form.get("card_number"))[:40] or "-")


def username() -> str:
    """The username typed in the staff login form (any case); the limit key for one account."""
    return "user:" + ((request.form.get("username") or "").strip().lower()[:80] or "-")


def address() -> str:
    return "addr:" + (get_remote_address() or "-")


def refused_link(response: Response) -> bool:
    """A link that leads nowhere (410: unknown, used, expired) or a refused form (400)."""
    return response.status_code in (400, 404, 410)


def limit(
    value: str,
    *,
    key: Callable[[], str],
    endpoint: str,
    methods: list[str] | None = None,
    deduct_when: Callable[[Response], bool] = failed_attempt,
) -> Callable:
    """Declare a limit on the view named ``endpoint`` ("blueprint.view"); see :func:`init_app`.

    Only the responses ``deduct_when`` accepts count (by default wrong keys: 401 and 404).
    """

    def declare(view: Callable) -> Callable:
        _declared.setdefault(endpoint, []).append(
            {
                "limit_value": value,
                "key_func": key,
                "methods": methods,
                "deduct_when": deduct_when,
            }
        )
        return view

    return declare


def unlimited(blueprint: Blueprint) -> Blueprint:
    """Declare that no limit applies to any route of ``blueprint``; see :func:`init_app`.

    Its requests then skip the limiter's check altogether (a share of the CPU of every call of
    the phone's sync API). A limit declared on one of its routes is a mistake, refused at start.
    """
    if blueprint not in _unlimited:
        _unlimited.append(blueprint)
    return blueprint


def init_app(app: Flask) -> None:
    """Make this app's limiter and wrap the declared views (once per app, after the routes)."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX", "soukcheck"),
        in_memory_fallback_enabled=app.config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True),
        headers_enabled=True,
    )
    app.extensions[EXTENSION] = limiter
    for endpoint, limits in _declared.items():
        view = app.view_functions[endpoint]
        for spec in limits:
            view = limiter.limit(**spec)(view)
        app.view_functions[endpoint] = view
    # The blueprints without limits: exempt from any default or application-wide limit (the
    # documented ``exempt``), and, since none of their routes declares one, from the check
    # itself (a ``request_filter``, which Flask-Limiter asks before resolving any limit).
    free = {name for name, bp in app.blueprints.items() if bp in _unlimited}
    for endpoint in _declared:
        if endpoint.rpartition(".")[0] in free:
            raise ValueError(f"{endpoint} declares a limit but its blueprint is unlimited")
    for blueprint in _unlimited:
        limiter.exempt(blueprint)
    if free:
        limiter.request_filter(lambda: request.blueprint in free)


def retry_after() -> int:
    """Seconds until the limit just exceeded lets the next attempt through (at least a minute)."""
    current = limiter_of().current_limit
    return max(60, math.ceil(current.reset_at - time.time())) if current else 15 * 60


def limiter_of(app: Flask | None = None) -> Limiter:
    """The limiter bound to ``app`` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION]
