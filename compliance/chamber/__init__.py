"""Chamber coordinators: compliance of a region, drill-down, follow-ups, exports."""

from flask import Blueprint

bp = Blueprint("chamber", __name__)

from . import routes  # noqa: E402, F401
