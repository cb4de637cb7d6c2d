"""day tallies: each day's inspections with craft, version, verdict and failed items, per venue and per region

The chamber pages with a date range read figures from day-level tallies instead of each
stall's inspections (compliance/chamber/tallies.py, DayTally): day_tally replaces daily_tally
(which had neither craft nor checklist version nor items). Two grains in one table, so a
submission adds itself with one statement: rows per venue (venue_id > 0) and per region
(venue_id = 0, read by the national and regional pages); item_key '' holds the inspections
and their score sum, any other item_key that item's fails and N/As. Each kind of row has a
covering partial index in the key's order (a page reads a few regions or venues, by day).

Filled here from the inspections, on upgrade; the downgrade rebuilds daily_tally.

Revision ID: 0013
Revises: 0012
"""

from alembic import op
import sqlalchemy as sa


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KEY = ["campaign_id", "venue_id", "region_id", "day", "craft", "version_id", "verdict", "item_key"]

# Every submitted inspection at both grains (grain.g = 1: its venue; 0: its region only).
FILL = """
INSERT INTO day_tally (campaign_id, venue_id, region_id, day, craft, version_id, verdict,
                       item_key, inspections, score_sum, fails, nas)
WITH counted AS (
  SELECT inspection.id, inspection.campaign_id, inspection.submitted_day AS day,
         inspection.checklist_version_id AS version_id, inspection.verdict, inspection.score,
         stall.venue_id, province.region_id, COALESCE(artisan.craft, '') AS craft
  FROM inspection
  JOIN stall ON stall.id = inspection.stall_id
  JOIN venue ON venue.id = stall.venue_id
  JOIN province ON province.id = venue.province_id
  LEFT JOIN artisan ON artisan.id = stall.artisan_id
  WHERE inspection.status = 'submitted' AND inspection.submitted_day IS NOT NULL
    AND inspection.verdict IS NOT NULL
),
grain AS (SELECT 0 AS g UNION ALL SELECT 1 AS g)
SELECT campaign_id, CASE WHEN g = 1 THEN venue_id ELSE 0 END, region_id, day, craft,
       version_id, verdict, '', COUNT(*), COALESCE(SUM(score), 0.0), 0, 0
FROM counted JOIN grain ON 1 = 1
WHERE 1 = 1
GROUP BY campaign_id, CASE WHEN g = 1 THEN venue_id ELSE 0 END, day, region_id, craft,
         version_id, verdict
UNION ALL
SELECT campaign_id, CASE WHEN g = 1 THEN venue_id ELSE 0 END, region_id, day, craft,
       version_id, verdict, answer.item_key, 0, 0.0,
       SUM(CASE WHEN answer.result = 'fail' THEN 1 ELSE 0 END),
       SUM(CASE WHEN answer.result = 'fail' THEN 0 ELSE 1 END)
FROM counted JOIN grain ON 1 = 1
JOIN answer ON answer.inspection_id = counted.id AND answer.result != 'pass'
WHERE 1 = 1
GROUP BY campaign_id, CASE WHEN g = 1 THEN venue_id ELSE 0 END, day, region_id, craft,
         version_id, verdict, answer.item_key
"""


def upgrade():
    op.create_table(
        "day_tally",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("craft", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=False),
        sa.Column("inspections", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.Float(), nullable=False),
        sa.Column("fails", sa.Integer(), nullable=False),
        sa.Column("nas", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_day_tally")),
    )
    op.create_index(
        "ix_day_tally_inspections",
        "day_tally",
        [
            "campaign_id",
            "venue_id",
            "region_id",
            "day",
            "craft",
            "verdict",
            "version_id",
            "inspections",
            "score_sum",
        ],
        unique=False,
        sqlite_where=sa.text("item_key = ''"),
        postgresql_where=sa.text("item_key = ''"),
    )
    op.create_index(
        "ix_day_tally_items",
        "day_tally",
        [
            "campaign_id",
            "venue_id",
            "region_id",
            "day",
            "item_key",
            "craft",
            "verdict",
            "version_id",
            "fails",
            "nas",
        ],
        unique=False,
        sqlite_where=sa.text("item_key != ''"),
        postgresql_where=sa.text("item_key != ''"),
    )
    op.execute(FILL)
    op.drop_table("daily_tally")


def downgrade():
    op.create_table(
        "daily_tally",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("inspections", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_daily_tally_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venue.id"], name=op.f("fk_daily_tally_venue_id_venue")
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id", "day", "venue_id", "verdict", name=op.f("pk_daily_tally")
        ),
    )
    op.execute(
        """
        INSERT INTO daily_tally (campaign_id, day, venue_id, verdict, inspections, score_sum)
        SELECT campaign_id, day, venue_id, verdict, SUM(inspections), SUM(score_sum)
        FROM day_tally
        WHERE venue_id != 0 AND item_key = ''
        GROUP BY campaign_id, day, venue_id, verdict
        """
    )
    op.drop_index("ix_day_tally_items", table_name="day_tally")
    op.drop_index("ix_day_tally_inspections", table_name="day_tally")
    op.drop_table("day_tally")
