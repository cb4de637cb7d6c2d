"""The artisans' register from the chambers' own files: read, check, compare, store.

A chamber's file (CSV or XLSX) has one row per stall allocation: the artisan (card number
"NIA", names in Arabic and Latin letters, craft, category, phone) and the stall they hold
(venue code, stall code, location). Files come as the chambers have them, so reading forgives
what Excel does to them and refuses only what cannot be understood:

- UTF-8 with or without BOM, comma or semicolon separated (French Excel writes ``;``); any other
  encoding is refused as a whole (:class:`FileProblem` ``encoding``) rather than guessed;
- blank rows anywhere (XLSX files keep formatted empty rows at the end) are skipped;
- numbers that Excel made of phone numbers get their leading 0 back, card numbers lose spaces;
- Arabic and Latin names typed in each other's column are swapped back (by their script).

An import runs in two steps, each a generator of :class:`Step` (for a progress indicator):
:meth:`RegisterImport.preview` reads and checks every row and compares it with the database;
:meth:`RegisterImport.apply` stores the plan, every change with its audit event. The caller
commits once, so a file is stored entirely or not at all; a file with a refused row is not
stored (it is fixed and sent again). Importing the same file twice changes nothing the second
time: only differences are written.

Nothing here knows Flask: the admin pages, ``flask register import`` and ``bench/register.py``
share it. Messages are codes with parameters (:data:`ROW_PROBLEMS`); the caller translates.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from .models import Artisan, AuditEvent, Province, Stall, Venue, utcnow
from .search import artisan_search_text, fold

FIELDS = (
    "card_number",
    "name_ar",
    "name_latin",
    "craft",
    "category",
    "phone",
    "venue",
    "stall_code",
    "location",
)
OPTIONAL = frozenset({"phone", "location"})

# Column headers as written in the template, per language. Reading accepts these in any
# language, the keys themselves, and the usual variants below, whatever the user's language.
HEADERS: dict[str, dict[str, str]] = {
    "card_number": {"ar": "رقم البطاقة المهنية", "fr": "N° de carte (NIA)",
                    "en": "Card number (NIA)"},
    "name_ar": {"ar": "الاسم بالعربية", "fr": "Nom en arabe", "en": "Name in Arabic"},
    "name_latin": {"ar": "الاسم بالحروف اللاتينية", "fr": "Nom en lettres latines",
                   "en": "Name in Latin letters"},
    "craft": {"ar": "الحرفة", "fr": "Métier", "en": "Craft"},
    "category": {"ar": "الفئة", "fr": "Catégorie", "en": "Category"},
    "phone": {"ar": "الهاتف", "fr": "Téléphone", "en": "Phone"},
    "venue": {"ar": "رمز الفضاء", "fr": "Code du lieu", "en": "Venue code"},
    "stall_code": {"ar": "رمز الرواق", "fr": "Code du stand", "en": "Stall code"},
    "location": {"ar": "الموقع", "fr": "Emplacement", "en": "Location"},
}  # fmt: skip
_VARIANTS = {
    "card_number": ("nia", "card", "carte", "n carte", "numero de carte", "carte professionnelle",
                    "cin", "رقم البطاقة", "البطاقة المهنية"),
    "name_ar": ("nom arabe", "arabic name", "nom ar", "الاسم العربي", "الاسم"),
    "name_latin": ("nom", "name", "nom latin", "latin name", "nom fr", "nom et prenom",
                   "الاسم باللاتينية"),
    "craft": ("metier", "filiere", "activite", "trade", "النشاط"),
    "category": ("categorie", "statut", "الصنف"),
    "phone": ("telephone", "tel", "gsm", "mobile", "الهاتف المحمول", "رقم الهاتف"),
    "venue": ("lieu", "site", "venue code", "code lieu", "code site", "الفضاء", "المكان"),
    "stall_code": ("stall", "stand", "n stand", "numero de stand", "code stand", "الرواق"),
    "location": ("emplacement", "allee", "place", "الموقع"),
}  # fmt: skip

# Every reason a row is refused, with the parameters its message takes.
ROW_PROBLEMS = (
    "missing",  # a required value is empty
    "too_long",  # max
    "card_number_invalid",  # value
    "name_ar_not_arabic",  # value
    "name_latin_not_latin",  # value
    "craft_unknown",  # value
    "category_unknown",  # value
    "phone_invalid",  # value
    "venue_unknown",  # value
    "venue_other_region",  # value
    "stall_code_invalid",  # value
    "stall_other_region",  # value
    "stall_repeated",  # value, row: the stall is already on an earlier row of the file
    "card_number_conflict",  # value, row: the same artisan with other details earlier
)
FILE_PROBLEMS = ("encoding", "unreadable", "empty", "missing_columns", "duplicate_column")
MAX_LENGTH = {"name_ar": 200, "name_latin": 200, "location": 120, "stall_code": 32}
ARTISAN, STALL = Artisan.__table__, Stall.__table__
CHUNK = 500  # ids per IN (...) query: well under SQLite's bound-parameter limit
PROGRESS_EVERY = 5000

_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f]")
_CARD = re.compile(r"^[A-Z0-9][A-Z0-9./-]{2,31}$")
_STALL_CODE = re.compile(r"^[A-Z0-9][A-Z0-9./_-]*$")
_PHONE = re.compile(r"^0[5-8]\d{8}$")
_PHONE_NOISE = re.compile(r"[\s.\-()/\u00a0]")


class FileProblem(Exception):
    """The whole file is refused (wrong encoding, not a table, columns missing)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str | None  # one of FIELDS
    code: str  # one of ROW_PROBLEMS
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code, "params": self.params}


@dataclass(frozen=True, slots=True)
class Row:
    """A row that passed every check, normalised."""

    number: int
    card_number: str
    name_ar: str
    name_latin: str
    craft: str
    category: str
    phone: str | None
    venue_id: int
    stall_code: str
    location: str  # Latin letters
    location_ar: str

    def artisan(self) -> dict[str, Any]:
        return {
            "name_ar": self.name_ar,
            "name_latin": self.name_latin,
            "craft": self.craft,
            "category": self.category,
            "phone": self.phone,
        }


@dataclass(frozen=True, slots=True)
class Step:
    """Progress: ``done`` of ``total`` units of ``phase`` (reading, checking, storing)."""

    phase: str
    done: int
    total: int


@dataclass(frozen=True)
class Vocabulary:
    """What a file may say for craft and category: a folded word -> the stored code.

    The caller fills it with the codes and their labels in every language, so "Poterie",
    "pottery" and "الفخار" all read as ``pottery``.
    """

    crafts: dict[str, str]
    categories: dict[str, str]

    @classmethod
    def build(cls, crafts: dict[str, Iterable[str]], categories: dict[str, Iterable[str]]):
        def table(words: dict[str, Iterable[str]]) -> dict[str, str]:
            out = {}
            for code, labels in words.items():
                for word in (code, *labels):
                    out[fold(word)] = code
            return out

        return cls(table(crafts), table(categories))


@dataclass
class VenueRef:
    id: int
    region_id: int


@dataclass
class Summary:
    rows: int = 0
    artisans: dict[str, int] = field(
        default_factory=lambda: {"new": 0, "changed": 0, "unchanged": 0}
    )
    stalls: dict[str, int] = field(default_factory=lambda: {"new": 0, "changed": 0, "unchanged": 0})
    swapped_names: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    file_problem: FileProblem | None = None

    @property
    def refused_rows(self) -> int:
        return len({p.row for p in self.problems})

    @property
    def storable(self) -> bool:
        return self.file_problem is None and not self.problems and self.rows > 0

    @property
    def changes(self) -> int:
        return sum(self.artisans[k] + self.stalls[k] for k in ("new", "changed"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "artisans": dict(self.artisans),
            "stalls": dict(self.stalls),
            "swapped_names": self.swapped_names,
            "refused_rows": self.refused_rows,
            "problems": [p.as_dict() for p in self.problems],
            "file_problem": (
                {"code": self.file_problem.code, "params": self.file_problem.params}
                if self.file_problem
                else None
            ),
        }


# --- reading ----------------------------------------------------------------------------------


def is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def read_cells(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells as text) for each non-blank row of a CSV or XLSX file."""
    rows = _xlsx_rows(data) if is_xlsx(data) else enumerate(_csv_rows(data), start=1)
    for number, cells in rows:
        if any(cells):
            yield number, cells


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem("encoding", found="UTF-16")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileProblem("encoding", line=line) from None
    if not text.strip():
        raise FileProblem("empty")
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        yield [c.strip() for c in cells]


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    # python-calamine (Rust) reads a 50,000-row sheet in about a second; openpyxl, which
    # writes the template, takes twenty times as long to read one.
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        first_row = (sheet.start or (0, 0))[0] + 1
        for offset, values in enumerate(sheet.iter_rows()):
            yield first_row + offset, [_cell_text(v) for v in values]
    except CalamineError as exc:
        raise FileProblem("unreadable") from exc


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 612345678.0 -> "612345678" (Excel's numbers)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


def header_map(cells: list[str]) -> dict[str, int]:
    """Column index of each known field; unknown columns are ignored."""
    aliases = _aliases()
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = aliases.get(_fold_header(cell))
        if key is None:
            continue
        if key in found:
            raise FileProblem("duplicate_column", column=key)
        found[key] = index
    missing = [f for f in FIELDS if f not in found and f not in OPTIONAL]
    if missing:
        raise FileProblem("missing_columns", columns=missing)
    return found


def _fold_header(text: str) -> str:
    text = fold(text.replace("_", " ").replace("*", " ").replace("°", " "))
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


_ALIASES: dict[str, str] = {}


def _aliases() -> dict[str, str]:
    if not _ALIASES:
        for key in FIELDS:
            for word in (key, *HEADERS[key].values(), *_VARIANTS[key]):
                _ALIASES[_fold_header(word)] = key
    return _ALIASES


# --- checking one row -------------------------------------------------------------------------


def has_arabic(text: str) -> bool:
    return bool(_ARABIC.search(text))


def has_latin(text: str) -> bool:
    return bool(_LATIN.search(text))


def normalize_phone(value: str) -> str | None:
    """A Moroccan number as ``0XXXXXXXXX``, or None when it is not one."""
    digits = _PHONE_NOISE.sub("", value)
    if digits.startswith("+212"):
        digits = "0" + digits[4:]
    elif digits.startswith("00212"):
        digits = "0" + digits[5:]
    elif digits.startswith("212") and len(digits) == 12:
        digits = "0" + digits[3:]
    elif len(digits) == 9 and digits[0] in "5678":
        digits = "0" + digits  # Excel stored it as a number and dropped the 0
    if digits.startswith("0") and digits[1:2] == "0":
        return None
    return digits if _PHONE.match(digits) else None


def _clean(text: str) -> str:
    # str.split() without arguments splits on every Unicode space, the no-break one included.
    return " ".join(text.split())


class RowChecker:
    """Checks rows one by one against the venues and the vocabulary."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        venues: dict[str, VenueRef],
        region_id: int | None,
    ) -> None:
        self.vocabulary = vocabulary
        self.venues = venues
        self.region_id = region_id
        self.swapped = 0
        self._folded: dict[str, str] = {}

    def _word(self, table: dict[str, str], text: str) -> str | None:
        # A file repeats a dozen words 50,000 times: fold each once.
        if not text:
            return None
        if text not in self._folded:
            self._folded[text] = fold(text)
        return table.get(self._folded[text])

    def check(
        self, number: int, cells: list[str], columns: dict[str, int]
    ) -> tuple[Row | None, list[RowProblem]]:
        width = len(cells)
        raw = {
            key: (_clean(cells[index]) if index is not None and index < width else "")
            for key, index in columns.items()
        }
        for key in FIELDS:
            raw.setdefault(key, "")
        problems: list[RowProblem] = []

        def refuse(column: str, code: str, **params: Any) -> None:
            problems.append(RowProblem(number, column, code, params))

        for key in FIELDS:
            if not raw[key] and key not in OPTIONAL:
                refuse(key, "missing")
            elif key in MAX_LENGTH and len(raw[key]) > MAX_LENGTH[key]:
                refuse(key, "too_long", max=MAX_LENGTH[key])

        card = raw["card_number"].replace(" ", "").upper()
        if card and not _CARD.match(card):
            refuse("card_number", "card_number_invalid", value=raw["card_number"])

        name_ar, name_latin = raw["name_ar"], raw["name_latin"]
        if (
            name_ar
            and name_latin
            and not has_arabic(name_ar)
            and has_arabic(name_latin)
            and has_latin(name_ar)
            and not has_latin(name_latin)
        ):
            name_ar, name_latin = name_latin, name_ar
            self.swapped += 1
        if name_ar and not has_arabic(name_ar):
            refuse("name_ar", "name_ar_not_arabic", value=name_ar)
        if name_latin and (has_arabic(name_latin) or not has_latin(name_latin)):
            refuse("name_latin", "name_latin_not_latin", value=name_latin)

        craft = self._word(self.vocabulary.crafts, raw["craft"])
        if raw["craft"] and craft is None:
            refuse("craft", "craft_unknown", value=raw["craft"])
        category = self._word(self.vocabulary.categories, raw["category"])
        if raw["category"] and category is None:
            refuse("category", "category_unknown", value=raw["category"])

        phone = None
        if raw["phone"]:
            phone = normalize_phone(raw["phone"])
            if phone is None:
                refuse("phone", "phone_invalid", value=raw["phone"])

        venue_code = raw["venue"].replace(" ", "").upper()
        venue = self.venues.get(venue_code) if venue_code else None
        if venue_code and venue is None:
            refuse("venue", "venue_unknown", value=raw["venue"])
        elif venue is not None and self.region_id is not None and venue.region_id != self.region_id:
            refuse("venue", "venue_other_region", value=raw["venue"])

        stall_code = raw["stall_code"].replace(" ", "").upper()
        if stall_code and len(stall_code) <= 32 and not _STALL_CODE.match(stall_code):
            refuse("stall_code", "stall_code_invalid", value=raw["stall_code"])

        if problems:
            return None, problems
        location = raw["location"]
        arabic_location = has_arabic(location) and not has_latin(location)
        return (
            Row(
                number=number,
                card_number=card,
                name_ar=name_ar,
                name_latin=name_latin,
                craft=craft or "",
                category=category or "",
                phone=phone,
                venue_id=venue.id,  # type: ignore[union-attr]
                stall_code=stall_code,
                location="" if arabic_location else location,
                location_ar=location if arabic_location else "",
            ),
            [],
        )


# --- the import -------------------------------------------------------------------------------


@dataclass
class Plan:
    """What storing the file would do."""

    new_artisans: dict[str, dict[str, Any]] = field(default_factory=dict)  # nia -> values
    # (id, what changed before, what changed after, the whole new row)
    changed_artisans: list[tuple[int, dict, dict, dict]] = field(default_factory=list)
    new_stalls: list[dict[str, Any]] = field(default_factory=list)  # with "nia"
    changed_stalls: list[tuple[int, dict, dict, dict]] = field(default_factory=list)


def venue_refs(session: Session) -> dict[str, VenueRef]:
    rows = session.execute(
        select(Venue.code, Venue.id, Province.region_id).join(
            Province, Venue.province_id == Province.id
        )
    )
    return {code.upper(): VenueRef(id_, region_id) for code, id_, region_id in rows}


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RegisterImport:
    """One file, previewed then (maybe) applied. ``region_id`` None: a national account."""

    def __init__(
        self,
        session: Session,
        data: bytes,
        vocabulary: Vocabulary,
        region_id: int | None,
    ) -> None:
        self.session = session
        self.data = data
        self.vocabulary = vocabulary
        self.region_id = region_id
        self.summary = Summary()
        self.plan = Plan()

    # The preview ---------------------------------------------------------------------------

    def preview(self) -> Iterator[Step]:
        """Read and check every row, then compare with the register. Writes nothing."""
        summary = self.summary
        try:
            rows = yield from self._read()
        except FileProblem as problem:
            summary.file_problem = problem
            return
        if summary.rows == 0:
            summary.file_problem = FileProblem("empty")
            return
        yield from self._compare(rows)

    def _read(self) -> Iterator[Step]:
        summary = self.summary
        venues = venue_refs(self.session)
        checker = RowChecker(self.vocabulary, venues, self.region_id)
        cells_iter = read_cells(self.data)
        columns = None
        rows: list[Row] = []
        seen_stalls: dict[str, int] = {}
        seen_cards: dict[str, Row] = {}
        for number, cells in cells_iter:
            if columns is None:
                columns = header_map(cells)
                continue
            summary.rows += 1
            row, problems = checker.check(number, cells, columns)
            if row is not None:
                earlier = seen_stalls.get(row.stall_code)
                if earlier is not None:
                    problems.append(
                        RowProblem(number, "stall_code", "stall_repeated",
                                   {"value": row.stall_code, "row": earlier})
                    )  # fmt: skip
                same_card = seen_cards.get(row.card_number)
                if same_card is not None and same_card.artisan() != row.artisan():
                    problems.append(
                        RowProblem(number, "card_number", "card_number_conflict",
                                   {"value": row.card_number, "row": same_card.number})
                    )  # fmt: skip
            if problems:
                summary.problems.extend(problems)
            else:
                seen_stalls[row.stall_code] = number
                seen_cards.setdefault(row.card_number, row)
                rows.append(row)
            if summary.rows % PROGRESS_EVERY == 0:
                yield Step("reading", summary.rows, 0)
        if columns is None:
            raise FileProblem("empty")
        summary.swapped_names = checker.swapped
        yield Step("reading", summary.rows, summary.rows)
        return rows

    def _compare(self, rows: list[Row]) -> Iterator[Step]:
        summary, session = self.summary, self.session
        cards = list({row.card_number for row in rows})
        existing_artisans: dict[str, tuple] = {}
        for chunk in _chunks(cards):
            for found in session.execute(
                select(Artisan.nia, Artisan.id, Artisan.name_ar, Artisan.name_latin,
                       Artisan.craft, Artisan.category, Artisan.phone)
                .where(Artisan.nia.in_(chunk))
            ):  # fmt: skip
                existing_artisans[found.nia] = found
        codes = [row.stall_code for row in rows]
        existing_stalls: dict[str, tuple] = {}
        for i, chunk in enumerate(_chunks(codes)):
            for found in session.execute(
                select(Stall.code, Stall.id, Stall.venue_id, Stall.location, Stall.location_ar,
                       Stall.artisan_id, Stall.closed_at, Province.region_id, Artisan.nia)
                .join(Venue, Stall.venue_id == Venue.id)
                .join(Province, Venue.province_id == Province.id)
                .outerjoin(Artisan, Stall.artisan_id == Artisan.id)
                .where(Stall.code.in_(chunk))
            ):  # fmt: skip
                existing_stalls[found.code] = found
            if i % 20 == 19:
                yield Step("checking", (i + 1) * CHUNK, len(codes))

        artisan_seen: set[str] = set()
        for row in rows:
            stall = existing_stalls.get(row.stall_code)
            if (
                stall is not None
                and self.region_id is not None
                and stall.region_id != self.region_id
            ):
                summary.problems.append(
                    RowProblem(row.number, "stall_code", "stall_other_region",
                               {"value": row.stall_code})
                )  # fmt: skip
                continue
            if row.card_number not in artisan_seen:
                artisan_seen.add(row.card_number)
                self._compare_artisan(row, existing_artisans.get(row.card_number))
            self._compare_stall(row, stall)
        summary.problems.sort(key=lambda p: (p.row, FIELDS.index(p.column) if p.column else -1))
        yield Step("checking", len(codes), len(codes))

    def _compare_artisan(self, row: Row, existing) -> None:
        counts, values = self.summary.artisans, row.artisan()
        if existing is None:
            counts["new"] += 1
            self.plan.new_artisans[row.card_number] = values
            return
        before = {k: getattr(existing, k) for k in values}
        if values["phone"] is None:  # an empty phone keeps the one on record
            values["phone"] = before["phone"]
        if before == values:
            counts["unchanged"] += 1
            return
        counts["changed"] += 1
        changed = {k: v for k, v in values.items() if before[k] != v}
        whole = {
            **values,
            "search_text": artisan_search_text(
                values["name_ar"], values["name_latin"], row.card_number
            ),
        }
        self.plan.changed_artisans.append(
            (
                existing.id,
                {k: before[k] for k in changed},
                {**changed, "nia": row.card_number},
                whole,
            )
        )

    def _compare_stall(self, row: Row, existing) -> None:
        counts = self.summary.stalls
        values = {
            "venue_id": row.venue_id,
            "location": row.location,
            "location_ar": row.location_ar,
            "nia": row.card_number,
            "closed": False,
        }
        if existing is None:
            counts["new"] += 1
            self.plan.new_stalls.append({"code": row.stall_code, **values})
            return
        before = {
            "venue_id": existing.venue_id,
            "location": existing.location,
            "location_ar": existing.location_ar,
            "nia": existing.nia,
            "closed": existing.closed_at is not None,
        }
        # An empty location keeps the one on record (the file may carry only one script).
        if not row.location and not row.location_ar:
            values["location"], values["location_ar"] = before["location"], before["location_ar"]
        elif not row.location:
            values["location"] = before["location"]
        elif not row.location_ar:
            values["location_ar"] = before["location_ar"]
        if before == values:
            counts["unchanged"] += 1
            return
        counts["changed"] += 1
        changed = {k: v for k, v in values.items() if before[k] != v}
        self.plan.changed_stalls.append(
            (existing.id, {k: before[k] for k in changed}, {**changed, "code": row.stall_code},
             values)
        )  # fmt: skip

    # Storing -------------------------------------------------------------------------------

    def apply(self, actor: str, actor_id: int | None) -> Iterator[Step]:
        """Store the plan in the session (the caller commits: all of it or nothing)."""
        if not self.summary.storable:
            raise FileProblem("not_storable")
        session, plan = self.session, self.plan
        if session.get_bind().dialect.name == "postgresql":
            # The ids of the rows just inserted are looked up by their unique keys, in tables
            # whose statistics may still say "empty": without this, PostgreSQL scans them
            # whole for each chunk (for this transaction only).
            session.execute(sql_text("SET LOCAL enable_seqscan = off"))
        total = self.summary.changes
        done = 0
        now = utcnow()
        audits: list[dict[str, Any]] = []

        def event(action: str, entity: str, entity_id: int, before, after) -> None:
            audits.append(
                {"at": now, "actor": actor, "actor_id": actor_id, "action": action,
                 "entity": entity, "entity_id": str(entity_id), "before": before, "after": after}
            )  # fmt: skip
            if len(audits) >= 5000:  # written as they come: 100,000 events held would be heavy
                session.execute(insert(AuditEvent.__table__), audits)
                audits.clear()

        # Stalls that change venue or artisan, or whose artisan changes craft, take their
        # inspections out of the dashboards' day tallies here and back in where they now are.
        from .chamber import tallies  # imported late: the chamber package imports this one

        recounted = _recounted_stalls(session, plan)
        tallies.uncount_stalls(recounted)

        artisan_ids: dict[str, int] = {}
        new_artisans = list(plan.new_artisans.items())
        for chunk in _chunks(new_artisans, 2000):
            values = [
                {"nia": nia, **v, "created_at": now,
                 "search_text": artisan_search_text(v["name_ar"], v["name_latin"], nia)}
                for nia, v in chunk
            ]  # fmt: skip
            # Core executemany, then the ids by card number: several times faster than the ORM's
            # bulk insert with RETURNING on 50,000 rows.
            session.execute(insert(ARTISAN), values)
            artisan_ids.update(_ids(session, ARTISAN.c.nia, [nia for nia, _ in chunk]))
            done += len(chunk)
            yield Step("storing", done, total)
        for nia, v in new_artisans:
            event("register.artisan.create", "artisan", artisan_ids[nia], None, {"nia": nia, **v})

        for chunk in _chunks(plan.changed_artisans, 2000):
            rows = []
            for id_, before, after, whole in chunk:
                rows.append({"id": id_, **whole})
                event("register.artisan.update", "artisan", id_, before, after)
            session.execute(
                update(ARTISAN).where(ARTISAN.c.id == bindparam("_id")),
                [{"_id": r.pop("id"), **r} for r in rows],
            )
            done += len(chunk)
            yield Step("storing", done, total)

        missing = [s["nia"] for s in plan.new_stalls if s["nia"] not in artisan_ids]
        missing += [
            whole["nia"] for _, _, _, whole in plan.changed_stalls
            if whole["nia"] not in artisan_ids
        ]  # fmt: skip
        artisan_ids.update(_ids(session, ARTISAN.c.nia, list(set(missing))))

        for chunk in _chunks(plan.new_stalls, 2000):
            values = [
                {"code": s["code"], "venue_id": s["venue_id"], "location": s["location"],
                 "location_ar": s["location_ar"], "artisan_id": artisan_ids[s["nia"]]}
                for s in chunk
            ]  # fmt: skip
            session.execute(insert(STALL), values)
            created = _ids(session, STALL.c.code, [s["code"] for s in chunk])
            for s in chunk:
                event("register.stall.create", "stall", created[s["code"]], None, s)
            done += len(chunk)
            yield Step("storing", done, total)

        for chunk in _chunks(plan.changed_stalls, 2000):
            rows = []
            for id_, before, after, whole in chunk:
                # A closed stall in the file is open again.
                rows.append(
                    {"_id": id_, "venue_id": whole["venue_id"], "location": whole["location"],
                     "location_ar": whole["location_ar"], "artisan_id": artisan_ids[whole["nia"]],
                     "closed_at": None}
                )  # fmt: skip
                event("register.stall.update", "stall", id_, before, after)
            session.execute(update(STALL).where(STALL.c.id == bindparam("_id")), rows)
            done += len(chunk)
            yield Step("storing", done, total)

        tallies.count_stalls(recounted)
        if audits:
            session.execute(insert(AuditEvent.__table__), audits)
        yield Step("storing", total, total)


def _recounted_stalls(session: Session, plan: Plan) -> list[int]:
    """The stalls whose inspections the day tallies count elsewhere after this import."""
    stalls = [
        id_ for id_, before, _after, _whole in plan.changed_stalls
        if "venue_id" in before or "nia" in before
    ]  # fmt: skip
    recrafted = [id_ for id_, before, _after, _whole in plan.changed_artisans if "craft" in before]
    for chunk in _chunks(recrafted):
        stalls += session.scalars(select(STALL.c.id).where(STALL.c.artisan_id.in_(chunk))).all()
    return stalls


# A committed import of at least this many changes refreshes the planner's statistics.
ANALYZE_AFTER = 1000


def after_commit(session: Session, summary: Summary) -> None:
    """Once a large import is committed: ANALYZE the tables it filled (PostgreSQL).

    Until autovacuum gets to them (a minute or more), PostgreSQL plans with the statistics of
    the empty tables: nested loops over whole-table scans, and the next 50,000-row preview took
    106 s instead of 2 (bench/register.py). SQLite plans from its indexes alone.
    """
    if session.get_bind().dialect.name == "postgresql" and summary.changes >= ANALYZE_AFTER:
        session.execute(sql_text("ANALYZE artisan, stall"))
        session.commit()


def _ids(session: Session, key, values: list[str]) -> dict[str, int]:
    """Map ``key`` values (card numbers, stall codes) to their rows' ids."""
    table = key.table
    found: dict[str, int] = {}
    for chunk in _chunks(values):
        found.update(session.execute(select(key, table.c.id).where(key.in_(chunk))).all())
    return found


# --- the template -----------------------------------------------------------------------------


def template_xlsx(
    language: str,
    crafts: list[str],
    categories: list[str],
    examples: list[list[str]],
) -> bytes:
    """The file to fill: headers in ``language``, example rows, drop-down craft and category.

    ``crafts`` and ``categories`` are the labels in the user's language (reading accepts them).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "register"
    if language == "ar":
        sheet.sheet_view.rightToLeft = True
    sheet.append([HEADERS[key][language] for key in FIELDS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for example in examples:
        sheet.append(example)
    for index, key in enumerate(FIELDS):
        letter = chr(ord("A") + index)
        sheet.column_dimensions[letter].width = 24
        # Text columns: Excel must not turn phone or card numbers into numbers.
        if key in ("card_number", "phone", "stall_code"):
            for row in range(2, 2001):
                sheet[f"{letter}{row}"].number_format = "@"
    lists = workbook.create_sheet("lists")
    for i, word in enumerate(crafts, start=1):
        lists[f"A{i}"] = word
    for i, word in enumerate(categories, start=1):
        lists[f"B{i}"] = word
    lists.sheet_state = "hidden"
    for key, column, count in (("craft", "A", len(crafts)), ("category", "B", len(categories))):
        letter = chr(ord("A") + FIELDS.index(key))
        validation = DataValidation(
            type="list", formula1=f"=lists!${column}$1:${column}${count}", allow_blank=True
        )
        validation.add(f"{letter}2:{letter}5000")
        sheet.add_data_validation(validation)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
