"""dated figures: each stall's latest inspection of a campaign within a date range, from an index

With a date range the chamber pages read each stall's latest inspection of the campaign
submitted within it (compliance/chamber/figures.py: a LATERAL subquery on PostgreSQL, a
correlated one on SQLite). ix_inspection_campaign_latest answers it with one backward walk
per stall, from the index alone: the campaign, the stall, submitted, the day range, the order
(day, time, id) and the outcome columns the pages count.

Revision ID: 0012
Revises: 0011
"""

from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = [
    "campaign_id",
    "stall_id",
    "status",
    "submitted_day",
    "submitted_at",
    "id",
    "checklist_version_id",
    "verdict",
    "score",
    "critical_failures",
]


def upgrade():
    op.create_index("ix_inspection_campaign_latest", "inspection", COLUMNS, unique=False)


def downgrade():
    op.drop_index("ix_inspection_campaign_latest", table_name="inspection")
