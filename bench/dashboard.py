"""Benchmark the chambers' dashboards on a tournament-sized database.

Fills the database named by ``DATABASE_URL`` with 20,000 stalls and 200,000 submitted
inspections with their answers (about 3.2 million rows), then times, through the app's test
client and logged in, the coordinator home page (Rabat-Salé-Kénitra), the national page (as
admin), a venue page and the rounds' coverage page of the home region (``/rounds/coverage``,
per venue: inspected, never inspected, due again), each p50 over ``--runs`` requests after a
warm-up, and the bare SQL that the home page runs (the floor: the same statements straight on
a DBAPI connection).

Run from the repository root::

    DATABASE_URL=sqlite:////tmp/bench.db .venv/bin/python bench/dashboard.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/dashboard.py

The schema is rebuilt from the Alembic migrations (everything in that database is dropped), so
never point it at a database you care about. Every inspection belongs to one running campaign
(AFCON 2025, every venue taking part), as the pages show one campaign at a time.
``--stalls`` and ``--inspections`` make a smaller database to try the script. ``--reuse``
keeps a database this script filled before and only times. The last line is::

    dashboard db=<sqlite|postgresql> stalls=20000 inspections=200000 home_p50_ms=<n> \
national_p50_ms=<n> venue_p50_ms=<n> floor_p50_ms=<n> coverage_p50_ms=<n> \
national_dated_p50_ms=<n> home_dated_p50_ms=<n>

(``*_dated``: the home and national pages with a one-week date range, ``WEEK``.)

Target: every page p50 <= 150 ms on SQLite and on PostgreSQL. Rows are made with SQLAlchemy
Core ``executemany`` (batched inserts), scores and verdicts with :mod:`compliance.scoring`, and
corrective actions opened and closed as :func:`compliance.inspections.submit` would.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
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
    Answer,
    Artisan,
    Campaign,
    CampaignVenue,
    Chamber,
    CorrectiveAction,
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
CHUNK = 20_000

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
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(directory=str(ROOT / "migrations"))
    # The bench makes its own regions and provinces (more of them, with fixed ids).
    with db.engine.begin() as conn:
        for table in ("province", "chamber", "region"):
            conn.execute(text(f"DELETE FROM {table}"))


def fill(
    rng: random.Random, stall_count: int = STALLS, inspection_count: int = INSPECTIONS
) -> None:
    """Places, people, stalls and inspections (20,000 and 200,000) with answers and follow-ups."""
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

    # Stalls shared out by region weight (host regions twice the others), then by venue.
    venue_weights = [
        weights[venue_region[i] - 1] * rng.uniform(0.5, 1.5) for i in range(len(venues))
    ]
    stall_venue = rng.choices(range(1, len(venues) + 1), weights=venue_weights, k=stall_count)
    artisans, stalls = [], []
    quality: list[float] = []
    for sid in range(1, stall_count + 1):
        first, family = rng.choice(NAMES), rng.choice(FAMILIES)
        name_ar, name_latin = f"{first[0]} {family[0]}", f"{first[1]} {family[1]}"
        nia = f"NIA{sid:08d}"
        artisans.append(
            dict(
                id=sid,
                nia=nia,
                name_ar=name_ar,
                name_latin=name_latin,
                search_text=artisan_search_text(name_ar, name_latin, nia),
                craft=rng.choice(CRAFTS),
                category=rng.choice(CATEGORIES),
                phone=None,
                badge_version=1,
                private_version=1,
                created_at=datetime(2025, 12, 1),
            )
        )
        stalls.append(
            dict(
                id=sid,
                venue_id=stall_venue[sid - 1],
                code=f"B-{sid:05d}",
                location=f"Allée {1 + sid % 9}",
                artisan_id=sid,
                latest_inspection_id=None,
                followup_requested_at=None,
            )
        )
        quality.append(rng.betavariate(8, 1.6))  # most stalls good, a tail of poor ones
    insert_rows(Artisan, artisans)

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

    # 200,000 visits: about 5% of stalls never visited, the others 1..20 times.
    visited = [sid for sid in range(1, stall_count + 1) if rng.random() > 0.05]
    counts = dict.fromkeys(visited, 1)
    for sid in rng.choices(visited, k=inspection_count - len(visited)):
        counts[sid] += 1
    inspections, answers, actions = [], [], []
    answer_id = 0
    for sid in visited:
        region_id = venue_region[stall_venue[sid - 1] - 1]
        days = sorted(rng.randrange(DAYS) for _ in range(counts[sid]))
        p = quality[sid - 1]
        open_actions: dict[str, dict] = {}
        latest = None
        for visit, day_offset in enumerate(days):
            day = START + timedelta(days=day_offset)
            # 09:00-18:00 in Morocco (UTC+1), stored as naive UTC; visits that day are ordered.
            at = datetime(day.year, day.month, day.day, 8) + timedelta(
                minutes=540 * (visit + 1) // (counts[sid] + 1)
            )
            p_visit = min(0.995, p + 0.015 * visit)  # stalls improve as they are followed up
            given = {}
            for item in items:
                if item.na_allowed and rng.random() < 0.15:
                    given[item.key] = scoring.NA
                else:
                    given[item.key] = scoring.PASS if rng.random() < p_visit else scoring.FAIL
            outcome = scoring.score(checklist, given)
            iid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            inspections.append(
                dict(
                    id=iid,
                    stall_id=sid,
                    inspector_id=rng.choice(inspectors[region_id]),
                    checklist_version_id=version.id,
                    campaign_id=campaign_id,
                    status=SUBMITTED,
                    started_at=at - timedelta(minutes=3),
                    updated_at=at,
                    submitted_at=at,
                    submitted_day=day,
                    latitude=None,
                    longitude=None,
                    score=outcome.score,
                    verdict=outcome.verdict,
                    critical_failures=len(outcome.critical_failures),
                    fingerprint=None,
                )
            )
            for key, result in given.items():
                answer_id += 1
                answers.append(
                    dict(
                        id=answer_id,
                        inspection_id=iid,
                        item_key=key,
                        result=result,
                        comment=""
                        if result != scoring.FAIL or rng.random() < 0.7
                        else "لا يوجد سعر على بعض المنتوجات",
                        updated_at=at,
                    )
                )
            for due in scoring.corrective_actions(checklist, outcome, day):
                if due.item_key not in open_actions:
                    row = dict(
                        stall_id=sid,
                        item_key=due.item_key,
                        opened_by_id=iid,
                        campaign_id=campaign_id,
                        opened_day=day,
                        due_date=due.due,
                        status=OPEN,
                        created_at=at,
                        closed_at=None,
                        closed_by_inspection_id=None,
                        closed_by_user_id=None,
                        close_reason=None,
                        fix_reported_at=None,
                    )
                    open_actions[due.item_key] = row
                    actions.append(row)
            for key in [k for k in open_actions if given[k] == scoring.PASS]:
                row = open_actions.pop(key)
                row.update(status=CLOSED, closed_at=at, closed_by_inspection_id=iid)
            latest = iid
        stalls[sid - 1]["latest_inspection_id"] = latest
    log(
        f"generated {len(inspections)} inspections, {len(answers)} answers, "
        f"{len(actions)} corrective actions in {time.perf_counter() - began:.0f} s"
    )
    insert_rows(Stall, stalls)
    insert_rows(Inspection, inspections)
    del inspections
    insert_rows(Answer, answers)
    del answers
    insert_rows(CorrectiveAction, actions)
    # Stalls went in before their inspections: compute the dashboards' tallies in one pass
    # (from here on compliance/chamber/tallies.py keeps them, as in production).
    tallies.rebuild()
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
        ):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT max(id) FROM "{table}"))'
                )
            )
        db.session.commit()
    log(f"filled in {time.perf_counter() - began:.0f} s")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--stalls", type=int, default=STALLS, help="default %(default)s")
    parser.add_argument("--inspections", type=int, default=INSPECTIONS, help="default %(default)s")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the data of a previous run if it is there"
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
        if not filled:
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
    print(
        f"dashboard db={dialect} stalls={stalls} inspections={inspections} "
        f"home_p50_ms={home:.0f} national_p50_ms={national:.0f} venue_p50_ms={venue:.0f} "
        f"floor_p50_ms={bare:.0f} coverage_p50_ms={coverage:.0f} "
        f"national_dated_p50_ms={national_dated:.0f} home_dated_p50_ms={home_dated:.0f}"
    )


if __name__ == "__main__":
    main()
