"""The register import as the pages and the command line use it: words, uploads, runs.

compliance/register.py does the work and knows nothing of Flask or languages; this module gives
it the craft and category words of every language, turns its codes into sentences in the
user's language, and keeps an uploaded file between its preview and its confirmation
(:class:`~compliance.models.RegisterUpload`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from .. import register
from ..extensions import db
from ..labels import (
    CATEGORIES,
    CRAFTS,
    FILE_PROBLEMS,
    IMPORT_PHASES,
    REGISTER_COLUMNS,
    ROW_PROBLEMS,
)
from ..models import RegisterUpload, audit, utcnow

PREVIEWED, COMMITTED, REFUSED = "previewed", "committed", "refused"
# Rows shown on the preview page; the rest are counted (a file of 50,000 wrong rows is a
# wrong file, not 50,000 things to read).
SHOWN_PROBLEMS = 500


def vocabulary() -> register.Vocabulary:
    """Craft and category words in every language, for reading files written in any."""
    crafts: dict[str, list[str]] = {code: [] for code in CRAFTS}
    categories: dict[str, list[str]] = {code: [] for code in CATEGORIES}
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            for code, label in CRAFTS.items():
                crafts[code].append(str(label))
            for code, label in CATEGORIES.items():
                categories[code].append(str(label))
    return register.Vocabulary.build(crafts, categories)


def row_problem_text(problem: dict) -> str:
    """A refused row's reason in the user's language."""
    return str(ROW_PROBLEMS[problem["code"]]) % problem["params"]


def column_text(column: str | None) -> str:
    return str(REGISTER_COLUMNS[column]) if column else ""


def file_problem_text(problem: dict) -> str:
    params = dict(problem["params"])
    if "columns" in params:
        params["columns"] = ", ".join(column_text(c) for c in params["columns"])
    if "column" in params:
        params["column"] = column_text(params["column"])
    return str(FILE_PROBLEMS[problem["code"]]) % params


def summary_lines(summary: dict) -> list[str]:
    """The summary as plain lines, for the command line (in the current language)."""
    if summary["file_problem"]:
        return [file_problem_text(summary["file_problem"])]
    counts = _("%(new)s new, %(changed)s changed, %(unchanged)s unchanged")
    lines = [
        _("Rows: %(num)s", num=summary["rows"]),
        _("Artisans: %(counts)s", counts=counts % summary["artisans"]),
        _("Stalls: %(counts)s", counts=counts % summary["stalls"]),
    ]
    if summary["swapped_names"]:
        swapped = summary["swapped_names"]
        lines.append(_("Names put back in their columns: %(num)s rows", num=swapped))
    lines.append(_("Refused rows: %(num)s", num=summary["refused_rows"]))
    for problem in summary["problems"]:
        lines.append(
            _("row %(row)s, %(column)s: %(reason)s", row=problem["row"],
              column=column_text(problem["column"]), reason=row_problem_text(problem))
        )  # fmt: skip
    return lines


def phase_text(step: register.Step) -> str:
    return str(IMPORT_PHASES[step.phase])


def template_file(language: str) -> bytes:
    """The XLSX to fill, in ``language``, with two example rows."""
    with force_locale(language):
        crafts = [str(label) for label in CRAFTS.values()]
        categories = [str(label) for label in CATEGORIES.values()]
    examples = [
        ["A 12 345 678", "فاطمة الزهراء العمراني", "Fatima Zahra El Amrani", crafts[1],
         categories[0], "0612345678", "RBT-FZ1", "RBT-001", "Allée A"],
        ["B-98765432", "تعاونية النسيج", "Coopérative Nassij", crafts[0], categories[2], "",
         "RBT-FZ1", "RBT-002", "الممر ب"],
    ]  # fmt: skip
    return register.template_xlsx(language, crafts, categories, examples)


# --- uploads between preview and confirmation -------------------------------------------------


def save_upload(data: bytes, filename: str, user_id: int, region_id: int | None) -> RegisterUpload:
    upload = RegisterUpload(
        user_id=user_id,
        region_id=region_id,
        filename=(filename or "register")[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        state="uploaded",
    )
    db.session.add(upload)
    db.session.commit()
    return upload


def run_preview(upload_id: str) -> Iterator[register.Step]:
    """Check the uploaded file and keep its summary on the upload (committed).

    Takes the upload's id, not the row: the pages run this while their response is written,
    after the request's own database session is closed.
    """
    upload = db.session.get(RegisterUpload, upload_id)
    job = register.RegisterImport(db.session, upload.data or b"", vocabulary(), upload.region_id)
    yield from job.preview()
    upload.summary = job.summary.as_dict()
    upload.state = PREVIEWED if job.summary.storable else REFUSED
    db.session.commit()


def run_commit(upload_id: str, actor: str, actor_id: int | None) -> Iterator[register.Step]:
    """Store a previewed file once: a second confirmation (a double click) stores nothing.

    The upload is claimed by moving it from previewed to committed in the same transaction as
    the import: a concurrent second request waits for the first and then finds nothing to
    claim. The file is checked again, against the register as it is now; if it no longer
    passes, nothing is stored and the new summary says why.
    """
    upload = db.session.get(RegisterUpload, upload_id)
    try:
        claimed = db.session.execute(
            update(RegisterUpload)
            .where(RegisterUpload.id == upload.id, RegisterUpload.state == PREVIEWED)
            .values(state=COMMITTED, committed_at=utcnow())
        ).rowcount
    except OperationalError:  # SQLite: another request holds the write lock, storing it
        claimed = 0
    if claimed != 1:
        db.session.rollback()
        return
    job = register.RegisterImport(db.session, upload.data or b"", vocabulary(), upload.region_id)
    yield from job.preview()
    if not job.summary.storable:
        db.session.rollback()
        upload.summary = job.summary.as_dict()
        upload.state = REFUSED
        db.session.commit()
        return
    yield from job.apply(actor, actor_id)
    summary = job.summary.as_dict()
    audit(actor, "register.import", "register_upload", upload.id, actor_id=actor_id,
          after={"filename": upload.filename, "sha256": upload.sha256,
                 "artisans": summary["artisans"], "stalls": summary["stalls"]})  # fmt: skip
    db.session.execute(
        update(RegisterUpload)
        .where(RegisterUpload.id == upload.id)
        .values(result=summary, data=None)
    )
    db.session.commit()
    register.after_commit(db.session, job.summary)
    db.session.refresh(upload)
