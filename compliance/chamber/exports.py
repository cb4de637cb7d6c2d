"""Exports for the State Secretariat: CSV and XLSX, streamed row by row.

A large export never sits whole in memory: rows come from the database in batches (a
server-side cursor on PostgreSQL), CSV lines are sent as they are written, and an XLSX workbook
is written by openpyxl's write-only mode into a temporary file, then sent in chunks. CSV files
are UTF-8 with a byte-order mark, so spreadsheets open Arabic text correctly.

Cells that a spreadsheet would run as a formula (starting with = + - @) are written with a
leading apostrophe: comments and names are typed by people, and must stay text.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

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
CHUNK_BYTES = 64 * 1024
MOROCCO = ZoneInfo("Africa/Casablanca")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters are not allowed in XLSX (XML) cells; tab and newlines are.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cell(value: object) -> object:
    """A value as a spreadsheet should keep it: text that looks like a formula stays text."""
    if isinstance(value, str):
        value = _CONTROL.sub("", value)
        if value.startswith(_FORMULA_START):
            return "'" + value
    return value


def _csv_value(value: object) -> object:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return "" if value is None else cell(value)


def csv_stream(header: list[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """CSV text, a batch of lines at a time, starting with a UTF-8 byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow([_csv_value(value) for value in row])
        if count % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_stream(title: str, header: list[str], rows: Iterable[Iterable[object]]) -> Iterator[bytes]:
    """An XLSX workbook of one sheet, built on disk in write-only mode, sent in chunks."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([cell(value) for value in row])
    with tempfile.TemporaryFile(suffix=".xlsx") as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk


def _stream(query: Select) -> Iterator:
    """Rows of ``query`` fetched in batches (a server-side cursor where the database has one)."""
    yield from db.session.execute(query.execution_options(yield_per=BATCH))


def _local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(MOROCCO).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Dataset:
    """One export: its column names and a function that yields its rows."""

    name: str
    header: list[str]
    rows: Callable[[], Iterator[list[object]]]


def stalls(scope: figures.Scope, filters: figures.Filters, on: date) -> Dataset:
    """Stalls with their current result and their open and overdue corrective actions."""
    actions = (
        select(
            CorrectiveAction.stall_id.label("stall_id"),
            func.count().label("open"),
            figures._count_if(CorrectiveAction.due_date < on).label("overdue"),
        )
        .where(CorrectiveAction.status == OPEN)
        .group_by(CorrectiveAction.stall_id)
        .subquery("actions")
    )
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
    header = [
        "region",
        "province",
        "venue",
        "venue_kind",
        "city",
        "stall",
        "location",
        "artisan_card_number",
        "artisan_name_ar",
        "artisan_name_latin",
        "craft",
        "category",
        "latest_inspection_day",
        "score",
        "verdict",
        "critical_failures",
        "latest_inspection_id",
        "open_corrective_actions",
        "overdue_corrective_actions",
    ]

    def rows() -> Iterator[list[object]]:
        for row in _stream(query):
            yield list(row)

    return Dataset("stalls", header, rows)


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
    header = [
        "inspection_id",
        "day",
        "submitted_at_morocco",
        "region",
        "province",
        "venue",
        "city",
        "stall",
        "inspector",
        "score",
        "verdict",
        "critical_failures",
    ]

    def rows() -> Iterator[list[object]]:
        for row in _stream(query):
            values = list(row)
            values[2] = _local(values[2])
            yield values

    return Dataset("inspections", header, rows)


def answers(
    scope: figures.Scope, filters: figures.Filters, versions: dict[int, Checklist], locale: str
) -> Dataset:
    """Every answer of the inspections in scope, with its rule, item wording and comment."""
    query = _inspection_rows(
        scope,
        filters,
        Inspection.id,
        Inspection.submitted_day,
        Region.code,
        Venue.name_fr,
        Stall.code,
        Inspection.checklist_version_id,
        Answer.item_key,
        Answer.result,
        Answer.comment,
    )
    query = query.join(Answer, Answer.inspection_id == Inspection.id).order_by(
        Inspection.submitted_at, Inspection.id, Answer.id
    )
    header = [
        "inspection_id",
        "day",
        "region",
        "venue",
        "stall",
        "rule",
        "item",
        "item_text",
        "critical",
        "result",
        "comment",
    ]

    def rows() -> Iterator[list[object]]:
        for (
            inspection_id,
            day,
            region,
            venue,
            stall,
            version_id,
            item_key,
            result,
            comment,
        ) in _stream(query):
            checklist = versions.get(version_id)
            try:
                item = checklist.item(item_key) if checklist else None
            except KeyError:
                item = None
            yield [
                inspection_id,
                day,
                region,
                venue,
                stall,
                item.section if item else "",
                item_key,
                item.label(locale) if item else "",
                ("yes" if item.critical else "no") if item else "",
                result,
                comment,
            ]

    return Dataset("answers", header, rows)


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


OPEN_DATA_HEADER = [
    "scope",
    "name_fr",
    "name_ar",
    "rule",
    "stalls",
    "inspected_stalls",
    "compliant_stalls",
    "compliance_rate",
    "average_score",
    "answers_passed",
    "answers_failed",
    "pass_rate",
    "date_from",
    "date_to",
]


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

    return Dataset("open-data", OPEN_DATA_HEADER, rows)
