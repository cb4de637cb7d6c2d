"""Days and times: Morocco's time on every page, one date style per language (compliance/dates.py).

Two inspections are used throughout: one sent during the tournament, 25 Dec 2025 at 22:20 UTC,
when Morocco was on UTC+1 (23:20 in Rabat), and one sent on 1 Dec 2026 at 22:20 UTC, after
Morocco went back to UTC+0 on 20 Sep 2026 (22:20 in Rabat).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from compliance import dates
from compliance.extensions import db
from compliance.models import AuditEvent, CorrectiveAction

from . import factories
from .chamber_helpers import answers, inspect, small_checklist
from .conftest import login

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TOURNAMENT = datetime(2025, 12, 25, 22, 20)  # naive UTC, as stored
AFTER_THE_CHANGE = datetime(2026, 12, 1, 22, 20)
ISO_DAY = re.compile(r"\b20\d\d-\d\d-\d\d\b")
US_SHORT = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2}\b")


def visible_text(html: str) -> str:
    """The page's text, without tags, attributes, scripts and styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_morocco_is_on_utc_plus_one_during_the_tournament_and_utc_after_september_2026():
    # From the tzdata package, whatever zone files this machine has (Debian's may be older).
    assert dates.MOROCCO.utcoffset(TOURNAMENT) == timedelta(hours=1)
    assert dates.MOROCCO.utcoffset(AFTER_THE_CHANGE) == timedelta(0)
    assert dates.local_day(datetime(2025, 12, 25, 23, 30)) == date(2025, 12, 26)
    assert dates.local_day(datetime(2026, 12, 1, 23, 30)) == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("lang", "day", "moment"),
    [
        ("en", "25 December 2025", "25 December 2025, 23:20"),
        ("fr", "25 décembre 2025", "25 décembre 2025, 23:20"),
        ("ar", "25 دجنبر 2025", "25 دجنبر 2025، 23:20"),
    ],
)
def test_one_date_style_per_language_british_in_english_moroccan_in_arabic(app, lang, day, moment):
    with app.test_request_context(), force_locale(lang):
        assert dates.format_day(date(2025, 12, 25)) == day
        assert dates.format_day("2025-12-25") == day  # as kept in the audit trail
        assert dates.format_day(TOURNAMENT) == day
        assert dates.format_moment(TOURNAMENT) == moment


def test_a_moment_after_the_change_is_shown_at_utc(app):
    with app.test_request_context(), force_locale("en"):
        assert dates.format_moment(AFTER_THE_CHANGE) == "1 December 2026, 22:20"


def test_templates_write_dates_only_through_the_helper():
    """Flask-Babel's filters use its own copy of the zone (and the US style in English);
    strftime and a bare date print ISO or UTC."""
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"\|\s*(date|datetime|time)format", r"strftime\(", r"\bUTC\b"):
            if re.search(pattern, text):
                found.append(f"{path.relative_to(TEMPLATES)}: {pattern}")
    assert not found, found


@pytest.fixture
def visited(region):
    version = small_checklist()
    stall = factories.stall(region=region)
    inspector = factories.user("inspector", region=region)
    first = inspect(stall, inspector, version, answers(price_shown="fail"), TOURNAMENT)
    return stall, first


def test_the_inspectors_result_is_in_morocco_time(client, region, visited):
    _stall, inspection = visited
    login(client, inspection.inspector)
    html = client.get(f"/inspect/inspections/{inspection.id}/result").get_data(as_text=True)
    assert "25 December 2025, 23:20" in html
    text = visible_text(html)
    assert not ISO_DAY.search(text) and not US_SHORT.search(text)


def test_the_coordinators_pages_are_in_morocco_time_with_no_utc(client, coordinator, visited):
    stall, inspection = visited
    login(client, coordinator)
    html = client.get(f"/chamber/inspections/{inspection.id}").get_data(as_text=True)
    assert "25 December 2025, 23:20" in html and "UTC" not in visible_text(html)
    for path in (f"/chamber/stalls/{stall.id}", "/chamber/actions?state=open", "/chamber/"):
        text = visible_text(client.get(path).get_data(as_text=True))
        assert not ISO_DAY.search(text), (path, ISO_DAY.findall(text))
        assert not US_SHORT.search(text) and "UTC" not in text, path


def test_french_pages_write_days_one_way(client, coordinator, visited):
    stall, _inspection = visited
    coordinator.language = "fr"
    db.session.commit()
    login(client, coordinator)
    text = visible_text(client.get(f"/chamber/stalls/{stall.id}").get_data(as_text=True))
    assert "25 décembre 2025" in text
    assert not ISO_DAY.search(text) and not re.search(r"\b\d\d/\d\d/\d{4}\b", text)


# --- Fix dates: an item failed again shows the new date; a past one is marked overdue ------


def test_an_item_failed_again_shows_the_new_fix_date(client, region, visited):
    stall, first = visited  # price_shown failed on 25 Dec 2025: fix within a day, by 26 Dec
    action = db.session.scalar(select(CorrectiveAction))
    assert action.due_date == date(2025, 12, 26)
    inspector = first.inspector
    later = inspect(stall, inspector, first.checklist_version, answers(price_shown="fail"),
                    datetime(2026, 1, 10, 9))  # fmt: skip
    db.session.refresh(action)
    assert action.due_date == date(2026, 1, 11) and action.status == "open"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "corrective_action.failed_again")
    )
    assert event.before == {"due_date": "2025-12-26"}
    login(client, inspector)
    html = client.get(f"/inspect/inspections/{later.id}/result").get_data(as_text=True)
    assert "Fix by 11 January 2026" in html and "26 December 2025" not in html


def test_a_past_fix_date_is_marked_overdue_for_the_inspector(client, region, visited):
    stall, first = visited  # due 26 Dec 2025, long past
    login(client, first.inspector)
    result = client.get(f"/inspect/inspections/{first.id}/result").get_data(as_text=True)
    page = client.get(f"/inspect/stalls/{stall.id}").get_data(as_text=True)
    for html in (result, page):
        assert re.search(r"26 December 2025 · <strong class=\"overdue\">Overdue</strong>", html)


def test_a_coordinators_later_date_is_not_moved_earlier(region, visited):
    stall, first = visited
    action = db.session.scalar(select(CorrectiveAction))
    action.due_date = date(2026, 3, 1)  # moved by a coordinator
    db.session.commit()
    inspect(stall, first.inspector, first.checklist_version, answers(price_shown="fail"),
            datetime(2026, 1, 10, 9))  # fmt: skip
    db.session.refresh(action)
    assert action.due_date == date(2026, 3, 1)
