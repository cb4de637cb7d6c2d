"""artisans' keys: one pending contest per item, one fix report per photo

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    # A partial unique index: SQLite and PostgreSQL both have them.
    op.create_index(
        "uq_contest_pending_item",
        "contest",
        ["inspection_id", "item_key"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    with op.batch_alter_table("fix_report", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_fix_report_corrective_action_id_photo_sha256"),
            ["corrective_action_id", "photo_sha256"],
        )


def downgrade():
    with op.batch_alter_table("fix_report", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_fix_report_corrective_action_id_photo_sha256"), type_="unique"
        )
    op.drop_index("uq_contest_pending_item", table_name="contest")
