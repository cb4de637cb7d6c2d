"""Chamber coordinators: compliance of a region, drill-down, follow-ups, exports."""

from flask import Blueprint

# The blueprint's own stylesheet (dashboard tiles, tables, charts) lives beside its code.
bp = Blueprint("chamber", __name__, static_folder="static", static_url_path="/static")

from . import routes  # noqa: E402, F401
