"""stall worst: a campaign's stalls worst first, from an index

The chamber's lists of stalls (failing, or all, worst first) without dates sorted every stall
in scope by its current result for a page of 50: the national list of all stalls took 299 ms
at 2 million inspections on SQLite. ix_stall_worst holds the stalls in the lists' order for
each current verdict of a campaign (most critical failures, lowest score, code): a page is
its first entries (compliance/chamber/figures.py, _current_of_verdict).

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_stall_worst",
        "stall",
        [
            "current_campaign_id",
            "current_verdict",
            sa.text("current_critical DESC"),
            "current_score",
            "code",
        ],
    )


def downgrade():
    op.drop_index("ix_stall_worst", table_name="stall")
