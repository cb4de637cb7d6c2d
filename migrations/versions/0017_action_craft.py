"""action craft: a corrective action carries its stall's craft, for the lists filtered by craft

With a craft filter, the chamber pages' list of corrective actions found the stalls of that
craft first (every stall joined to its artisan: a sequential scan of the stall table), then
their actions one stall at a time: 23 ms at 200,000 inspections, 137 ms at 2 million on
PostgreSQL, for a page of ten actions. The action now carries the craft of its stall's artisan
(as action_tally does), and ix_corrective_action_craft_due walks one craft's open actions in
due-date order, the list's own order: a page of them is read from its first rows.

Kept like the tallies: the submission writes it with the action (it holds the stall's craft),
and stalls moved to another artisan, or an artisan given another craft, are recounted by
tallies.count_stalls, which sets it again. NULL for a stall with no artisan.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, never a batch copy: on SQLite that would drop the table's triggers
    # (migration 0016).
    op.add_column("corrective_action", sa.Column("craft", sa.String(32), nullable=True))
    op.execute(
        """
        UPDATE corrective_action SET craft = (
          SELECT artisan.craft FROM stall JOIN artisan ON artisan.id = stall.artisan_id
          WHERE stall.id = corrective_action.stall_id)
        """
    )
    op.create_index(
        "ix_corrective_action_craft_due",
        "corrective_action",
        ["craft", "status", "due_date", "opened_day"],
    )


def downgrade():
    op.drop_index("ix_corrective_action_craft_due", table_name="corrective_action")
    # SQLite 3.35+ and PostgreSQL both drop a column in place (the triggers stay).
    op.execute("ALTER TABLE corrective_action DROP COLUMN craft")
