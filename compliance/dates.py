"""Days and times as people in Morocco read them: one time zone, one date style per language.

Moments are stored in UTC (naive datetimes, :func:`compliance.models.utcnow`); days (the day an
inspection counts for, due dates) are Moroccan calendar days. Everything a person reads, and
every "today", goes through this module:

- The zone is Africa/Casablanca as the ``tzdata`` package has it (the IANA database, released
  with every change), never the server's own zone files, which may be years old. Morocco left
  UTC+1 for UTC+0 on 20 September 2026 (tzdata 2026c): with a stale copy every time shown since
  is an hour off, and two copies (Babel's and Python's) disagreed between pages and exports.
- One date style per language, CLDR's "long" (the month in words, so 01/12 is never read as
  12 January), in the Moroccan variant of the language where CLDR has one (Moroccan month
  names and the 24-hour clock in Arabic) and British English rather than American.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from flask import has_request_context

from . import locale_code


def _zone(key: str) -> ZoneInfo:
    # From the tzdata package, not the machine's /usr/share/zoneinfo (see the module docstring).
    path = resources.files("tzdata.zoneinfo").joinpath(*key.split("/"))
    with path.open("rb") as data:
        return ZoneInfo.from_file(data, key=key)


MOROCCO = _zone("Africa/Casablanca")
DAY_STYLE = "long"
# The locale whose calendar words and patterns each language of the app is shown with.
DISPLAY_LOCALES = {"ar": "ar_MA", "fr": "fr_MA", "en": "en_GB"}


def now() -> datetime:
    """The current moment in Morocco (aware)."""
    return datetime.now(MOROCCO)


def today() -> date:
    """Today's date in Morocco: what "overdue" and "the figures of" are measured against."""
    return now().date()


def local(moment: datetime) -> datetime:
    """A stored moment (naive means UTC) as Moroccan wall-clock time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(MOROCCO)


def local_day(moment: datetime) -> date:
    """The Moroccan calendar day of a stored moment."""
    return local(moment).date()


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(DISPLAY_LOCALES.get(language, language))


def display_locale() -> Locale:
    """The locale dates are written in for the current page's language."""
    language = locale_code() if has_request_context() else "fr"
    return _locale(language)


def locale_tag() -> str:
    """The same locale as a BCP 47 tag, for the phone's own formatting (Intl.DateTimeFormat)."""
    locale = display_locale()
    return "-".join(part for part in (locale.language, locale.territory) if part)


def format_day(value: date | datetime | str | None) -> str:
    """A day in the page's language; a moment is first moved to its Moroccan day."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):  # an ISO day kept in JSON (the audit trail)
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = local_day(value)
    return format_date(value, DAY_STYLE, locale=display_locale())


def format_clock(moment: datetime) -> str:
    """The Moroccan time of day of a stored moment, hours and minutes."""
    return format_time(local(moment), "short", locale=display_locale())


def format_moment(moment: datetime | None) -> str:
    """A stored moment as its Moroccan day and time, joined as the language joins them."""
    if moment is None:
        return ""
    locale = display_locale()
    # CLDR's glue for a long date and a time: "{1} 'à' {0}", "{1} 'at' {0}", "{1} في {0}"...
    glue = _unquote(str(locale.datetime_formats[DAY_STYLE]))
    return glue.format(format_time(local(moment), "short", locale=locale), format_day(moment))


def _unquote(pattern: str) -> str:
    """A CLDR pattern's quoted literals as plain text ('' is an apostrophe)."""
    return pattern.replace("''", "\0").replace("'", "").replace("\0", "'")
