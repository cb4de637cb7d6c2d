"""The words and links of list rows, worked out once per request instead of once per row.

A venue page lists its 300 stalls, and each row showed a verdict, a craft, a score, a day and a
link, each through Flask-Babel (locale lookup, catalogue lookup, CLDR pattern) or ``url_for``:
about 35 µs a row. Rows repeat the same few verdicts, crafts, days and venues, so each text is
made once per request here and the row reads it back; a stall's link comes from one
``url_for`` and its pattern. The text is exactly what the helpers make (same functions, same
escaping as the template's own ``_()`` and ``ngettext()``, which Flask-Babel installs as
``get_translations().ugettext`` / ``ungettext`` wrapped by Jinja's i18n extension).
"""

from __future__ import annotations

from flask import g, url_for
from flask_babel import get_locale, get_translations
from markupsafe import Markup

from .. import dates
from ..labels import CRAFTS, VERDICTS, label
from ..site import localized, percent

_ID = 987654321  # stands for the id in a link's pattern (never a real id in a page)


class RowText:
    """Memoised texts for the rows of one page (one locale)."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._days: dict = {}
        self._percents: dict = {}
        self._crafts: dict = {}
        self._badges: dict = {}
        self._places: dict = {}
        self._critical: dict = {}
        self._stall_url: str | None = None

    def day(self, value) -> str:
        key = (type(value), value)
        try:
            return self._days[key]
        except KeyError:
            text = self._days[key] = dates.format_day(value)
            return text

    def percent(self, value) -> str:
        key = (type(value), value)
        try:
            return self._percents[key]
        except KeyError:
            text = self._percents[key] = percent(value)
            return text

    def craft(self, code: str | None) -> str:
        try:
            return self._crafts[code]
        except KeyError:
            text = self._crafts[code] = label(CRAFTS, code)
            return text

    def badge(self, verdict: str | None) -> Markup:
        """The verdict badge, as the ``verdict_badge`` macro writes it."""
        try:
            return self._badges[verdict]
        except KeyError:
            if verdict:
                html = Markup('<span class="badge v-{}">{}</span>').format(
                    verdict, label(VERDICTS, verdict)
                )
            else:
                html = Markup('<span class="badge">{}</span>').format(
                    Markup(get_translations().ugettext("Not inspected")) % {}
                )
            self._badges[verdict] = html
            return html

    def place(self, row) -> str:
        """``localized(row)`` of a venue (or any row with an id and names)."""
        key = (type(row), row.id)
        try:
            return self._places[key]
        except KeyError:
            text = self._places[key] = localized(row)
            return text

    def critical(self, count: int) -> Markup:
        """The text "3 critical failures", as the template's ``ngettext`` writes it."""
        try:
            return self._critical[count]
        except KeyError:
            text = Markup(
                get_translations().ungettext(
                    "%(num)s critical failure", "%(num)s critical failures", count
                )
            ) % {"num": count}
            self._critical[count] = text
            return text

    def stall_url(self, stall_id: int) -> str:
        if self._stall_url is None:
            self._stall_url = url_for("chamber.stall", stall_id=_ID).replace(str(_ID), "{}")
        return self._stall_url.format(stall_id)


def row_text() -> RowText:
    """This request's :class:`RowText` (a new one if the page's language changed)."""
    locale = str(get_locale())
    found = getattr(g, "_chamber_row_text", None)
    if found is None or found.locale != locale:
        found = g._chamber_row_text = RowText(locale)
    return found
