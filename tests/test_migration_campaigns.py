"""Migration 0009 on a database that already holds inspections: they become "Campaign 1".

Runs the real migrations on a database of its own (a new SQLite file, or a new PostgreSQL
database next to the test one), up to 0008, writes rows as the app of that time did, then
upgrades to the head.
"""

from __future__ import annotations

import json

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from compliance import create_app
from compliance.config import TestingConfig

from .conftest import ROOT

MIGRATIONS = str(ROOT / "migrations")


@pytest.fixture
def own_database(database_url, tmp_path):
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"{url.database}_migration"
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _app(url, tmp_path):
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        UPLOAD_DIR = str(tmp_path / "uploads")
        EXPORT_DIR = str(tmp_path / "exports")

    return create_app(Config)


OLD_ROWS = [
    "INSERT INTO venue (id, province_id, code, kind, city, name_ar, name_fr, name_en) "
    "SELECT 1, id, 'RBT-FZ1', 'fan_zone', 'Rabat', 'ق', 'Village', 'Village' FROM province "
    "WHERE code = 'MA-RAB'",
    "INSERT INTO venue (id, province_id, code, kind, city, name_ar, name_fr, name_en) "
    "SELECT 2, id, 'CAS-FZ1', 'fan_zone', 'Casablanca', 'ق', 'Espace', 'Space' FROM province "
    "WHERE code = 'MA-CAS'",
    "INSERT INTO stall (id, venue_id, code, location, location_ar) VALUES "
    "(1, 1, 'RBT-001', 'A', ''), (2, 1, 'RBT-002', 'B', ''), (3, 2, 'CAS-001', 'C', '')",
    'INSERT INTO "user" (id, username, name, password_hash, role, active, created_at, '
    "session_version) VALUES (1, 'insp', 'Insp', 'x', 'inspector', true, "
    "'2025-12-20 10:00:00', 0)",
    "INSERT INTO checklist_version (id, key, version, content_hash, definition, loaded_at) "
    "VALUES (1, 'afcon-2025', 1, 'h1', :definition, '2025-12-01 10:00:00'), "
    "(2, 'afcon-2025', 2, 'h2', :definition, '2025-12-24 10:00:00')",
    "INSERT INTO inspection (id, stall_id, inspector_id, checklist_version_id, status, "
    "started_at, updated_at, submitted_at, submitted_day, score, verdict, critical_failures, "
    "photos_pending) VALUES "
    "('i1', 1, 1, 1, 'submitted', '2025-12-22 09:00:00', '2025-12-22 09:05:00', "
    "'2025-12-22 09:05:00', '2025-12-22', 0.9, 'compliant', 0, 0), "
    "('i2', 1, 1, 2, 'submitted', '2026-01-05 09:00:00', '2026-01-05 09:05:00', "
    "'2026-01-05 09:05:00', '2026-01-05', 0.5, 'non_compliant', 1, 0), "
    "('i3', 3, 1, 2, 'submitted', '2026-01-05 10:00:00', '2026-01-05 10:05:00', "
    "'2026-01-05 10:05:00', '2026-01-05', 0.7, 'follow_up', 0, 0), "
    "('i4', 2, 1, 2, 'draft', '2026-01-09 11:00:00', '2026-01-09 11:00:00', NULL, NULL, "
    "NULL, NULL, 0, 0)",
    "UPDATE stall SET latest_inspection_id = 'i2', current_day = '2026-01-05' WHERE id = 1",
    "UPDATE stall SET latest_inspection_id = 'i3', current_day = '2026-01-05' WHERE id = 3",
]


def test_old_inspections_become_the_first_campaign(own_database, tmp_path):
    app = _app(own_database, tmp_path)
    with app.app_context():
        from compliance.extensions import db

        upgrade(directory=MIGRATIONS, revision="0008")
        with db.engine.begin() as conn:
            for statement in OLD_ROWS:
                conn.execute(text(statement), {"definition": json.dumps({"items": []})})
        upgrade(directory=MIGRATIONS, revision="0012")
        with db.engine.connect() as conn:
            campaigns = conn.execute(
                text(
                    "SELECT id, code, name_fr, first_day, last_day, checklist_version_id, state "
                    "FROM campaign"
                )
            ).all()
            assert len(campaigns) == 1
            campaign_id, code, name, first, last, version, state = campaigns[0]
            assert (code, name, state, version) == ("campaign-1", "Campagne 1", "running", 2)
            # Its days are those of the inspections (the draft's start counts): no date in code.
            assert (str(first)[:10], str(last)[:10]) == ("2025-12-22", "2026-01-09")
            assert (
                conn.execute(
                    text("SELECT COUNT(*) FROM inspection WHERE campaign_id = :c"),
                    {"c": campaign_id},
                ).scalar()
                == 4
            )
            venues = conn.execute(text("SELECT venue_id FROM campaign_venue ORDER BY 1")).all()
            assert [row[0] for row in venues] == [1, 2]
            current = dict(conn.execute(text("SELECT id, current_campaign_id FROM stall")).all())
            assert current == {1: campaign_id, 2: None, 3: campaign_id}
            tallies = conn.execute(
                text(
                    "SELECT campaign_id, day, venue_id, verdict, inspections FROM daily_tally "
                    "ORDER BY day, venue_id"
                )
            ).all()
            assert [(c, str(d)[:10], v, verdict, n) for c, d, v, verdict, n in tallies] == [
                (campaign_id, "2025-12-22", 1, "compliant", 1),
                (campaign_id, "2026-01-05", 1, "non_compliant", 1),
                (campaign_id, "2026-01-05", 2, "follow_up", 1),
            ]
            daily = tallies
        # 0013: day_tally replaces daily_tally, per venue and per region, with failed items;
        # 0014: current_tally replaces current_failure.
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO answer (inspection_id, item_key, result, comment, updated_at) "
                    "VALUES ('i2', 'price', 'fail', '', '2026-01-05 09:05:00'), "
                    "('i2', 'corridor', 'na', '', '2026-01-05 09:05:00'), "
                    "('i2', 'badge', 'pass', '', '2026-01-05 09:05:00')"
                )
            )
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT venue_id, day, craft, verdict, item_key, inspections, fails, nas "
                    "FROM day_tally ORDER BY venue_id, day, verdict, item_key"
                )
            ).all()
            assert [(v, str(d)[:10], *rest) for v, d, *rest in rows] == [
                (0, "2025-12-22", "", "compliant", "", 1, 0, 0),
                (0, "2026-01-05", "", "follow_up", "", 1, 0, 0),
                (0, "2026-01-05", "", "non_compliant", "", 1, 0, 0),
                (0, "2026-01-05", "", "non_compliant", "corridor", 0, 0, 1),
                (0, "2026-01-05", "", "non_compliant", "price", 0, 1, 0),
                (1, "2025-12-22", "", "compliant", "", 1, 0, 0),
                (1, "2026-01-05", "", "non_compliant", "", 1, 0, 0),
                (1, "2026-01-05", "", "non_compliant", "corridor", 0, 0, 1),
                (1, "2026-01-05", "", "non_compliant", "price", 0, 1, 0),
                (2, "2026-01-05", "", "follow_up", "", 1, 0, 0),
            ]
            # 0014: each stall's current result and its venue's, with failed items.
            current = conn.execute(
                text(
                    "SELECT stall_id, venue_id, verdict, item_key, stalls, fails, nas "
                    "FROM current_tally ORDER BY stall_id, venue_id, item_key"
                )
            ).all()
            assert [tuple(row) for row in current] == [
                (0, 1, "non_compliant", "", 1, 0, 0),
                (0, 1, "non_compliant", "corridor", 0, 0, 1),
                (0, 1, "non_compliant", "price", 0, 1, 0),
                (0, 2, "follow_up", "", 1, 0, 0),
                (1, 1, "non_compliant", "", 1, 0, 0),
                (1, 1, "non_compliant", "corridor", 0, 0, 1),
                (1, 1, "non_compliant", "price", 0, 1, 0),
                (3, 2, "follow_up", "", 1, 0, 0),
            ]
        downgrade(directory=MIGRATIONS, revision="0012")
        with db.engine.connect() as conn:
            failures = conn.execute(
                text(
                    "SELECT stall_id, item_key, result, campaign_id FROM current_failure "
                    "ORDER BY item_key"
                )
            ).all()
            assert [tuple(row) for row in failures] == [
                (1, "corridor", "na", campaign_id),
                (1, "price", "fail", campaign_id),
            ]
            assert (
                conn.execute(
                    text(
                        "SELECT campaign_id, day, venue_id, verdict, inspections FROM daily_tally "
                        "ORDER BY day, venue_id"
                    )
                ).all()
                == daily
            )
        # And back: the tally loses its campaign, the inspections keep theirs no more.
        downgrade(directory=MIGRATIONS, revision="0008")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT SUM(inspections) FROM daily_tally")).scalar() == 3
        db.engine.dispose()


def test_an_empty_database_gets_no_campaign(own_database, tmp_path):
    app = _app(own_database, tmp_path)
    with app.app_context():
        from compliance.extensions import db

        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM campaign")).scalar() == 0
        db.engine.dispose()
