"""campaigns: every inspection belongs to one; the dashboards' tallies are kept per campaign

- campaign, campaign_venue: the events the chambers follow up and the venues taking part
  (compliance/campaigns.py);
- inspection.campaign_id (NOT NULL) and ix_inspection_campaign_stall;
- stall.current_campaign_id: the campaign of the stall's latest inspection;
- daily_tally gains campaign_id in its key (it is a derived table: rebuilt here).

A database that already holds inspections gets one campaign for them, named "Campaign 1",
running, spanning their days, using the latest checklist version they used, with every venue
taking part; an admin renames it. No date is written here: they come from the data.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_ar", sa.String(length=200), nullable=False),
        sa.Column("name_fr", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("checklist_version_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checklist_version_id"], ["checklist_version.id"],
            name=op.f("fk_campaign_checklist_version_id_checklist_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("code", name=op.f("uq_campaign_code")),
    )
    op.create_table(
        "campaign_venue",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_venue_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venue.id"], name=op.f("fk_campaign_venue_venue_id_venue")
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["user.id"], name=op.f("fk_campaign_venue_added_by_id_user")
        ),
        sa.PrimaryKeyConstraint("campaign_id", "venue_id", name=op.f("pk_campaign_venue")),
    )
    op.create_index(
        op.f("ix_campaign_venue_venue_id"), "campaign_venue", ["venue_id"], unique=False
    )

    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("stall", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_campaign_id", sa.Integer(), nullable=True))

    # Inspections made before campaigns existed become the first campaign's.
    op.execute(
        """
        INSERT INTO campaign (code, name_ar, name_fr, name_en, first_day, last_day,
                              checklist_version_id, state, created_at)
        SELECT 'campaign-1', 'الحملة 1', 'Campagne 1', 'Campaign 1',
               (SELECT MIN(COALESCE(submitted_day, DATE(started_at))) FROM inspection),
               (SELECT MAX(COALESCE(submitted_day, DATE(started_at))) FROM inspection),
               (SELECT MAX(checklist_version_id) FROM inspection), 'running', CURRENT_TIMESTAMP
        WHERE EXISTS (SELECT 1 FROM inspection)
        """
    )
    op.execute(
        """
        INSERT INTO campaign_venue (campaign_id, venue_id, added_at)
        SELECT campaign.id, venue.id, CURRENT_TIMESTAMP FROM campaign, venue
        WHERE campaign.code = 'campaign-1'
        """
    )
    op.execute(
        "UPDATE inspection SET campaign_id = (SELECT id FROM campaign WHERE code = 'campaign-1')"
    )
    op.execute(
        """
        UPDATE stall SET current_campaign_id = (
          SELECT campaign_id FROM inspection WHERE inspection.id = stall.latest_inspection_id)
        WHERE latest_inspection_id IS NOT NULL
        """
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.alter_column("campaign_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_inspection_campaign_id_campaign"), "campaign", ["campaign_id"], ["id"]
        )
        batch_op.create_index(
            "ix_inspection_campaign_stall",
            ["campaign_id", "stall_id", "submitted_day"],
            unique=False,
        )

    # The per-day tally, now per campaign too: derived, so made again from the inspections.
    op.drop_table("daily_tally")
    _create_daily_tally(with_campaign=True)
    op.execute(
        """
        INSERT INTO daily_tally (campaign_id, day, venue_id, verdict, inspections, score_sum)
        SELECT inspection.campaign_id, inspection.submitted_day, stall.venue_id,
               inspection.verdict, COUNT(*), COALESCE(SUM(inspection.score), 0.0)
        FROM inspection JOIN stall ON stall.id = inspection.stall_id
        WHERE inspection.status = 'submitted' AND inspection.submitted_day IS NOT NULL
          AND inspection.verdict IS NOT NULL
        GROUP BY inspection.campaign_id, inspection.submitted_day, stall.venue_id,
                 inspection.verdict
        """
    )


def _create_daily_tally(*, with_campaign: bool) -> None:
    columns = [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("inspections", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["venue_id"], ["venue.id"], name=op.f("fk_daily_tally_venue_id_venue")),
    ]
    key = ["day", "venue_id", "verdict"]
    if with_campaign:
        columns.insert(0, sa.Column("campaign_id", sa.Integer(), nullable=False))
        columns.append(
            sa.ForeignKeyConstraint(
                ["campaign_id"], ["campaign.id"], name=op.f("fk_daily_tally_campaign_id_campaign")
            )
        )
        key.insert(0, "campaign_id")
    op.create_table(
        "daily_tally", *columns, sa.PrimaryKeyConstraint(*key, name=op.f("pk_daily_tally"))
    )


def downgrade():
    op.drop_table("daily_tally")
    _create_daily_tally(with_campaign=False)
    op.execute(
        """
        INSERT INTO daily_tally (day, venue_id, verdict, inspections, score_sum)
        SELECT inspection.submitted_day, stall.venue_id, inspection.verdict, COUNT(*),
               COALESCE(SUM(inspection.score), 0.0)
        FROM inspection JOIN stall ON stall.id = inspection.stall_id
        WHERE inspection.status = 'submitted' AND inspection.submitted_day IS NOT NULL
          AND inspection.verdict IS NOT NULL
        GROUP BY inspection.submitted_day, stall.venue_id, inspection.verdict
        """
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_campaign_stall")
        batch_op.drop_constraint("fk_inspection_campaign_id_campaign", type_="foreignkey")
        batch_op.drop_column("campaign_id")
    with op.batch_alter_table("stall", schema=None) as batch_op:
        batch_op.drop_column("current_campaign_id")
    op.drop_index(op.f("ix_campaign_venue_venue_id"), table_name="campaign_venue")
    op.drop_table("campaign_venue")
    op.drop_table("campaign")
