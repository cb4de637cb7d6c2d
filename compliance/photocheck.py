"""Do the photo rows and the photo store agree? What ``flask photos check`` reports and repairs.

A photo row is committed only after its files are durable (see :mod:`compliance.storage`), so
a row without files means the store lost them (a restored disk, a hand-deleted folder). Files
without a row are normal for a moment (an upload killed between its files and its row, which
the phone sends again) and harmless afterwards: they cost disk only and a retry reuses them.

Repair is for rows the phone can send again: a photo an offline submission declared is taken
off the inspection and counted as pending again, so the sync API lists it as missing and the
phone still holding it in its queue sends it again; a photo of a draft is taken off the draft,
where the inspector sees it gone. Other rows (photos of an inspection submitted from the
online form, artisans' contest and fix photos) have no one to ask and are only reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from .extensions import db
from .models import DRAFT, SUBMITTED, Contest, CorrectiveAction, FixReport, Inspection, Photo, audit
from .storage import RENDITIONS, STALE_AFTER_SECONDS, Storage, parse_key, photo_key


@dataclass(frozen=True)
class RowWithoutFiles:
    """A row whose photo is not (or not wholly) in the store."""

    table: str  # "photo", "contest" or "fix_report"
    row_id: int
    sha256: str
    missing: tuple[str, ...]  # the renditions not found
    inspection_id: str | None
    item_key: str | None

    def describe(self) -> str:
        where = f" inspection {self.inspection_id} item {self.item_key}" if self.item_key else ""
        return f"{self.table} {self.row_id}{where}: {self.sha256} lacks {', '.join(self.missing)}"


@dataclass
class Report:
    temporary_removed: int = 0
    rows_without_files: list[RowWithoutFiles] = field(default_factory=list)
    files_without_rows: list[str] = field(default_factory=list)
    repaired: list[RowWithoutFiles] = field(default_factory=list)

    @property
    def unrepaired(self) -> list[RowWithoutFiles]:
        return [row for row in self.rows_without_files if row not in self.repaired]


def _photo_rows() -> Iterator[tuple[str, int, str, str | None, str | None]]:
    """(table, id, sha256, inspection id, item) of every row that refers to stored bytes."""
    for row in db.session.execute(
        select(Photo.id, Photo.sha256, Photo.inspection_id, Photo.item_key).order_by(Photo.id)
    ):
        yield "photo", row.id, row.sha256, row.inspection_id, row.item_key
    for row in db.session.execute(
        select(Contest.id, Contest.photo_sha256, Contest.inspection_id, Contest.item_key)
        .where(Contest.photo_sha256.is_not(None))
        .order_by(Contest.id)
    ):
        yield "contest", row.id, row.photo_sha256, row.inspection_id, row.item_key
    for row in db.session.execute(
        select(FixReport.id, FixReport.photo_sha256, CorrectiveAction.item_key)
        .join(CorrectiveAction, FixReport.corrective_action_id == CorrectiveAction.id)
        .where(FixReport.photo_sha256.is_not(None))
        .order_by(FixReport.id)
    ):
        yield "fix_report", row.id, row.photo_sha256, None, row.item_key


def check(
    storage: Storage,
    *,
    repair: bool = False,
    temporary_older_than: float = STALE_AFTER_SECONDS,
) -> Report:
    """Remove stale temporary files, list rows without files and files without rows; repair.

    Rows are read before files are looked at: a row committed meanwhile had its files first,
    so it is never reported missing by mistake.
    """
    report = Report(temporary_removed=storage.sweep(temporary_older_than, everywhere=True))
    referenced: set[str] = set()
    for table, row_id, sha256, inspection_id, item_key in list(_photo_rows()):
        referenced.add(sha256)
        try:
            missing = tuple(
                r for r in sorted(RENDITIONS) if not storage.exists(photo_key(sha256, r))
            )
        except ValueError:  # not even a hash: nothing can be stored under it
            missing = tuple(sorted(RENDITIONS))
        if missing:
            report.rows_without_files.append(
                RowWithoutFiles(table, row_id, sha256, missing, inspection_id, item_key)
            )
    report.files_without_rows = sorted(
        key
        for key in storage.stored_keys()
        if (parsed := parse_key(key)) is None or parsed[0] not in referenced
    )
    if repair:
        for row in report.rows_without_files:
            if row.table == "photo" and mark_missing(row.row_id):
                report.repaired.append(row)
    return report


def mark_missing(photo_id: int) -> bool:
    """Take a photo whose files are lost off its inspection so it is asked for again.

    True when done: the photo belonged to a draft, or was declared by an offline submission
    (which then counts it as pending again). False for anything else, left as it is.
    """
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        return False
    # Locked like an arriving photo (compliance.inspections.receive_photo): one change at a time.
    inspection = db.session.execute(
        select(Inspection).where(Inspection.id == photo.inspection_id).with_for_update()
    ).scalar_one()
    pair = [photo.item_key, photo.sha256]
    declared = inspection.declared_photos or []
    if inspection.status == SUBMITTED and pair in declared:
        inspection.photos.remove(photo)
        db.session.flush()
        stored = {(p.item_key, p.sha256) for p in inspection.photos}
        inspection.photos_pending = sum(1 for k, h in declared if (k, h) not in stored)
    elif inspection.status == DRAFT:
        inspection.photos.remove(photo)
    else:
        db.session.rollback()
        return False
    audit(
        "cli",
        "photo.missing",
        "inspection",
        inspection.id,
        before={"item": pair[0], "sha256": pair[1]},
        after={"photos_pending": inspection.photos_pending},
    )
    db.session.commit()
    return True
