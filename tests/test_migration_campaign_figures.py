"""Migration 0011 on a database with corrective actions and current failures: each gets the
campaign (and for an action, the day) of the inspection it comes from."""

from __future__ import annotations

import json

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from .test_migration_campaigns import MIGRATIONS, OLD_ROWS, _app, own_database  # noqa: F401

ACTION_CURRENT_TALLY = "0019"  # the revision that adds action_current_tally
ROWS_AT_0010 = [
    "INSERT INTO corrective_action (id, stall_id, item_key, opened_by_id, due_date, status, "
    "created_at) VALUES (1, 1, 'price_shown', 'i2', '2026-01-08', 'open', "
    "'2026-01-05 09:05:00'), (2, 3, 'badge_worn', 'i3', '2026-01-08', 'open', "
    "'2026-01-05 10:05:00')",
    "INSERT INTO current_failure (stall_id, item_key, result) VALUES "
    "(1, 'price_shown', 'fail'), (3, 'badge_worn', 'fail'), (3, 'corridor', 'na')",
]


def _rows_at_0010(db) -> None:
    """Migrate to 0008, write the old rows, migrate to 0010 and add actions and failures."""
    upgrade(directory=MIGRATIONS, revision="0008")
    with db.engine.begin() as conn:
        for statement in OLD_ROWS:
            conn.execute(text(statement), {"definition": json.dumps({"items": []})})
    upgrade(directory=MIGRATIONS, revision="0010")
    with db.engine.begin() as conn:
        for statement in ROWS_AT_0010:
            conn.execute(text(statement))


def test_actions_and_failures_get_their_inspections_campaign(own_database, tmp_path):  # noqa: F811
    app = _app(own_database, tmp_path)
    with app.app_context():
        from compliance.extensions import db

        _rows_at_0010(db)
        with db.engine.connect() as conn:
            campaign_id = conn.execute(text("SELECT id FROM campaign")).scalar()
        upgrade(directory=MIGRATIONS, revision="0011")
        with db.engine.connect() as conn:
            actions = conn.execute(
                text("SELECT id, campaign_id, opened_day FROM corrective_action ORDER BY id")
            ).all()
            assert [(i, c, str(d)[:10]) for i, c, d in actions] == [
                (1, campaign_id, "2026-01-05"),
                (2, campaign_id, "2026-01-05"),
            ]
            failures = conn.execute(text("SELECT DISTINCT campaign_id FROM current_failure")).all()
            assert failures == [(campaign_id,)]
        downgrade(directory=MIGRATIONS, revision="0010")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM corrective_action")).scalar() == 2
        db.engine.dispose()


def test_actions_get_their_stalls_craft(own_database, tmp_path):  # noqa: F811
    """Migration 0017: each action carries its stall's artisan's craft (NULL without one)."""
    app = _app(own_database, tmp_path)
    with app.app_context():
        from compliance.extensions import db

        _rows_at_0010(db)
        upgrade(directory=MIGRATIONS, revision="0016")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO artisan (id, nia, name_ar, name_latin, search_text, craft, "
                    "category, badge_version, private_version, created_at) VALUES "
                    "(1, 'A1234567', 'ع', 'A', 'a', 'carpets', 'artisan', 1, 1, "
                    "'2025-12-01 10:00:00')"
                )
            )
            conn.execute(text("UPDATE stall SET artisan_id = 1 WHERE id = 1"))
        upgrade(directory=MIGRATIONS, revision="0017")
        with db.engine.connect() as conn:
            crafts = conn.execute(text("SELECT id, craft FROM corrective_action ORDER BY id"))
            assert crafts.all() == [(1, "carpets"), (2, None)]
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE stall SET current_verdict = 'non_compliant' WHERE id = 1"))
        # Migration 0019: the open actions counted under their stall's current verdict.
        upgrade(directory=MIGRATIONS, revision=ACTION_CURRENT_TALLY)
        current = (
            "SELECT venue_id, craft, current_verdict, SUM(open_actions) "
            "FROM action_current_tally GROUP BY venue_id, craft, current_verdict "
            "HAVING SUM(open_actions) > 0 ORDER BY venue_id, craft, current_verdict"
        )
        with db.engine.begin() as conn:
            assert conn.execute(text(current)).all() == [
                (0, "", "", 1),
                (0, "carpets", "non_compliant", 1),
                (1, "carpets", "non_compliant", 1),
                (2, "", "", 1),
            ]
            # A stall's verdict changing moves its open actions with it.
            conn.execute(text("UPDATE stall SET current_verdict = 'compliant' WHERE id = 3"))
            assert conn.execute(text(current)).all() == [
                (0, "", "compliant", 1),
                (0, "carpets", "non_compliant", 1),
                (1, "carpets", "non_compliant", 1),
                (2, "", "compliant", 1),
            ]
        # Migration 0020: each action carries its opening inspection's verdict, and follows it.
        upgrade(directory=MIGRATIONS, revision="0020")
        opened = "SELECT id, opened_verdict FROM corrective_action ORDER BY id"
        with db.engine.begin() as conn:
            assert conn.execute(text(opened)).all() == [(1, "non_compliant"), (2, "follow_up")]
            conn.execute(text("UPDATE inspection SET verdict = 'compliant' WHERE id = 'i2'"))
            assert conn.execute(text(opened)).all() == [(1, "compliant"), (2, "follow_up")]
        downgrade(directory=MIGRATIONS, revision="0016")
        counted = "SELECT SUM(open_actions) FROM action_tally WHERE venue_id = 0"
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM corrective_action")).scalar() == 2
            assert conn.execute(text(counted)).scalar() == 2
            # The action tallies' triggers are still there: closing an action uncounts it.
            conn.execute(text("UPDATE corrective_action SET status = 'closed' WHERE id = 1"))
            assert conn.execute(text(counted)).scalar() == 1
        db.engine.dispose()
