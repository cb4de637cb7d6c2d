"""action tallies: open corrective actions per venue and per region, kept by triggers

The chamber pages counted open and overdue corrective actions by reading every open action
and its stall (13 ms at 200,000 inspections, 188 ms at 2 million). Two tallies keep them
counted at two grains, like day_tally: per venue (venue_id > 0) and per region (venue_id = 0)
(compliance/chamber/tallies.py, ActionTally and ActionDayTally). action_tally, read by the
pages without dates, is keyed by the action's campaign, its stall's craft and its due date
(overdue is "due before today", so the due date stays a key); action_day_tally, read by a
period's pages, also by the day the action was opened and its opening inspection's verdict.

Every writer of corrective_action (a submission opening, closing or moving actions, a
coordinator closing one or moving its date, a contest accepted) keeps the count through
triggers, in the writer's own statement: a submission sends no extra statement, and no writer
can forget. Another trigger moves the actions of an inspection whose verdict changes (a
contest rescores it). Stalls moved to another venue or artisan are recounted by
tallies.uncount_stalls / count_stalls, as for the day tallies.

Filled here from the open actions; the downgrade drops the table and the triggers.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Two tables: the open actions (action_tally), read by the pages without dates, and the same
# by the day they were opened and their opening inspection's verdict (action_day_tally).
TABLES = {
    "action_tally": ["campaign_id", "venue_id", "region_id", "craft", "due_date"],
    "action_day_tally": [
        "campaign_id",
        "venue_id",
        "region_id",
        "opened_day",
        "craft",
        "verdict",
        "due_date",
    ],
}
# Where an action's stall is, at both grains (grain.g = 1: its venue; 0: its region).
PLACES = """
JOIN stall ON stall.id = {action}.stall_id
JOIN venue ON venue.id = stall.venue_id
JOIN province ON province.id = venue.province_id
LEFT JOIN artisan ON artisan.id = stall.artisan_id
CROSS JOIN (SELECT 0 AS g UNION ALL SELECT 1 AS g) AS grain"""


def _values(table: str, action: str, verdict: str) -> list[str]:
    """The key of ``action``'s rows in ``table`` (``verdict``: its opening inspection's)."""
    values = {
        "campaign_id": f"{action}.campaign_id",
        "venue_id": "CASE WHEN grain.g = 1 THEN stall.venue_id ELSE 0 END",
        "region_id": "province.region_id",
        "opened_day": f"{action}.opened_day",
        "craft": "COALESCE(artisan.craft, '')",
        "verdict": verdict,
        "due_date": f"{action}.due_date",
    }
    return [values[name] for name in TABLES[table]]


def _upsert(table: str, select: str) -> str:
    key = ", ".join(TABLES[table])
    return (
        f"INSERT INTO {table} ({key}, open_actions)\n{select}\n"
        f"ON CONFLICT ({key}) DO UPDATE "
        f"SET open_actions = {table}.open_actions + excluded.open_actions"
    )


def _add(table: str, row: str, sign: int) -> str:
    """Add (sign -1: take away) the action ``row`` (NEW or OLD) if it is open.

    From a one-row table standing for it: SQLite's triggers cannot join NEW itself.
    """
    verdict = (
        f"COALESCE((SELECT verdict FROM inspection WHERE inspection.id = {row}.opened_by_id), '')"
    )
    keys = ", ".join(_values(table, "changed", verdict))
    changed = (
        f"(SELECT {row}.stall_id AS stall_id, {row}.campaign_id AS campaign_id, "
        f"{row}.opened_day AS opened_day, {row}.due_date AS due_date) AS changed"
    )
    return _upsert(
        table,
        f"SELECT {keys}, {sign}\nFROM {changed}{PLACES.format(action='changed')}\n"
        f"WHERE {row}.status = 'open'",
    )


def _drop_empty(table: str, row: str) -> str:
    """Delete the rows an action taken away left at zero (a closed action leaves no row)."""
    day = f" AND opened_day = {row}.opened_day" if "opened_day" in TABLES[table] else ""
    return f"""
DELETE FROM {table}
WHERE open_actions = 0 AND {row}.status = 'open'
  AND campaign_id = {row}.campaign_id
  AND venue_id IN (0, (SELECT stall.venue_id FROM stall WHERE stall.id = {row}.stall_id))
  AND region_id = (SELECT province.region_id FROM stall
                   JOIN venue ON venue.id = stall.venue_id
                   JOIN province ON province.id = venue.province_id
                   WHERE stall.id = {row}.stall_id){day}
  AND due_date = {row}.due_date"""


def _counted(table: str, verdict: str, sign: str, joins: str, where: str) -> str:
    """Open actions summed into ``table``'s rows (a fill, or a verdict moving them)."""
    keys = _values(table, "corrective_action", verdict)
    return _upsert(
        table,
        f"SELECT {', '.join(keys)}, SUM({sign})\n"
        f"FROM corrective_action{PLACES.format(action='corrective_action')}{joins}\n"
        f"WHERE corrective_action.status = 'open'{where}\n"
        f"GROUP BY {', '.join(keys)}",
    )


# An inspection's verdict changed: its open actions move from the old verdict to the new.
MOVE_VERDICT = _counted(
    "action_day_tally",
    "moved.verdict",
    "moved.sign",
    "\nCROSS JOIN (SELECT COALESCE(OLD.verdict, '') AS verdict, -1 AS sign\n"
    "            UNION ALL SELECT COALESCE(NEW.verdict, ''), 1) AS moved",
    " AND corrective_action.opened_by_id = NEW.id",
)
FILL = [
    _counted(
        table,
        "COALESCE(inspection.verdict, '')",
        "1",
        "\nJOIN inspection ON inspection.id = corrective_action.opened_by_id",
        "",
    )
    for table in TABLES
]

# The columns whose change can move an action between rows.
ACTION_COLUMNS = "status, due_date, opened_day, campaign_id, stall_id, opened_by_id"


def _taken_away(row: str) -> str:
    return ";\n".join(
        statement for table in TABLES for statement in (_add(table, row, -1), _drop_empty(table, row))
    )


def _added(row: str) -> str:
    return ";\n".join(_add(table, row, 1) for table in TABLES)


def triggers(dialect: str) -> list[str]:
    """The statements that create the triggers."""
    if dialect == "postgresql":
        return [
            f"""
CREATE FUNCTION action_tally_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    {_taken_away("OLD")};
  END IF;
  IF TG_OP <> 'DELETE' THEN
    {_added("NEW")};
  END IF;
  RETURN NULL;
END $$""",
            f"""
CREATE TRIGGER action_tally_count
AFTER INSERT OR DELETE OR UPDATE OF {ACTION_COLUMNS} ON corrective_action
FOR EACH ROW EXECUTE FUNCTION action_tally_count()""",
            f"""
CREATE FUNCTION action_tally_verdict() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {MOVE_VERDICT};
  RETURN NULL;
END $$""",
            """
CREATE TRIGGER action_tally_verdict
AFTER UPDATE OF verdict ON inspection
FOR EACH ROW WHEN (OLD.verdict IS DISTINCT FROM NEW.verdict)
EXECUTE FUNCTION action_tally_verdict()""",
        ]
    return [
        f"""
CREATE TRIGGER action_tally_insert AFTER INSERT ON corrective_action
WHEN NEW.status = 'open'
BEGIN {_added("NEW")}; END""",
        f"""
CREATE TRIGGER action_tally_delete AFTER DELETE ON corrective_action
WHEN OLD.status = 'open'
BEGIN {_taken_away("OLD")}; END""",
        f"""
CREATE TRIGGER action_tally_update AFTER UPDATE OF {ACTION_COLUMNS} ON corrective_action
BEGIN {_taken_away("OLD")}; {_added("NEW")}; END""",
        f"""
CREATE TRIGGER action_tally_verdict AFTER UPDATE OF verdict ON inspection
WHEN OLD.verdict IS NOT NEW.verdict
BEGIN {MOVE_VERDICT}; END""",
    ]


COLUMN_TYPES = {
    "campaign_id": sa.Integer,
    "venue_id": sa.Integer,
    "region_id": sa.Integer,
    "opened_day": sa.Date,
    "craft": lambda: sa.String(length=32),
    "verdict": lambda: sa.String(length=20),
    "due_date": sa.Date,
}


def upgrade():
    for table, key in TABLES.items():
        op.create_table(
            table,
            *(sa.Column(name, COLUMN_TYPES[name](), nullable=False) for name in key),
            sa.Column("open_actions", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{table}")),
        )
    for statement in FILL:
        op.execute(statement)
    for statement in triggers(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER action_tally_verdict ON inspection")
        op.execute("DROP TRIGGER action_tally_count ON corrective_action")
        op.execute("DROP FUNCTION action_tally_verdict()")
        op.execute("DROP FUNCTION action_tally_count()")
    else:
        for name in ("verdict", "update", "delete", "insert"):
            op.execute(f"DROP TRIGGER action_tally_{name}")
    for table in TABLES:
        op.drop_table(table)
