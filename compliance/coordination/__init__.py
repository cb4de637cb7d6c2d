"""Chamber coordinators' side of the artisans' keys: contests to decide, badges and slips to print.

Mounted at ``/coordination``. Everything is limited to the coordinator's region (admins see
all): an id from another region gives 404.
"""

from flask import Blueprint
from flask_login import current_user

from ..artisan.contests import pending_count

bp = Blueprint("coordination", __name__)


@bp.app_template_global()
def pending_contests() -> int:
    """The number beside "Contests" in the coordinators' menu (in their region)."""
    return pending_count(current_user) if current_user.is_authenticated else 0


from . import routes  # noqa: E402, F401
