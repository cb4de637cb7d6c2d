"""Exports for the State Secretariat and the chambers: XLSX, CSV for French Excel, standard CSV.

Three flavours of the same rows:

- ``xlsx`` for people: headers in the user's language, verdicts, crafts and categories as
  words, scores as percentages, days and times (Morocco time) as real spreadsheet dates. Past
  1,048,576 rows it goes on in a second sheet (see :mod:`compliance.xlsx`).
- ``fr.csv``, "CSV (Excel, France)": the same words and headers, ``;`` between fields and
  decimal commas, days as 31/12/2025, so a French Excel opens it in columns.
- ``csv`` (and ``csv.gz``, the same gzipped), the standard, stable one for programs and open
  data: comma, dot, UTF-8, ISO dates, codes not words, the snake_case columns listed in
  README.md. It never changes with the user's language.

Every CSV starts with a UTF-8 byte-order mark so spreadsheets read Arabic text correctly.
Cells of text that a spreadsheet would run as a formula (starting with = + - @) are written
with a leading apostrophe in CSV; in XLSX text cells are text and stay as typed.

A file is never offered until it is whole. Small exports (at most ``DIRECT_ROWS`` rows, counted
before starting) are written to a temporary file in the request and sent with their
``Content-Length``, so a connection cut midway is a failed download, not a short file. Larger
ones are a job (:mod:`compliance.jobs`) that writes ``<id>.part`` and renames it to its final
name only after the last row is written and synced; the page links only to a finished file.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from .. import dates, labels, xlsx
from ..checklist import Checklist
from ..extensions import db
from ..models import (
    OPEN,
    Answer,
    Artisan,
    CorrectiveAction,
    Inspection,
    Province,
    Region,
    Stall,
    User,
    Venue,
)
from . import figures

BATCH = 1000
DIRECT_ROWS = 20_000  # above this an export is a background job, never a web request
FORMATS = ("xlsx", "fr.csv", "csv", "csv.gz")
MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "fr.csv": "text/csv; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "csv.gz": "application/gzip",
}
_FORMULA_START = frozenset("=+-@\t\r")
# Control characters are not allowed in XLSX (XML) cells; tab and newlines are.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cell(value: object) -> object:
    """A value as a spreadsheet should keep it: text that looks like a formula stays text."""
    if isinstance(value, str) and value:
        if _CONTROL.search(value):
            value = _CONTROL.sub("", value)
        if value[:1] in _FORMULA_START:
            return "'" + value
    return value


# -- what an export holds ----------------------------------------------------------------------


TEXT, NUMBER, RATE, DAY, MOMENT, YES_NO = "text", "number", "rate", "day", "moment", "yes_no"


@dataclass(frozen=True)
class Column:
    """One column: its standard-CSV name, its header for people, what its values are.

    ``words`` maps stored codes (a verdict, a craft) to what people read; ``repeats`` says the
    values are few (a region, a rule), so a flavour may render each one once and reuse it.
    """

    key: str
    label: object
    kind: str = TEXT
    words: dict | None = None
    repeats: bool = False


Converter = Callable[[object], object]


@dataclass(frozen=True)
class Dataset:
    """One export: its columns, a function that yields its rows, and how many there are.

    ``converted``, if given, yields the rows with a writer's per-column converters already
    applied, for a dataset that can apply them once to values many rows share (an
    inspection's place on each of its answers); else :meth:`rows_for` applies them per row.
    """

    name: str
    title: object
    columns: list[Column]
    rows: Callable[[], Iterator[list[object]]]
    count: Callable[[int | None], int] = field(default=lambda limit=None: 0)
    converted: Callable[[list[Converter]], Iterator[list[object]]] | None = None

    @property
    def header(self) -> list[str]:
        return [column.key for column in self.columns]

    def rows_for(self, converters: list[Converter]) -> Iterator[list[object]]:
        """The rows, each value through its column's converter."""
        if self.converted is not None:
            return self.converted(converters)
        return (
            [convert(value) for convert, value in zip(converters, row, strict=True)]
            for row in self.rows()
        )


def _stream(query: Select) -> Iterator:
    """Rows of ``query`` fetched in batches (a server-side cursor where the database has one).

    Executed on the session's connection (Core rows: no ORM processing per row).
    """
    yield from db.session.connection().execute(query.execution_options(yield_per=BATCH))


def _batches(query: Select) -> Iterator[list]:
    """Rows of ``query`` in lists of up to ``BATCH`` (a server-side cursor, as above)."""
    result = db.session.connection().execute(query.execution_options(yield_per=BATCH))
    yield from result.partitions()


def _counter(query: Select) -> Callable[[int | None], int]:
    """Count the rows of ``query``; with ``limit``, stop counting past it (a cheap "is it big")."""

    def count(limit: int | None = None) -> int:
        inner = query.order_by(None)
        if limit is not None:
            inner = inner.limit(limit + 1)
        return db.session.scalar(select(func.count()).select_from(inner.subquery())) or 0

    return count


def _local(moment: datetime | None) -> datetime | None:
    """A stored (naive UTC) time as Morocco's wall-clock time, still naive.

    Through :mod:`compliance.dates` (the zone as tzdata has it), never the machine's zone
    files: pages and exports show the same time.
    """
    if moment is None:
        return None
    return dates.local(moment).replace(tzinfo=None)


def stalls(scope: figures.Scope, filters: figures.Filters, on: date) -> Dataset:
    """Stalls with their current result and their open and overdue corrective actions.

    With a campaign, the actions opened by its inspections.
    """
    actions = select(
        CorrectiveAction.stall_id.label("stall_id"),
        func.count().label("open"),
        figures._count_if(CorrectiveAction.due_date < on).label("overdue"),
    ).where(CorrectiveAction.status == OPEN)
    if filters.campaign is not None:
        actions = actions.where(CorrectiveAction.campaign_id == filters.campaign.id)
    actions = actions.group_by(CorrectiveAction.stall_id).subquery("actions")
    current = figures.current_of(filters)
    query = (
        figures.current_stalls(
            scope,
            filters,
            Region.code,
            Province.name_fr,
            Venue.name_fr,
            Venue.kind,
            Venue.city,
            Stall.code,
            Stall.location,
            Artisan.nia,
            Artisan.name_ar,
            Artisan.name_latin,
            Artisan.craft,
            Artisan.category,
            current.day,
            current.score,
            current.verdict,
            current.critical,
            current.inspection_id,
            func.coalesce(actions.c.open, 0),
            func.coalesce(actions.c.overdue, 0),
            with_places=True,
        )
        .join(Region, Region.id == Province.region_id)
        .outerjoin(actions, actions.c.stall_id == Stall.id)
        .order_by(Region.code, Venue.name_fr, Stall.code)
    )
    if not filters.craft:
        query = query.outerjoin(Artisan, Artisan.id == Stall.artisan_id)
    columns = [
        Column("region", _l("Region"), repeats=True),
        Column("province", _l("Prefecture or province"), repeats=True),
        Column("venue", _l("Venue"), repeats=True),
        Column("venue_kind", _l("Kind of venue"), words=labels.VENUE_KINDS),
        Column("city", _l("City"), repeats=True),
        Column("stall", _l("Stall")),
        Column("location", _l("Location")),
        Column("artisan_card_number", _l("Professional card number")),
        Column("artisan_name_ar", _l("Artisan (Arabic)")),
        Column("artisan_name_latin", _l("Artisan (Latin script)")),
        Column("craft", _l("Craft"), words=labels.CRAFTS),
        Column("category", _l("Category"), words=labels.CATEGORIES),
        Column("latest_inspection_day", _l("Latest inspection"), DAY),
        Column("score", _l("Score"), RATE),
        Column("verdict", _l("Verdict"), words=labels.VERDICTS),
        Column("critical_failures", _l("Critical failures"), NUMBER),
        Column("latest_inspection_id", _l("Latest inspection number")),
        Column("open_corrective_actions", _l("Open corrective actions"), NUMBER),
        Column("overdue_corrective_actions", _l("Overdue corrective actions"), NUMBER),
    ]

    def rows() -> Iterator[list[object]]:
        for row in _stream(query):
            yield list(row)

    return Dataset("stalls", _l("Stalls"), columns, rows, _counter(query))


def inspections(scope: figures.Scope, filters: figures.Filters) -> Dataset:
    """Every submitted inspection in scope, oldest first, with who made it."""
    query = _inspection_rows(
        scope,
        filters,
        Inspection.id,
        Inspection.submitted_day,
        Inspection.submitted_at,
        Region.code,
        Province.name_fr,
        Venue.name_fr,
        Venue.city,
        Stall.code,
        User.name,
        Inspection.score,
        Inspection.verdict,
        Inspection.critical_failures,
    )
    query = query.order_by(Inspection.submitted_at, Inspection.id)
    columns = [
        Column("inspection_id", _l("Inspection number")),
        Column("day", _l("Day"), DAY),
        Column("submitted_at_morocco", _l("Sent at (Morocco time)"), MOMENT),
        Column("region", _l("Region"), repeats=True),
        Column("province", _l("Prefecture or province"), repeats=True),
        Column("venue", _l("Venue"), repeats=True),
        Column("city", _l("City"), repeats=True),
        Column("stall", _l("Stall")),
        Column("inspector", _l("Inspector"), repeats=True),
        Column("score", _l("Score"), RATE),
        Column("verdict", _l("Verdict"), words=labels.VERDICTS),
        Column("critical_failures", _l("Critical failures"), NUMBER),
    ]

    def rows() -> Iterator[list[object]]:
        for row in _stream(query):
            values = list(row)
            values[2] = _local(values[2])
            yield values

    return Dataset("inspections", _l("Inspections"), columns, rows, _counter(query))


def answers(
    scope: figures.Scope, filters: figures.Filters, versions: dict[int, Checklist]
) -> Dataset:
    """Every answer of the inspections in scope, with its rule, item wording and comment.

    The item's wording is in the language the export is made in (see :func:`write`).

    Ordered by inspection (oldest first), then as the answers were given. The inspections are
    read in order and each batch's answers fetched by their ids, so the database sorts the
    inspections, never the answers: at 200,000 inspections PostgreSQL spent 10 s sorting the
    3.2 million joined rows on disk before it sent the first one, while the writer waited.
    """
    query = _inspection_rows(
        scope,
        filters,
        Inspection.id,
        Inspection.submitted_day,
        Region.code,
        Venue.name_fr,
        Stall.code,
        Inspection.checklist_version_id,
    ).order_by(Inspection.submitted_at, Inspection.id)
    counted = query.with_only_columns(Answer.id).join(Answer, Answer.inspection_id == Inspection.id)
    rules: dict[str, object] = {}
    for version_id in sorted(versions, reverse=True):  # the newest wording first
        for section in versions[version_id].sections:
            rules.setdefault(section.key, _SectionTitle(section))
    columns = [
        Column("inspection_id", _l("Inspection number")),
        Column("day", _l("Day"), DAY),
        Column("region", _l("Region"), repeats=True),
        Column("venue", _l("Venue"), repeats=True),
        Column("stall", _l("Stall")),
        Column("rule", _l("Rule"), words=rules),
        Column("item", _l("Item code"), repeats=True),
        Column("item_text", _l("Item"), repeats=True),
        Column("critical", _l("Critical"), YES_NO),
        Column("result", _l("Result"), words=labels.RESULTS),
        Column("comment", _l("Comment")),
    ]

    def converted(converters: list[Converter]) -> Iterator[list[object]]:
        from flask_babel import get_locale

        locale = str(get_locale())
        place_of, item_of, result_of, comment_of = (
            converters[:5],
            converters[5:9],
            converters[9],
            converters[10],
        )
        items: dict[tuple[int, str], list] = {}

        def item_cells(version_id: int, item_key: str) -> list:
            """[rule, item key, item wording, critical] of an answer's item, converted."""
            checklist = versions.get(version_id)
            try:
                item = checklist.item(item_key) if checklist else None
            except KeyError:
                item = None
            values = (
                [item.section, item_key, item.label(locale), item.critical]
                if item
                else ["", item_key, "", None]
            )
            return [convert(value) for convert, value in zip(item_of, values, strict=True)]

        for batch in _batches(query):
            given: dict[str, list] = {}
            found = db.session.connection().execute(
                select(Answer.inspection_id, Answer.item_key, Answer.result, Answer.comment)
                .where(Answer.inspection_id.in_([row[0] for row in batch]))
                .order_by(Answer.id)
            )
            for inspection_id, item_key, result, comment in found.all():
                given.setdefault(inspection_id, []).append((item_key, result, comment))
            for row in batch:
                answers_given = given.get(row[0])
                if not answers_given:
                    continue
                version_id = row[5]
                place = [convert(value) for convert, value in zip(place_of, row[:5], strict=True)]
                for item_key, result, comment in answers_given:
                    item = items.get((version_id, item_key))
                    if item is None:
                        item = items[(version_id, item_key)] = item_cells(version_id, item_key)
                    yield place + item + [result_of(result), comment_of(comment)]

    def rows() -> Iterator[list[object]]:
        return converted([_unchanged] * len(columns))

    return Dataset("answers", _l("Answers"), columns, rows, _counter(counted), converted)


class _SectionTitle:
    """A rule's title in the language of the moment, like a lazy string."""

    def __init__(self, section):
        self.section = section

    def __str__(self) -> str:
        from flask_babel import get_locale

        return self.section.label(get_locale())


def _inspection_rows(scope: figures.Scope, filters: figures.Filters, *columns) -> Select:
    """Submitted inspections in scope joined to their stall, venue, province and region.

    ``User.name`` among ``columns`` stands for the inspector's name.
    """
    inspector = aliased(User)
    query = figures.inspections_query(
        scope,
        filters,
        *[inspector.name if column is User.name else column for column in columns],
        with_places=True,
    ).join(Region, Region.id == Province.region_id)
    if User.name in columns:
        query = query.join(inspector, inspector.id == Inspection.inspector_id)
    return query


OPEN_DATA_COLUMNS = [
    Column("scope", _l("Region")),
    Column("name_fr", _l("Name (French)")),
    Column("name_ar", _l("Name (Arabic)")),
    Column("rule", _l("Rule")),
    Column("stalls", _l("Stalls"), NUMBER),
    Column("inspected_stalls", _l("Stalls inspected"), NUMBER),
    Column("compliant_stalls", _l("Compliant stalls"), NUMBER),
    Column("compliance_rate", _l("Compliance rate"), RATE),
    Column("average_score", _l("Average score"), RATE),
    Column("answers_passed", _l("Answers passed"), NUMBER),
    Column("answers_failed", _l("Answers failed"), NUMBER),
    Column("pass_rate", _l("Pass rate"), RATE),
    Column("date_from", _l("From"), DAY),
    Column("date_to", _l("To"), DAY),
]
OPEN_DATA_HEADER = [column.key for column in OPEN_DATA_COLUMNS]


def open_data(filters: figures.Filters, region_id: int | None) -> Dataset:
    """Aggregates per region and per rule: counts and rates only, no personal data."""
    computed = figures.open_data(filters, region_id)

    def rows() -> Iterator[list[object]]:
        for row in computed:
            yield [
                row["scope"],
                row["name_fr"],
                row["name_ar"],
                row["rule"],
                row["stalls"],
                row["inspected"],
                row["compliant"],
                row["compliance_rate"],
                row["average_score"],
                row["passed"],
                row["failed"],
                row["pass_rate"],
                filters.date_from,
                filters.date_to,
            ]

    return Dataset(
        "open-data", _l("Open data"), OPEN_DATA_COLUMNS, rows, lambda limit=None: len(computed)
    )


# -- writing a file ---------------------------------------------------------------------------


Progress = Callable[[int], None]


def write(dataset: Dataset, fmt: str, out: IO[bytes], progress: Progress | None = None) -> int:
    """Write ``dataset`` in format ``fmt`` to the binary file ``out``; return the rows written.

    Words and headers are in the current locale (callers outside a request use
    ``force_locale``). ``progress`` is called now and then with the rows written so far.
    """
    if fmt == "xlsx":
        converters = [_xlsx_value(column) for column in dataset.columns]
    elif fmt == "fr.csv":
        converters = [_people_value(column) for column in dataset.columns]
    elif fmt in ("csv", "csv.gz"):
        converters = [_standard_value(column) for column in dataset.columns]
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    rows = _counted(dataset.rows_for(converters), progress)
    if fmt == "xlsx":
        _write_xlsx(dataset, rows, out)
    elif fmt == "fr.csv":
        _write_csv(rows, _headers(dataset), out, delimiter=";")
    elif fmt == "csv":
        _write_csv(rows, dataset.header, out)
    else:
        # Level 3: about 5x smaller than the CSV and still faster than the disk can take it.
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=3, mtime=0) as packed:
            _write_csv(rows, dataset.header, packed)
    return rows.count


class _counted:
    """Rows passed through, counted, with ``progress`` called about every ``BATCH * 10``."""

    def __init__(self, rows: Iterator[list[object]], progress: Progress | None):
        self.rows = rows
        self.progress = progress
        self.count = 0

    def __iter__(self):
        every = BATCH * 10
        for row in self.rows:
            self.count += 1
            if self.progress is not None and self.count % every == 0:
                self.progress(self.count)
            yield row


def _headers(dataset: Dataset) -> list[str]:
    return [str(column.label) for column in dataset.columns]


def _write_csv(rows, header: list[str], out: IO[bytes], delimiter: str = ",") -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    try:
        text.write("\ufeff")
        writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
        text.flush()
    finally:
        text.detach()  # the caller owns ``out``


def _standard_value(column: Column) -> Callable[[object], object]:
    kind = column.kind
    if kind == RATE:
        return lambda value: None if value is None else f"{value:.4f}"
    if kind == DAY:
        return _same_as_last(lambda value: value.isoformat() if value else None)
    if kind == MOMENT:
        return _same_as_last(lambda value: value.strftime("%Y-%m-%d %H:%M") if value else None)
    if kind == YES_NO:
        return lambda value: None if value is None else ("yes" if value else "no")
    if kind == NUMBER:
        return _unchanged
    return _text_value(cell, column)


def _text_value(render: Callable[[object], object], column: Column) -> Callable:
    """``render`` for a text column, run once per value that repeats (a region, a verdict)
    or once per run of equal values (an inspection's id on each of its answers)."""
    if column.repeats or column.words is not None:
        return _remembered(render)
    return _same_as_last(render)


def _unchanged(value: object) -> object:
    return value


def _remembered(render: Callable[[object], object]) -> Callable[[object], object]:
    """``render`` remembering up to 10,000 values (the few a column of repeats has)."""
    seen: dict[object, object] = {}

    def rendered(value: object) -> object:
        try:
            return seen[value]
        except KeyError:
            found = render(value)
            if len(seen) < 10_000:
                seen[value] = found
            return found

    return rendered


def _words(column: Column) -> dict[object, str]:
    return {code: str(word) for code, word in (column.words or {}).items()}


def _people_value(column: Column) -> Callable[[object], object]:
    """A value as a French Excel reads it from a CSV: words, decimal commas, 31/12/2025."""
    if column.words is not None:
        words = _words(column)
        return lambda value: "" if value is None else words.get(value, value)
    if column.kind == RATE:
        return lambda value: "" if value is None else f"{value * 100:.1f}%".replace(".", ",")
    if column.kind == DAY:
        return lambda value: value.strftime("%d/%m/%Y") if value else ""
    if column.kind == MOMENT:
        return lambda value: value.strftime("%d/%m/%Y %H:%M") if value else ""
    if column.kind == YES_NO:
        yes, no = _("Yes"), _("No")
        return lambda value: "" if value is None else (yes if value else no)
    if column.kind == NUMBER:
        return _unchanged
    return _text_value(cell, column)


def _xlsx_value(column: Column) -> Callable[[object], str]:
    if column.words is not None:
        words = {code: xlsx.text_cell(word) for code, word in _words(column).items()}
        return lambda value: words.get(value) or xlsx.text_cell(_xlsx_text(value))
    if column.kind == RATE:
        return lambda value: xlsx.number_cell(value, xlsx.PERCENT)
    if column.kind in (DAY, MOMENT):
        return _same_as_last(xlsx.date_cell)
    if column.kind == YES_NO:
        yes, no = xlsx.text_cell(_("Yes")), xlsx.text_cell(_("No"))
        return lambda value: "<c/>" if value is None else (yes if value else no)
    if column.kind == NUMBER:
        return xlsx.number_cell
    return _text_value(lambda value: xlsx.text_cell(_xlsx_text(value)), column)


def _same_as_last(render: Callable[[object], str]) -> Callable[[object], str]:
    """``render`` remembering its last value: an inspection's 16 answers share id and day."""
    last: list[object] = [object(), ""]

    def rendered(value: object) -> str:
        if value != last[0]:
            last[0], last[1] = value, render(value)
        return last[1]

    return rendered


def _xlsx_text(value: object) -> str | None:
    if value is None:
        return None
    return _CONTROL.sub("", str(value))


def _write_xlsx(dataset: Dataset, rows, out: IO[bytes]) -> None:
    """``rows`` of cells made by :func:`_xlsx_value`."""
    book = xlsx.Workbook(out, str(dataset.title), _headers(dataset), max_rows=xlsx_max_rows())
    try:
        book.write_rows("".join(row) for row in rows)
    except BaseException:
        book.abandon()
        raise
    book.close()


def xlsx_max_rows() -> int:
    """Rows per sheet: Excel's limit (a test may set a smaller ``EXPORT_XLSX_MAX_ROWS``)."""
    return current_app.config.get("EXPORT_XLSX_MAX_ROWS") or xlsx.MAX_ROWS


# -- export files kept for a day --------------------------------------------------------------


def folder() -> Path:
    path = Path(current_app.config["EXPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_path(export_id: str, fmt: str) -> Path:
    """Where a finished export lives: named by its job id (a UUID), never by user input."""
    return folder() / f"{export_id}.{fmt}"


def write_file(
    dataset: Dataset, fmt: str, export_id: str, locale: str, progress: Progress | None = None
) -> tuple[Path, int]:
    """Write an export to its file, whole or not at all; return its path and its rows.

    Rows go to ``<id>.<fmt>.part``; only when the last one is written and synced is it renamed
    to ``<id>.<fmt>`` (an atomic rename), the name the download route serves. A failure
    removes the part file and raises.
    """
    final = file_path(export_id, fmt)
    part = final.with_name(final.name + ".part")
    try:
        with force_locale(locale), open(part, "wb") as out:
            count = write(dataset, fmt, out, progress)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return final, count


def purge(keep_seconds: int | None = None, now: float | None = None) -> int:
    """Delete export files older than a day (``EXPORT_KEEP_HOURS``); return how many went."""
    keep = (
        keep_seconds if keep_seconds is not None else current_app.config["EXPORT_KEEP_HOURS"] * 3600
    )
    limit = (now if now is not None else time.time()) - keep
    removed = 0
    for path in folder().iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another worker removed it first
            continue
    return removed


def fresh(path: Path, now: float | None = None) -> bool:
    """Whether a finished export is still on offer (younger than ``EXPORT_KEEP_HOURS``)."""
    try:
        age = (now if now is not None else time.time()) - path.stat().st_mtime
    except FileNotFoundError:
        return False
    return age < current_app.config["EXPORT_KEEP_HOURS"] * 3600


# -- the datasets by name, and the background job -------------------------------------------


DATASETS = ("stalls", "inspections", "answers", "open-data")


def build(name: str, scope: figures.Scope, filters: figures.Filters, on: date) -> Dataset:
    """The dataset called ``name`` for a scope the caller has checked."""
    if name == "stalls":
        return stalls(scope, filters, on)
    if name == "inspections":
        return inspections(scope, filters)
    if name == "answers":
        return answers(scope, filters, figures.checklists())
    if name == "open-data":
        return open_data(filters, scope.region_id)
    raise ValueError(f"unknown dataset {name!r}")


def run_job(
    name: str, fmt: str, scope: figures.Scope, filters: figures.Filters, on: date, locale: str
) -> dict:
    """The job a worker runs: count the rows, write the file, report progress as it goes."""
    from rq import get_current_job

    from .. import jobs

    purge()
    job = get_current_job()
    dataset = build(name, scope, filters, on)
    jobs.report(total=dataset.count(None), done=0)
    last = [time.monotonic()]

    def progress(done: int) -> None:
        # Once a second at most: each report is a Redis write.
        if time.monotonic() - last[0] >= 1:
            last[0] = time.monotonic()
            jobs.report(done=done)

    path, count = write_file(dataset, fmt, job.id, locale, progress)
    jobs.report(done=count)
    return {"rows": count, "bytes": path.stat().st_size}
