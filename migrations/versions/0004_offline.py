"""offline submissions: photos declared with the answers may arrive after them

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("declared_photos", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("photos_pending", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_column("photos_pending")
        batch_op.drop_column("declared_photos")
        batch_op.drop_column("received_at")
