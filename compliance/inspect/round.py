"""The inspector's first screen: today's round (compliance/rounds.py), and its copy for the phone.

The page lists, for each venue the inspector is sent to today, the stalls still to visit in
walking order (due again first, then never inspected) and those done today, with a counter.
Search stays one tap away: a stall outside the round can be inspected as ever. The same round
rides in the offline bundle (:func:`round_json`), where offline.js draws it from the phone's
cache and counts an inspection kept on the phone as done.
"""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from .. import access, dates, rounds
from ..models import User
from ..site import localized, stall_location
from . import bp


def _location(fact: rounds.StallFact) -> str:
    return stall_location(fact)


@bp.get("/round", endpoint="round")
@access.roles_required(*access.FIELD)
def todays_round():
    today = dates.today()
    return render_template("inspect/round.html", venues=rounds.round_of(current_user, today),
                           today=today)  # fmt: skip


def round_json(user: User) -> dict:
    """Today's round for the offline bundle: venues, stalls to visit and stalls done."""
    today = dates.today()

    def stall(fact: rounds.StallFact) -> dict:
        return {
            "id": fact.id,
            "code": fact.code,
            "location": _location(fact),
            "due": fact.due,
            "why": list(fact.reasons),
        }

    return {
        "day": today.isoformat(),
        "venues": [
            {
                "id": found.venue.id,
                "name": localized(found.venue),
                "from": found.assignment.code_from,
                "to": found.assignment.code_to,
                "todo": [stall(f) for f in found.todo],
                "done": [stall(f) for f in found.done],
            }
            for found in rounds.round_of(user, today)
        ],
    }
