"""artisan craft: the stalls of one craft counted without reading every artisan

With a craft filter the chamber pages count each venue's stalls of that craft (inspected or
not), joining every stall in scope to its artisan: at 2 million inspections (200,000 stalls)
462 ms for the national page on SQLite, 45 ms of its statement on PostgreSQL.
ix_artisan_craft (craft, id) answers "is this artisan of that craft" from a small index
(SQLite: 52 ms for the page; PostgreSQL: 33 ms for the statement).

Revision ID: 0023
Revises: 0022
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_artisan_craft", "artisan", ["craft", "id"])


def downgrade():
    op.drop_index("ix_artisan_craft", table_name="artisan")
