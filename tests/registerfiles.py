"""Register files as the chambers send them, made in the tests (CSV and XLSX, with quirks)."""

from __future__ import annotations

import io

from openpyxl import Workbook

HEADER_EN = [
    "card_number", "name_ar", "name_latin", "craft", "category", "phone", "venue", "stall_code",
    "location",
]  # fmt: skip
HEADER_FR = [
    "N° de carte (NIA)", "Nom en arabe", "Nom en lettres latines", "Métier", "Catégorie",
    "Téléphone", "Code du lieu", "Code du stand", "Emplacement",
]  # fmt: skip
HEADER_AR = [
    "رقم البطاقة المهنية", "الاسم بالعربية", "الاسم بالحروف اللاتينية", "الحرفة", "الفئة",
    "الهاتف", "رمز الفضاء", "رمز الرواق", "الموقع",
]  # fmt: skip


def row(
    card="A1234567",
    name_ar="فاطمة العمراني",
    name_latin="Fatima El Amrani",
    craft="pottery",
    category="artisan",
    phone="0612345678",
    venue="RBT-FZ1",
    stall="RBT-001",
    location="Allée A",
) -> list:
    return [card, name_ar, name_latin, craft, category, phone, venue, stall, location]


def csv_bytes(rows: list[list], header=HEADER_EN, sep=",", encoding="utf-8", bom=False) -> bytes:
    lines = [sep.join(header)] + [sep.join(str(c) for c in r) for r in rows]
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[list], header=HEADER_EN, blank_rows: int = 0) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    # Formatted but empty rows at the end, as Excel leaves them.
    last = len(rows) + 1
    for n in range(last + 1, last + 1 + blank_rows):
        sheet.cell(row=n, column=1).number_format = "@"
        sheet.cell(row=n, column=2).value = None
    if blank_rows:
        sheet.cell(row=last + blank_rows, column=3).value = ""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
