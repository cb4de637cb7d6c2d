"""Artisans: the public badge page, their own results, contests and "fixed it" reports."""

from flask import Blueprint

bp = Blueprint("artisan", __name__)

from . import routes  # noqa: E402, F401
