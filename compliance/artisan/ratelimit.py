"""Limits on guessing keys: PIN attempts per card number and per address, failed codes per address.

Flask-Limiter does the counting. Each app gets its own :class:`~flask_limiter.Limiter`, made
when the blueprint is registered, so the storage is the one *that* app's config names:
``RATELIMIT_STORAGE_URI`` — ``memory://`` by default (one process), a Redis URL such as
``redis://127.0.0.1:6379`` when several app servers must share the counts (otherwise each
server would allow the full number of attempts). If Redis goes down, each server falls back to
counting in its own memory rather than refusing every artisan.

Views declare their limits with :func:`limit`; :func:`init_app` wraps them with the app's
limiter. Only *failed* attempts count (``deduct_when``), so an artisan who types the right PIN
is never slowed down, and the limits per address stay generous enough for a fan zone where a
whole mobile network shares one public address (carrier-grade NAT).

Behind a reverse proxy the address is the proxy's unless the app is wrapped in Werkzeug's
``ProxyFix``; that is a deployment setting, not this module's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask.blueprints import BlueprintSetupState
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

_declared: dict[str, list[dict[str, Any]]] = {}


def failed_attempt(response: Response) -> bool:
    """Only wrong keys count: the views answer those with 401 (PIN) or 404 (link)."""
    return response.status_code in (401, 404)


def card_number() -> str:
    """The card number typed in the form; the limit key for PIN attempts on one card."""
    # Never empty: Flask-Limiter skips a limit whose key is empty.
    return "card:" + (keys.clean_card_number(request.form.get("card_number"))[:40] or "-")


def address() -> str:
    return "addr:" + (get_remote_address() or "-")


def limit(
    value: str, *, key: Callable[[], str], endpoint: str, methods: list[str] | None = None
) -> Callable:
    """Declare a limit on a view; it is bound to each app's limiter in :func:`init_app`."""

    def declare(view: Callable) -> Callable:
        _declared.setdefault(endpoint, []).append(
            {
                "limit_value": value,
                "key_func": key,
                "methods": methods,
                "deduct_when": failed_attempt,
            }
        )
        return view

    return declare


def init_app(state: BlueprintSetupState) -> None:
    """Make this app's limiter and wrap the declared views (run once per app, after routes)."""
    app: Flask = state.app
    limiter = Limiter(
        get_remote_address,
        app=app,
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX", "soukcheck"),
        in_memory_fallback_enabled=app.config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True),
        headers_enabled=True,
    )
    app.extensions[EXTENSION] = limiter
    for endpoint, limits in _declared.items():
        full = f"{state.name_prefix}.{state.name}.{endpoint}".lstrip(".")
        view = app.view_functions[full]
        for spec in limits:
            view = limiter.limit(**spec)(view)
        app.view_functions[full] = view


def limiter_of(app: Flask | None = None) -> Limiter:
    """The limiter bound to ``app`` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION]
