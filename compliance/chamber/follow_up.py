"""Coordinators' decisions on corrective actions: close one with a reason, move its due date.

Opening and closing by inspections happens in :mod:`compliance.inspections`; here a person
decides, so every change is written to the audit trail with who, when, before and after. Both
functions are safe when two people (or a coordinator and an inspection) act at the same moment:
only an open action changes, and only once.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from .. import inspections
from ..extensions import db
from ..models import CLOSED, OPEN, AuditEvent, CorrectiveAction, User, audit, utcnow

CLOSE = "corrective_action.close"
MOVE_DUE = "corrective_action.move_due_date"


class NotOpen(Exception):
    """The action was closed already (by an inspection or by someone else)."""


def _actor(user: User) -> str:
    return f"user:{user.id}"


def close(action: CorrectiveAction, user: User, reason: str) -> None:
    """Close an open corrective action with the coordinator's reason; NotOpen if it is not."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is required")
    now = utcnow()
    inspections.lock_stall(action.stall_id)  # the stall first, as a submission (migration 0018)
    closed = db.session.execute(
        update(CorrectiveAction)
        .where(CorrectiveAction.id == action.id, CorrectiveAction.status == OPEN)
        .values(status=CLOSED, closed_at=now, closed_by_user_id=user.id, close_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if closed != 1:
        db.session.rollback()
        raise NotOpen
    audit(
        _actor(user),
        CLOSE,
        "corrective_action",
        action.id,
        actor_id=user.id,
        before={"status": OPEN, "due_date": action.due_date.isoformat()},
        after={"status": CLOSED, "reason": reason},
    )
    db.session.commit()
    db.session.refresh(action)


def move_due_date(action: CorrectiveAction, user: User, due: date, reason: str = "") -> bool:
    """Give an open action a new due date; False if it already had that date."""
    if due == action.due_date:
        return False
    before = action.due_date
    inspections.lock_stall(action.stall_id)  # the stall first, as a submission (migration 0018)
    moved = db.session.execute(
        update(CorrectiveAction)
        .where(CorrectiveAction.id == action.id, CorrectiveAction.status == OPEN)
        .values(due_date=due)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.rollback()
        raise NotOpen
    after = {"due_date": due.isoformat()}
    if reason.strip():
        after["reason"] = reason.strip()
    audit(
        _actor(user),
        MOVE_DUE,
        "corrective_action",
        action.id,
        actor_id=user.id,
        before={"due_date": before.isoformat()},
        after=after,
    )
    db.session.commit()
    db.session.refresh(action)
    return True


def history(action_ids: list[int]) -> dict[int, list[tuple[AuditEvent, User | None]]]:
    """The audit trail of some corrective actions, oldest first, with who did it (one query)."""
    if not action_ids:
        return {}
    events = db.session.execute(
        select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(
            AuditEvent.entity == "corrective_action",
            AuditEvent.entity_id.in_([str(i) for i in action_ids]),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    found: dict[int, list[tuple[AuditEvent, User | None]]] = {}
    for event, user in events:
        found.setdefault(int(event.entity_id), []).append((event, user))
    return found
