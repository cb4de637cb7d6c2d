"""Setting SoukCheck up from the browser: the register, venues, stalls and accounts.

Mounted at ``/admin``. Coordinators manage their own region, admins all of them; every
object from another region gives 404 (compliance/access.py).
"""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from . import account_routes, campaign_routes, routes  # noqa: E402, F401
