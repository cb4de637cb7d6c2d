"""Folding names for search: accents, case and Arabic spelling variants are ignored."""

import re
import unicodedata

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
