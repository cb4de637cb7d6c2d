"""action current tally: open corrective actions by their stall's current verdict, by triggers

With a verdict filter and no dates, the chamber pages count the open and overdue actions of the
stalls whose current result has that verdict. action_tally (0016) does not know a stall's
verdict, so they were read one by one: 17-29 ms at 200,000 inspections, 552 ms at 2 million
(national, non-compliant, PostgreSQL). action_current_tally keeps them per venue and per
region (venue_id = 0) like action_tally, with the stall's current verdict as one more key.

Kept by triggers, as action_tally is, so that no writer can forget:

- on corrective_action: an action opened, closed, moved (due date, stall) or deleted is added
  or taken away under its stall's current verdict;
- on stall: a stall whose current verdict changes (its latest inspection is replaced, or
  rescored by an accepted contest) has its open actions moved from the old verdict to the
  new, in the statement that changes it. A submission changes the stall's verdict before it
  closes and opens actions, so those are counted under the new one.

Rows left at zero by a move are kept (readers sum them as they are): there are at most one per
venue, craft, verdict and due date. Stalls moved to another venue or artisan are recounted by
tallies.uncount_stalls / count_stalls, as for the other tallies.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TABLE = "action_current_tally"
KEY = ["campaign_id", "venue_id", "region_id", "craft", "current_verdict", "due_date"]
# Where an action's stall is, at both grains (grain.g = 1: its venue; 0: its region).
PLACES = """
JOIN stall ON stall.id = {action}.stall_id
JOIN venue ON venue.id = stall.venue_id
JOIN province ON province.id = venue.province_id
LEFT JOIN artisan ON artisan.id = stall.artisan_id
CROSS JOIN (SELECT 0 AS g UNION ALL SELECT 1 AS g) AS grain"""
STALL_VERDICT = "COALESCE(stall.current_verdict, '')"


def _values(action: str, verdict: str) -> str:
    return ", ".join(
        [
            f"{action}.campaign_id",
            "CASE WHEN grain.g = 1 THEN stall.venue_id ELSE 0 END",
            "province.region_id",
            "COALESCE(artisan.craft, '')",
            verdict,
            f"{action}.due_date",
        ]
    )


def _upsert(select: str) -> str:
    key = ", ".join(KEY)
    return (
        f"INSERT INTO {TABLE} ({key}, open_actions)\n{select}\n"
        f"ON CONFLICT ({key}) DO UPDATE "
        f"SET open_actions = {TABLE}.open_actions + excluded.open_actions"
    )


def _add(row: str, sign: int) -> str:
    """Add (sign -1: take away) the action ``row`` (NEW or OLD) if it is open.

    From a one-row table standing for it: SQLite's triggers cannot join NEW itself.
    """
    changed = (
        f"(SELECT {row}.stall_id AS stall_id, {row}.campaign_id AS campaign_id, "
        f"{row}.due_date AS due_date) AS changed"
    )
    return _upsert(
        f"SELECT {_values('changed', STALL_VERDICT)}, {sign}\n"
        f"FROM {changed}{PLACES.format(action='changed')}\n"
        f"WHERE {row}.status = 'open'"
    )


def _counted(verdict: str, sign: str, joins: str, where: str) -> str:
    """Open actions summed into the table's rows (the fill, or a stall's verdict moving)."""
    keys = _values("corrective_action", verdict)
    return _upsert(
        f"SELECT {keys}, SUM({sign})\n"
        f"FROM corrective_action{PLACES.format(action='corrective_action')}{joins}\n"
        f"WHERE corrective_action.status = 'open'{where}\n"
        f"GROUP BY {keys}"
    )


# A stall's current verdict changed: its open actions move from the old verdict to the new.
MOVE_VERDICT = _counted(
    "moved.verdict",
    "moved.sign",
    "\nCROSS JOIN (SELECT COALESCE(OLD.current_verdict, '') AS verdict, -1 AS sign\n"
    "            UNION ALL SELECT COALESCE(NEW.current_verdict, ''), 1) AS moved",
    " AND corrective_action.stall_id = NEW.id",
)
FILL = _counted(STALL_VERDICT, "1", "", "")
# The columns whose change can move an action between rows.
ACTION_COLUMNS = "status, due_date, campaign_id, stall_id"


def triggers(dialect: str) -> list[str]:
    """The statements that create the triggers."""
    if dialect == "postgresql":
        return [
            f"""
CREATE FUNCTION action_current_tally_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    {_add("OLD", -1)};
  END IF;
  IF TG_OP <> 'DELETE' THEN
    {_add("NEW", 1)};
  END IF;
  RETURN NULL;
END $$""",
            f"""
CREATE TRIGGER action_current_tally_count
AFTER INSERT OR DELETE OR UPDATE OF {ACTION_COLUMNS} ON corrective_action
FOR EACH ROW EXECUTE FUNCTION action_current_tally_count()""",
            f"""
CREATE FUNCTION action_current_tally_verdict() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {MOVE_VERDICT};
  RETURN NULL;
END $$""",
            """
CREATE TRIGGER action_current_tally_verdict
AFTER UPDATE OF current_verdict ON stall
FOR EACH ROW WHEN (OLD.current_verdict IS DISTINCT FROM NEW.current_verdict)
EXECUTE FUNCTION action_current_tally_verdict()""",
        ]
    return [
        f"""
CREATE TRIGGER action_current_tally_insert AFTER INSERT ON corrective_action
WHEN NEW.status = 'open'
BEGIN {_add("NEW", 1)}; END""",
        f"""
CREATE TRIGGER action_current_tally_delete AFTER DELETE ON corrective_action
WHEN OLD.status = 'open'
BEGIN {_add("OLD", -1)}; END""",
        f"""
CREATE TRIGGER action_current_tally_update AFTER UPDATE OF {ACTION_COLUMNS}
ON corrective_action
BEGIN {_add("OLD", -1)}; {_add("NEW", 1)}; END""",
        f"""
CREATE TRIGGER action_current_tally_verdict AFTER UPDATE OF current_verdict ON stall
WHEN OLD.current_verdict IS NOT NEW.current_verdict
BEGIN {MOVE_VERDICT}; END""",
    ]


COLUMN_TYPES = {
    "campaign_id": sa.Integer,
    "venue_id": sa.Integer,
    "region_id": sa.Integer,
    "craft": lambda: sa.String(length=32),
    "current_verdict": lambda: sa.String(length=20),
    "due_date": sa.Date,
}


def upgrade():
    op.create_table(
        TABLE,
        *(sa.Column(name, COLUMN_TYPES[name](), nullable=False) for name in KEY),
        sa.Column("open_actions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name=op.f(f"pk_{TABLE}")),
    )
    op.execute(FILL)
    for statement in triggers(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER action_current_tally_verdict ON stall")
        op.execute("DROP TRIGGER action_current_tally_count ON corrective_action")
        op.execute("DROP FUNCTION action_current_tally_verdict()")
        op.execute("DROP FUNCTION action_current_tally_count()")
    else:
        for name in ("verdict", "update", "delete", "insert"):
            op.execute(f"DROP TRIGGER action_current_tally_{name}")
    op.drop_table(TABLE)
