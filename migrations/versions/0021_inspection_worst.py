"""inspection worst: a date range's worst results walked from an index

With a date range, the chamber's lists of stalls (failing, or all, worst first) sorted every
stall in scope by its latest inspection within the range: each stall's was looked up, then
all of them sorted for a page of 50 (national, one week: 47 ms at 200,000 inspections, 397 ms
at 2 million on PostgreSQL). ix_inspection_worst holds a campaign's submitted inspections in
the lists' order for each verdict (most critical failures, then lowest score), with their day
and stall: a page is walked from its first entries, keeping the inspections within the range
that are their stall's latest there (compliance/chamber/figures.py, _latest_of_verdict).

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_inspection_worst",
        "inspection",
        [
            "campaign_id",
            "status",
            "verdict",
            sa.text("critical_failures DESC"),
            "score",
            "submitted_day",
            "stall_id",
        ],
    )


def downgrade():
    op.drop_index("ix_inspection_worst", table_name="inspection")
