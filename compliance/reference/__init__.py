"""Reference data: Morocco's 12 regions, their Chambers of Handicrafts, 75 prefectures/provinces.

Not demo data: every installation needs them, from an empty database on. They live in the two
CSV files beside this module (UTF-8, one row per region / prefecture or province) and are
loaded by migration 0005 (``flask db upgrade``) and again by ``flask reference load``, which
``make run`` and the production recipe call so that a corrected file reaches a database that
is already migrated.

Sources. The division is decree 2-15-40 of 20 February 2015 (12 regions; 13 prefectures and
62 provinces). Codes are ISO 3166-2:MA (MA-01..MA-12 for regions, three letters for the
prefectures and provinces). Two parents differ from the ISO 3166-2 listing as published in the
iso-codes data: Chtouka-Aït Baha (MA-CHT) is in Souss-Massa and Nouaceur (MA-NOU) in
Casablanca-Settat, as the decree says (ISO lists them under MA-06 and MA-04). French and Arabic
names are the administration's usual spellings; English names follow the French ones without
diacritics, except the usual exonyms (Fez, Marrakesh, Tangier).

Loading is an upsert by code, through SQLAlchemy Core on the given connection (so a migration
can run it without the ORM models of a later schema): missing rows are added, rows whose names
differ are corrected, nothing is deleted (venues may point at a province), and loading the
same files again changes nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

HERE = Path(__file__).parent
REGIONS_FILE = HERE / "regions.csv"
PROVINCES_FILE = HERE / "provinces.csv"
LANGUAGES = ("ar", "fr", "en")
PROVINCE_KINDS = ("prefecture", "province")

# Only the columns loaded here, in a metadata of their own (not the models' of a later schema).
_metadata = sa.MetaData()
_region = sa.Table(
    "region",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String),
    sa.Column("name_ar", sa.String),
    sa.Column("name_fr", sa.String),
    sa.Column("name_en", sa.String),
    sa.Column("seat", sa.String),
)
_chamber = sa.Table(
    "chamber",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("region_id", sa.Integer),
    sa.Column("name_ar", sa.String),
    sa.Column("name_fr", sa.String),
    sa.Column("name_en", sa.String),
)
_province = sa.Table(
    "province",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("region_id", sa.Integer),
    sa.Column("code", sa.String),
    sa.Column("kind", sa.String),
    sa.Column("name_ar", sa.String),
    sa.Column("name_fr", sa.String),
    sa.Column("name_en", sa.String),
)


class ReferenceError(Exception):
    """A reference file that is not as expected (names the file, the row and the problem)."""


def _read(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != columns:
            raise ReferenceError(f"{path.name}: columns must be {', '.join(columns)}")
        rows = []
        for number, row in enumerate(reader, start=2):
            clean = {key: (value or "").strip() for key, value in row.items()}
            empty = [key for key in columns if not clean[key]]
            if empty:
                raise ReferenceError(f"{path.name} row {number}: empty {', '.join(empty)}")
            rows.append(clean)
    return rows


def regions() -> list[dict[str, str]]:
    """The regions with their seat and their Chamber's names, in code order."""
    rows = _read(
        REGIONS_FILE,
        ("code", "name_fr", "name_ar", "name_en", "seat", "chamber_fr", "chamber_ar", "chamber_en"),
    )
    return sorted(rows, key=lambda row: row["code"])


def provinces() -> list[dict[str, str]]:
    """The prefectures and provinces with their region's code, by region then code."""
    rows = _read(PROVINCES_FILE, ("code", "region", "kind", "name_fr", "name_ar", "name_en"))
    known = {row["code"] for row in regions()}
    for row in rows:
        if row["region"] not in known:
            raise ReferenceError(f"{PROVINCES_FILE.name}: {row['code']} names unknown region")
        if row["kind"] not in PROVINCE_KINDS:
            raise ReferenceError(f"{PROVINCES_FILE.name}: {row['code']} kind {row['kind']!r}")
    return sorted(rows, key=lambda row: (row["region"], row["code"]))


@dataclass
class Loaded:
    """What one load did, by kind of row ("region", "chamber", "province")."""

    added: dict[str, int] = field(default_factory=dict)
    corrected: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: dict[str, int], kind: str) -> None:
        bucket[kind] = bucket.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.added or self.corrected)

    def summary(self) -> str:
        def part(bucket: dict[str, int]) -> str:
            return ", ".join(f"{n} {kind}s" for kind, n in sorted(bucket.items())) or "nothing"

        return f"added {part(self.added)}; corrected {part(self.corrected)}"


def _upsert(connection: Connection, table, key: dict, values: dict, kind: str, loaded: Loaded):
    """Insert the row ``key`` with ``values``, or correct the values that differ; its id."""
    condition = sa.and_(*(table.c[name] == value for name, value in key.items()))
    found = connection.execute(
        sa.select(table.c.id, *(table.c[name] for name in values)).where(condition)
    ).first()
    if found is None:
        result = connection.execute(sa.insert(table).values(**key, **values))
        loaded.count(loaded.added, kind)
        return result.inserted_primary_key[0]
    differ = {name: value for name, value in values.items() if found._mapping[name] != value}
    if differ:
        connection.execute(sa.update(table).where(table.c.id == found.id).values(**differ))
        loaded.count(loaded.corrected, kind)
    return found.id


def load(connection: Connection) -> Loaded:
    """Add the missing regions, chambers and provinces and correct their names (idempotent).

    Runs on the caller's connection and transaction; the caller commits.
    """
    loaded = Loaded()
    region_ids: dict[str, int] = {}
    for row in regions():
        region_id = _upsert(
            connection,
            _region,
            {"code": row["code"]},
            {
                "name_ar": row["name_ar"],
                "name_fr": row["name_fr"],
                "name_en": row["name_en"],
                "seat": row["seat"],
            },
            "region",
            loaded,
        )
        region_ids[row["code"]] = region_id
        _upsert(
            connection,
            _chamber,
            {"region_id": region_id},
            {
                "name_ar": row["chamber_ar"],
                "name_fr": row["chamber_fr"],
                "name_en": row["chamber_en"],
            },
            "chamber",
            loaded,
        )
    for row in provinces():
        _upsert(
            connection,
            _province,
            {"code": row["code"]},
            {
                "region_id": region_ids[row["region"]],
                "kind": row["kind"],
                "name_ar": row["name_ar"],
                "name_fr": row["name_fr"],
                "name_en": row["name_en"],
            },
            "province",
            loaded,
        )
    return loaded
