"""campaign figures: a campaign's corrective actions and current failures without joins

Measured with bench/dashboard.py (20,000 stalls, 200,000 inspections), the chamber pages
slowed down when they began to show one campaign: the open actions were joined one by one to
the inspection that opened them (for its campaign), and the current failures to their stalls
(for the campaign of the stall's latest result). Both are copied where they are counted:

- corrective_action.campaign_id and opened_day: the opening inspection's campaign and day
  (ix_corrective_action_campaign_open: a campaign's open actions per stall, within dates too);
- current_failure.campaign_id: the campaign of the stall's latest inspection
  (ix_current_failure_campaign: the national count of a campaign's fails and N/As).

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("corrective_action", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("opened_day", sa.Date(), nullable=True))
    op.execute(
        """
        UPDATE corrective_action SET
          campaign_id = (SELECT campaign_id FROM inspection
                         WHERE inspection.id = corrective_action.opened_by_id),
          opened_day = (SELECT COALESCE(submitted_day, CAST(submitted_at AS DATE),
                                        CAST(corrective_action.created_at AS DATE))
                        FROM inspection WHERE inspection.id = corrective_action.opened_by_id)
        """
    )
    with op.batch_alter_table("corrective_action", schema=None) as batch_op:
        batch_op.alter_column("campaign_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("opened_day", existing_type=sa.Date(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_corrective_action_campaign_id_campaign"),
            "campaign",
            ["campaign_id"],
            ["id"],
        )
        batch_op.create_index(
            "ix_corrective_action_campaign_open",
            ["campaign_id", "status", "stall_id", "due_date", "opened_day"],
            unique=False,
        )

    with op.batch_alter_table("current_failure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
    op.execute(
        """
        UPDATE current_failure SET campaign_id = (
          SELECT current_campaign_id FROM stall WHERE stall.id = current_failure.stall_id)
        """
    )
    with op.batch_alter_table("current_failure", schema=None) as batch_op:
        batch_op.create_index(
            "ix_current_failure_campaign", ["campaign_id", "item_key", "result"], unique=False
        )


def downgrade():
    with op.batch_alter_table("current_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_current_failure_campaign")
        batch_op.drop_column("campaign_id")
    with op.batch_alter_table("corrective_action", schema=None) as batch_op:
        batch_op.drop_index("ix_corrective_action_campaign_open")
        batch_op.drop_constraint(
            batch_op.f("fk_corrective_action_campaign_id_campaign"), type_="foreignkey"
        )
        batch_op.drop_column("opened_day")
        batch_op.drop_column("campaign_id")
