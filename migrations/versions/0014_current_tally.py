"""current tallies: each stall's current result and the same summed per venue, with failed items

The chamber pages without dates counted each stall's current result (Stall.current_*) and
current_failure per stall: O(stalls), 200,000 rows at national scale. current_tally
(compliance/chamber/tallies.py, CurrentTally) keeps them per venue too, so a page reads
O(venues): a stall's own rows (stall_id > 0, replacing current_failure) and its venue's rows
(stall_id = 0), keyed by the current result's campaign, venue, craft, checklist version and
verdict; item_key '' holds stalls and score sum, any other item_key an item's fails and N/As.

Filled here from the stalls' latest inspections (as Stall.current_* copies them), on upgrade;
the downgrade restores current_failure from the stalls' own rows.

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KEY = ["stall_id", "campaign_id", "venue_id", "craft", "version_id", "verdict", "item_key"]

# Each inspected stall's own rows: its result, then its failed and N/A items.
STALL_ROWS = """
INSERT INTO current_tally (stall_id, campaign_id, venue_id, craft, version_id, verdict,
                           item_key, stalls, score_sum, fails, nas)
SELECT stall.id, latest.campaign_id, stall.venue_id, COALESCE(artisan.craft, ''),
       latest.checklist_version_id, latest.verdict, '', 1, COALESCE(latest.score, 0.0), 0, 0
FROM stall
JOIN inspection AS latest ON latest.id = stall.latest_inspection_id
LEFT JOIN artisan ON artisan.id = stall.artisan_id
WHERE latest.verdict IS NOT NULL
UNION ALL
SELECT stall.id, latest.campaign_id, stall.venue_id, COALESCE(artisan.craft, ''),
       latest.checklist_version_id, latest.verdict, answer.item_key, 0, 0.0,
       CASE WHEN answer.result = 'fail' THEN 1 ELSE 0 END,
       CASE WHEN answer.result = 'fail' THEN 0 ELSE 1 END
FROM stall
JOIN inspection AS latest ON latest.id = stall.latest_inspection_id
LEFT JOIN artisan ON artisan.id = stall.artisan_id
JOIN answer ON answer.inspection_id = latest.id AND answer.result != 'pass'
WHERE latest.verdict IS NOT NULL
"""

# The venues' rows: the stalls' rows summed.
VENUE_ROWS = """
INSERT INTO current_tally (stall_id, campaign_id, venue_id, craft, version_id, verdict,
                           item_key, stalls, score_sum, fails, nas)
SELECT 0, campaign_id, venue_id, craft, version_id, verdict, item_key, SUM(stalls),
       SUM(score_sum), SUM(fails), SUM(nas)
FROM current_tally
WHERE stall_id != 0
GROUP BY campaign_id, venue_id, craft, version_id, verdict, item_key
"""


def upgrade():
    op.create_table(
        "current_tally",
        sa.Column("stall_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("craft", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=False),
        sa.Column("stalls", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.Float(), nullable=False),
        sa.Column("fails", sa.Integer(), nullable=False),
        sa.Column("nas", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_current_tally")),
    )
    op.execute(STALL_ROWS)
    op.execute(VENUE_ROWS)
    op.drop_table("current_failure")


def downgrade():
    op.create_table(
        "current_failure",
        sa.Column("stall_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=4), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["stall_id"], ["stall.id"], name=op.f("fk_current_failure_stall_id_stall")
        ),
        sa.PrimaryKeyConstraint("stall_id", "item_key", name=op.f("pk_current_failure")),
    )
    op.create_index(
        "ix_current_failure_campaign",
        "current_failure",
        ["campaign_id", "item_key", "result"],
        unique=False,
    )
    op.execute(
        """
        INSERT INTO current_failure (stall_id, item_key, result, campaign_id)
        SELECT stall_id, item_key, CASE WHEN fails > 0 THEN 'fail' ELSE 'na' END,
               NULLIF(campaign_id, 0)
        FROM current_tally
        WHERE stall_id != 0 AND item_key != ''
        """
    )
    op.drop_table("current_tally")
