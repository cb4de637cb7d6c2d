"""Benchmark the chambers' dashboards on a tournament-sized database.

Fills the database named by ``DATABASE_URL`` with 20,000 stalls and 200,000 submitted
inspections with their answers (about 3.2 million rows), then times, through the app's test
client and logged in, the coordinator home page (Rabat-Salé-Kénitra), the national page (as
admin), a venue page and the rounds' coverage page of the home region (``/rounds/coverage``,
per venue: inspected, never inspected, due again), each p50 over ``--runs`` requests after a
warm-up, and the bare SQL that the home page runs (the floor: the same statements straight on
a DBAPI connection). The home and national pages are timed again with a one-week date range
(``WEEK``), and with that week, a craft and a verdict (``CRAFT``, ``VERDICT``); the national
stall list is timed showing the stalls never inspected. ``--sweep`` also times every list page
(overview, stalls, actions) under every filter combination of ``SWEEP_FILTERS``, as the admin
and as the coordinator, and prints the slowest before the last line.

Run from the repository root::

    DATABASE_URL=sqlite:////tmp/bench.db .venv/bin/python bench/dashboard.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/dashboard.py

The schema is rebuilt from the Alembic migrations (everything in that database is dropped), so
never point it at a database you care about. Every inspection belongs to one running campaign
(AFCON 2025, every venue taking part), as the pages show one campaign at a time.
``--stalls`` and ``--inspections`` change the size: ``--stalls 200000 --inspections 2000000``
is ten times the tournament (32 million answers; the fill takes minutes). ``--reuse`` keeps a
database this script filled before (migrated to the latest schema) and only times. The last
line is::

    dashboard db=<sqlite|postgresql> stalls=20000 inspections=200000 home_p50_ms=<n> \
national_p50_ms=<n> venue_p50_ms=<n> floor_p50_ms=<n> coverage_p50_ms=<n> \
national_dated_p50_ms=<n> home_dated_p50_ms=<n> national_filtered_p50_ms=<n> \
home_filtered_p50_ms=<n> stalls_never_p50_ms=<n>

Target: every page p50 <= 50 ms at 200,000 inspections and <= 150 ms at 2,000,000, on SQLite
and on PostgreSQL.

The fill: scores and verdicts come from :mod:`compliance.scoring`, corrective actions are
opened and closed as :func:`compliance.inspections.submit` would, and the random draws are made
in a fixed order, so a seed gives the same rows at any loader. The big tables are written as
they are generated (memory stays bounded at any size), in one transaction, with their secondary
indexes (and triggers) dropped first and made again from their own definitions at the end: on
PostgreSQL by ``COPY ... FREEZE``, on SQLite by ``executemany`` with the journal and fsync off
(this fill only). The tallies are then computed by :func:`compliance.chamber.tallies.rebuild`,
and the planner's statistics refreshed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import event, func, insert, select, text
from werkzeug.security import generate_password_hash

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compliance import checklist_store, create_app, scoring  # noqa: E402
from compliance.chamber import tallies  # noqa: E402
from compliance.checklist import load_file  # noqa: E402
from compliance.extensions import db  # noqa: E402
from compliance.models import (  # noqa: E402
    ADMIN,
    CLOSED,
    COORDINATOR,
    INSPECTOR,
    OPEN,
    RUNNING,
    SUBMITTED,
    Campaign,
    CampaignVenue,
    Chamber,
    Inspection,
    Province,
    Region,
    Stall,
    User,
    Venue,
)
from compliance.search import artisan_search_text  # noqa: E402

STALLS = 20_000
INSPECTIONS = 200_000
PASSWORD = "bench-password"
START, DAYS = date(2025, 12, 21), 29  # the tournament, 21 Dec 2025 - 18 Jan 2026
HOME_REGION = "MA-04"
WEEK = (date(2026, 1, 5), date(2026, 1, 11))  # the dated pages' range: a week of the tournament
CRAFT, VERDICT = "carpets", "non_compliant"  # the filtered pages: that week, a craft, a verdict
CHUNK = 20_000
OUTCOMES_KEPT = 20_000  # answer patterns whose score is kept: memory stays bounded at any size

REGIONS = (
    ("MA-01", "Tanger-Tétouan-Al Hoceïma", "طنجة - تطوان - الحسيمة", "Tanger", 2),
    ("MA-02", "L'Oriental", "جهة الشرق", "Oujda", 1),
    ("MA-03", "Fès-Meknès", "فاس - مكناس", "Fès", 2),
    ("MA-04", "Rabat-Salé-Kénitra", "الرباط - سلا - القنيطرة", "Rabat", 2),
    ("MA-05", "Béni Mellal-Khénifra", "بني ملال - خنيفرة", "Béni Mellal", 1),
    ("MA-06", "Casablanca-Settat", "الدار البيضاء - سطات", "Casablanca", 2),
    ("MA-07", "Marrakech-Safi", "مراكش - آسفي", "Marrakech", 2),
    ("MA-08", "Drâa-Tafilalet", "درعة - تافيلالت", "Errachidia", 1),
    ("MA-09", "Souss-Massa", "سوس - ماسة", "Agadir", 2),
    ("MA-10", "Guelmim-Oued Noun", "كلميم - واد نون", "Guelmim", 1),
    ("MA-11", "Laâyoune-Sakia El Hamra", "العيون - الساقية الحمراء", "Laâyoune", 1),
    ("MA-12", "Dakhla-Oued Ed-Dahab", "الداخلة - وادي الذهب", "Dakhla", 1),
)
KINDS = ("fan_zone", "medina_market", "fair", "stadium")
CRAFTS = (
    "carpets",
    "pottery",
    "leather",
    "wood",
    "copper",
    "jewellery",
    "clothing",
    "zellige",
    "saddlery",
    "basketry",
)
CATEGORIES = ("artisan", "master", "cooperative", "enterprise")
NAMES = (
    ("فاطمة الزهراء", "Fatima Zahra"),
    ("محمد", "Mohammed"),
    ("خديجة", "Khadija"),
    ("يوسف", "Youssef"),
    ("سعاد", "Souad"),
    ("عبد الله", "Abdellah"),
    ("نادية", "Nadia"),
)
FAMILIES = (
    ("العمراني", "El Amrani"),
    ("بناني", "Bennani"),
    ("التازي", "Tazi"),
    ("الفاسي", "El Fassi"),
    ("السوسي", "Soussi"),
    ("الإدريسي", "Idrissi"),
)
PROVINCES_PER_REGION = 3
VENUES_PER_PROVINCE = 6


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def insert_rows(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start : start + CHUNK])
    db.session.commit()


def reset_schema() -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    else:
        # Every table there, not only those the models know now (a migration may have
        # renamed one since this database was filled).
        with db.engine.begin() as conn:
            tables = conn.scalars(
                text(
                    "SELECT name FROM sqlite_master "
                    "WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
                )
            ).all()
            for table in tables:
                conn.execute(text(f'DROP TABLE "{table}"'))
    upgrade(directory=str(ROOT / "migrations"))
    # The bench makes its own regions and provinces (more of them, with fixed ids).
    with db.engine.begin() as conn:
        for table in ("province", "chamber", "region"):
            conn.execute(text(f"DELETE FROM {table}"))


# -- bulk load ---------------------------------------------------------------------------------
# The five big tables go in through a loader: COPY on PostgreSQL, executemany on SQLite, both in
# one transaction with the tables' secondary indexes dropped first and built again at the end
# (from their own definitions, so the schema ends as the migrations made it). Rows are written
# as they are generated: memory holds a few per-stall lists, never the inspections or answers.
BULK = ("artisan", "stall", "inspection", "answer", "corrective_action")
ARTISAN_COLUMNS = (
    "id",
    "nia",
    "name_ar",
    "name_latin",
    "search_text",
    "craft",
    "category",
    "phone",
    "badge_version",
    "private_version",
    "created_at",
)
STALL_COLUMNS = (
    "id",
    "venue_id",
    "code",
    "location",
    "artisan_id",
    "latest_inspection_id",
    "followup_requested_at",
    # Written here (the rest of current_* by the rebuild): a stall whose verdict the rebuild
    # changes would have its open actions moved by a trigger (migration 0019), one by one.
    "current_verdict",
)
INSPECTION_COLUMNS = (
    "id",
    "stall_id",
    "inspector_id",
    "checklist_version_id",
    "campaign_id",
    "status",
    "started_at",
    "updated_at",
    "submitted_at",
    "submitted_day",
    "latitude",
    "longitude",
    "score",
    "verdict",
    "critical_failures",
    "fingerprint",
)
ANSWER_COLUMNS = ("id", "inspection_id", "item_key", "result", "comment", "updated_at")
ACTION_COLUMNS = (
    "id",
    "stall_id",
    "item_key",
    "opened_by_id",
    "campaign_id",
    "opened_day",
    "due_date",
    "status",
    "created_at",
    "closed_at",
    "closed_by_inspection_id",
    "closed_by_user_id",
    "close_reason",
    "fix_reported_at",
    "craft",
    "opened_verdict",
)
FAILED_COMMENT = "لا يوجد سعر على بعض المنتوجات"


class SqliteLoad:
    """executemany in one transaction; journal and fsync off for this fill only (a crash
    leaves a scratch database to fill again)."""

    batch = 50_000

    def __init__(self, engine):
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.pending: dict[str, list[tuple]] = {}
        self.sql: dict[str, str] = {}

    @staticmethod
    def stamp(value: datetime) -> str:
        """A DateTime as SQLAlchemy stores it in SQLite."""
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")

    def begin(self) -> None:
        self.restore = {
            pragma: self.conn.execute(f"PRAGMA {pragma}").fetchone()[0]
            for pragma in ("journal_mode", "synchronous", "cache_size")
        }
        self.isolation_level = self.conn.isolation_level
        self.conn.isolation_level = None  # transactions by hand below
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.execute("PRAGMA cache_size = -1000000")  # 1 GB: the unique answer index
        self.conn.execute("BEGIN")
        marks = ", ".join("?" * len(BULK))
        # The triggers too (the action tallies'): the tallies are rebuilt after the load.
        self.indexes = self.conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND sql IS NOT NULL AND tbl_name IN ({marks})",
            BULK,
        ).fetchall()
        for kind, name, _sql in self.indexes:
            self.conn.execute(f'DROP {kind.upper()} "{name}"')

    def open(self, table: str, columns: tuple[str, ...], spool: bool = False) -> None:
        self.pending[table] = []
        self.sql[table] = (
            f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        )

    def add(self, table: str, row: tuple) -> None:
        rows = self.pending[table]
        rows.append(row)
        if len(rows) >= self.batch:
            self.flush(table)

    def add_many(self, table: str, rows: list[tuple]) -> None:
        pending = self.pending[table]
        pending += rows
        if len(pending) >= self.batch:
            self.flush(table)

    def flush(self, table: str) -> None:
        self.conn.executemany(self.sql[table], self.pending[table])
        self.pending[table] = []

    def close(self, table: str) -> None:
        self.flush(table)

    def finish(self) -> None:
        began = time.perf_counter()
        for _kind, _name, sql in self.indexes:
            self.conn.execute(sql)
        self.conn.execute("COMMIT")
        for pragma, value in self.restore.items():
            self.conn.execute(f"PRAGMA {pragma} = {value}")
        self.conn.isolation_level = self.isolation_level
        self.raw.close()
        log(f"indexes built again in {time.perf_counter() - began:.0f} s")


class PostgresLoad:
    """COPY ... FREEZE into the tables, truncated in the same transaction (so the rows need no
    vacuum to be visible to index-only scans). The generator's rows are consistent by
    construction, so foreign-key triggers are off for the load (session_replication_role):
    one table's rows can stream while another's wait in a temporary file. So are the action
    tallies' triggers: the tallies are rebuilt after the load."""

    def __init__(self, engine):
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.copies: dict[str, object] = {}
        self.spools: dict[str, object] = {}
        self.columns: dict[str, tuple[str, ...]] = {}

    @staticmethod
    def stamp(value: datetime) -> str:
        return value.isoformat(" ")

    def begin(self) -> None:
        cursor = self.conn.cursor()
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        tables = list(BULK)
        # Secondary indexes, and unique constraints other than primary keys (nothing refers
        # to them), with the statements that make them again.
        self.constraints = cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'u' AND conrelid::regclass::text = ANY(%s)",
            (tables,),
        ).fetchall()
        self.indexes = cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            (tables,),
        ).fetchall()
        for table, name, _definition in self.constraints:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _definition in self.indexes:
            cursor.execute(f"DROP INDEX {name}")
        # Empty already; truncated here for FREEZE (with the empty tables that refer to them).
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")

    def open(self, table: str, columns: tuple[str, ...], spool: bool = False) -> None:
        """Stream ``table`` now (one at a time), or into a temporary file copied at close."""
        self.columns[table] = columns
        if spool:
            self.spools[table] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        else:
            statement = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN (FREEZE)'
            cursor = self.conn.cursor()
            copy = cursor.copy(statement)
            self.copies[table] = (cursor, copy, copy.__enter__())

    def _write(self, table: str, text_: str) -> None:
        if table in self.spools:
            self.spools[table].write(text_)
        else:
            self.copies[table][2].write(text_)

    def add(self, table: str, row: tuple) -> None:
        self._write(table, "\t".join(r"\N" if v is None else str(v) for v in row) + "\n")

    def add_many(self, table: str, rows: list[tuple]) -> None:
        self._write(
            table,
            "".join("\t".join(r"\N" if v is None else str(v) for v in row) + "\n" for row in rows),
        )

    def close(self, table: str) -> None:
        if table in self.spools:
            spool = self.spools.pop(table)
            spool.seek(0)
            self.open(table, self.columns[table])
            while chunk := spool.read(1 << 20):
                self._write(table, chunk)
            spool.close()
        cursor, copy, _writer = self.copies.pop(table)
        copy.__exit__(None, None, None)
        cursor.close()

    def finish(self) -> None:
        began = time.perf_counter()
        cursor = self.conn.cursor()
        for table, name, definition in self.constraints:
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for _name, definition in self.indexes:
            cursor.execute(definition)
        self.conn.commit()
        self.raw.close()
        log(f"indexes built again in {time.perf_counter() - began:.0f} s")


def fill(
    rng: random.Random, stall_count: int = STALLS, inspection_count: int = INSPECTIONS
) -> None:
    """Places, people, stalls and inspections (20,000 and 200,000) with answers and follow-ups.

    The random draws are made in the same order whatever the loader, so a seed gives the same
    database on both engines (and as this bench made before it loaded in bulk).
    """
    began = time.perf_counter()
    version, _ = checklist_store.store(load_file(ROOT / "checklists" / "afcon-2025.toml"))
    checklist = checklist_store.definition(version)
    items = checklist.items()

    weights = [r[4] for r in REGIONS]
    regions, chambers, provinces, venues = [], [], [], []
    venue_region: list[int] = []
    for n, (code, fr, ar, seat, _w) in enumerate(REGIONS, 1):
        regions.append(dict(id=n, code=code, name_fr=fr, name_ar=ar, name_en=fr, seat=seat))
        chambers.append(
            dict(
                id=n,
                region_id=n,
                name_fr=f"Chambre d'Artisanat de la Région {fr}",
                name_ar=f"غرفة الصناعة التقليدية لجهة {ar}",
                name_en=f"Chamber of Handicrafts of {fr}",
            )
        )
        for p in range(PROVINCES_PER_REGION):
            pid = len(provinces) + 1
            provinces.append(
                dict(
                    id=pid,
                    region_id=n,
                    code=f"B{pid:03d}",
                    name_fr=f"Province {seat} {p + 1}",
                    name_ar=f"إقليم {p + 1}",
                    name_en=f"Province {seat} {p + 1}",
                )
            )
            for v in range(VENUES_PER_PROVINCE):
                vid = len(venues) + 1
                venues.append(
                    dict(
                        id=vid,
                        code=f"V-{vid}",
                        province_id=pid,
                        kind=KINDS[v % len(KINDS)],
                        city=f"{seat}" if p == 0 else f"{seat} {p + 1}",
                        name_fr=f"Village artisanal {seat} {vid}",
                        name_ar=f"القرية الحرفية {vid}",
                        name_en=f"Craft village {seat} {vid}",
                    )
                )
                venue_region.append(n)
    insert_rows(Region, regions)
    insert_rows(Chamber, chambers)
    insert_rows(Province, provinces)
    insert_rows(Venue, venues)
    campaign = Campaign(
        code="afcon-2025",
        name_ar="كأس أمم إفريقيا 2025",
        name_fr="CAN 2025",
        name_en="AFCON 2025",
        first_day=START,
        last_day=START + timedelta(days=DAYS - 1),
        checklist_version_id=version.id,
        state=RUNNING,
    )
    db.session.add(campaign)
    db.session.flush()
    campaign_id = campaign.id
    insert_rows(CampaignVenue, [dict(campaign_id=campaign_id, venue_id=v["id"]) for v in venues])

    users = [dict(id=1, username="admin", name="Admin", role=ADMIN, region_id=None)]
    inspectors: dict[int, list[int]] = {}
    for n, (code, *_rest) in enumerate(REGIONS, 1):
        users.append(
            dict(
                id=len(users) + 1,
                username=f"coord-{code.lower()}",
                name=f"Coordinator {code}",
                role=COORDINATOR,
                region_id=n,
            )
        )
        for k in range(3):
            uid = len(users) + 1
            users.append(
                dict(
                    id=uid,
                    username=f"insp-{code.lower()}-{k}",
                    name=f"Inspector {code} {k}",
                    role=INSPECTOR,
                    region_id=n,
                )
            )
            inspectors.setdefault(n, []).append(uid)
    password_hash = generate_password_hash(PASSWORD)
    for user in users:
        user.update(
            password_hash=password_hash,
            language="fr",
            active=True,
            created_at=datetime(2025, 12, 1),
        )
    insert_rows(User, users)

    load = (
        PostgresLoad(db.engine) if db.engine.dialect.name == "postgresql" else SqliteLoad(db.engine)
    )
    stamp = load.stamp
    load.begin()

    # Stalls shared out by region weight (host regions twice the others), then by venue.
    venue_weights = [
        weights[venue_region[i] - 1] * rng.uniform(0.5, 1.5) for i in range(len(venues))
    ]
    stall_venue = rng.choices(range(1, len(venues) + 1), weights=venue_weights, k=stall_count)
    quality: list[float] = []
    created = stamp(datetime(2025, 12, 1))
    load.open("artisan", ARTISAN_COLUMNS)
    stall_craft = [""]  # by stall id (each stall has its own artisan, of the same id)
    for sid in range(1, stall_count + 1):
        first, family = rng.choice(NAMES), rng.choice(FAMILIES)
        name_ar, name_latin = f"{first[0]} {family[0]}", f"{first[1]} {family[1]}"
        nia = f"NIA{sid:08d}"
        craft = rng.choice(CRAFTS)
        stall_craft.append(craft)
        category = rng.choice(CATEGORIES)
        load.add(
            "artisan",
            (
                sid,
                nia,
                name_ar,
                name_latin,
                artisan_search_text(name_ar, name_latin, nia),
                craft,
                category,
                None,
                1,
                1,
                created,
            ),
        )
        quality.append(rng.betavariate(8, 1.6))  # most stalls good, a tail of poor ones
    load.close("artisan")

    # 200,000 visits: about 5% of stalls never visited, the others 1..20 times.
    visited = [sid for sid in range(1, stall_count + 1) if rng.random() > 0.05]
    counts = dict.fromkeys(visited, 1)
    for sid in rng.choices(visited, k=inspection_count - len(visited)):
        counts[sid] += 1
    latest: list[str | None] = [None] * (stall_count + 1)
    latest_verdict: list[str | None] = [None] * (stall_count + 1)
    load.open("answer", ANSWER_COLUMNS)
    load.open("inspection", INSPECTION_COLUMNS, spool=True)
    load.open("corrective_action", ACTION_COLUMNS, spool=True)
    inspection_total = answer_id = action_id = 0
    na_allowed = [item.na_allowed for item in items]
    keys = [item.key for item in items]
    PASS, FAIL, NA = scoring.PASS, scoring.FAIL, scoring.NA
    # score() of each answer pattern met so far (a few thousand are most of the inspections).
    outcomes: dict[tuple[str, ...], scoring.Outcome] = {}
    for sid in visited:
        region_id = venue_region[stall_venue[sid - 1] - 1]
        region_inspectors = inspectors[region_id]
        visits = counts[sid]
        days = sorted(rng.randrange(DAYS) for _ in range(visits))
        p = quality[sid - 1]
        open_actions: dict[str, list] = {}
        actions: list[list] = []
        answers: list[tuple] = []
        for visit, day_offset in enumerate(days):
            day = START + timedelta(days=day_offset)
            # 09:00-18:00 in Morocco (UTC+1), stored as naive UTC; visits that day are ordered.
            at = datetime(day.year, day.month, day.day, 8) + timedelta(
                minutes=540 * (visit + 1) // (visits + 1)
            )
            p_visit = min(0.995, p + 0.015 * visit)  # stalls improve as they are followed up
            results = tuple(
                NA
                if allowed and rng.random() < 0.15
                else (PASS if rng.random() < p_visit else FAIL)
                for allowed in na_allowed
            )
            outcome = outcomes.get(results)
            if outcome is None:
                outcome = scoring.score(checklist, dict(zip(keys, results, strict=True)))
                if len(outcomes) < OUTCOMES_KEPT:
                    outcomes[results] = outcome
            iid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            at_text = stamp(at)
            load.add(
                "inspection",
                (
                    iid,
                    sid,
                    rng.choice(region_inspectors),
                    version.id,
                    campaign_id,
                    SUBMITTED,
                    stamp(at - timedelta(minutes=3)),
                    at_text,
                    at_text,
                    day.isoformat(),
                    None,
                    None,
                    outcome.score,
                    outcome.verdict,
                    len(outcome.critical_failures),
                    None,
                ),
            )
            inspection_total += 1
            for key, result in zip(keys, results, strict=True):
                answer_id += 1
                answers.append(
                    (
                        answer_id,
                        iid,
                        key,
                        result,
                        "" if result != FAIL or rng.random() < 0.7 else FAILED_COMMENT,
                        at_text,
                    )
                )
            for due in scoring.corrective_actions(checklist, outcome, day):
                if due.item_key not in open_actions:
                    action_id += 1
                    row = [
                        action_id,
                        sid,
                        due.item_key,
                        iid,
                        campaign_id,
                        day.isoformat(),
                        due.due.isoformat(),
                        OPEN,
                        at_text,
                        None,
                        None,
                        None,
                        None,
                        None,
                        stall_craft[sid],
                        outcome.verdict,
                    ]
                    open_actions[due.item_key] = row
                    actions.append(row)
            passed = dict(zip(keys, results, strict=True))
            for key in [k for k in open_actions if passed[k] == PASS]:
                row = open_actions.pop(key)
                row[7], row[9], row[10] = CLOSED, at_text, iid
            latest[sid] = iid
            latest_verdict[sid] = outcome.verdict
        load.add_many("answer", answers)
        load.add_many("corrective_action", [tuple(row) for row in actions])
    load.close("answer")
    load.close("inspection")
    load.close("corrective_action")
    log(
        f"generated and loaded {inspection_total} inspections, {answer_id} answers, "
        f"{action_id} corrective actions in {time.perf_counter() - began:.0f} s"
    )
    load.open("stall", STALL_COLUMNS)
    load.add_many(
        "stall",
        [
            (
                sid,
                stall_venue[sid - 1],
                f"B-{sid:05d}",
                f"Allée {1 + sid % 9}",
                sid,
                latest[sid],
                None,
                latest_verdict[sid],
            )
            for sid in range(1, stall_count + 1)
        ],
    )
    load.close("stall")
    load.finish()
    # The dashboards' tallies in one pass (from here on compliance/chamber/tallies.py keeps
    # them, as in production).
    rebuilt = time.perf_counter()
    tallies.rebuild()
    log(f"tallies rebuilt in {time.perf_counter() - rebuilt:.0f} s")
    if db.engine.dialect.name == "postgresql":
        # Rows above were given their ids: move the sequences past them.
        for table in (
            "region",
            "chamber",
            "province",
            "venue",
            "artisan",
            "stall",
            "user",
            "answer",
            "corrective_action",
        ):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT max(id) FROM "{table}"))'
                )
            )
        db.session.commit()
    log(f"filled in {time.perf_counter() - began:.0f} s")


def catch_up() -> None:
    """Apply the migrations made since a reused database was filled (each fills what it adds)."""
    db.session.remove()
    upgrade(directory=str(ROOT / "migrations"))


def analyze() -> None:
    """Statistics for the planner, and on PostgreSQL the visibility map, as autovacuum keeps
    them on a live database (a bulk load leaves neither)."""
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def p50(run, runs: int, warm_up: int = 3) -> float:
    for _ in range(warm_up):
        run()
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def logged_in(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def get(client, url: str):
    def run():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return run


def floor(app, client, url: str, runs: int) -> float:
    """p50 of the page's own SQL statements run straight on a DBAPI connection."""
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            get(client, url)()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        raw = engine.raw_connection()
        try:

            def run():
                cursor = raw.cursor()
                for statement, parameters in statements:
                    cursor.execute(statement, parameters)
                    if cursor.description:
                        cursor.fetchall()
                cursor.close()
                raw.rollback()

            return p50(run, runs)
        finally:
            raw.close()


# --sweep: each list page of the chambers under each of these filters, as the admin (the whole
# country) and as the home region's coordinator.
SWEEP_PAGES = (
    "/chamber/",
    "/chamber/stalls",
    "/chamber/stalls?state=never",
    "/chamber/stalls?state=all",
    "/chamber/actions",
    "/chamber/actions?state=open",
    "/chamber/actions?state=closed",
)
_WEEK = f"date_from={WEEK[0].isoformat()}&date_to={WEEK[1].isoformat()}"
SWEEP_FILTERS = (
    "",
    f"craft={CRAFT}",
    *(f"verdict={verdict}" for verdict in ("non_compliant", "compliant", "needs_follow_up")),
    "verdict=not_inspected",
    f"craft={CRAFT}&verdict={VERDICT}",
    "kind=medina_market",
    "kind=fan_zone&craft=pottery&verdict=compliant",
    _WEEK,
    f"{_WEEK}&craft={CRAFT}",
    f"{_WEEK}&verdict={VERDICT}",
    f"{_WEEK}&craft={CRAFT}&verdict={VERDICT}",
    f"{_WEEK}&kind=fan_zone&verdict=compliant",
    f"{_WEEK}&verdict=not_inspected",
)


def sweep(clients: dict, runs: int, shown: int = 10) -> None:
    """p50 of every page of SWEEP_PAGES under every filter of SWEEP_FILTERS, for each client;
    prints the slowest ``shown`` and a summary line."""
    timed = []
    for who, client in clients.items():
        for page in SWEEP_PAGES:
            for filters in SWEEP_FILTERS:
                joined = "&" if "?" in page else "?"
                url = f"{page}{joined}{filters}" if filters else page
                timed.append((p50(get(client, url), runs, warm_up=1), who, url))
    timed.sort(reverse=True)
    for ms, who, url in timed[:shown]:
        print(f"  {ms:6.0f} ms  {who:11s} {url}")
    middle = statistics.median(ms for ms, _who, _url in timed)
    print(f"sweep pages={len(timed)} max_ms={timed[0][0]:.0f} median_ms={middle:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--stalls", type=int, default=STALLS, help="default %(default)s")
    parser.add_argument("--inspections", type=int, default=INSPECTIONS, help="default %(default)s")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the data of a previous run if it is there"
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="also time every list page under every filter combination (SWEEP_*) and print "
        "the slowest ones before the last line",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL to a scratch database, e.g. sqlite:////tmp/bench.db")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "bench-secret-bench-secret",
        }
    )
    with app.app_context():
        filled = False
        if args.reuse:
            try:
                filled = (
                    db.session.scalar(select(func.count()).select_from(Inspection))
                    == args.inspections
                )
            except Exception:  # no schema yet
                db.session.rollback()
        if filled:
            catch_up()
        else:
            reset_schema()
            fill(random.Random(args.seed), args.stalls, args.inspections)
        analyze()
        dialect = db.engine.dialect.name
        region_id = db.session.scalar(select(Region.id).where(Region.code == HOME_REGION))
        # A venue of the home region with about as many stalls as the average venue.
        per_venue = (
            select(Stall.venue_id, func.count().label("n"))
            .join(Venue, Venue.id == Stall.venue_id)
            .join(Province, Province.id == Venue.province_id)
            .where(Province.region_id == region_id)
            .group_by(Stall.venue_id)
            .order_by(func.count().desc())
        )
        venue_id = db.session.execute(per_venue).first()[0]
        stalls = db.session.scalar(select(func.count()).select_from(Stall))
        inspections = db.session.scalar(select(func.count()).select_from(Inspection))

    coordinator = logged_in(app, f"coord-{HOME_REGION.lower()}")
    admin = logged_in(app, "admin")
    home = p50(get(coordinator, "/chamber/"), args.runs)
    national = p50(get(admin, "/chamber/"), args.runs)
    venue = p50(get(coordinator, f"/chamber/venues/{venue_id}"), args.runs)
    bare = floor(app, coordinator, "/chamber/", args.runs)
    coverage = p50(get(coordinator, "/rounds/coverage"), args.runs)
    week = f"?date_from={WEEK[0].isoformat()}&date_to={WEEK[1].isoformat()}"
    home_dated = p50(get(coordinator, f"/chamber/{week}"), args.runs)
    national_dated = p50(get(admin, f"/chamber/{week}"), args.runs)
    narrowed = f"{week}&craft={CRAFT}&verdict={VERDICT}"
    national_filtered = p50(get(admin, f"/chamber/{narrowed}"), args.runs)
    home_filtered = p50(get(coordinator, f"/chamber/{narrowed}"), args.runs)
    stalls_never = p50(get(admin, "/chamber/stalls?state=never"), args.runs)
    if args.sweep:
        sweep({"admin": admin, "coordinator": coordinator}, runs=max(3, args.runs // 5))
    print(
        f"dashboard db={dialect} stalls={stalls} inspections={inspections} "
        f"home_p50_ms={home:.0f} national_p50_ms={national:.0f} venue_p50_ms={venue:.0f} "
        f"floor_p50_ms={bare:.0f} coverage_p50_ms={coverage:.0f} "
        f"national_dated_p50_ms={national_dated:.0f} home_dated_p50_ms={home_dated:.0f} "
        f"national_filtered_p50_ms={national_filtered:.0f} "
        f"home_filtered_p50_ms={home_filtered:.0f} stalls_never_p50_ms={stalls_never:.0f}"
    )


if __name__ == "__main__":
    main()
