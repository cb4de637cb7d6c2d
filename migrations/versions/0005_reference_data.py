"""reference data: the 12 regions and their chambers, the 75 prefectures and provinces

Loaded from compliance/reference/*.csv (see that module for the sources). ``flask reference
load`` runs the same upsert later, e.g. after a corrected file; neither ever deletes a row.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

from compliance import reference


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("province", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=12), nullable=False, server_default="province")
        )
    reference.load(op.get_bind())


def downgrade():
    # The rows stay: venues may point at them, and they are what any installation needs.
    with op.batch_alter_table("province", schema=None) as batch_op:
        batch_op.drop_column("kind")
