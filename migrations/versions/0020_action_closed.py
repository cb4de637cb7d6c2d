"""action lists: the opening verdict on each action, and the actions closed lately by index

Two lists of corrective actions on the chamber pages were slow at 200,000 inspections:

- closed actions, latest first: with no index on that order PostgreSQL read every closed
  action, joined each to its stall and sorted them for a page of 50 (122 ms; 2.1 s at 2
  million). ix_corrective_action_closed holds them in that order: a page is its first entries.
- with a date range and a verdict, the verdict is the opening inspection's: looked up action by
  action in a subquery whose selectivity PostgreSQL cannot estimate (it guessed 240 actions of
  26,677, and compared each to every venue: 245 ms). corrective_action.opened_verdict holds
  it, with the planner's statistics like any column.

opened_verdict is written with the action by the submission that opens it (it holds the
outcome), and kept by a trigger when the opening inspection's verdict changes (a contest
accepted rescores it), like the action tallies of migration 0016.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# The opening inspection's verdict changed: its actions carry the new one.
FOLLOW = "UPDATE corrective_action SET opened_verdict = NEW.verdict WHERE opened_by_id = NEW.id"


def upgrade():
    # Plain ALTER TABLE, never a batch copy: on SQLite that would drop the table's triggers.
    op.add_column("corrective_action", sa.Column("opened_verdict", sa.String(20), nullable=True))
    op.execute(
        """
        UPDATE corrective_action SET opened_verdict = (
          SELECT verdict FROM inspection WHERE inspection.id = corrective_action.opened_by_id)
        """
    )
    op.create_index(
        "ix_corrective_action_closed", "corrective_action", ["status", "closed_at", "id"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION action_opened_verdict() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  {FOLLOW};\n  RETURN NULL;\nEND $$"
        )
        op.execute(
            "CREATE TRIGGER action_opened_verdict AFTER UPDATE OF verdict ON inspection\n"
            "FOR EACH ROW WHEN (OLD.verdict IS DISTINCT FROM NEW.verdict)\n"
            "EXECUTE FUNCTION action_opened_verdict()"
        )
    else:
        op.execute(
            "CREATE TRIGGER action_opened_verdict AFTER UPDATE OF verdict ON inspection\n"
            f"WHEN OLD.verdict IS NOT NEW.verdict\nBEGIN {FOLLOW}; END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER action_opened_verdict ON inspection")
        op.execute("DROP FUNCTION action_opened_verdict()")
    else:
        op.execute("DROP TRIGGER action_opened_verdict")
    op.drop_index("ix_corrective_action_closed", table_name="corrective_action")
    # SQLite 3.35+ and PostgreSQL both drop a column in place (the triggers stay).
    op.execute("ALTER TABLE corrective_action DROP COLUMN opened_verdict")
