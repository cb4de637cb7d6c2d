"""SQLAlchemy models: the places, the people, the inspections and what follows from them.

Times are stored as naive UTC (``utcnow``) so SQLite and PostgreSQL behave alike; the day an
inspection counts for is stored separately in Morocco's local time (``submitted_day``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from . import dates
from .extensions import db

ADMIN, COORDINATOR, INSPECTOR = "admin", "coordinator", "inspector"
ROLES = (ADMIN, COORDINATOR, INSPECTOR)
DRAFT, SUBMITTED = "draft", "submitted"
OPEN, CLOSED = "open", "closed"
PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
VENUE_KINDS = ("fan_zone", "medina_market", "fair", "stadium")
ARTISAN_CATEGORIES = ("artisan", "master", "cooperative", "enterprise")
PLANNED, RUNNING = "planned", "running"  # a campaign's states, with CLOSED
CAMPAIGN_STATES = (PLANNED, RUNNING, CLOSED)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_uuid() -> str:
    return str(uuid.uuid4())


class Localized:
    """Rows with ``name_ar``/``name_fr``/``name_en`` columns."""

    def name(self, locale: str) -> str:
        return getattr(self, f"name_{locale}", None) or self.name_fr  # type: ignore[attr-defined]


class Region(Localized, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # ISO 3166-2:MA, MA-01..MA-12
    name_ar: Mapped[str] = mapped_column(String(120))
    name_fr: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    seat: Mapped[str] = mapped_column(String(60))

    chamber: Mapped[Chamber] = relationship(back_populates="region", uselist=False)
    provinces: Mapped[list[Province]] = relationship(back_populates="region")


class Chamber(Localized, db.Model):
    """The regional Chamber of Handicrafts that follows up its region's stalls."""

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), unique=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))

    region: Mapped[Region] = relationship(back_populates="chamber")


class Province(Localized, db.Model):
    """A prefecture or province (``kind``); the reference data are in compliance/reference/."""

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # MA-RAB, MA-CAS, ...
    kind: Mapped[str] = mapped_column(String(12), default="province", server_default="province")
    name_ar: Mapped[str] = mapped_column(String(120))
    name_fr: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    region: Mapped[Region] = relationship(back_populates="provinces")
    venues: Mapped[list[Venue]] = relationship(back_populates="province")


class Venue(Localized, db.Model):
    """A sale space: a fan-zone craft village, a medina market, a fair."""

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("province.id"), index=True)
    # Short code shown on the venue's page and used in the register files (``RBT-FZ1``).
    code: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(60))
    name_ar: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))

    province: Mapped[Province] = relationship(back_populates="venues")
    stalls: Mapped[list[Stall]] = relationship(back_populates="venue")
    # The running campaign this venue takes part in, if any (at most one runs): loaded with
    # the stall by access.stall_or_404, so a submission finds its campaign without a query.
    running_campaign: Mapped[Campaign | None] = relationship(
        secondary="campaign_venue",
        primaryjoin="Venue.id == CampaignVenue.venue_id",
        secondaryjoin="and_(CampaignVenue.campaign_id == Campaign.id, Campaign.state == 'running')",
        viewonly=True,
        uselist=False,
    )


class Artisan(db.Model):
    """A registered artisan (National Register of Handicrafts), identified by the NIA."""

    # The artisans of one craft: the chamber pages filtered by craft (0023).
    __table_args__ = (Index("ix_artisan_craft", "craft", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    nia: Mapped[str] = mapped_column(String(32), unique=True)  # card number
    name_ar: Mapped[str] = mapped_column(String(200))
    name_latin: Mapped[str] = mapped_column(String(200))
    # Both names and the card number, folded (no accents, case or Arabic diacritics) for search.
    search_text: Mapped[str] = mapped_column(String(500), default="")
    craft: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(32))
    # Keys of the badge (public) and of the private slip. Only hashes are stored; bumping a
    # version revokes the previous code at once.
    badge_version: Mapped[int] = mapped_column(Integer, default=1)
    badge_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    private_version: Mapped[int] = mapped_column(Integer, default=1)
    private_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    stalls: Mapped[list[Stall]] = relationship(back_populates="artisan")


class Stall(db.Model):
    __table_args__ = (
        # Covering: a region's coverage counts its open stalls per venue from the index alone.
        Index(
            "ix_stall_coverage",
            "venue_id",
            "current_campaign_id",
            "current_day",
            "open_action_due",
            "followup_requested_at",
            "latest_inspection_id",
            "closed_at",  # always NULL here; SQLite then reads nothing from the table
            sqlite_where=db.text("closed_at IS NULL"),
            postgresql_where=db.text("closed_at IS NULL"),
        ),
        # A campaign's stalls worst first for each current verdict: the chamber's lists (0022).
        Index(
            "ix_stall_worst",
            "current_campaign_id",
            "current_verdict",
            db.text("current_critical DESC"),
            "current_score",
            "code",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # printed on the stand
    location: Mapped[str] = mapped_column(String(120), default="")  # in Latin letters (French)
    location_ar: Mapped[str] = mapped_column(String(120), default="", server_default="")
    # A closed stall leaves the inspectors' lists and the phones' offline copy; its
    # inspections and corrective actions stay.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    artisan_id: Mapped[int | None] = mapped_column(ForeignKey("artisan.id"), index=True)
    # Denormalised "current compliance": the latest submitted inspection. Kept without a
    # foreign key so stall and inspection don't reference each other in a cycle.
    latest_inspection_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # Set when the artisan reports a fix; puts the stall first on inspectors' lists.
    followup_requested_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The latest inspection's outcome, written with latest_inspection_id when an inspection is
    # submitted (compliance/inspections.py, values from compliance/chamber/tallies.py; filled by
    # migrations 0002 and 0008): the chambers' dashboards count current compliance from the
    # stall table alone. current_at, the latest's submission time, decides under the row lock
    # whether a newly submitted visit is later (see inspections._record).
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    current_verdict: Mapped[str | None] = mapped_column(String(20))
    current_score: Mapped[float | None] = mapped_column(Float)
    current_critical: Mapped[int | None] = mapped_column(Integer)
    current_day: Mapped[date | None] = mapped_column(Date)
    current_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The campaign of that latest inspection (migration 0009): a campaign's dashboards read the
    # columns above only for the stalls whose latest inspection is theirs.
    current_campaign_id: Mapped[int | None] = mapped_column(Integer)
    # The earliest fix date of the stall's open corrective actions (None: none open), kept by
    # triggers on corrective_action (migration 0018): "overdue" is a compare on this row.
    open_action_due: Mapped[date | None] = mapped_column(Date)

    venue: Mapped[Venue] = relationship(back_populates="stalls")
    artisan: Mapped[Artisan | None] = relationship(back_populates="stalls")
    latest_inspection: Mapped[Inspection | None] = relationship(
        primaryjoin="foreign(Stall.latest_inspection_id) == Inspection.id", viewonly=True
    )


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Part of every session and remember-me cookie of the account: bumping it ends them all
    # (see compliance/auth/accounts.py).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    region: Mapped[Region | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def get_id(self) -> str:
        """Flask-Login's id in the session and the remember-me cookie: account and version."""
        return f"{self.id}:{self.session_version or 0}"

    def end_sessions(self) -> None:
        """End every session and remember-me cookie of this account, on every device.

        Called at login (the new cookie differs from any copied before), at logout, with a
        new password (:meth:`set_password`) and by :meth:`deactivate`; call it too when the
        account's role or region changes. Takes effect when the session is committed.
        """
        self.session_version = (self.session_version or 0) + 1

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def deactivate(self) -> None:
        self.active = False
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class ChecklistVersion(db.Model):
    """An immutable, loaded version of a checklist file."""

    __table_args__ = (
        UniqueConstraint("key", "version"),
        UniqueConstraint("key", "content_hash"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Campaign(Localized, db.Model):
    """An event the chambers follow up (AFCON 2025, a regional fair, a year-round round).

    Every inspection belongs to one. Its days are what its dashboards are drawn against; the
    days of two campaigns never overlap (compliance/campaigns.py). ``state`` moves
    planned -> running -> closed: inspections, contests and fix reports are taken only while
    it runs; once closed its figures and photos stay readable and nothing changes them.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # afcon-2025, in URLs
    name_ar: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_version.id"))
    state: Mapped[str] = mapped_column(String(10), default=PLANNED)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    checklist_version: Mapped[ChecklistVersion] = relationship()

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def closed(self) -> bool:
        return self.state == CLOSED


class CampaignVenue(db.Model):
    """A venue taking part in a campaign (added by its region's coordinator or an admin)."""

    __tablename__ = "campaign_venue"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class RoundAssignment(db.Model):
    """An inspector sent to a venue on one day of a campaign: a round (compliance/rounds.py).

    ``code_from``/``code_to`` narrow it to a range of the venue's stall codes, compared in
    their natural order (``A2`` before ``A10``); empty means no bound. One assignment per
    inspector, venue and day: assigning again changes its range.
    """

    __tablename__ = "round_assignment"
    __table_args__ = (
        # Its index serves "the plan of venue V for days D1..D7" too.
        UniqueConstraint("venue_id", "day", "inspector_id"),
        Index("ix_round_assignment_inspector_day", "inspector_id", "day"),  # today's round
        Index("ix_round_assignment_campaign_day", "campaign_id", "day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"))
    day: Mapped[date] = mapped_column(Date)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    code_from: Mapped[str] = mapped_column(String(32), default="", server_default="")
    code_to: Mapped[str] = mapped_column(String(32), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    campaign: Mapped[Campaign] = relationship()
    venue: Mapped[Venue] = relationship()
    inspector: Mapped[User] = relationship(foreign_keys=[inspector_id])


class Inspection(db.Model):
    """One visit of a stall. The id is a UUID made by the client, so a retry never duplicates."""

    __table_args__ = (
        Index("ix_inspection_stall_submitted", "stall_id", "submitted_at"),
        # Covering indexes for the chambers' dashboards with a date range
        # (compliance/chamber/figures.py): each stall's inspections by day, and their outcome.
        Index(
            "ix_inspection_current",
            "id",
            "checklist_version_id",
            "verdict",
            "score",
            "submitted_day",
        ),
        Index("ix_inspection_stall_day", "stall_id", "status", "submitted_day", "verdict", "score"),
        # A stall's inspections within one campaign (figures of a campaign that is not the
        # latest of its stalls).
        Index("ix_inspection_campaign_stall", "campaign_id", "stall_id", "submitted_day"),
        # A campaign's results worst first per verdict, with their day and stall: the lists of
        # stalls within a date range walk it (0021).
        Index(
            "ix_inspection_worst",
            "campaign_id",
            "status",
            "verdict",
            db.text("critical_failures DESC"),
            "score",
            "submitted_day",
            "stall_id",
        ),
        # A stall's latest inspection of a campaign within dates, with its outcome (0012).
        Index(
            "ix_inspection_campaign_latest",
            "campaign_id",
            "stall_id",
            "status",
            "submitted_day",
            "submitted_at",
            "id",
            "checklist_version_id",
            "verdict",
            "score",
            "critical_failures",
        ),
        # Each inspector's visits in a campaign (the rounds' coverage per inspector).
        Index(
            "ix_inspection_campaign_inspector",
            "campaign_id",
            "inspector_id",
            "status",
            "stall_id",
            "submitted_day",
        ),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    stall_id: Mapped[int] = mapped_column(ForeignKey("stall.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_version.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    status: Mapped[str] = mapped_column(String(12), default=DRAFT)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_day: Mapped[date | None] = mapped_column(Date, index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str | None] = mapped_column(String(20))
    critical_failures: Mapped[int] = mapped_column(Integer, default=0)
    # SHA-256 of the submitted answers: the same id sent again with other answers is refused.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    # Offline submissions: submitted_at is when the inspector pressed Submit on the phone,
    # received_at when the server accepted it. The photos the phone declared, as
    # [item_key, sha256] pairs, may arrive after the answers; photos_pending counts those
    # not stored yet (0: the inspection is complete). See compliance/inspections.py.
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    declared_photos: Mapped[list[list[str]] | None] = mapped_column(JSON)
    photos_pending: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    stall: Mapped[Stall] = relationship(foreign_keys=[stall_id])
    inspector: Mapped[User] = relationship()
    checklist_version: Mapped[ChecklistVersion] = relationship()
    campaign: Mapped[Campaign] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan"
    )
    photos: Mapped[list[Photo]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", order_by="Photo.id"
    )


class Answer(db.Model):
    __table_args__ = (UniqueConstraint("inspection_id", "item_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(4))  # pass / fail / na
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="answers")


# Fails and N/As only (about a tenth of the answers): the dashboards count passes as the rest.
Index(
    "ix_answer_not_passed",
    Answer.inspection_id,
    Answer.item_key,
    Answer.result,
    sqlite_where=Answer.result != "pass",
    postgresql_where=Answer.result != "pass",
)


class Photo(db.Model):
    """A photo attached to an item of an inspection; the bytes live in storage by SHA-256."""

    __table_args__ = (UniqueConstraint("inspection_id", "item_key", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[str] = mapped_column(
        ForeignKey("inspection.id", ondelete="CASCADE"), index=True
    )
    item_key: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    source_format: Mapped[str] = mapped_column(String(8))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime)
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="photos")


class CorrectiveAction(db.Model):
    """A failed item that the stall has to fix by ``due_date``.

    Opened by a stall's latest visit for each failed item (one open action per item), closed
    by a later visit passing the item, by an accepted contest or by a coordinator: so an open
    action's item is always failed or N/A in the stall's latest visit, which is what lets a
    submission look only at those items (compliance/inspections.py, ``_record``). Submissions
    and accepted contests change them under the stall's row lock (``inspections.lock_stall``).
    """

    __table_args__ = (
        Index("ix_corrective_action_stall_status", "stall_id", "status"),
        Index("ix_corrective_action_status_due", "status", "due_date"),
        # Open (and overdue) actions per stall for the chambers' dashboards, from the index.
        Index("ix_corrective_action_open_stall", "status", "stall_id", "due_date"),
        # A campaign's open actions per stall, also within a date range (migration 0011).
        Index(
            "ix_corrective_action_campaign_open",
            "campaign_id",
            "status",
            "stall_id",
            "due_date",
            "opened_day",
        ),
        # One craft's open actions in due-date order: the lists filtered by craft (0017).
        Index("ix_corrective_action_craft_due", "craft", "status", "due_date", "opened_day"),
        # The actions closed lately, latest first: the chamber's list of them (0020).
        Index("ix_corrective_action_closed", "status", "closed_at", "id"),
        # One open action per stall and item: a failure is opened with ON CONFLICT DO NOTHING.
        Index(
            "uq_corrective_action_open_item",
            "stall_id",
            "item_key",
            unique=True,
            sqlite_where=db.text("status = 'open'"),
            postgresql_where=db.text("status = 'open'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    stall_id: Mapped[int] = mapped_column(ForeignKey("stall.id"))
    item_key: Mapped[str] = mapped_column(String(64))
    opened_by_id: Mapped[str] = mapped_column(ForeignKey("inspection.id"), index=True)
    # The opening inspection's campaign and day, copied so the dashboards count a campaign's
    # actions (within a date range) without joining every one to its inspection.
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    opened_day: Mapped[date] = mapped_column(Date)
    # The craft of the stall's artisan (None without one), as the action tallies key it: kept
    # by the submission and tallies.count_stalls (migration 0017).
    craft: Mapped[str | None] = mapped_column(String(32))
    # The opening inspection's verdict, for a period's lists filtered by verdict: written with
    # the action, kept by a trigger if a contest rescores that inspection (migration 0020).
    opened_verdict: Mapped[str | None] = mapped_column(String(20))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default=OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspection.id"))
    closed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    close_reason: Mapped[str | None] = mapped_column(Text)
    fix_reported_at: Mapped[datetime | None] = mapped_column(DateTime)

    stall: Mapped[Stall] = relationship()
    opened_by: Mapped[Inspection] = relationship(foreign_keys=[opened_by_id])

    @property
    def overdue(self) -> bool:
        """Open and its due date before today in Morocco (the rule figures.py counts in SQL)."""
        return self.status == OPEN and self.due_date < dates.today()


class Contest(db.Model):
    """An artisan contesting a failed answer; a coordinator of the region decides."""

    # At most one pending contest per inspection and item: a retried form files nothing new.
    __table_args__ = (
        Index(
            "uq_contest_pending_item",
            "inspection_id",
            "item_key",
            unique=True,
            sqlite_where=db.text("status = 'pending'"),
            postgresql_where=db.text("status = 'pending'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspection.id"), index=True)
    item_key: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default=PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)

    inspection: Mapped[Inspection] = relationship()
    decided_by: Mapped[User | None] = relationship()


class FixReport(db.Model):
    """The artisan says a corrective action is done, with a photo."""

    # The same photo sent again for the same item is the same report (a retry).
    __table_args__ = (UniqueConstraint("corrective_action_id", "photo_sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    corrective_action_id: Mapped[int] = mapped_column(
        ForeignKey("corrective_action.id"), index=True
    )
    message: Mapped[str] = mapped_column(Text, default="")
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    corrective_action: Mapped[CorrectiveAction] = relationship()


class RegisterUpload(db.Model):
    """A register file between its preview and its confirmation (compliance/register.py).

    The file's bytes are kept here, not in the session cookie, so every app server sees them;
    they are dropped once the file is stored. ``state`` moves previewed -> committed once only:
    a second confirm (a double click) finds it committed and stores nothing.
    """

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes | None] = mapped_column(db.LargeBinary)
    state: Mapped[str] = mapped_column(String(12), default="uploaded")
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    committed_at: Mapped[datetime | None] = mapped_column(DateTime)

    region: Mapped[Region | None] = relationship()


class Invitation(db.Model):
    """A one-time link where a new account's owner sets a password (compliance/accounts.py).

    Only the SHA-256 of the token is stored: the link is shown once, to whoever invited.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AuditEvent(db.Model):
    """Who changed what, when, with the state before and after."""

    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor: Mapped[str] = mapped_column(String(100))  # "user:7", "artisan:12", "cli"
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def audit(
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_id: int | None = None,
) -> AuditEvent:
    """Add an audit event to the current session (committed with the change it records)."""
    event = AuditEvent(
        actor=actor,
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=before,
        after=after,
    )
    db.session.add(event)
    return event
