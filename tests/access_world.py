"""The objects and principals of the door tests (no tests here): two regions, each with a
stall and its artisan, a failed inspection with a photo, a corrective action, a contest and a
fix report with photos, the issued badge and slip; an inspector and a coordinator per region,
an admin, and each region's artisan. ``url_args`` fills any route's URL with one region's
objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from compliance import access, jobs
from compliance.artisan import contests, credentials
from compliance.chamber import exports, figures
from compliance.extensions import db
from compliance.models import CorrectiveAction, Photo, RegisterUpload
from compliance.photos import process

from . import factories, imagefactory
from .test_artisan_helpers import inspect, secret, storage, tiny_checklist

REGIONS = ("MA-04", "MA-07")
# URL parts that name no object, so carry no scope, and the value each gets.
FIXED_PARTS = {
    "rendition": "thumb",
    "item_key": "clean",
    "dataset": "stalls",
    "fmt": "csv",
    "token": "no-such-invitation",  # public: any token gets its page (410 when unknown)
}
# URL parts that name an object of no region (every staff member of the route's roles sees it):
# filled from the objects, but not scoped.
NATIONAL_PARTS = {"campaign_id"}


@dataclass
class Principal:
    name: str
    kind: str  # anonymous, staff or artisan
    row: object = None
    role: str | None = None
    region: str | None = None  # None: national (admin)


def build() -> tuple[dict[str, dict[str, object]], list[Principal]]:
    """The objects by region code (URL argument name -> value), and the principals."""
    version = tiny_checklist()
    objects: dict[str, dict[str, object]] = {}
    principals = [Principal("anonymous", "anonymous"), Principal("admin", "staff", None, "admin")]
    principals[1].row = factories.user("admin")
    for code in REGIONS:
        region = factories.region(code)
        inspector = factories.user("inspector", region=region)
        coordinator = factories.user("coordinator", region=region)
        stall = factories.stall(region=region)
        inspection = inspect(
            stall,
            inspector,
            version,
            {"welcome": "pass", "prices": "fail", "clean": "fail"},
            photos={"clean": imagefactory.jpeg(320, 240)},
        )
        photo = db.session.scalar(select(Photo).where(Photo.inspection_id == inspection.id))
        prices = db.session.scalar(
            select(CorrectiveAction).where(
                CorrectiveAction.stall_id == stall.id, CorrectiveAction.item_key == "prices"
            )
        )
        filed = contests.file_contest(
            stall.artisan,
            inspection,
            "clean",
            "It was clean",
            process(imagefactory.jpeg(200, 100)),
            storage(),
        )
        reported = contests.report_fix(
            stall.artisan, prices, process(imagefactory.jpeg(210, 100)), storage(), "Done"
        )
        # A register file already stored (confirming it again only shows the result).
        upload = RegisterUpload(region_id=region.id, user_id=coordinator.id, filename="r.csv",
                                sha256="0" * 64, state="committed")  # fmt: skip
        db.session.add(upload)
        # A neighbour whose badge and slip were never issued: the print pages offer to.
        unissued = factories.stall(venue_row=stall.venue)
        badge = credentials.ensure_badge(stall.artisan, secret())
        slip = credentials.ensure_slip(stall.artisan, secret())
        db.session.commit()
        # A prepared export of the region, asked for by its coordinator (run below).
        export = jobs.enqueue(
            exports.run_job,
            "stalls",
            "csv",
            figures.Scope(region_id=region.id),
            figures.Filters(),
            figures.today(),
            "en",
            meta={
                "owner_id": coordinator.id,
                "region_id": region.id,
                "dataset": "stalls",
                "fmt": "csv",
                "download_name": "stalls.csv",
            },
        )
        objects[code] = {
            "job_id": export,
            "region_code": code,
            "province_id": stall.venue.province_id,
            "venue_id": stall.venue_id,
            "stall_id": stall.id,
            "inspection_id": inspection.id,
            "photo_id": photo.id,
            "sha256": photo.sha256,
            "action_id": prices.id,
            "contest_id": filed.contest.id,
            "report_id": reported.report.id,
            "badge_code": badge,
            "private_code": slip.private_code,
            "inspector_id": inspector.id,
            "unissued_stall_id": unissued.id,
            "account_id": inspector.id,
            "upload_id": upload.id,
            # The running campaign every venue takes part in (national: one for both regions).
            "campaign_id": inspection.campaign_id,
        }
        principals += [
            Principal(f"inspector {code}", "staff", inspector, "inspector", code),
            Principal(f"coordinator {code}", "staff", coordinator, "coordinator", code),
            Principal(f"artisan {code}", "artisan", stall.artisan, None, code),
        ]
    jobs.work(burst=True, simple=True)
    return objects, principals


def url_args(rule, objects: dict[str, object]) -> dict[str, object]:
    args = {}
    for name in rule.arguments:
        if name in FIXED_PARTS:
            args[name] = FIXED_PARTS[name]
        elif name == "code":
            args[name] = {
                "chamber.region": objects["region_code"],
                "artisan.badge": objects["badge_code"],
                "artisan.private_link": objects["private_code"],
            }[rule.endpoint]
        elif name == "filename":
            args[name] = "chamber.css" if rule.endpoint == "chamber.static" else "app.css"
        else:
            args[name] = objects[name]
    return args


def scoped(rule) -> bool:
    return any(
        name not in FIXED_PARTS and name not in NATIONAL_PARTS and name != "filename"
        for name in rule.arguments
    )


def client_of(app, principal: Principal):
    client = app.test_client()
    with client.session_transaction() as session:
        if principal.kind == "staff":
            session["_user_id"] = principal.row.get_id()  # id and session version
            session["_fresh"] = True
        elif principal.kind == "artisan":
            session[access.ARTISAN_SESSION_ID] = principal.row.id
            session[access.ARTISAN_SESSION_VERSION] = principal.row.private_version
    return client
