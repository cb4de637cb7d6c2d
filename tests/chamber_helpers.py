"""Helpers for the chamber tests: a small photo-free checklist and real submitted inspections.

Inspections go through the real code path (``inspections.start``, ``save_answer``,
``submit``), so scores, verdicts, corrective actions and each stall's current result come
from the same rules as in production.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import event

from compliance import checklist_store, inspections
from compliance.checklist import parse
from compliance.extensions import db
from compliance.models import ChecklistVersion, Inspection, Stall, User

from . import factories

# Three rules, four items, no photo required. Weights: price_shown 3 (critical),
# price_arabic 1, badge_worn 2, corridor 2 (N/A allowed). A stall passing everything but
# price_arabic scores 6/7 = 85.71 % (compliant); failing price_shown is non-compliant whatever
# the score.
SMALL_CHECKLIST = """
key = "chamber-test"
comments_internal = false

[title]
ar = "قائمة الغرف"
fr = "Liste des chambres"
en = "Chamber list"

[verdict]
compliant = 0.85
follow_up = 0.60

[[sections]]
key = "prices"
title = { ar = "عرض الأسعار", fr = "Affichage des prix", en = "Price display" }

  [[sections.items]]
  key = "price_shown"
  text = { ar = "كل منتوج بسعره", fr = "Produits avec prix", en = "Every product has a price" }
  weight = 3
  critical = true
  photo = "never"
  fix_days = 1
  na_allowed = false

  [[sections.items]]
  key = "price_arabic"
  text = { ar = "السعر بالعربية", fr = "Prix en arabe", en = "Price in Arabic" }
  weight = 1
  critical = false
  photo = "never"
  fix_days = 2
  na_allowed = false

[[sections]]
key = "badge"
title = { ar = "الشارة المهنية", fr = "Badge professionnel", en = "Professional badge" }

  [[sections.items]]
  key = "badge_worn"
  text = { ar = "البائع يضع الشارة", fr = "Vendeur avec badge", en = "Seller wears the badge" }
  weight = 2
  critical = false
  photo = "never"
  fix_days = 3
  na_allowed = false

[[sections]]
key = "cleanliness"
title = { ar = "النظافة", fr = "Propreté", en = "Cleanliness" }

  [[sections.items]]
  key = "corridor"
  text = { ar = "الممر نظيف", fr = "Allée propre", en = "Aisle clean" }
  weight = 2
  critical = false
  photo = "never"
  fix_days = 1
  na_allowed = true
"""

ALL_PASS = {"price_shown": "pass", "price_arabic": "pass", "badge_worn": "pass", "corridor": "pass"}


def small_checklist() -> ChecklistVersion:
    version, _created = checklist_store.store(parse(SMALL_CHECKLIST))
    return version


def answers(**changes: str) -> dict[str, str]:
    """All items passed, except those given: ``answers(price_shown="fail")``."""
    return {**ALL_PASS, **changes}


def inspect(
    stall: Stall,
    inspector: User,
    version: ChecklistVersion,
    results: dict[str, str],
    when: datetime,
    comments: dict[str, str] | None = None,
) -> Inspection:
    """Start, answer and submit an inspection at ``when`` (naive UTC), the real way."""
    inspection = inspections.start(
        str(uuid.uuid4()), stall, inspector, factories.running_campaign(version)
    )
    for key, result in results.items():
        inspections.save_answer(inspection, key, result, (comments or {}).get(key, ""))
    return inspections.submit(inspection, actor=inspector, now=when).inspection


class QueryCounter:
    """Counts the SQL statements run while it is active (``with QueryCounter() as counted``)."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.count += 1
        self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(db.engine, "before_cursor_execute", self._record)
