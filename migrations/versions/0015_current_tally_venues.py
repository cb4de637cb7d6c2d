"""current_tally: a covering index of the venues' rows, which the overview pages read.

Without it PostgreSQL scans the whole table for a campaign's venue rows: at 200,000
inspections 62,128 rows to read 4,378 (the stalls' own rows are two thirds of it).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_current_tally_venues",
        "current_tally",
        [
            "campaign_id",
            "item_key",
            "venue_id",
            "craft",
            "version_id",
            "verdict",
            "stalls",
            "score_sum",
            "fails",
            "nas",
        ],
        unique=False,
        sqlite_where=sa.text("stall_id = 0"),
        postgresql_where=sa.text("stall_id = 0"),
    )


def downgrade():
    op.drop_index("ix_current_tally_venues", table_name="current_tally")
