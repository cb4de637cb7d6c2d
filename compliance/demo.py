"""Demo data for ``flask seed`` (run by ``make run``): a tournament that has already happened.

On the reference data (the 12 regions, their Chambers of Handicrafts and the prefectures and
provinces, loaded by ``flask db upgrade``; see compliance/reference), which it never creates: the
craft villages of the AFCON 2025 fan zones plus two medina souks and a regional fair, a few
hundred stalls with their artisans, demo accounts, and past inspections over the tournament
days, each submitted through :func:`compliance.inspections.submit` so that scores, verdicts,
corrective actions and each stall's current compliance come from the real rules.

Running it again adds only what is missing: every row is looked up by its natural key (region
and province codes, venue name, stall code, NIA, username) and every inspection has a UUID
derived from its stall and day. Every random choice comes from a ``random.Random`` seeded with
the stall code, so a stall gets the same artisan and the same visits whatever ``--stalls`` is.
The NIA numbers are made up: the real format of the card number is not published.
"""

from __future__ import annotations

import io
import random
import tomllib
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from PIL import Image, ImageDraw
from sqlalchemy import event, func, select
from werkzeug.security import generate_password_hash

from . import checklist_store, inspections, photos, scoring
from .artisan import contests, credentials
from .checklist import Checklist, load_file
from .extensions import db
from .models import (
    ADMIN,
    COORDINATOR,
    DRAFT,
    INSPECTOR,
    OPEN,
    SUBMITTED,
    Answer,
    Artisan,
    Campaign,
    CampaignVenue,
    ChecklistVersion,
    CorrectiveAction,
    Inspection,
    Photo,
    Province,
    Region,
    Stall,
    User,
    Venue,
    audit,
)
from .search import artisan_search_text
from .storage import Storage, photo_key, storage_from_config
from .venues import next_code

DEMO_PASSWORD = "soukcheck-demo"
SEED = "soukcheck-demo-2025"
# Inspection ids are uuid5(NAMESPACE, "<stall code>/<day>"): the same visit on every run.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://soukcheck.invalid/demo")
# The demo's campaign, its days and its checklist: data, not code.
CAMPAIGN_FILE = Path(__file__).parent / "demo_data" / "campaign.toml"

# -- places -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VenueSpec:
    """A demo venue; ``prefix`` starts the codes printed on its stands, ``weight`` its share."""

    prefix: str
    province: str
    kind: str
    city: str
    name_fr: str
    name_ar: str
    name_en: str
    weight: int
    crafts: tuple[str, ...]  # the crafts most seen there


def _fan_zone(prefix, province, city, place_fr, place_ar, weight, crafts) -> VenueSpec:
    return VenueSpec(
        prefix, province, "fan_zone", city,
        f"Village de l'artisanat — Fan zone {place_fr}",
        f"القرية الحرفية — منطقة المشجعين {place_ar}",
        f"Craft village — {place_fr} fan zone",
        weight, crafts,
    )  # fmt: skip


# Weights add up to 300 (the 9th Semaine Nationale de l'Artisanat had 300+ exhibitors); the
# Rabat fan zone had 25 stands. Other --stalls counts are shared out in the same proportions.
VENUES = (
    _fan_zone("RBT", "MA-RAB", "Rabat", "OLM Souissi", "OLM السويسي", 25,
              ("carpets", "jewellery", "clothing")),
    VenueSpec("SBT", "MA-RAB", "medina_market", "Rabat",
              "Souk Sebbat — médina de Rabat", "سوق السباط — المدينة العتيقة بالرباط",
              "Souk Sebbat — Rabat medina", 45, ("leather", "jewellery", "clothing")),
    _fan_zone("CAS", "MA-CAS", "Casablanca", "Espace Toro", "فضاء طورو", 30,
              ("clothing", "copper", "wood")),
    _fan_zone("ANF", "MA-CAS", "Casablanca", "Anfa Park", "أنفا بارك", 15,
              ("clothing", "jewellery")),
    _fan_zone("TNG", "MA-TNG", "Tanger", "Villa Harris", "فيلا هاريس", 25,
              ("clothing", "basketry", "carpets")),
    _fan_zone("FES", "MA-FES", "Fès", "Jardin Botanique", "الحديقة النباتية", 25,
              ("pottery", "leather", "copper", "zellige")),
    _fan_zone("MRK", "MA-MAR", "Marrakech", "Bab Doukkala", "باب دكالة", 40,
              ("leather", "carpets", "wood")),
    VenueSpec("SMR", "MA-MAR", "medina_market", "Marrakech",
              "Souk Semmarine — médina de Marrakech", "سوق السمارين — المدينة العتيقة بمراكش",
              "Souk Semmarine — Marrakesh medina", 40, ("leather", "carpets", "copper")),
    VenueSpec("FMS", "MA-MAR", "fair", "Marrakech",
              "Salon régional de l'artisanat Marrakech-Safi",
              "المعرض الجهوي للصناعة التقليدية لجهة مراكش - آسفي",
              "Marrakesh-Safi regional craft fair", 30, ("pottery", "carpets", "saddlery")),
    _fan_zone("AGD", "MA-AGD", "Agadir", "Marina", "مارينا أكادير", 25,
              ("jewellery", "carpets", "wood")),
)  # fmt: skip

# -- people -----------------------------------------------------------------------------------

FIRST_NAMES = (
    ("Fatima Zahra", "فاطمة الزهراء"), ("Mohamed", "محمد"), ("Khadija", "خديجة"),
    ("Youssef", "يوسف"), ("Aicha", "عائشة"), ("Hassan", "حسن"), ("Naima", "نعيمة"),
    ("Abdelkrim", "عبد الكريم"), ("Said", "سعيد"), ("Meryem", "مريم"), ("Rachid", "رشيد"),
    ("Latifa", "لطيفة"), ("Omar", "عمر"), ("Hanane", "حنان"), ("Abdellah", "عبد الله"),
    ("Zineb", "زينب"), ("Mustapha", "مصطفى"), ("Saida", "سعيدة"), ("Brahim", "إبراهيم"),
    ("Malika", "مليكة"), ("Ahmed", "أحمد"), ("Samira", "سميرة"), ("Driss", "إدريس"),
    ("Houda", "هدى"), ("Lahcen", "لحسن"), ("Itto", "إيطو"), ("Mbarek", "امبارك"),
    ("Rkia", "رقية"), ("Hamid", "حميد"), ("Souad", "سعاد"), ("Abderrahim", "عبد الرحيم"),
    ("Nadia", "نادية"), ("Karim", "كريم"), ("Salma", "سلمى"), ("Jamal", "جمال"),
    ("Btissam", "ابتسام"),
)  # fmt: skip
FAMILY_NAMES = (
    ("El Amrani", "العمراني"), ("Bennani", "بناني"), ("Alaoui", "العلوي"),
    ("Berrada", "برادة"), ("Tazi", "التازي"), ("Chraibi", "الشرايبي"),
    ("Ouazzani", "الوزاني"), ("El Idrissi", "الإدريسي"), ("Benjelloun", "بنجلون"),
    ("Lahlou", "لحلو"), ("Fassi-Fihri", "الفاسي الفهري"), ("Tahiri", "الطاهري"),
    ("Zerouali", "الزروالي"), ("Ait Ben Haddou", "آيت بن حدو"), ("Bouzidi", "البوزيدي"),
    ("Sqalli", "الصقلي"), ("Kettani", "الكتاني"), ("Benkirane", "بنكيران"),
    ("Boutaleb", "بوطالب"), ("Naciri", "الناصري"), ("Jebli", "الجبلي"),
    ("El Mansouri", "المنصوري"), ("Bakkali", "البقالي"), ("Filali", "الفيلالي"),
    ("Slaoui", "السلاوي"), ("Guessous", "كسوس"), ("Benslimane", "بنسليمان"),
    ("Amzil", "أمزيل"), ("Soussi", "السوسي"), ("Ait Lahcen", "آيت لحسن"),
)  # fmt: skip
COOPERATIVES = (
    ("Tifaout", "تيفاوت"), ("Tafoukt", "تافوكت"), ("Al Amal", "الأمل"),
    ("Al Baraka", "البركة"), ("Annour", "النور"), ("Tiguemmi", "تيكمي"),
    ("Al Wahda", "الوحدة"), ("Annahda", "النهضة"), ("Atlas", "الأطلس"), ("Tamount", "تامونت"),
    ("Assafaa", "الصفاء"), ("Tilelli", "تيليلي"),
)  # fmt: skip
# How a cooperative or an enterprise names its trade (French, Arabic).
CRAFT_TRADES = {
    "carpets": ("du tapis", "للزرابي"),
    "pottery": ("de la poterie", "للفخار"),
    "leather": ("du cuir", "للجلد"),
    "wood": ("du bois", "للخشب"),
    "copper": ("du cuivre", "للنحاس"),
    "jewellery": ("de la bijouterie", "للحلي"),
    "clothing": ("de la couture traditionnelle", "للخياطة التقليدية"),
    "zellige": ("du zellige", "للزليج"),
    "saddlery": ("de la sellerie", "للسراجة"),
    "basketry": ("de la vannerie", "لصناعة السلال"),
}
CATEGORY_WEIGHTS = {"artisan": 70, "master": 12, "cooperative": 12, "enterprise": 6}


@dataclass(frozen=True)
class Account:
    username: str
    name: str
    role: str
    region: str | None
    language: str


ACCOUNTS = (
    Account("admin", "Karima Bensouda", ADMIN, None, "fr"),
    Account("coord.rabat", "Hicham Alami", COORDINATOR, "MA-04", "fr"),
    Account("coord.marrakech", "لطيفة أيت الحاج", COORDINATOR, "MA-07", "ar"),
    Account("inspecteur.rabat", "Youssef Benali", INSPECTOR, "MA-04", "fr"),
    Account("mufattish.marrakech", "مراد الصنهاجي", INSPECTOR, "MA-07", "ar"),
    # The other regions with demo venues get an inspector too, so every stall can be visited.
    Account("inspecteur.casablanca", "Sanaa El Ghazi", INSPECTOR, "MA-06", "fr"),
    Account("inspecteur.tanger", "Anas Temsamani", INSPECTOR, "MA-01", "fr"),
    Account("inspecteur.fes", "Kenza Lamrani", INSPECTOR, "MA-03", "fr"),
    Account("inspecteur.agadir", "Brahim Ait Lahcen", INSPECTOR, "MA-09", "fr"),
)

# -- how stalls fare --------------------------------------------------------------------------

# Chance that an item fails at an average stall, by section: prices and electronic payment are
# what the State Secretary's circular had to insist on.
SECTION_FAIL_RATE = {"reception": 0.04, "prices": 0.10, "badge": 0.05, "cleanliness": 0.05,
                     "epayment": 0.12}  # fmt: skip
DEFAULT_FAIL_RATE = 0.06
QUALITY = {"good": 0.5, "average": 1.5, "poor": 3.0}  # multiplies the fail rate
QUALITY_WEIGHTS = {"good": 60, "average": 28, "poor": 12}
# Without a card terminal or a wallet, "it works" and "it is offered" fail too.
DEPENDS_ON = {"epay_works": "epay_available", "epay_offered": "epay_available"}

# What an inspector writes when an item fails, in the inspector's language.
FAIL_COMMENTS = {
    "greeting": ("Accueil froid, le vendeur est resté au téléphone.",
                 "استقبال بارد، البائع ظل منشغلا بالهاتف."),
    "visitor_info": ("Le vendeur ne sait pas dire d'où viennent les articles.",
                     "البائع لا يعرف مصدر المنتوجات."),
    "no_pressure": ("Racolage des passants dans l'allée.", "إلحاح على المارة في الممر."),
    "price_on_every_product": ("Plusieurs articles sans prix au fond du stand.",
                               "عدة منتوجات بدون سعر في عمق المحل."),
    "price_in_dirhams": ("Prix affichés en euros seulement.", "الأسعار معروضة باليورو فقط."),
    "price_label_placement": ("Étiquettes regroupées : on ne sait pas quel prix va avec quoi.",
                              "بطاقات الأسعار مجمعة ولا يعرف أي سعر لأي منتوج."),
    "price_in_arabic": ("Étiquettes en français et en anglais seulement.",
                        "البطاقات بالفرنسية والإنجليزية فقط."),
    "badge_worn": ("Un vendeur sans badge.", "بائع بدون شارة."),
    "badge_own_card": ("Le badge porté est celui d'un parent.", "الشارة تخص أحد الأقارب."),
    "badge_visible": ("Badge dans la poche.", "الشارة في الجيب."),
    "shop_clean": ("Cartons entassés dans le stand.", "صناديق الكرتون مكدسة داخل المحل."),
    "corridor_clear": ("Marchandise posée dans l'allée.", "سلع موضوعة في الممر."),
    "surroundings_clean": ("Sacs plastiques derrière le stand.", "أكياس بلاستيكية خلف المحل."),
    "epay_available": ("Ni TPE ni QR de paiement.", "لا جهاز أداء ولا رمز QR."),
    "epay_works": ("TPE déchargé.", "جهاز الأداء غير مشحون."),
    "epay_offered": ("Aucune affiche, le paiement par carte n'est pas proposé.",
                     "لا لافتة، ولا يُقترح الأداء بالبطاقة."),
}  # fmt: skip
# What an artisan writes when reporting a fix (in Arabic, as most do).
FIX_MESSAGES = {
    "price_on_every_product": "وضعت الأسعار على جميع المنتوجات.",
    "epay_available": "توصلت بجهاز الأداء من البنك، وهو يعمل الآن.",
    "badge_worn": "جميع البائعين يضعون الشارة الآن.",
    "badge_visible": "الشارة الآن ظاهرة للزبائن.",
    "price_in_dirhams": "غيرت البطاقات، الأسعار الآن بالدرهم.",
    "price_label_placement": "وضعت بطاقة السعر على كل منتوج.",
    "price_in_arabic": "أضفت بيانات السعر بالعربية على جميع البطاقات.",
    "epay_works": "شحنت جهاز الأداء وهو يعمل الآن.",
    "epay_offered": "علقت لافتة الأداء بالبطاقة.",
    "shop_clean": "نظفت المحل ورتبته.",
    "corridor_clear": "أزلت السلع من الممر.",
    "surroundings_clean": "نظفت محيط المحل.",
}
FIX_MESSAGE = "تم الإصلاح، المرجو المرور للتحقق."
FIXES_PER_REGION = 2
FIX_REGIONS = ("MA-04", "MA-07")  # the regions with a demo inspector


class Tally:
    """Rows created by this run and rows found already there, by kind."""

    def __init__(self) -> None:
        self.created: Counter[str] = Counter()
        self.existing: Counter[str] = Counter()

    def count(self, kind: str, created: bool) -> None:
        (self.created if created else self.existing)[kind] += 1


# -- entry point ------------------------------------------------------------------------------


def seed_demo(stalls: int = 300) -> str:
    """Add the demo data that is missing and return a one-paragraph summary of what was done."""
    tally = Tally()
    with _commits_without_waiting_for_disk():
        regions = _regions()
        provinces = _provinces()
        venues = _venues(provinces, tally)
        users = _accounts(regions, tally)
        spec = tomllib.loads(CAMPAIGN_FILE.read_text(encoding="utf-8"))
        version, loaded = _checklist_version(spec["checklist"])
        loaded_now = " loaded now" if loaded else ""
        checklist = f"checklist {version.key} v{version.version}{loaded_now}"
        campaign = _campaign(spec, version, [venue for _, venue in venues], tally)
        codes = _stalls(venues, max(stalls, 0), tally)
        inspectors = {u.region_id: u for u in users.values() if u.role == INSPECTOR}
        demo_photo = _demo_photo()
        storage = storage_from_config(current_app.config["UPLOAD_DIR"])
        _inspections(codes, inspectors, campaign, version, demo_photo, storage, tally)
        _fix_reports(regions, demo_photo, storage, tally)
        artisan_access = _demo_artisan_access()
        if tally.created:
            audit("cli", "demo.seed", "demo", "seed", after=dict(tally.created))
            db.session.commit()
    return f"{_summary(tally, checklist)} {artisan_access}"


def _demo_artisan_access() -> str:
    """The private slip of a Rabat fan-zone artisan with a failed item to contest or fix."""
    stall = db.session.scalar(
        select(Stall)
        .join(Answer, Answer.inspection_id == Stall.latest_inspection_id)
        .where(Stall.code.like("RBT-%"), Stall.artisan_id.is_not(None), Answer.result == "fail")
        .order_by(Stall.code)
        .limit(1)
    )
    if stall is None:
        return ""
    slip = credentials.ensure_slip(stall.artisan, current_app.config["SECRET_KEY"])
    db.session.commit()
    return (
        f"Demo artisan (stall {stall.code}, {stall.artisan.name_latin}): private link "
        f"/a/p/{slip.private_code} or, at /a/login, card {stall.artisan.nia} with PIN {slip.pin}."
    )


_DISK_SETTING = "soukcheck_demo_synchronous"


@contextmanager
def _commits_without_waiting_for_disk() -> Iterator[None]:
    """While seeding, let a commit return before the disk has confirmed it.

    Each inspection goes through the real submit(), which commits once; waiting for the disk
    every time made the seed four times slower on a slow disk. PostgreSQL's
    ``synchronous_commit = off`` may lose the last commits if the server crashes but never
    corrupts anything; SQLite's ``synchronous = OFF`` risks the file only on a power cut during
    the seed. Either way the seed can simply run again. The setting is made on each pooled
    connection the seed takes, and undone when the connection goes back to the pool.
    """
    engine = db.engine
    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        yield
        return

    def on_checkout(dbapi_connection, record, proxy) -> None:
        cursor = dbapi_connection.cursor()
        if dialect == "sqlite":
            cursor.execute("PRAGMA synchronous")
            record.info[_DISK_SETTING] = int(cursor.fetchone()[0])
            cursor.execute("PRAGMA synchronous = OFF")
        else:
            record.info[_DISK_SETTING] = True
            cursor.execute("SET synchronous_commit TO off")
        cursor.close()
        dbapi_connection.commit()

    def on_checkin(dbapi_connection, record) -> None:
        previous = record.info.pop(_DISK_SETTING, None)
        if dbapi_connection is None or previous is None:
            return
        cursor = dbapi_connection.cursor()
        if dialect == "sqlite":
            cursor.execute(f"PRAGMA synchronous = {previous}")
        else:
            cursor.execute("RESET synchronous_commit")
        cursor.close()
        dbapi_connection.commit()

    db.session.commit()  # hand back a connection taken before, so the next one gets the setting
    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)
    try:
        yield
    finally:
        db.session.rollback()  # hands the connection back (nothing is pending after a success)
        event.remove(engine, "checkout", on_checkout)
        event.remove(engine, "checkin", on_checkin)


class MissingReferenceData(Exception):
    """The regions and provinces are not loaded: the seed builds on them, never makes them."""


def _regions() -> dict[str, Region]:
    """The 12 regions of the reference data (compliance/reference), by code."""
    found = {r.code: r for r in db.session.scalars(select(Region))}
    if len(found) < 12 or any(region.chamber is None for region in found.values()):
        raise MissingReferenceData(
            "The regions and chambers are missing: run `flask db upgrade` "
            "(or `flask reference load`) before `flask seed`."
        )
    return found


def _provinces() -> dict[str, Province]:
    """The prefectures and provinces of the reference data, by code."""
    found = {p.code: p for p in db.session.scalars(select(Province))}
    missing = sorted({spec.province for spec in VENUES} - set(found))
    if missing:
        raise MissingReferenceData(
            f"Prefectures {', '.join(missing)} are missing: run `flask reference load`."
        )
    return found


def _venues(provinces: dict[str, Province], tally: Tally) -> list[tuple[VenueSpec, Venue]]:
    names = [spec.name_fr for spec in VENUES]
    existing = {
        v.name_fr: v for v in db.session.scalars(select(Venue).where(Venue.name_fr.in_(names)))
    }
    found = []
    for spec in VENUES:
        venue = existing.get(spec.name_fr)
        tally.count("venue", venue is None)
        if venue is None:
            venue = Venue(
                province=provinces[spec.province], kind=spec.kind, city=spec.city,
                code=next_code(db.session, spec.city, spec.kind),
                name_fr=spec.name_fr, name_ar=spec.name_ar, name_en=spec.name_en,
            )  # fmt: skip
            db.session.add(venue)
        found.append((spec, venue))
    db.session.commit()
    return found


def _accounts(regions: dict[str, Region], tally: Tally) -> dict[str, User]:
    usernames = [a.username for a in ACCOUNTS]
    users = {
        u.username: u for u in db.session.scalars(select(User).where(User.username.in_(usernames)))
    }
    password_hash = None
    for account in ACCOUNTS:
        tally.count("account", account.username not in users)
        if account.username in users:
            continue
        # One hash for all: the password is the same and hashing is slow on purpose.
        password_hash = password_hash or generate_password_hash(DEMO_PASSWORD)
        user = User(
            username=account.username, name=account.name, role=account.role,
            region=regions[account.region] if account.region else None,
            language=account.language, password_hash=password_hash,
        )  # fmt: skip
        db.session.add(user)
        users[account.username] = user
    db.session.commit()
    return users


def _campaign(spec: dict, version: ChecklistVersion, venues: list[Venue], tally: Tally) -> Campaign:
    """The demo's campaign as the file describes it, with every demo venue taking part."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.code == spec["code"]))
    tally.count("campaign", campaign is None)
    if campaign is None:
        campaign = Campaign(
            code=spec["code"],
            name_ar=spec["name"]["ar"],
            name_fr=spec["name"]["fr"],
            name_en=spec["name"]["en"],
            first_day=spec["first_day"],
            last_day=spec["last_day"],
            checklist_version_id=version.id,
            state=spec["state"],
        )
        db.session.add(campaign)
        db.session.flush()
    taking_part = set(
        db.session.scalars(
            select(CampaignVenue.venue_id).where(CampaignVenue.campaign_id == campaign.id)
        )
    )
    for venue in venues:
        if venue.id not in taking_part:
            db.session.add(CampaignVenue(campaign_id=campaign.id, venue_id=venue.id))
    db.session.commit()
    return campaign


def _checklist_version(key: str) -> tuple[ChecklistVersion, bool]:
    """The demo campaign's checklist; loaded from CHECKLIST_DIR if none is stored yet."""
    version = checklist_store.current(key)
    if version is not None:
        return version, False
    path = Path(current_app.config["CHECKLIST_DIR"]) / f"{key}.toml"
    version, _ = checklist_store.store(load_file(path))
    return version, True


# -- stalls and artisans ----------------------------------------------------------------------


def _allocate(total: int, weights: list[int]) -> list[int]:
    """Share ``total`` out in proportion to ``weights`` (largest remainder, ties to the first)."""
    whole = sum(weights)
    counts = [total * w // whole for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _location(number: int) -> str:
    """Where a stand is, e.g. "Allée B, n° 4": ten stands to an aisle (unique in a venue)."""
    aisle = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(number - 1) // 10 % 26]
    return f"Allée {aisle}, n° {(number - 1) % 10 + 1 + (number - 1) // 260 * 10}"


def _stalls(venues: list[tuple[VenueSpec, Venue]], total: int, tally: Tally) -> list[str]:
    """Add the missing stalls (each with its artisan); returns the codes of all demo stalls."""
    counts = _allocate(total, [spec.weight for spec, _ in venues])
    plans = [
        (spec, venue, f"{spec.prefix}-{n:03d}", n)
        for (spec, venue), count in zip(venues, counts, strict=True)
        for n in range(1, count + 1)
    ]
    codes = [code for _, _, code, _ in plans]
    existing = {}
    for chunk in _chunks(codes):
        found = db.session.scalars(select(Stall).where(Stall.code.in_(chunk)))
        existing.update({stall.code: stall for stall in found})
    for spec, venue, code, number in plans:
        tally.count("stall", code not in existing)
        if code in existing:
            tally.count("artisan", False)
            continue
        artisan = _artisan(spec, venue, code, tally)
        db.session.add(Stall(venue=venue, code=code, location=_location(number), artisan=artisan))
        if len(db.session.new) >= 400:
            db.session.commit()
    db.session.commit()
    return codes


def _artisan(spec: VenueSpec, venue: Venue, code: str, tally: Tally) -> Artisan:
    rng = random.Random(f"{SEED}:{code}:artisan")
    region_number = venue.province.region.code[3:]
    nia = f"NIA-{region_number}{rng.randrange(10**8):08d}"
    found = db.session.scalar(select(Artisan).where(Artisan.nia == nia))
    tally.count("artisan", found is None)
    if found is not None:
        return found
    crafts = list(CRAFT_TRADES)
    craft = rng.choices(crafts, weights=[4 if c in spec.crafts else 1 for c in crafts])[0]
    category = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
    family_latin, family_ar = rng.choice(FAMILY_NAMES)
    trade_fr, trade_ar = CRAFT_TRADES[craft]
    if category == "cooperative":
        coop_latin, coop_ar = rng.choice(COOPERATIVES)
        name_latin, name_ar = f"Coopérative {coop_latin}", f"تعاونية {coop_ar}"
    elif category == "enterprise":
        name_latin = f"Maison {family_latin} — art {trade_fr}"
        name_ar = f"دار {family_ar} {trade_ar}"
    else:
        first_latin, first_ar = rng.choice(FIRST_NAMES)
        name_latin, name_ar = f"{first_latin} {family_latin}", f"{first_ar} {family_ar}"
    artisan = Artisan(
        nia=nia, name_ar=name_ar, name_latin=name_latin, craft=craft, category=category,
        search_text=artisan_search_text(name_ar, name_latin, nia),
    )  # fmt: skip
    db.session.add(artisan)
    return artisan


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- inspections ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    id: str
    day: date
    at: datetime  # naive UTC, as stored


def _visits(code: str, rng: random.Random, first_day: date, last_day: date) -> list[Visit]:
    """The days an inspector came to this stall (none for about one stall in five)."""
    if rng.random() >= 0.8:
        return []
    count = rng.choices((1, 2, 3), weights=(35, 45, 20))[0]
    days = sorted(rng.sample(range((last_day - first_day).days + 1), count))
    visits = []
    for offset in days:
        day = first_day + timedelta(days=offset)
        local = datetime.combine(day, time(9), tzinfo=inspections.MOROCCO)
        local += timedelta(minutes=rng.randrange(10 * 60))  # 9:00 to 19:00, Morocco time
        at = local.astimezone(UTC).replace(tzinfo=None)
        visits.append(Visit(str(uuid.uuid5(NAMESPACE, f"{code}/{day.isoformat()}")), day, at))
    return visits


def _answers(
    checklist: Checklist,
    rng: random.Random,
    profile: dict,
    visit_number: int,
    failed_before: set[str],
    language: str,
) -> dict[str, tuple[str, str]]:
    """Answers for one visit: most items pass; a stall that improves fixes what failed before."""
    answers: dict[str, tuple[str, str]] = {}
    for item in checklist.items():
        rate = SECTION_FAIL_RATE.get(item.section, DEFAULT_FAIL_RATE) * profile["quality"]
        if item.critical:
            rate *= 0.6
        if profile["improves"]:
            rate *= 0.5**visit_number
        if item.key in failed_before:
            rate = 0.25 if profile["improves"] else 0.6
        draw = rng.random()  # drawn for every item so one answer never shifts the others
        parent = DEPENDS_ON.get(item.key)
        if item.na_allowed and profile["no_aisle"]:
            result = scoring.NA
        elif parent in answers and answers[parent][0] == scoring.FAIL:
            result = scoring.FAIL
        else:
            result = scoring.FAIL if draw < min(rate, 0.9) else scoring.PASS
        comment = ""
        if result == scoring.FAIL and item.key in FAIL_COMMENTS:
            comment = FAIL_COMMENTS[item.key][1 if language == "ar" else 0]
        answers[item.key] = (result, comment)
    return answers


@dataclass(frozen=True)
class StallInfo:
    """What the visits need of a stall, read once: every submit commits and expires rows."""

    id: int
    code: str
    kind: str
    region_id: int


def _stall_infos(codes: list[str]) -> list[StallInfo]:
    infos = []
    for chunk in _chunks(codes):
        rows = db.session.execute(
            select(Stall.id, Stall.code, Venue.kind, Province.region_id)
            .join(Venue, Stall.venue_id == Venue.id)
            .join(Province, Venue.province_id == Province.id)
            .where(Stall.code.in_(chunk))
        )
        infos += [StallInfo(*row) for row in rows]
    return sorted(infos, key=lambda info: info.code)


def _inspections(
    codes: list[str],
    inspectors: dict[int, User],
    campaign: Campaign,
    version: ChecklistVersion,
    demo_photo: photos.ProcessedPhoto,
    storage: Storage,
    tally: Tally,
) -> None:
    # The one demo photo's bytes, stored once (content-addressed) and shared by every row.
    storage.put(photo_key(demo_photo.sha256, "display"), demo_photo.display)
    storage.put(photo_key(demo_photo.sha256, "thumb"), demo_photo.thumbnail)
    checklist = checklist_store.definition(version)
    languages = {region_id: user.language or "fr" for region_id, user in inspectors.items()}
    plans = []
    for stall in _stall_infos(codes):
        rng = random.Random(f"{SEED}:{stall.code}:visits")
        plans.append((stall, rng, _visits(stall.code, rng, campaign.first_day, campaign.last_day)))
    ids = [visit.id for _, _, visits in plans for visit in visits]
    status: dict[str, str] = {}
    for chunk in _chunks(ids):
        rows = db.session.execute(
            select(Inspection.id, Inspection.status).where(Inspection.id.in_(chunk))
        )
        status.update({inspection_id: state for inspection_id, state in rows})

    for stall, rng, visits in plans:
        inspector = inspectors.get(stall.region_id)
        if inspector is None or not visits:
            continue
        quality = rng.choices(list(QUALITY_WEIGHTS), weights=list(QUALITY_WEIGHTS.values()))[0]
        profile = {
            "quality": QUALITY[quality],
            "improves": rng.random() < 0.7,
            "no_aisle": rng.random() < (0.3 if stall.kind == "medina_market" else 0.05),
        }
        failed_before: set[str] = set()
        for number, visit in enumerate(visits):
            answers = _answers(
                checklist, rng, profile, number, failed_before, languages[stall.region_id]
            )
            failed_before = {k for k, (result, _) in answers.items() if result == scoring.FAIL}
            state = status.get(visit.id)
            tally.count("inspection", state != SUBMITTED)
            if state == SUBMITTED:
                continue
            inspection = db.session.get(Inspection, visit.id) if state == DRAFT else None
            if inspection is None:
                started = visit.at - timedelta(minutes=rng.randrange(2, 6))
                inspection = Inspection(
                    id=visit.id, stall_id=stall.id, inspector_id=inspector.id,
                    campaign=campaign, checklist_version=version, status=DRAFT,
                    started_at=started,
                    updated_at=started,
                )  # fmt: skip
                db.session.add(inspection)
            _fill_draft(inspection, checklist, answers, demo_photo, visit.at)
            inspections.submit(inspection, actor=inspector, now=visit.at)


def _fill_draft(
    inspection: Inspection,
    checklist: Checklist,
    answers: dict[str, tuple[str, str]],
    demo_photo: photos.ProcessedPhoto,
    at: datetime,
) -> None:
    """Put the answers and the required photos on a draft, as the inspection screen would.

    Rows are added directly: save_answer and attach_photo commit once per call, which made the
    demo three times slower. submit() then runs the real rules on them.
    """
    have = {answer.item_key for answer in inspection.answers}
    for key, (result, comment) in answers.items():
        if key not in have:
            inspection.answers.append(
                Answer(item_key=key, result=result, comment=comment, updated_at=at)
            )
    given = {key: result for key, (result, _) in answers.items()}
    for missing in scoring.missing(checklist, given, inspections.photo_counts(inspection)):
        if missing.reason == scoring.PHOTO_REQUIRED:
            inspection.photos.append(
                Photo(
                    item_key=missing.item_key,
                    sha256=demo_photo.sha256,
                    source_format=demo_photo.source_format,
                    size_bytes=demo_photo.size_bytes,
                    width=demo_photo.width,
                    height=demo_photo.height,
                    taken_at=at,
                    created_at=at,
                )
            )


def _demo_photo() -> photos.ProcessedPhoto:
    """A small real JPEG (a stand under an awning): one photo, stored once, shared by all."""
    image = Image.new("RGB", (320, 240), (236, 222, 196))
    draw = ImageDraw.Draw(image)
    for i in range(8):  # awning stripes
        draw.rectangle((i * 40, 0, i * 40 + 19, 50), fill=(178, 34, 52))
    draw.rectangle((30, 120, 290, 220), fill=(139, 94, 60))  # counter
    for i, colour in enumerate(((0, 98, 51), (193, 39, 45), (230, 180, 40), (40, 70, 140))):
        draw.ellipse((50 + i * 60, 80, 90 + i * 60, 120), fill=colour)  # pots
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return photos.process(buffer.getvalue(), filename="demo-stall.jpg")


# -- fixes reported by artisans ---------------------------------------------------------------


def _fix_reports(
    regions: dict[str, Region], demo_photo: photos.ProcessedPhoto, storage: Storage, tally: Tally
) -> None:
    """A few stalls whose artisan says a failure is fixed: first on the inspector's list."""
    demo_venues = [spec.name_fr for spec in VENUES]
    for code in FIX_REGIONS:
        in_region = (
            select(Stall)
            .join(Venue, Stall.venue_id == Venue.id)
            .join(Province, Venue.province_id == Province.id)
            .where(Province.region_id == regions[code].id, Venue.name_fr.in_(demo_venues))
        )
        # Counted first, so a later run with more stalls does not flag more of them.
        reported = db.session.scalar(
            select(func.count(CorrectiveAction.id.distinct())).where(
                CorrectiveAction.stall_id.in_(in_region.with_only_columns(Stall.id)),
                CorrectiveAction.status == OPEN,
                CorrectiveAction.fix_reported_at.is_not(None),
            )
        )
        tally.existing["fix report"] += reported
        candidates = db.session.scalars(
            in_region.join(Inspection, Inspection.id == Stall.latest_inspection_id)
            .where(Inspection.verdict != scoring.COMPLIANT)
            .order_by(Stall.code)
        ).all()
        for stall in candidates:
            if reported >= FIXES_PER_REGION:
                break
            action = db.session.scalar(
                select(CorrectiveAction)
                .where(CorrectiveAction.stall_id == stall.id, CorrectiveAction.status == OPEN)
                .order_by(CorrectiveAction.due_date, CorrectiveAction.item_key)
                .limit(1)
            )
            if action is None or action.fix_reported_at is not None:
                continue
            _report_fix(stall, action, demo_photo, storage)
            reported += 1
            tally.count("fix report", True)
    db.session.commit()


def _report_fix(
    stall: Stall, action: CorrectiveAction, demo_photo: photos.ProcessedPhoto, storage: Storage
) -> None:
    """The artisan's "it is fixed" button, the evening after the visit or the next morning."""
    at = stall.latest_inspection.submitted_at + timedelta(hours=20)
    message = FIX_MESSAGES.get(action.item_key, FIX_MESSAGE)
    reported = contests.report_fix(stall.artisan, action, demo_photo, storage, message, now=at)
    reported.report.created_at = at  # report_fix stamps the real clock; the demo is in the past


# -- summary ----------------------------------------------------------------------------------

# Kinds counted, as the summary names them.
NOUNS = (
    ("venue", "venues"),
    ("stall", "stalls"),
    ("artisan", "artisans"),
    ("account", "accounts"),
    ("inspection", "submitted inspections"),
    ("fix report", "fixes reported by artisans"),
)


def _summary(tally: Tally, checklist: str) -> str:
    def counts(counter: Counter[str]) -> str:
        return ", ".join(f"{counter[kind]} {noun}" for kind, noun in NOUNS)

    accounts = "; ".join(
        f"{a.username} ({a.role}{', ' + a.region if a.region else ''}, {a.language})"
        for a in ACCOUNTS
    )
    return (
        f"Demo data (on the reference regions and prefectures, {checklist}). "
        f"Created this run: {counts(tally.created)}. "
        f"Already there, left unchanged: {counts(tally.existing)}. "
        f'Demo accounts, all with the password "{DEMO_PASSWORD}": {accounts}.'
    )
