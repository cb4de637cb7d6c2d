"""submissions: one open corrective action per stall and item, the latest result's time on the stall

Submissions now change a stall under its row lock and count the dashboards' tallies by
increments (compliance/inspections.py, compliance/chamber/tallies.py):

- stall.current_at: when the stall's latest inspection was submitted. The UPDATE that makes an
  inspection the stall's latest compares with it, so that one statement both takes the row lock
  and decides, on the row as committed by whoever held the lock before;
- uq_corrective_action_open_item: at most one open corrective action per stall and item, so a
  failure is opened with INSERT ... ON CONFLICT DO NOTHING and two submissions can never open
  the same item twice.

Before the index, what concurrent submissions may have left is repaired: a second open action
for the same item is closed (the first keeps its due date), and so is an action whose item the
stall's latest inspection passed.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

REPAIR = [
    """
    UPDATE corrective_action SET status = 'closed', closed_at = CURRENT_TIMESTAMP,
           close_reason = 'duplicate of an earlier open action (migration 0008)'
    WHERE status = 'open' AND EXISTS (
      SELECT 1 FROM corrective_action AS earlier
      WHERE earlier.stall_id = corrective_action.stall_id
        AND earlier.item_key = corrective_action.item_key
        AND earlier.status = 'open' AND earlier.id < corrective_action.id)
    """,
    """
    UPDATE corrective_action SET status = 'closed', closed_at = CURRENT_TIMESTAMP,
           closed_by_inspection_id = (
             SELECT stall.latest_inspection_id FROM stall
             WHERE stall.id = corrective_action.stall_id),
           close_reason = 'passed at the latest visit (migration 0008)'
    WHERE status = 'open' AND EXISTS (
      SELECT 1 FROM stall JOIN answer ON answer.inspection_id = stall.latest_inspection_id
      WHERE stall.id = corrective_action.stall_id
        AND answer.item_key = corrective_action.item_key AND answer.result = 'pass')
    """,
    """
    UPDATE stall SET current_at = (
      SELECT submitted_at FROM inspection WHERE inspection.id = stall.latest_inspection_id)
    WHERE latest_inspection_id IS NOT NULL
    """,
]


def upgrade():
    with op.batch_alter_table("stall", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_at", sa.DateTime(), nullable=True))
    for statement in REPAIR:
        op.execute(statement)
    op.create_index(
        "uq_corrective_action_open_item",
        "corrective_action",
        ["stall_id", "item_key"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )


def downgrade():
    op.drop_index("uq_corrective_action_open_item", table_name="corrective_action")
    with op.batch_alter_table("stall", schema=None) as batch_op:
        batch_op.drop_column("current_at")
