"""Artisans: the public badge page and their own results."""

from flask import Blueprint

bp = Blueprint("artisan", __name__)

from . import routes  # noqa: E402, F401
