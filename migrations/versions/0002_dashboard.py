"""chambers' dashboards: running tallies of current results and daily inspections, indexes

The dashboards count, for a region or the whole country, each stall's current result (its
latest inspection), the fail and N/A answers of those results, and inspections per day.
Measured with bench/dashboard.py (20,000 stalls, 200,000 inspections, 3.2 M answers), reading
these from the base tables costs hundreds of milliseconds on a national page, so they are
kept as running tallies, filled here from what is already there and then kept up to date by
compliance/chamber/tallies.py as inspections are written:

- stall.current_*: the latest inspection's version, verdict, score, critical failures, day;
- current_failure: the fail and N/A answers of each stall's latest inspection;
- daily_tally: submitted inspections per day, venue and verdict, with their score sum.

Indexes for the views with a date range, which read the base tables:

- ix_inspection_stall_day: a stall's inspections by day (its latest within the range);
- ix_inspection_current: an inspection's outcome by id, from the index alone;
- ix_answer_not_passed: partial, fails and N/As only (about a tenth of the answer table);
- ix_corrective_action_open_stall: open and overdue corrective actions per stall.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CURRENT_COLUMNS = "current_version_id, current_verdict, current_score, current_critical, current_day"
OUTCOME_COLUMNS = "checklist_version_id, verdict, score, critical_failures, submitted_day"

# The tallies of what is already there; from now on compliance/chamber/tallies.py keeps them.
BACKFILL = [
    f"""
    UPDATE stall SET ({CURRENT_COLUMNS}) =
      (SELECT {OUTCOME_COLUMNS} FROM inspection WHERE inspection.id = stall.latest_inspection_id)
    WHERE latest_inspection_id IS NOT NULL
    """,
    """
    INSERT INTO current_failure (stall_id, item_key, result)
      SELECT stall.id, answer.item_key, answer.result FROM stall
      JOIN answer ON answer.inspection_id = stall.latest_inspection_id
      WHERE answer.result != 'pass'
    """,
    """
    INSERT INTO daily_tally (day, venue_id, verdict, inspections, score_sum)
      SELECT inspection.submitted_day, stall.venue_id, inspection.verdict, count(*),
             coalesce(sum(inspection.score), 0)
      FROM inspection JOIN stall ON stall.id = inspection.stall_id
      WHERE inspection.status = 'submitted' AND inspection.submitted_day IS NOT NULL
        AND inspection.verdict IS NOT NULL
      GROUP BY inspection.submitted_day, stall.venue_id, inspection.verdict
    """,
]


def upgrade():
    with op.batch_alter_table("stall", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_version_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("current_verdict", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("current_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("current_critical", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("current_day", sa.Date(), nullable=True))
    op.create_table(
        "current_failure",
        sa.Column("stall_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=4), nullable=False),
        sa.ForeignKeyConstraint(["stall_id"], ["stall.id"],
                                name=op.f("fk_current_failure_stall_id_stall")),
        sa.PrimaryKeyConstraint("stall_id", "item_key", name=op.f("pk_current_failure")),
    )
    op.create_table(
        "daily_tally",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("inspections", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["venue_id"], ["venue.id"],
                                name=op.f("fk_daily_tally_venue_id_venue")),
        sa.PrimaryKeyConstraint("day", "venue_id", "verdict", name=op.f("pk_daily_tally")),
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inspection_current",
            ["id", "checklist_version_id", "verdict", "score", "submitted_day"],
            unique=False,
        )
        batch_op.create_index(
            "ix_inspection_stall_day",
            ["stall_id", "status", "submitted_day", "verdict", "score"],
            unique=False,
        )
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_answer_not_passed",
            ["inspection_id", "item_key", "result"],
            unique=False,
            sqlite_where=sa.text("result != 'pass'"),
            postgresql_where=sa.text("result != 'pass'"),
        )
    with op.batch_alter_table("corrective_action", schema=None) as batch_op:
        batch_op.create_index(
            "ix_corrective_action_open_stall", ["status", "stall_id", "due_date"], unique=False
        )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade():
    with op.batch_alter_table("corrective_action", schema=None) as batch_op:
        batch_op.drop_index("ix_corrective_action_open_stall")
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_not_passed")
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_stall_day")
        batch_op.drop_index("ix_inspection_current")
    op.drop_table("daily_tally")
    op.drop_table("current_failure")
    with op.batch_alter_table("stall", schema=None) as batch_op:
        batch_op.drop_column("current_day")
        batch_op.drop_column("current_critical")
        batch_op.drop_column("current_score")
        batch_op.drop_column("current_verdict")
        batch_op.drop_column("current_version_id")
