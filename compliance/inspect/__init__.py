"""The inspector's walk: find a stall, run the checklist with photos, submit."""

from flask import Blueprint

bp = Blueprint("inspect", __name__)

from . import routes  # noqa: E402, F401
