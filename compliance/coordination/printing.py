"""What goes on printed badges and slips, in Arabic and French whatever the printer's language.

Only what was issued is printed (see ``artisan/credentials.py``): building a badge or a slip
reads; it never issues a key. A slip carries its PIN only when the caller has it, that is in
the response of the POST that issued it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from ..artisan import badges, credentials
from ..labels import CRAFTS, label
from ..models import Stall
from ..photos import N_


def _word(msgid: str, lang: str, default: str, **params: str) -> str:
    with force_locale(lang):
        translated = _(msgid, **params)
    # Until the catalogue has the word, the badge keeps its built-in wording in that language
    # rather than print the English source twice.
    return default if translated == (msgid % params if params else msgid) else translated


def badge_labels() -> badges.BadgeLabels:
    """The badge's fixed words in Arabic and French, from the catalogues where translated."""
    default = badges.BadgeLabels()
    title, stall, scan = N_("Registered artisan"), N_("Stall"), N_("Scan to check")
    return badges.BadgeLabels(
        title_ar=_word(title, "ar", default.title_ar),
        title_fr=_word(title, "fr", default.title_fr),
        stall_ar=_word(stall, "ar", default.stall_ar),
        stall_fr=_word(stall, "fr", default.stall_fr),
        scan_ar=_word(scan, "ar", default.scan_ar),
        scan_fr=_word(scan, "fr", default.scan_fr),
        card_fr=_word(N_("Card no. %(number)s"), "fr", default.card_fr, number="%(number)s"),
    )


def _craft(code: str, lang: str) -> str:
    with force_locale(lang):
        return label(CRAFTS, code)


def badge_for(
    stall: Stall, secret: str, labels: badges.BadgeLabels | None = None
) -> badges.Badge | None:
    """The issued badge of the artisan at ``stall``, or None if it was never issued."""
    artisan = stall.artisan
    assert artisan is not None
    code = credentials.issued_badge_code(artisan, secret)
    if code is None:
        return None
    venue = stall.venue
    return badges.Badge(
        url=url_for("artisan.badge", code=code, _external=True),
        name_ar=artisan.name_ar,
        name_latin=artisan.name_latin,
        card_number=artisan.nia,
        craft_ar=_craft(artisan.craft, "ar"),
        craft_fr=_craft(artisan.craft, "fr"),
        stall_code=stall.code,
        venue_ar=venue.name_ar,
        venue_fr=venue.name_fr,
        labels=labels or badge_labels(),
    )


@dataclass(frozen=True)
class PrintedSlip:
    stall: Stall
    card_number: str
    pin: str | None  # only in the response that issued it
    link: str
    login_url: str


def slip_for(stall: Stall, secret: str, pin: str | None = None) -> PrintedSlip | None:
    """The issued private slip of the artisan at ``stall`` (with ``pin`` when the caller just
    issued it), or None if it was never issued."""
    artisan = stall.artisan
    assert artisan is not None
    code = credentials.issued_slip_code(artisan, secret)
    if code is None:
        return None
    return PrintedSlip(
        stall=stall,
        card_number=artisan.nia,
        pin=pin,
        link=url_for("artisan.private_link", code=code, _external=True),
        login_url=url_for("artisan.login", _external=True),
    )


# The slip's words: (English source, built-in Arabic, built-in French). The catalogues win
# once a translator has filled them; until then the slip still reads right in both languages.
SLIP_WORDS = {
    "title": (N_("Private slip"), "ورقة خاصة", "Fiche personnelle"),
    "card": (N_("Card number"), "رقم البطاقة", "N° de carte"),
    "pin": (N_("PIN"), "الرمز السري", "Code PIN"),
    "heading": (
        N_("Your results, for you alone"),
        "نتائجك، لك وحدك",
        "Vos résultats, pour vous seul",
    ),
    "scan": (
        N_("Scan the square code with your phone's camera to see your results and what to fix."),
        "امسح الرمز المربع بكاميرا هاتفك لترى نتائجك وما يجب إصلاحه.",
        "Scannez le code carré avec l'appareil photo de votre téléphone pour voir vos "
        "résultats et ce qu'il faut corriger.",
    ),
    "address": (
        N_("Or open this address and type your card number and PIN:"),
        "أو افتح هذا العنوان واكتب رقم بطاقتك والرمز السري:",
        "Ou ouvrez cette adresse et tapez votre numéro de carte et votre code PIN :",
    ),
    "keep": (
        N_("Keep this slip to yourself. Lost it? Ask your chamber for a new one."),
        "احتفظ بهذه الورقة لنفسك. إذا ضاعت، اطلب ورقة جديدة من غرفتك.",
        "Gardez cette fiche pour vous. Perdue ? Demandez-en une nouvelle à votre chambre.",
    ),
}


def slip_words() -> dict[str, dict[str, str]]:
    """The slip's words by language ("ar", "fr") and by role (see :data:`SLIP_WORDS`)."""
    return {
        lang: {
            role: _word(source, lang, ar if lang == "ar" else fr)
            for role, (source, ar, fr) in SLIP_WORDS.items()
        }
        for lang in ("ar", "fr")
    }
