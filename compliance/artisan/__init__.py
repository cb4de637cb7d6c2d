"""Artisans: the public badge page, their own results, contests and "fixed it" reports."""

from flask import Blueprint

bp = Blueprint("artisan", __name__)

from . import ratelimit, routes  # noqa: E402, F401

# After the routes: the limiter wraps view functions that must already be registered.
bp.record_once(ratelimit.init_app)
