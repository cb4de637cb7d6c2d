"""Chamber coordinators' side of the artisans' keys: contests to decide, badges and slips to print.

Mounted at ``/coordination``. Everything is limited to the coordinator's region (admins see
all): an id from another region gives 404.
"""

from flask import Blueprint

bp = Blueprint("coordination", __name__)

from . import routes  # noqa: E402, F401
