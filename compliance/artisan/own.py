"""What an artisan may see: their own stalls' submitted results, and nothing else.

Which rows are the artisan's (their stalls' submitted inspections, photos, contests, corrective
actions and fix reports) is decided at the door, ``compliance.access``: the views load what a
URL names through its ``*_or_404`` loaders with the artisan as principal.

Inspectors' comments are shown unless the checklist version marks them internal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import inspections, scoring
from ..checklist import Checklist, Item
from ..extensions import db
from ..models import (
    OPEN,
    PENDING,
    SUBMITTED,
    Artisan,
    Contest,
    CorrectiveAction,
    FixReport,
    Inspection,
    Photo,
    Stall,
)
from . import contests

HISTORY_LIMIT = 50


def stalls(artisan: Artisan) -> list[Stall]:
    return list(
        db.session.scalars(
            select(Stall)
            .where(Stall.artisan_id == artisan.id)
            .options(joinedload(Stall.venue))
            .order_by(Stall.code)
        )
    )


def show_comments(checklist: Checklist) -> bool:
    return not checklist.comments_internal


@dataclass
class Failure:
    """A failed item of the current result, with what the artisan can do about it."""

    item: Item
    comment: str  # empty when there is none or comments are internal
    action: CorrectiveAction | None
    contests: list[Contest]
    photos: list[Photo]
    can_contest: bool
    fixes: list[FixReport] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return bool(self.action and self.action.overdue)


@dataclass
class StallResult:
    stall: Stall
    latest: Inspection | None
    checklist: Checklist | None
    failures: list[Failure]
    history: list[Inspection]
    decided: list[tuple[Contest, Item]]  # decisions on this stall's contests, newest first


def overview(artisan: Artisan) -> list[StallResult]:
    return [stall_result(stall) for stall in stalls(artisan)]


def stall_result(stall: Stall) -> StallResult:
    history = list(
        db.session.scalars(
            select(Inspection)
            .where(Inspection.stall_id == stall.id, Inspection.status == SUBMITTED)
            .order_by(Inspection.submitted_at.desc())
            .limit(HISTORY_LIMIT)
        )
    )
    latest = stall.latest_inspection
    if latest is not None and latest.status != SUBMITTED:
        latest = None
    checklist = inspections.checklist_of(latest) if latest else None
    failures = failures_of(latest, checklist) if latest and checklist else []
    decided = [
        (row, inspections.checklist_of(row.inspection).item(row.item_key))
        for row in db.session.scalars(
            select(Contest)
            .join(Inspection, Contest.inspection_id == Inspection.id)
            .where(Inspection.stall_id == stall.id, Contest.status != PENDING)
            .order_by(Contest.decided_at.desc())
            .limit(20)
        )
    ]
    return StallResult(stall, latest, checklist, failures, history, decided)


def failures_of(inspection: Inspection, checklist: Checklist) -> list[Failure]:
    """The failed items of an inspection in checklist order (accepted contests are passes now)."""
    answers = {a.item_key: a for a in inspection.answers}
    actions = {
        ca.item_key: ca
        for ca in db.session.scalars(
            select(CorrectiveAction).where(
                CorrectiveAction.stall_id == inspection.stall_id, CorrectiveAction.status == OPEN
            )
        )
    }
    contests_by_item: dict[str, list[Contest]] = {}
    for row in db.session.scalars(
        select(Contest).where(Contest.inspection_id == inspection.id).order_by(Contest.id.desc())
    ):
        contests_by_item.setdefault(row.item_key, []).append(row)
    fixes_by_action: dict[int, list[FixReport]] = {}
    if actions:
        for report in db.session.scalars(
            select(FixReport)
            .where(FixReport.corrective_action_id.in_([a.id for a in actions.values()]))
            .order_by(FixReport.id.desc())
        ):
            fixes_by_action.setdefault(report.corrective_action_id, []).append(report)
    comments = show_comments(checklist)
    found = []
    for item in checklist.items():
        answer = answers.get(item.key)
        if answer is None or answer.result != scoring.FAIL:
            continue
        action_row = actions.get(item.key)
        found.append(
            Failure(
                item=item,
                comment=(answer.comment or "") if comments else "",
                action=action_row,
                contests=contests_by_item.get(item.key, []),
                photos=[p for p in inspection.photos if p.item_key == item.key],
                can_contest=contests.can_contest(inspection, item.key),
                fixes=fixes_by_action.get(action_row.id, []) if action_row else [],
            )
        )
    return found
