"""Flask commands: load checklists, seed demo data, manage users, rebuild the tallies."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from . import checklist_store
from .checklist import ChecklistError, load_file
from .extensions import db
from .models import ROLES, Region, User, audit


@click.group("checklist")
def checklist_cli() -> None:
    """Checklist definitions."""


@checklist_cli.command("load")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def load_checklist(paths: tuple[str, ...]) -> None:
    """Validate and load checklist files (default: every file in CHECKLIST_DIR)."""
    files = [Path(p) for p in paths] or sorted(
        Path(current_app.config["CHECKLIST_DIR"]).glob("*.toml")
    )
    if not files:
        raise click.ClickException("no checklist file found")
    for path in files:
        try:
            checklist = load_file(path)
        except ChecklistError as exc:
            raise click.ClickException(f"{path}: {exc}") from exc
        version, created = checklist_store.store(checklist)
        state = "loaded as" if created else "unchanged, already"
        click.echo(
            f"{path.name}: {state} {version.key} v{version.version} ({version.content_hash[:12]})"
        )


@click.group("reference")
def reference_cli() -> None:
    """Reference data: regions, chambers, prefectures and provinces."""


@reference_cli.command("load")
def load_reference() -> None:
    """Add or correct the regions, chambers, prefectures and provinces. Idempotent."""
    from . import reference

    try:
        loaded = reference.load(db.session.connection())
    except reference.ReferenceError as exc:
        raise click.ClickException(str(exc)) from exc
    if loaded.changed:
        audit(
            "cli",
            "reference.load",
            "reference",
            "morocco",
            after=loaded.added | {f"corrected {kind}": n for kind, n in loaded.corrected.items()},
        )
    db.session.commit()
    click.echo(f"Reference data: {loaded.summary()}.")


@click.command("seed")
@click.option("--stalls", default=300, show_default=True, help="How many demo stalls.")
def seed(stalls: int) -> None:
    """Seed the demo data (venues, stalls, accounts, past inspections) on the reference data."""
    from .demo import MissingReferenceData, seed_demo

    try:
        summary = seed_demo(stalls=stalls)
    except MissingReferenceData as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary)


@click.group("users")
def users_cli() -> None:
    """User accounts."""


@users_cli.command("create")
@click.argument("username")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option(
    "--region", "region_code", help="Region code (MA-01..MA-12) for coordinators and inspectors."
)
@click.option("--language", type=click.Choice(["ar", "fr", "en"]))
@click.password_option()
def create_user(username, name, role, region_code, language, password) -> None:
    """Create a user account."""
    username = username.strip().lower()
    if db.session.scalar(select(User).where(User.username == username)):
        raise click.ClickException(f"user {username!r} already exists")
    region = None
    if role != "admin":
        if not region_code:
            raise click.ClickException("--region is required for coordinators and inspectors")
        region = db.session.scalar(select(Region).where(Region.code == region_code))
        if region is None:
            raise click.ClickException(f"unknown region {region_code!r}")
    user = User(username=username, name=name, role=role, region=region, language=language)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit("cli", "user.create", "user", user.id, after={"username": username, "role": role})
    db.session.commit()
    click.echo(f"created {role} {username}")


@click.group("register")
def register_cli() -> None:
    """The artisans' register (stall allocations) from a chamber's file."""


@register_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--region", "region_code", required=True, help="Region code (MA-01..MA-12).")
@click.option("--dry-run", is_flag=True, help="Check and summarise; store nothing.")
def import_register(path: str, region_code: str, dry_run: bool) -> None:
    """Import a CSV or XLSX register file; exits 1 when any row is refused."""
    from flask_babel import force_locale

    from .admin import importing
    from .register import RegisterImport, after_commit

    region = db.session.scalar(select(Region).where(Region.code == region_code))
    if region is None:
        raise click.ClickException(f"unknown region {region_code!r}")
    data = Path(path).read_bytes()
    with force_locale("en"):
        job = RegisterImport(db.session, data, importing.vocabulary(), region.id)
        for _step in job.preview():
            pass
        summary = job.summary.as_dict()
        for line in importing.summary_lines(summary):
            click.echo(line)
        if not job.summary.storable:
            db.session.rollback()
            raise SystemExit(1)
        if dry_run:
            click.echo("dry run: nothing stored")
            return
        for _step in job.apply("cli", None):
            pass
        audit("cli", "register.import", "file", Path(path).name,
              after={"artisans": summary["artisans"], "stalls": summary["stalls"]})  # fmt: skip
        db.session.commit()
        after_commit(db.session, job.summary)
        click.echo("stored")


@click.group("photos")
def photos_cli() -> None:
    """The photo store."""


@photos_cli.command("check")
@click.option(
    "--repair",
    is_flag=True,
    help="Take photos whose files are lost off their inspection so the phone sends them again.",
)
def check_photos(repair: bool) -> None:
    """Compare photo rows with the stored files; remove unfinished temporary files.

    Exits with status 1 while a row without files is left unrepaired.
    """
    from .photocheck import check
    from .storage import storage_from_config

    report = check(storage_from_config(current_app.config["UPLOAD_DIR"]), repair=repair)
    click.echo(f"{report.temporary_removed} unfinished temporary file(s) removed")
    click.echo(f"{len(report.rows_without_files)} row(s) without files")
    for row in report.rows_without_files:
        state = " [repaired: asked for again]" if row in report.repaired else ""
        click.echo(f"  {row.describe()}{state}")
    click.echo(f"{len(report.files_without_rows)} file(s) without rows (kept: a retry reuses them)")
    for key in report.files_without_rows:
        click.echo(f"  {key}")
    if report.unrepaired:
        hint = "" if repair else " (--repair asks the phones for those they can send again)"
        raise click.ClickException(
            f"{len(report.unrepaired)} row(s) point at missing photo files{hint}"
        )


@click.group("backup")
def backup_cli() -> None:
    """Backups of the database and the photo store."""


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False))
def create_backup(directory: str) -> None:
    """Back up the database and the photos into DIRECTORY (new or empty), while the app runs."""
    from . import backup

    config = current_app.config
    try:
        summary = backup.create(directory, config["SQLALCHEMY_DATABASE_URI"], config["UPLOAD_DIR"])
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    tables = summary.manifest["database"]["tables"]
    click.echo(
        f"backed up {summary.rows} rows in {len(tables)} tables and {summary.photos} photo "
        f"files into {directory}"
    )
    missing = summary.manifest["photos"]["referenced_but_missing"]
    if missing:
        raise click.ClickException(
            f"{len(missing)} photo file(s) the rows refer to are not in the store (see "
            "`flask photos check`): " + ", ".join(missing[:5])
        )


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
def restore_backup(directory: str) -> None:
    """Restore DIRECTORY into the (empty) database and the (empty) UPLOAD_DIR, checking it."""
    from . import backup

    config = current_app.config
    try:
        summary = backup.restore(directory, config["SQLALCHEMY_DATABASE_URI"], config["UPLOAD_DIR"])
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"restored {summary.rows} rows and {summary.photos} photo files from {directory} "
        f"(made {summary.manifest['created_at']}); every count and checksum matches"
    )


@click.group("tallies")
def tallies_cli() -> None:
    """The dashboards' running tallies."""


@tallies_cli.command("rebuild")
def rebuild_tallies() -> None:
    """Recompute every tally from the inspections (after a bulk import or a fix in SQL)."""
    from .chamber import tallies

    tallies.rebuild()
    click.echo(f"tallies rebuilt: {tallies.counted_inspections()} submitted inspections counted")


def init_app(app: Flask) -> None:
    app.cli.add_command(register_cli)
    app.cli.add_command(checklist_cli)
    app.cli.add_command(reference_cli)
    app.cli.add_command(seed)
    app.cli.add_command(users_cli)
    app.cli.add_command(photos_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(tallies_cli)
