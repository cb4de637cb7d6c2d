"""Helpers for the artisan, badge and contest tests (no tests here).

Inspections are made through the real path (``inspections.start`` / ``save_answer`` /
``attach_photo`` / ``submit``) on a tiny checklist, so the scores are easy to compute by hand:

    welcome   weight 2, critical
    prices    weight 1
    clean     weight 1, photo on failure

compliant at 0.85, follow-up at 0.60.
"""

from __future__ import annotations

import uuid

import pytest
from flask import current_app, g

from compliance import checklist_store, inspections
from compliance.artisan import credentials, keys, ratelimit
from compliance.checklist import parse
from compliance.extensions import db
from compliance.models import Artisan, Inspection, Stall, User
from compliance.photos import process
from compliance.storage import storage_from_config

from . import factories, imagefactory

TINY = """
key = "tiny"
comments_internal = {internal}
title = {{ ar = "قائمة صغيرة", fr = "Petite liste", en = "Tiny list" }}

[verdict]
compliant = 0.85
follow_up = 0.60

[[sections]]
key = "main"
title = {{ ar = "الأساس", fr = "L'essentiel", en = "The basics" }}

  [[sections.items]]
  key = "welcome"
  text = {{ ar = "استقبال الزبائن", fr = "Accueil des clients", en = "Welcoming customers" }}
  weight = 2
  critical = true
  photo = "never"
  fix_days = 1
  na_allowed = false

  [[sections.items]]
  key = "prices"
  text = {{ ar = "الأسعار معروضة", fr = "Prix affichés", en = "Prices displayed" }}
  weight = 1
  critical = false
  photo = "never"
  fix_days = 2
  na_allowed = false

  [[sections.items]]
  key = "clean"
  text = {{ ar = "المحل نظيف", fr = "Stand propre", en = "Clean stall" }}
  weight = 1
  critical = false
  photo = "on_fail"
  fix_days = 1
  na_allowed = false
"""


def tiny_checklist(internal: bool = False):
    version, _ = checklist_store.store(
        parse(TINY.format(internal="true" if internal else "false"), source="tiny")
    )
    return version


def storage():
    return storage_from_config(current_app.config["UPLOAD_DIR"])


def inspect(
    stall: Stall,
    inspector: User,
    version,
    results: dict[str, str],
    *,
    comments: dict[str, str] | None = None,
    photos: dict[str, bytes] | None = None,
    submit: bool = True,
) -> Inspection:
    """An inspection of ``stall`` made the way the inspector's phone makes it."""
    inspection = inspections.start(
        str(uuid.uuid4()), stall, inspector, factories.running_campaign(version)
    )
    comments = comments or {}
    for key, result in results.items():
        inspections.save_answer(inspection, key, result, comments.get(key))
    for key, data in (photos or {}).items():
        inspections.attach_photo(inspection, key, process(data), storage())
    if submit:
        inspections.submit(inspection, actor=inspector)
    return inspection


def failing_clean_photo() -> dict[str, bytes]:
    return {"clean": imagefactory.jpeg(320, 240)}


def secret() -> str:
    return current_app.config["SECRET_KEY"]


def slip(artisan: Artisan) -> credentials.Slip:
    """Print the artisan's slip (issues its link and PIN)."""
    issued = credentials.ensure_slip(artisan, secret())
    db.session.commit()
    return issued


def badge_url(artisan: Artisan) -> str:
    code = credentials.ensure_badge(artisan, secret())
    db.session.commit()
    return f"/a/b/{code}"


def private_url(artisan: Artisan) -> str:
    return f"/a/p/{slip(artisan).private_code}"


def signed_in(app, artisan: Artisan):
    """A fresh test client holding ``artisan``'s session (opened through their slip's QR)."""
    client = app.test_client()
    response = client.get(private_url(artisan))
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def forget_request_user() -> None:
    """Switching test clients inside one test: drop Flask-Login's per-``g`` cached user.

    The conftest runs each test inside one app context, and Flask reuses it for every request,
    so ``g`` (where Flask-Login caches ``current_user``) outlives a request.
    """
    g.pop("_login_user", None)


@pytest.fixture(autouse=False)
def fresh_limits(app):
    """Rate-limit counters start at zero (the memory storage lives as long as the app)."""
    ratelimit.limiter_of(app).reset()
    yield
    ratelimit.limiter_of(app).reset()


def other_code() -> str:
    return keys.badge_code("another-secret", 1, 1)
