"""Benchmark the register import: 50,000 rows previewed and stored, as CSV and as XLSX.

Makes a register of 50,000 stall allocations (one artisan each) in two files, a CSV (UTF-8 with
BOM, ``;`` separated, as French Excel writes it) and an XLSX (numeric phone numbers, blank rows
at the end), with other card numbers and stall codes in each; then times the preview (read,
check, compare) and the commit (preview again as the confirmation does, then store with one
audit event per artisan and per stall) of each through :mod:`compliance.register`, the code
the pages and ``flask register import`` use.

    .venv/bin/python bench/register.py                       # a temporary SQLite database
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/register.py

The schema is rebuilt from the migrations (everything in that database is dropped): never point
it at a database you care about. The last line is::

    register rows=50000 csv_preview_s=.. csv_commit_s=.. xlsx_preview_s=.. xlsx_commit_s=.. \
peak_rss_mb=..

Targets: each step <= 30 s, peak resident memory <= 300 MB.
"""

from __future__ import annotations

import io
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from openpyxl import Workbook
from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compliance import create_app  # noqa: E402
from compliance.admin import importing  # noqa: E402
from compliance.config import Config  # noqa: E402
from compliance.extensions import db  # noqa: E402
from compliance.models import Chamber, Province, Region, Venue  # noqa: E402
from compliance.register import FIELDS, RegisterImport, after_commit  # noqa: E402

ROWS = 50_000
VENUES = 20
CRAFTS = ("pottery", "carpets", "leather", "wood", "copper", "jewellery", "clothing")
CATEGORIES = ("artisan", "master", "cooperative", "enterprise")
FIRST = ("Fatima", "Mohamed", "Khadija", "Youssef", "Aicha", "Hassan", "Naima", "Omar")
FIRST_AR = ("فاطمة", "محمد", "خديجة", "يوسف", "عائشة", "حسن", "نعيمة", "عمر")
LAST = ("El Amrani", "Benjelloun", "Tazi", "Alaoui", "Berrada", "Idrissi", "Chraibi")
LAST_AR = ("العمراني", "بنجلون", "التازي", "العلوي", "برادة", "الإدريسي", "الشرايبي")


def rows(prefix: str) -> list[list]:
    out = []
    for n in range(ROWS):
        i, j = n % len(FIRST), (n // 8) % len(LAST)
        out.append(
            [f"{prefix}{n:08d}", f"{FIRST_AR[i]} {LAST_AR[j]}", f"{FIRST[i]} {LAST[j]}",
             CRAFTS[n % len(CRAFTS)], CATEGORIES[n % len(CATEGORIES)], 600000000 + n,
             f"BEN-FZ{n % VENUES + 1}", f"{prefix}-{n:06d}", f"Allée {n % 40 + 1}"]
        )  # fmt: skip
    return out


def csv_file(table: list[list]) -> bytes:
    lines = [";".join(FIELDS)]
    for r in table:
        lines.append(";".join(f"0{c}" if k == 5 else str(c) for k, c in enumerate(r)))
    return b"\xef\xbb\xbf" + "\r\n".join(lines).encode()


def xlsx_file(table: list[list]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(list(FIELDS))
    for r in table:
        sheet.append(r)
    for _ in range(50):
        sheet.append([None] * len(FIELDS))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def timed_preview(data: bytes, region_id: int) -> tuple[float, RegisterImport]:
    start = time.perf_counter()
    job = RegisterImport(db.session, data, importing.vocabulary(), region_id)
    for _ in job.preview():
        pass
    db.session.rollback()
    assert job.summary.storable, job.summary.as_dict()["problems"][:3]
    return time.perf_counter() - start, job


def timed_commit(data: bytes, region_id: int) -> float:
    start = time.perf_counter()
    job = RegisterImport(db.session, data, importing.vocabulary(), region_id)
    for _ in job.preview():
        pass
    for _ in job.apply("bench", None):
        pass
    db.session.commit()
    after_commit(db.session, job.summary)
    assert job.summary.stalls["new"] == ROWS
    return time.perf_counter() - start


def main() -> None:
    url = os.environ.get("DATABASE_URL")
    tmp = None
    if not url:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/register.db"

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(BenchConfig)
    with app.app_context(), app.test_request_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
        else:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=str(ROOT / "migrations"))
        # The reference data (migration 0005) has the regions and provinces already.
        region = db.session.scalar(select(Region).where(Region.code == "MA-05"))
        if region is None:
            region = Region(code="MA-05", name_fr="Béni Mellal-Khénifra",
                            name_ar="بني ملال - خنيفرة", name_en="Béni Mellal-Khénifra",
                            seat="Béni Mellal")  # fmt: skip
            region.chamber = Chamber(name_fr="Chambre", name_ar="غرفة", name_en="Chamber")
        province = db.session.scalar(select(Province).where(Province.region_id == region.id))
        if province is None:
            province = Province(region=region, code="MA-BEM", name_fr="Béni Mellal",
                                name_ar="بني ملال", name_en="Béni Mellal")  # fmt: skip
        for n in range(1, VENUES + 1):
            db.session.add(
                Venue(province=province, code=f"BEN-FZ{n}", kind="fan_zone", city="Béni Mellal",
                      name_fr=f"Village {n}", name_ar=f"القرية {n}", name_en=f"Village {n}")
            )  # fmt: skip
        db.session.commit()
        region_id = region.id

        csv_data = csv_file(rows("C"))
        xlsx_data = xlsx_file(rows("X"))
        csv_preview, _ = timed_preview(csv_data, region_id)
        csv_commit = timed_commit(csv_data, region_id)
        xlsx_preview, _ = timed_preview(xlsx_data, region_id)
        xlsx_commit = timed_commit(xlsx_data, region_id)
        db.session.remove()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database: {url.split(':')[0]}")
    print(
        f"register rows={ROWS} csv_preview_s={csv_preview:.1f} csv_commit_s={csv_commit:.1f} "
        f"xlsx_preview_s={xlsx_preview:.1f} xlsx_commit_s={xlsx_commit:.1f} peak_rss_mb={peak:.0f}"
    )
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
