"""the register: venue codes, closed stalls, Arabic stall locations, uploaded register files

Revision ID: 0006
Revises: 0005
"""

import re
import unicodedata

from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The same abbreviations as compliance/venues.py (a migration keeps its own copy: the code
# may change later, the data this migration wrote may not).
CITIES = {
    "rabat": "RBT", "sale": "SLE", "casablanca": "CAS", "marrakech": "MRK", "tanger": "TNG",
    "tangier": "TNG", "fes": "FES", "fez": "FES", "agadir": "AGA", "meknes": "MKN",
    "oujda": "OUJ", "kenitra": "KNT", "tetouan": "TTN", "el jadida": "JDD", "safi": "SAF",
    "essaouira": "ESS", "laayoune": "LAA", "dakhla": "DKH", "ouarzazate": "OZT",
}  # fmt: skip
KINDS = {"fan_zone": "FZ", "medina_market": "MM", "fair": "FR", "stadium": "ST"}


def _city_code(city):
    folded = unicodedata.normalize("NFKD", city or "").encode("ascii", "ignore").decode()
    folded = folded.lower().strip()
    if folded in CITIES:
        return CITIES[folded]
    letters = re.sub(r"[^A-Z]", "", folded.upper())
    return (letters[:3] or "VEN").ljust(3, "X")


def upgrade():
    with op.batch_alter_table("venue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=20), nullable=True))

    # Existing venues get a code from their city and kind, numbered in id order.
    conn = op.get_bind()
    venue = sa.table(
        "venue", sa.column("id"), sa.column("city"), sa.column("kind"), sa.column("code")
    )
    taken = set()
    for row in conn.execute(sa.select(venue.c.id, venue.c.city, venue.c.kind).order_by(venue.c.id)):
        stem = f"{_city_code(row.city)}-{KINDS.get(row.kind, 'XX')}"
        n = 1
        while f"{stem}{n}" in taken:
            n += 1
        taken.add(f"{stem}{n}")
        conn.execute(venue.update().where(venue.c.id == row.id).values(code=f"{stem}{n}"))

    with op.batch_alter_table("venue", schema=None) as batch_op:
        batch_op.alter_column("code", existing_type=sa.String(length=20), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_venue_code"), ["code"])

    with op.batch_alter_table("stall", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("location_ar", sa.String(length=120), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))

    op.create_table(
        "register_upload",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("committed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_register_upload_user_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_register_upload_region_id_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_upload")),
    )
    op.create_index(
        op.f("ix_register_upload_user_id"), "register_upload", ["user_id"], unique=False
    )

    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_invitation_user_id_user")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_invitation_created_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitation_token_hash")),
    )
    op.create_index(op.f("ix_invitation_user_id"), "invitation", ["user_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_invitation_user_id"), table_name="invitation")
    op.drop_table("invitation")
    op.drop_index(op.f("ix_register_upload_user_id"), table_name="register_upload")
    op.drop_table("register_upload")
    with op.batch_alter_table("stall", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
        batch_op.drop_column("location_ar")
    with op.batch_alter_table("venue", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_venue_code"), type_="unique")
        batch_op.drop_column("code")
