"""stall.open_action_due: the earliest fix date of a stall's open actions, kept by triggers

The rounds' coverage (compliance/rounds.py) counts a stall "due again" when one of its open
corrective actions is overdue: looked up per stall, twice (41,863 index probes for the 21,479
stalls of a region at 2 million inspections), 60 of the statement's 100 ms on PostgreSQL.
The stall's row now holds the earliest due date of its open actions, so "overdue" is
``open_action_due < today``, exactly as before (an open action is overdue if and only if the
earliest one is); and a covering index of the open stalls by venue holds every column the
coverage counts, so a region's stalls are counted from the index (no heap read per stall).

Every writer of corrective_action keeps the column through triggers, in its own statement (a
submission sends no extra statement): an open action inserted lowers it if earlier; an action
closed, deleted, moved to another date or stall sets it again from the stall's open actions
(by ix_corrective_action_open_stall, the first entry). On PostgreSQL the trigger first takes
the stall's row lock (FOR NO KEY UPDATE, the lock of an UPDATE of the row, which a concurrent
insert's foreign-key check does not wait for), then reads the stall's open actions in a new
snapshot: two writers of one stall's actions follow each other, and the second computes from
what the first committed. Every writer takes that lock before changing actions
(inspections.lock_stall: submissions, accepted contests, and now a coordinator's close or
move in chamber/follow_up.py), so the trigger's lock never comes second to an action's.

Filled here from the open actions; the downgrade drops the triggers, the index and the column.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# The earliest due date of stall {stall}'s open actions (NULL if none).
EARLIEST = (
    "(SELECT MIN(due_date) FROM corrective_action"
    " WHERE corrective_action.stall_id = {stall} AND corrective_action.status = 'open')"
)


def _set(stall: str) -> str:
    """SQLite: set stall {stall}'s column again from its open actions (no write if unchanged)."""
    earliest = EARLIEST.format(stall=stall)
    return (
        f"UPDATE stall SET open_action_due = {earliest}"
        f" WHERE stall.id = {stall} AND stall.open_action_due IS NOT {earliest}"
    )


def _lower(row: str) -> str:
    """An open action ``row`` added: the stall's column becomes its date if that is earlier."""
    return (
        f"UPDATE stall SET open_action_due = {row}.due_date WHERE stall.id = {row}.stall_id"
        f" AND (stall.open_action_due IS NULL OR stall.open_action_due > {row}.due_date)"
    )


# The columns whose change can move an action's date, its stall, or open/close it.
ACTION_COLUMNS = "status, due_date, stall_id"

# PostgreSQL: the stall's row lock first, then (a new snapshot) its open actions.
FUNCTION = f"""
CREATE FUNCTION stall_action_due() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  earliest date;
  added boolean;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    IF OLD.status = 'open' THEN
      PERFORM 1 FROM stall WHERE stall.id = OLD.stall_id FOR NO KEY UPDATE;
      earliest := {EARLIEST.format(stall="OLD.stall_id")};
      UPDATE stall SET open_action_due = earliest
      WHERE stall.id = OLD.stall_id AND stall.open_action_due IS DISTINCT FROM earliest;
    END IF;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    IF NEW.status = 'open' THEN
      -- NEW counted above if it was open on the same stall already
      IF TG_OP = 'INSERT' THEN
        added := true;
      ELSE
        added := OLD.status <> 'open' OR OLD.stall_id <> NEW.stall_id;
      END IF;
      IF added THEN
        PERFORM 1 FROM stall WHERE stall.id = NEW.stall_id FOR NO KEY UPDATE;
        {_lower("NEW")};
      END IF;
    END IF;
  END IF;
  RETURN NULL;
END $$"""


def triggers(dialect: str) -> list[str]:
    """The statements that create the triggers."""
    if dialect == "postgresql":
        return [
            FUNCTION,
            f"""
CREATE TRIGGER stall_action_due
AFTER INSERT OR DELETE OR UPDATE OF {ACTION_COLUMNS} ON corrective_action
FOR EACH ROW EXECUTE FUNCTION stall_action_due()""",
        ]
    return [
        f"""
CREATE TRIGGER stall_action_due_insert AFTER INSERT ON corrective_action
WHEN NEW.status = 'open'
BEGIN {_lower("NEW")}; END""",
        f"""
CREATE TRIGGER stall_action_due_delete AFTER DELETE ON corrective_action
WHEN OLD.status = 'open'
BEGIN {_set("OLD.stall_id")}; END""",
        f"""
CREATE TRIGGER stall_action_due_update AFTER UPDATE OF {ACTION_COLUMNS} ON corrective_action
WHEN OLD.status = 'open' OR NEW.status = 'open'
BEGIN {_set("OLD.stall_id")}; {_set("NEW.stall_id")}; END""",
    ]


def upgrade():
    op.add_column("stall", sa.Column("open_action_due", sa.Date(), nullable=True))
    op.execute(
        f"UPDATE stall SET open_action_due = {EARLIEST.format(stall='stall.id')}"
        " WHERE stall.id IN (SELECT stall_id FROM corrective_action WHERE status = 'open')"
    )
    op.create_index(
        "ix_stall_coverage",
        "stall",
        [
            "venue_id",
            "current_campaign_id",
            "current_day",
            "open_action_due",
            "followup_requested_at",
            "latest_inspection_id",
            "closed_at",  # always NULL here; SQLite then reads nothing from the table
        ],
        unique=False,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    for statement in triggers(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER stall_action_due ON corrective_action")
        op.execute("DROP FUNCTION stall_action_due()")
    else:
        for name in ("update", "delete", "insert"):
            op.execute(f"DROP TRIGGER stall_action_due_{name}")
    op.drop_index("ix_stall_coverage", table_name="stall")
    # Not a batch (a copy of the table): SQLite 3.35 drops a column in place.
    op.drop_column("stall", "open_action_due")
