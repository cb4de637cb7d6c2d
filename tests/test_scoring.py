"""Scoring an inspection (compliance.scoring): score, verdict, what is missing, due dates.

Pure unit tests: each builds its own small checklist with parse(), so nothing here depends
on the weights of the real checklists/afcon-2025.toml.
"""

import dataclasses
from datetime import date, datetime

import pytest

from compliance.checklist import Checklist, parse
from compliance.scoring import (
    COMPLIANT,
    FAIL,
    FOLLOW_UP,
    NA,
    NON_COMPLIANT,
    PASS,
    DueAction,
    Missing,
    corrective_actions,
    missing,
    progress,
    score,
)


def item(key: str, **rule) -> dict:
    """An item spec for make(); by default weight 1, not critical, N/A allowed, no photo."""
    spec = {
        "section": "main",
        "weight": 1,
        "critical": False,
        "photo": "never",
        "fix_days": 1,
        "na_allowed": not rule.get("critical", False),
    }
    return {"key": key, **spec, **rule}


def make(*items: dict, compliant: float = 0.85, follow_up: float = 0.60) -> Checklist:
    """A checklist built from item specs, through the real TOML loader."""
    lines = [
        'key = "test"',
        "comments_internal = false",
        'title = { ar = "اختبار", fr = "Test", en = "Test" }',
        f"verdict = {{ compliant = {compliant}, follow_up = {follow_up} }}",
    ]
    sections: dict[str, list[dict]] = {}
    for spec in items:
        sections.setdefault(spec["section"], []).append(spec)
    for section, specs in sections.items():
        lines += [
            "[[sections]]",
            f'key = "{section}"',
            'title = { ar = "قسم", fr = "Section", en = "Section" }',
        ]
        for spec in specs:
            lines += [
                "[[sections.items]]",
                f'key = "{spec["key"]}"',
                'text = { ar = "بند", fr = "Point", en = "Item" }',
                f"weight = {spec['weight']}",
                f"critical = {str(spec['critical']).lower()}",
                f'photo = "{spec["photo"]}"',
                f"fix_days = {spec['fix_days']}",
                f"na_allowed = {str(spec['na_allowed']).lower()}",
            ]
    return parse("\n".join(lines))


def twenty_items() -> Checklist:
    return make(*(item(f"i{n:02}") for n in range(20)))


def answers_with(checklist: Checklist, passed: int) -> dict[str, str]:
    """The first ``passed`` items pass, the rest fail."""
    keys = [i.key for i in checklist.items()]
    return {key: PASS if n < passed else FAIL for n, key in enumerate(keys)}


# -- score and verdict ------------------------------------------------------------------------


def test_all_pass_is_fully_compliant():
    checklist = make(item("a"), item("b", weight=3))
    outcome = score(checklist, {"a": PASS, "b": PASS})
    assert outcome.score == 1.0
    assert outcome.verdict == COMPLIANT
    assert outcome.failed == ()
    assert outcome.critical_failures == ()


def test_all_na_has_no_score_and_no_verdict():
    checklist = make(item("a"), item("b", section="other"))
    outcome = score(checklist, {"a": NA, "b": NA})
    assert outcome.score is None
    assert outcome.verdict is None
    assert dict(outcome.section_scores) == {"main": None, "other": None}


def test_all_failed_scores_zero_and_is_non_compliant():
    checklist = make(item("a"), item("b", weight=2))
    outcome = score(checklist, {"a": FAIL, "b": FAIL})
    assert outcome.score == 0.0
    assert outcome.verdict == NON_COMPLIANT
    assert outcome.failed == ("a", "b")


@pytest.mark.parametrize(("failed", "expected"), [("light", 0.75), ("heavy", 0.25)])
def test_weights_matter(failed, expected):
    checklist = make(item("heavy", weight=3), item("light", weight=1))
    answers = {"heavy": PASS, "light": PASS, failed: FAIL}
    assert score(checklist, answers).score == expected


def test_na_items_are_left_out_of_the_score():
    checklist = make(item("a"), item("b"), item("big", weight=3))
    assert score(checklist, {"a": PASS, "b": FAIL, "big": NA}).score == 0.5


def test_score_is_rounded_to_four_places():
    checklist = make(item("a"), item("b"), item("c"))
    assert score(checklist, {"a": PASS, "b": PASS, "c": FAIL}).score == 0.6667


@pytest.mark.parametrize(
    ("passed", "expected_score", "verdict"),
    [
        (20, 1.0, COMPLIANT),
        (17, 0.85, COMPLIANT),  # exactly at the compliant threshold
        (16, 0.8, FOLLOW_UP),
        (12, 0.6, FOLLOW_UP),  # exactly at the follow-up threshold
        (11, 0.55, NON_COMPLIANT),
    ],
)
def test_verdict_thresholds(passed, expected_score, verdict):
    checklist = twenty_items()
    outcome = score(checklist, answers_with(checklist, passed))
    assert (outcome.score, outcome.verdict) == (expected_score, verdict)


@pytest.mark.parametrize(
    ("pass_weight", "fail_weight", "verdict"),
    [
        (8499, 1501, FOLLOW_UP),  # 0.8499: just under compliant
        (5999, 4001, NON_COMPLIANT),  # 0.5999: just under follow-up
        (849996, 150004, COMPLIANT),  # 0.849996 is shown as 0.85, and judged as shown
    ],
)
def test_verdict_is_taken_from_the_rounded_score(pass_weight, fail_weight, verdict):
    checklist = make(item("a", weight=pass_weight), item("b", weight=fail_weight))
    assert score(checklist, {"a": PASS, "b": FAIL}).verdict == verdict


def test_thresholds_come_from_the_checklist():
    checklist = make(item("a", weight=7), item("b", weight=3), compliant=0.7, follow_up=0.5)
    assert score(checklist, {"a": PASS, "b": FAIL}).verdict == COMPLIANT


def test_failed_critical_item_is_non_compliant_whatever_the_score():
    checklist = make(*(item(f"i{n}") for n in range(10)), item("badge", critical=True))
    answers = {f"i{n}": PASS for n in range(10)} | {"badge": FAIL}
    outcome = score(checklist, answers)
    assert outcome.score == 0.9091
    assert outcome.verdict == NON_COMPLIANT
    assert outcome.critical_failures == ("badge",)
    assert outcome.failed == ("badge",)


def test_critical_item_answered_na_is_left_out_without_critical_failure():
    checklist = make(item("a"), item("b", weight=3), item("badge", critical=True, weight=3))
    outcome = score(checklist, {"a": PASS, "b": FAIL, "badge": NA})
    assert outcome.critical_failures == ()
    assert outcome.score == 0.25  # 1 of 4: the critical item's weight is not counted
    assert outcome.verdict == NON_COMPLIANT
    # The form still refuses it: a critical item never allows N/A.
    assert Missing("badge", "na_not_allowed") in missing(
        checklist, {"a": PASS, "b": FAIL, "badge": NA}, {}
    )


def test_section_scores_in_checklist_order():
    checklist = make(
        item("p1", section="prices", weight=3),
        item("p2", section="prices"),
        item("c1", section="cleanliness"),
        item("e1", section="epayment"),
    )
    outcome = score(checklist, {"p1": PASS, "p2": FAIL, "c1": NA, "e1": PASS})
    assert list(outcome.section_scores.items()) == [
        ("prices", 0.75),
        ("cleanliness", None),
        ("epayment", 1.0),
    ]
    assert outcome.score == 0.8


def test_failed_items_are_listed_in_checklist_order():
    checklist = make(item("a"), item("b", section="s2"), item("c"), item("d", section="s2"))
    # Sections group items: order is a, c (main) then b, d (s2), whatever the answers' order.
    answers = {"d": FAIL, "c": FAIL, "b": PASS, "a": FAIL}
    assert score(checklist, answers).failed == ("a", "c", "d")


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"a": PASS}, "b: unanswered"),
        ({"a": PASS, "b": "ok"}, "b: bad_result"),
        ({"a": PASS, "b": None}, "b: unanswered"),
        ({"a": PASS, "b": PASS, "zz": PASS}, "zz: unknown_item"),
    ],
)
def test_score_refuses_incomplete_or_invalid_answers(answers, message):
    with pytest.raises(ValueError, match=message):
        score(make(item("a"), item("b")), answers)


def test_outcome_is_immutable():
    outcome = score(make(item("a")), {"a": PASS})
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.verdict = NON_COMPLIANT  # type: ignore[misc]
    with pytest.raises(TypeError):
        outcome.section_scores["main"] = 0.0  # type: ignore[index]


# -- missing ----------------------------------------------------------------------------------


def test_nothing_missing_when_complete():
    checklist = make(item("a", photo="always"), item("b", photo="on_fail"), item("c"))
    assert missing(checklist, {"a": PASS, "b": FAIL, "c": NA}, {"a": 1, "b": 2}) == []


def test_unanswered_items_in_checklist_order():
    checklist = make(item("a"), item("b", section="s2"), item("c"))
    assert missing(checklist, {"c": PASS}, {}) == [
        Missing("a", "unanswered"),
        Missing("b", "unanswered"),
    ]


@pytest.mark.parametrize("empty", [None, ""])
def test_empty_answer_is_unanswered(empty):
    assert missing(make(item("a")), {"a": empty}, {}) == [Missing("a", "unanswered")]


@pytest.mark.parametrize("result", [PASS, FAIL, NA])
def test_photo_always_is_required_whatever_the_answer(result):
    checklist = make(item("a", photo="always"))
    assert missing(checklist, {"a": result}, {}) == [Missing("a", "photo_required")]
    assert missing(checklist, {"a": result}, {"a": 1}) == []


def test_photo_on_fail_is_required_only_when_failed():
    checklist = make(item("a", photo="on_fail"))
    assert missing(checklist, {"a": PASS}, {}) == []
    assert missing(checklist, {"a": NA}, {}) == []
    assert missing(checklist, {"a": FAIL}, {}) == [Missing("a", "photo_required")]
    assert missing(checklist, {"a": FAIL}, {"a": 0}) == [Missing("a", "photo_required")]
    assert missing(checklist, {"a": FAIL}, {"a": 1}) == []


def test_photo_never_is_not_required():
    assert missing(make(item("a", photo="never")), {"a": FAIL}, {}) == []


def test_photos_may_be_omitted():
    assert missing(make(item("a", photo="always")), {"a": PASS}) == [Missing("a", "photo_required")]


def test_na_not_allowed():
    checklist = make(item("a", na_allowed=False), item("b", na_allowed=True))
    assert missing(checklist, {"a": NA, "b": NA}, {}) == [Missing("a", "na_not_allowed")]


def test_bad_result():
    assert missing(make(item("a")), {"a": "yes"}, {}) == [Missing("a", "bad_result")]


def test_unknown_items_come_last_in_key_order():
    checklist = make(item("a"))
    answers = {"zeta": PASS, "a": PASS, "alpha": FAIL}
    assert missing(checklist, answers, {}) == [
        Missing("alpha", "unknown_item"),
        Missing("zeta", "unknown_item"),
    ]


def test_several_reasons_for_one_item_and_order_across_items():
    checklist = make(item("a", photo="always"), item("b", photo="on_fail"), item("c"))
    assert missing(checklist, {"b": FAIL, "c": "maybe", "x": PASS}, {}) == [
        Missing("a", "unanswered"),
        Missing("a", "photo_required"),
        Missing("b", "photo_required"),
        Missing("c", "bad_result"),
        Missing("x", "unknown_item"),
    ]


# -- progress ---------------------------------------------------------------------------------


def test_progress_counts_answered_items():
    checklist = make(item("a"), item("b"), item("c"), item("d"))
    assert progress(checklist, {}) == (0, 4)
    assert progress(checklist, {"a": PASS, "b": NA}) == (2, 4)
    assert progress(checklist, {"a": PASS, "b": FAIL, "c": NA, "d": PASS}) == (4, 4)


def test_progress_ignores_bad_results_and_unknown_items():
    checklist = make(item("a"), item("b"))
    assert progress(checklist, {"a": "ok", "b": None, "zz": PASS}) == (0, 2)


# -- corrective actions -----------------------------------------------------------------------


def test_one_corrective_action_per_failed_item_due_after_fix_days():
    checklist = make(
        item("prices", fix_days=1),
        item("badge", fix_days=3),
        item("epay", fix_days=7),
        item("clean", fix_days=2),
    )
    outcome = score(checklist, {"prices": FAIL, "badge": PASS, "epay": FAIL, "clean": NA})
    assert corrective_actions(checklist, outcome, date(2025, 12, 30)) == [
        DueAction("prices", date(2025, 12, 31)),
        DueAction("epay", date(2026, 1, 6)),  # across the new year
    ]


def test_no_corrective_action_when_nothing_failed():
    checklist = make(item("a"))
    assert corrective_actions(checklist, score(checklist, {"a": PASS}), date(2026, 1, 2)) == []


def test_corrective_actions_need_a_date_not_a_datetime():
    checklist = make(item("a"))
    outcome = score(checklist, {"a": FAIL})
    with pytest.raises(TypeError, match="local day"):
        corrective_actions(checklist, outcome, datetime(2026, 1, 2, 23, 30))
