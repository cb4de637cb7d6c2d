"""What the phone keeps to work without network: the service worker and the app shell.

The service worker (``/sw.js``, served from the root so that it may control every page) keeps
our CSS and JavaScript, the shell page below, and the bundle of the inspector's region
(:func:`compliance.inspect.api.bundle`). With no network, a page under ``/inspect/`` that cannot
be loaded is answered with the shell, and ``static/app.js`` draws in it what the phone holds:
the stall search, a stall, the checklist of an inspection kept on the phone, the queue.

The shell holds no data, only the words the JavaScript needs in the user's language (a JSON
block: the Content-Security-Policy allows no inline script).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

from flask import current_app, request, url_for
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_login import current_user

from .. import STATIC, access, dates, static_version
from ..labels import CATEGORIES, CRAFTS, MISSING, RESULTS, VERDICTS
from ..site import static_url

# What the service worker keeps at install: the files every page needs.
# (No stylesheet: every page carries its own CSS inline, see site.INLINE_STYLES.)
SHELL_FILES = (
    "app.js",
    "offline.js",
    "vendor/htmx.min.js",
    "icon-32.png",
    "manifest.json",
)


def plural_forms(singular: str, plural: str) -> dict[str, str]:
    """A plural message in every CLDR plural category of the current language.

    JavaScript picks the form with ``Intl.PluralRules`` (the same CLDR rules Babel uses), so
    Arabic gets its six forms; ``%(num)s`` is left for the script to fill.
    """
    locale = get_locale()
    translations = get_translations()
    forms: dict[str, str] = {}
    for number in range(0, 120):
        category = locale.plural_form(number)
        if category not in forms:
            forms[category] = translations.ngettext(singular, plural, number)
    return forms


def outbox_forms() -> str:
    """The queue counter's words, for the ``data-forms`` attribute of ``#outbox``."""
    return json.dumps(
        {
            "waiting": plural_forms("%(num)s waiting to send", "%(num)s waiting to send"),
            "refused": plural_forms("%(num)s could not be sent", "%(num)s could not be sent"),
            "sending": _("Sending…"),
            "login": _("Log in again to send what is waiting on this phone."),
            "offline": _("No network. You can keep working: everything is kept on this phone."),
        },
        ensure_ascii=False,
    )


def client_strings() -> dict:
    """Every word the offline views draw, in the user's language."""
    return {
        "result": {k: str(v) for k, v in RESULTS.items()},
        "verdict": {k: str(v) for k, v in VERDICTS.items()},
        "missing": {k: str(v) for k, v in MISSING.items()},
        "craft": {k: str(v) for k, v in CRAFTS.items()},
        "category": {k: str(v) for k, v in CATEGORIES.items()},
        "find": _("Find a stall"),
        "searchLabel": _("Stall code, artisan name or card number"),
        "searchHint": _("Code, name or card"),
        "search": _("Search"),
        "found": plural_forms("%(num)s stall found", "%(num)s stalls found"),
        "noMatch": _(
            "No stall in your region matches “%(query)s”. Check the code on the stand or the card."
        ),
        "noBundle": _(
            "The stall list is not on this phone yet. Open the app once with network to keep it."
        ),
        "offline": _("No network. You can keep working: everything is kept on this phone."),
        "notKept": _("This page is not kept on the phone. It will open when the network is back."),
        "stall": _("Stall %(code)s"),
        "artisan": _("Artisan"),
        "card": _("Card number"),
        "craftLabel": _("Craft"),
        "place": _("Place"),
        "latest": _("Latest result"),
        "never": _("Never inspected."),
        "actions": _("Open corrective actions"),
        "due": _("due %(date)s"),
        "fixReported": _("artisan reports it fixed"),
        "start": _("Start an inspection"),
        "inspectionOf": _("Inspection of %(code)s"),
        "answered": _("%(answered)s of %(total)s answered"),
        "left": plural_forms("%(num)s left", "%(num)s left"),
        "critical": _("Critical: a failure makes the stall non-compliant"),
        "comment": _("Comment"),
        "photo": _("Photo"),
        "photoN": _("Photo %(n)s"),
        "required": _("required"),
        "requiredIfFailed": _("required if failed"),
        "remove": _("Remove"),
        "onServer": _("Photo already sent"),
        "shrinking": _("Preparing the photo…"),
        "photoFailed": _("This photo could not be read. Take the picture again."),
        "submit": _("Submit the inspection"),
        "stillToDo": _("Not submitted yet. Still to do:"),
        "savedLocal": _("Saved on this phone"),
        "queuedTitle": _("Kept on this phone, waiting to send"),
        "queuedText": _(
            "It is sent by itself when the network is back, answers first, then each photo. "
            "You can close the app and go on to the next stall."
        ),
        "sentTitle": _("Sent"),
        "sentText": _("The server has the answers and every photo."),
        "refusedTitle": _("Could not be sent"),
        "correct": _("Open it to correct it"),
        "seeResult": _("See the result"),
        "next": _("Next stall"),
        "onPhone": _("On this phone"),
        "draft": _("to finish"),
        "waiting": _("waiting to send"),
        "refused": _("could not be sent"),
        "photosWaiting": plural_forms(
            "%(num)s photo waiting to send", "%(num)s photos waiting to send"
        ),
        "localDraft": _("This inspection is kept on this phone until it is submitted."),
        "startedOffline": _("Started without network"),
        "loginAgain": _("Log in again to send what is waiting on this phone."),
        # Today's round (compliance/inspect/round.py), drawn from the bundle.
        "round": _("Today's round"),
        "myRound": _("My round"),
        "roundCounter": _("%(done)s done · %(todo)s to do"),
        "dueAgain": _("Due again"),
        "neverInspected": _("Not inspected yet"),
        "doneToday": _("Done today"),
        "stallsRange": _("stalls"),
        "nothingLeft": _("Nothing left to visit here today."),
        "noRound": _(
            "No round for you today. Find a stall with the search above: every inspection counts."
        ),
        "reasons": {
            "overdue": _("fix date passed"),
            "fix_reported": _("artisan reports it fixed"),
            "contested": _("contest accepted"),
        },
    }


def shell_context() -> dict:
    return {"strings": client_strings()}


@cache
def _worker_source() -> str:
    return (STATIC / "sw.js").read_text(encoding="utf-8")


@access.public
def service_worker():
    """``/sw.js``: our service worker, told the current (versioned) names of what to keep."""
    files = [static_url(name) for name in SHELL_FILES if static_version(name) != "0"]
    config = {
        "precache": files,
        "shell": url_for("inspect.offline"),
        "bundle": url_for("inspect.api.bundle"),
        "scope": url_for("inspect.home"),
        "login": url_for("auth.login"),
    }
    config["version"] = hashlib.sha256(
        (json.dumps(config, sort_keys=True) + _worker_source()).encode()
    ).hexdigest()[:12]
    body = f"self.SOUKCHECK = {json.dumps(config)};\n{_worker_source()}"
    response = current_app.response_class(body, mimetype="text/javascript")
    # The browser must always ask: a new version of the app means a new worker.
    response.cache_control.no_cache = True
    response.headers["Service-Worker-Allowed"] = "/"
    response.set_etag(config["version"])
    return response.make_conditional(request)


def app_config() -> str:
    """Where app.js finds the sync API and the worker: the ``data-app`` of ``#outbox``."""
    return json.dumps(
        {
            "user": current_user.id,
            "sw": url_for("service_worker"),
            "shell": url_for("inspect.offline"),
            "bundle": url_for("inspect.api.bundle"),
            "api": url_for("inspect.api.inspection_status", inspection_id="ID").removesuffix("/ID"),
            "home": url_for("inspect.home"),
            "round": url_for("inspect.round"),
            "login": url_for("auth.login"),
            "scopeInspections": url_for("inspect.home") + "inspections/",
            "offline": static_url("offline.js"),
            # Days on the phone in the same locale and style as on the server's pages.
            "dateLocale": dates.locale_tag(),
        }
    )
