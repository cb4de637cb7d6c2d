"""rounds: which inspector covers which venue on which day of a campaign

- round_assignment (compliance/rounds.py): campaign, venue, day, inspector and an optional
  range of stall codes; one per inspector, venue and day;
- ix_inspection_campaign_inspector: each inspector's visits in a campaign (coverage).

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "round_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("code_from", sa.String(length=32), server_default="", nullable=False),
        sa.Column("code_to", sa.String(length=32), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_round_assignment_campaign_id_campaign"),
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venue.id"], name=op.f("fk_round_assignment_venue_id_venue")
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["user.id"], name=op.f("fk_round_assignment_inspector_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_round_assignment_created_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_assignment")),
        sa.UniqueConstraint(
            "venue_id",
            "day",
            "inspector_id",
            name=op.f("uq_round_assignment_venue_id_day_inspector_id"),
        ),
    )
    op.create_index(
        "ix_round_assignment_inspector_day", "round_assignment", ["inspector_id", "day"]
    )
    op.create_index("ix_round_assignment_campaign_day", "round_assignment", ["campaign_id", "day"])
    op.create_index(
        "ix_inspection_campaign_inspector",
        "inspection",
        ["campaign_id", "inspector_id", "status", "stall_id", "submitted_day"],
    )


def downgrade():
    op.drop_index("ix_inspection_campaign_inspector", table_name="inspection")
    op.drop_index("ix_round_assignment_campaign_day", table_name="round_assignment")
    op.drop_index("ix_round_assignment_inspector_day", table_name="round_assignment")
    op.drop_table("round_assignment")
