"""What an artisan may see: their own stalls' submitted results, and nothing else.

Which rows are the artisan's (their stalls' submitted inspections, photos, contests, corrective
actions and fix reports) is decided at the door, ``compliance.access``: the views load what a
URL names through its ``*_or_404`` loaders with the artisan as principal.

Inspectors' comments are shown unless the checklist version marks them internal.

The page shows one campaign at a time (issue 8): a stall's result is its latest inspection of
that campaign, its history and decided contests are the campaign's, and the corrective
actions are those the campaign's inspections opened. A closed campaign's results stay
readable; nothing can be contested or reported fixed in it any more.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import campaigns, inspections, scoring
from ..checklist import Checklist, Item
from ..extensions import db
from ..models import (
    OPEN,
    PENDING,
    SUBMITTED,
    Artisan,
    Campaign,
    CampaignVenue,
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


def artisan_campaigns(artisan: Artisan) -> list[Campaign]:
    """The campaigns the venues of the artisan's stalls take part in, the latest first."""
    taking_part = (
        select(CampaignVenue.campaign_id)
        .join(Stall, Stall.venue_id == CampaignVenue.venue_id)
        .where(Stall.artisan_id == artisan.id)
    )
    return list(
        db.session.scalars(
            select(Campaign)
            .where(Campaign.id.in_(taking_part))
            .order_by(Campaign.first_day.desc(), Campaign.id.desc())
        )
    )


def chosen_campaign(code: str | None, theirs: list[Campaign]) -> Campaign | None:
    """The campaign the page shows: the one named by ``code`` if it is the artisan's, else the
    default (the running one, else the latest begun) if it is theirs, else their latest."""
    asked = campaigns.by_code(code)
    if asked is not None and asked in theirs:
        return asked
    default = campaigns.default()
    if default is None or default in theirs or not theirs:
        return default
    return theirs[0]


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
    can_fix: bool = False  # open, and its campaign is not closed

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


def overview(artisan: Artisan, campaign: Campaign | None = None) -> list[StallResult]:
    """Each stall's result, in ``campaign`` (every campaign when None)."""
    return [stall_result(stall, campaign) for stall in stalls(artisan)]


def _of_campaign(campaign: Campaign | None) -> list:
    return [Inspection.campaign_id == campaign.id] if campaign is not None else []


def stall_result(stall: Stall, campaign: Campaign | None = None) -> StallResult:
    history = list(
        db.session.scalars(
            select(Inspection)
            .where(
                Inspection.stall_id == stall.id,
                Inspection.status == SUBMITTED,
                *_of_campaign(campaign),
            )
            .order_by(Inspection.submitted_at.desc())
            .limit(HISTORY_LIMIT)
        )
    )
    latest = stall.latest_inspection
    if latest is not None and campaign is not None and latest.campaign_id != campaign.id:
        # The stall's latest result is another campaign's: its latest of this one.
        latest = history[0] if history else None
    if latest is not None and latest.status != SUBMITTED:
        latest = None
    checklist = inspections.checklist_of(latest) if latest else None
    failures = failures_of(latest, checklist) if latest and checklist else []
    decided = [
        (row, inspections.checklist_of(row.inspection).item(row.item_key))
        for row in db.session.scalars(
            select(Contest)
            .join(Inspection, Contest.inspection_id == Inspection.id)
            .where(
                Inspection.stall_id == stall.id,
                Contest.status != PENDING,
                *_of_campaign(campaign),
            )
            .order_by(Contest.decided_at.desc())
            .limit(20)
        )
    ]
    return StallResult(stall, latest, checklist, failures, history, decided)


def failures_of(inspection: Inspection, checklist: Checklist) -> list[Failure]:
    """The failed items of an inspection in checklist order (accepted contests are passes now).

    The corrective actions shown are the open ones opened in the inspection's campaign.
    """
    answers = {a.item_key: a for a in inspection.answers}
    actions = {
        ca.item_key: ca
        for ca in db.session.scalars(
            select(CorrectiveAction).where(
                CorrectiveAction.stall_id == inspection.stall_id,
                CorrectiveAction.status == OPEN,
                CorrectiveAction.campaign_id == inspection.campaign_id,
            )
        )
    }
    open_campaign = not inspection.campaign.closed
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
                can_fix=action_row is not None and open_campaign,
            )
        )
    return found
