"""Checklist versions in the database: each loaded content is stored once, never changed."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .checklist import Checklist
from .extensions import db
from .models import ChecklistVersion, audit


def store(checklist: Checklist, *, actor: str = "cli") -> tuple[ChecklistVersion, bool]:
    """Store ``checklist`` as a new version unless the same content is already stored.

    Returns the version and whether it was created. Loading the same content twice is a no-op.
    """
    existing = db.session.scalar(
        select(ChecklistVersion).where(
            ChecklistVersion.key == checklist.key,
            ChecklistVersion.content_hash == checklist.content_hash,
        )
    )
    if existing is not None:
        return existing, False
    latest = db.session.scalar(
        select(func.max(ChecklistVersion.version)).where(ChecklistVersion.key == checklist.key)
    )
    version = ChecklistVersion(
        key=checklist.key,
        version=(latest or 0) + 1,
        content_hash=checklist.content_hash,
        definition=checklist.to_dict(),
    )
    db.session.add(version)
    try:
        db.session.flush()
    except IntegrityError:  # another process stored it first
        db.session.rollback()
        return store(checklist, actor=actor)
    audit(
        actor,
        "checklist.load",
        "checklist_version",
        version.id,
        after={"key": version.key, "version": version.version},
    )
    db.session.commit()
    return version, True


def current(key: str) -> ChecklistVersion | None:
    """The newest version of a checklist: what new inspections use."""
    return db.session.scalar(
        select(ChecklistVersion)
        .where(ChecklistVersion.key == key)
        .order_by(ChecklistVersion.version.desc())
        .limit(1)
    )


def latest_any() -> ChecklistVersion | None:
    return db.session.scalar(
        select(ChecklistVersion)
        .order_by(ChecklistVersion.loaded_at.desc(), ChecklistVersion.id.desc())
        .limit(1)
    )


def definition(version: ChecklistVersion | VersionRef) -> Checklist:
    """The parsed checklist of a stored version (versions are immutable, so cache by hash)."""
    return _parsed(version.content_hash, version.id)


@lru_cache(maxsize=64)
def _parsed(content_hash: str, version_id: int) -> Checklist:
    row = db.session.get(ChecklistVersion, version_id)
    return Checklist.from_dict(row.definition)


@dataclass(frozen=True)
class VersionRef:
    """What a submission needs of a checklist version: enough to score and to store it."""

    id: int
    key: str
    version: int
    content_hash: str


# Versions are immutable and never deleted, so a worker reads each one once (the sync API
# names one in every submission). Only tests, which empty the database, call forget().
_refs: dict[int, VersionRef] = {}


def version_ref(version_id: int) -> VersionRef | None:
    """The checklist version ``version_id``, or None if there is none."""
    ref = _refs.get(version_id)
    if ref is None:
        row = db.session.execute(
            select(
                ChecklistVersion.id,
                ChecklistVersion.key,
                ChecklistVersion.version,
                ChecklistVersion.content_hash,
            ).where(ChecklistVersion.id == version_id)
        ).first()
        if row is None:
            return None
        ref = _refs.setdefault(version_id, VersionRef(*row))
    return ref


def forget() -> None:
    """Drop what :func:`version_ref` remembers (the database was emptied)."""
    _refs.clear()
    _parsed.cache_clear()
