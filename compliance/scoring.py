"""From an inspector's answers to a score, a verdict and corrective actions.

Pure functions over a :class:`~compliance.checklist.Checklist` and plain mappings (no Flask,
no database), so the views, the CLI and the tests share one set of rules:

- ``answers`` maps an item key to ``"pass"``, ``"fail"`` or ``"na"``;
- ``photos`` maps an item key to how many photos are attached to it.

The submit view calls :func:`missing` first and refuses the inspection while anything is
missing; :func:`score` then only has to do the arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType

from compliance.checklist import PHOTO_ALWAYS, PHOTO_ON_FAIL, Checklist, Item

PASS, FAIL, NA = "pass", "fail", "na"
RESULTS = (PASS, FAIL, NA)
COMPLIANT, FOLLOW_UP, NON_COMPLIANT = "compliant", "needs_follow_up", "non_compliant"

UNANSWERED = "unanswered"
PHOTO_REQUIRED = "photo_required"
NA_NOT_ALLOWED = "na_not_allowed"
UNKNOWN_ITEM = "unknown_item"
BAD_RESULT = "bad_result"

# Scores are shown to 2 decimals of a percentage; the verdict is taken from the same rounded
# figure so that a stall shown at 85.00% is never told it missed the 85% threshold.
SCORE_DIGITS = 4


@dataclass(frozen=True)
class Missing:
    """Something that stops an inspection from being submitted.

    ``reason`` is one of ``"unanswered"``, ``"photo_required"``, ``"na_not_allowed"``,
    ``"unknown_item"``, ``"bad_result"``.
    """

    item_key: str
    reason: str


@dataclass(frozen=True)
class Outcome:
    """The result of scoring one inspection.

    ``score`` is the weighted share of applicable items that passed (0..1, 4 decimals) and
    ``verdict`` one of COMPLIANT, FOLLOW_UP, NON_COMPLIANT; both are None when no item applied.
    ``failed`` and ``critical_failures`` are item keys in checklist order; ``section_scores``
    maps each section key to its own score, None where none of its items applied.
    """

    score: float | None
    verdict: str | None
    failed: tuple[str, ...]
    critical_failures: tuple[str, ...]
    section_scores: Mapping[str, float | None] = field(hash=False)


@dataclass(frozen=True)
class DueAction:
    """A corrective action to open: the failed item and the date it must be fixed by."""

    item_key: str
    due: date


def _answer_problem(item: Item, result: object) -> str | None:
    # An empty form field or a stored NULL is an item not answered yet, not a bad value.
    if result is None or result == "":
        return UNANSWERED
    if result not in RESULTS:
        return BAD_RESULT
    if result == NA and not item.na_allowed:
        return NA_NOT_ALLOWED
    return None


def _unknown_keys(checklist: Checklist, answers: Mapping[str, object]) -> list[str]:
    known = {item.key for item in checklist.items()}
    # Sorted: an unknown key has no place in checklist order, but the report must be stable.
    return sorted(key for key in answers if key not in known)


def missing(
    checklist: Checklist,
    answers: Mapping[str, object],
    photos: Mapping[str, int] | None = None,
) -> list[Missing]:
    """Everything that stops the inspection from being submitted, in checklist order.

    Per item: ``unanswered``; ``bad_result`` (not pass/fail/na); ``na_not_allowed``;
    ``photo_required`` when the item's photo rule is ``"always"`` and it has no photo, or
    ``"on_fail"``, the answer is fail and it has no photo. Answers for keys the checklist does
    not have come last, as ``unknown_item``. An empty list means the inspection can be submitted.
    """
    photos = photos or {}
    found: list[Missing] = []
    for item in checklist.items():
        result = answers.get(item.key)
        problem = _answer_problem(item, result)
        if problem:
            found.append(Missing(item.key, problem))
        has_photo = photos.get(item.key, 0) > 0
        if not has_photo and (
            item.photo == PHOTO_ALWAYS or (item.photo == PHOTO_ON_FAIL and result == FAIL)
        ):
            found.append(Missing(item.key, PHOTO_REQUIRED))
    found.extend(Missing(key, UNKNOWN_ITEM) for key in _unknown_keys(checklist, answers))
    return found


def progress(checklist: Checklist, answers: Mapping[str, object]) -> tuple[int, int]:
    """``(answered, total)`` for the progress bar: items with a pass, fail or na answer."""
    items = checklist.items()
    answered = sum(1 for item in items if answers.get(item.key) in RESULTS)
    return answered, len(items)


def _share(passed: list[float], applicable: list[float]) -> float | None:
    if not applicable:
        return None
    # fsum: adding many float weights must not drift a score across a threshold.
    return round(math.fsum(passed) / math.fsum(applicable), SCORE_DIGITS)


def score(checklist: Checklist, answers: Mapping[str, object]) -> Outcome:
    """Score an inspection's answers.

    The score is the weighted share of applicable items that passed:
    ``sum(weight of pass) / sum(weight of pass and fail)``; N/A items are left out.
    Any failed critical item makes the verdict NON_COMPLIANT whatever the score; otherwise
    ``score >= checklist.compliant`` is COMPLIANT, ``>= checklist.follow_up`` is FOLLOW_UP,
    anything lower NON_COMPLIANT.

    When no item applies (everything N/A) the score and verdict are None: there is nothing to
    judge, and the submit view refuses such an inspection with a message to the inspector.

    ``na_allowed`` is not enforced here (:func:`missing` reports it): an item answered N/A,
    critical or not, is simply left out, so it can be neither a failure nor a pass.

    Raises ValueError if an item is unanswered, a result is not pass/fail/na, or an answer
    names an item the checklist does not have; callers check :func:`missing` first.
    """
    problems = [
        f"{item.key}: {problem}"
        for item in checklist.items()
        if (problem := _answer_problem(item, answers.get(item.key))) in (UNANSWERED, BAD_RESULT)
    ]
    problems += [f"{key}: {UNKNOWN_ITEM}" for key in _unknown_keys(checklist, answers)]
    if problems:
        raise ValueError(f"cannot score checklist {checklist.key!r}: " + ", ".join(problems))

    passed: list[float] = []
    applicable: list[float] = []
    failed: list[str] = []
    critical_failures: list[str] = []
    section_scores: dict[str, float | None] = {}
    for section in checklist.sections:
        section_passed: list[float] = []
        section_applicable: list[float] = []
        for item in section.items:
            result = answers[item.key]
            if result == NA:
                continue
            section_applicable.append(item.weight)
            if result == PASS:
                section_passed.append(item.weight)
            else:
                failed.append(item.key)
                if item.critical:
                    critical_failures.append(item.key)
        section_scores[section.key] = _share(section_passed, section_applicable)
        passed += section_passed
        applicable += section_applicable

    overall = _share(passed, applicable)
    if overall is None:
        verdict = None
    elif critical_failures:
        verdict = NON_COMPLIANT
    elif overall >= checklist.compliant:
        verdict = COMPLIANT
    elif overall >= checklist.follow_up:
        verdict = FOLLOW_UP
    else:
        verdict = NON_COMPLIANT
    return Outcome(
        score=overall,
        verdict=verdict,
        failed=tuple(failed),
        critical_failures=tuple(critical_failures),
        section_scores=MappingProxyType(section_scores),
    )


def corrective_actions(
    checklist: Checklist, outcome: Outcome, submitted_on: date
) -> list[DueAction]:
    """One corrective action per failed item, due ``fix_days`` after ``submitted_on``.

    ``submitted_on`` must be the local calendar date of the submission: a datetime is refused
    because turning a UTC timestamp into a date here could move the due date by a day.
    """
    if isinstance(submitted_on, datetime):
        raise TypeError("submitted_on must be a date (the local day of submission), not datetime")
    return [
        DueAction(key, submitted_on + timedelta(days=checklist.item(key).fix_days))
        for key in outcome.failed
    ]
