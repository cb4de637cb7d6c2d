"""Finding a stall: by the code on its stand, its artisan's name (Arabic or Latin) or card number.

Names are folded for search: accents, case and Arabic spelling variants are ignored. Inspectors
and coordinators search the same way, each within the stalls they may see (access.py).
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload

from . import access
from .extensions import db
from .models import Artisan, Stall, User

SEARCH_LIMIT = 30

# Arabic short vowels, shadda, sukun, tanwin and the tatweel carry no meaning for search.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTERS = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"}
)
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, strip Latin accents and Arabic diacritics, unify Arabic letter variants."""
    text = _ARABIC_MARKS.sub("", text or "")
    text = text.translate(_ARABIC_LETTERS)
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in decomposed if not unicodedata.combining(c))
    text = text.casefold().replace("-", " ").replace("'", " ")
    return _SPACES.sub(" ", text).strip()


def artisan_search_text(name_ar: str, name_latin: str, nia: str) -> str:
    return " | ".join((fold(name_ar), fold(name_latin), fold(nia)))


def escape_like(text: str) -> str:
    """Escape LIKE's wildcards (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(query: str) -> str:
    """A LIKE pattern that finds the folded query anywhere."""
    return f"%{escape_like(fold(query))}%"


def _searched(user: User, open_only: bool):
    statement = access.scope_stalls(select(Stall), user).outerjoin(
        Artisan, Stall.artisan_id == Artisan.id
    )
    if open_only:  # closed stalls leave the inspectors' lists
        statement = statement.where(Stall.closed_at.is_(None))
    return statement


def find_stalls(
    user: User, query: str, limit: int = SEARCH_LIMIT, *, open_only: bool = False
) -> list[Stall]:
    """Stalls the user may see whose code starts with the query, or whose artisan's name or
    card number contains it; an exact code or card number comes first. ``open_only`` leaves
    closed stalls out (an inspector has nothing to do there)."""
    query = query.strip()
    if not query:
        return []
    code = query.upper()
    exact = or_(func.upper(Stall.code) == code, Artisan.nia == query)
    statement = (
        _searched(user, open_only)
        .where(
            or_(
                exact,
                func.upper(Stall.code).like(f"{escape_like(code)}%", escape="\\"),
                Artisan.search_text.like(like_pattern(query), escape="\\"),
            )
        )
        .options(joinedload(Stall.artisan), joinedload(Stall.venue))
        .order_by(case((exact, 0), else_=1), Stall.code)
        .limit(limit)
    )
    return list(db.session.scalars(statement))


def exact_stall(user: User, query: str, *, open_only: bool = False) -> Stall | None:
    """The one stall an exact stall code or card number names (None if none, or several: an
    artisan with two stalls gets the list)."""
    query = query.strip()
    if not query:
        return None
    found = db.session.scalars(
        _searched(user, open_only)
        .where(or_(func.upper(Stall.code) == query.upper(), Artisan.nia == query))
        .limit(2)
    ).all()
    return found[0] if len(found) == 1 else None
