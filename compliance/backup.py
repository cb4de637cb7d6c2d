"""Backups: the database and the photo store in one folder, with a manifest; and their restore.

A backup is consistent without stopping the app. The database is copied first, at one instant
(SQLite's online backup API; for PostgreSQL ``pg_dump`` in its custom format, reading a
snapshot exported by a transaction that also counts the rows and lists the photos). The photo
files are copied after: a photo row is committed only once its files are durable (see
:mod:`compliance.storage`), so every photo the copied database knows is already in the store.
Files stored after the snapshot may be copied too; they are harmless (files without rows).

The manifest (``manifest.json``, written last: a folder without it is not a backup) holds the
row count of every table and the SHA-256 of the database copy and of every photo file. A restore
checks every sum before it changes anything, goes only into an empty database and an empty
photo folder, and checks the counts again afterwards.

No Flask here: the caller passes the database URL and the photo folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.url import URL

from .storage import RENDITIONS, LocalStorage, parse_key, photo_key

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
PHOTOS = "photos"
# Columns holding the SHA-256 of stored photos: each needs its files in the backup.
PHOTO_COLUMNS = (("photo", "sha256"), ("contest", "photo_sha256"), ("fix_report", "photo_sha256"))
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or a restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    manifest: dict
    directory: Path

    @property
    def rows(self) -> int:
        return sum(self.manifest["database"]["tables"].values())

    @property
    def photos(self) -> int:
        return len(self.manifest["photos"]["files"])


# --- create ----------------------------------------------------------------------------------


def create(directory: str | os.PathLike[str], database_url: str, upload_dir: str) -> Summary:
    """Back up the database and the photo store into ``directory`` (new or empty)."""
    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new folder.")
    target.mkdir(parents=True, exist_ok=True)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = _sqlite_snapshot(url, target / SQLITE_FILE)
    elif url.get_backend_name() == "postgresql":
        database = _postgresql_snapshot(url, target / PG_FILE)
    else:
        raise BackupError(f"cannot back up a {url.get_backend_name()} database")
    files, missing = _copy_photos(LocalStorage(upload_dir), target / PHOTOS, database["photos"])
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": {
            "backend": url.get_backend_name(),
            "file": database["file"],
            "sha256": _sha256_of(target / database["file"]),
            "revision": database["revision"],
            "tables": database["tables"],
        },
        "photos": {"folder": PHOTOS, "files": files, "referenced_but_missing": missing},
    }
    _write_durably(target / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
    return Summary(manifest, target)


def _sqlite_snapshot(url: URL, file: Path) -> dict:
    """Copy the SQLite database at one instant, then read what the copy holds."""
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True, timeout=60)
    copy = sqlite3.connect(file)
    try:
        # All pages in one step, under one read lock: writers wait, and the copy is one instant.
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    _fsync(file)
    engine = create_engine(f"sqlite:///{file}")
    try:
        with engine.connect() as connection:
            return {"file": SQLITE_FILE, **_contents(connection)}
    finally:
        engine.dispose()


def _postgresql_snapshot(url: URL, file: Path) -> dict:
    """``pg_dump`` the snapshot of a transaction that counts the rows and lists the photos."""
    engine = create_engine(url)
    try:
        repeatable = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with repeatable as connection, connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            contents = _contents(connection)
            # The snapshot lives as long as this transaction: pg_dump reads it meanwhile.
            _run(
                _postgres_tool("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={file}",
                url=url,
            )
    finally:
        engine.dispose()
    _fsync(file)
    return {"file": PG_FILE, **contents}


def _contents(connection: Connection) -> dict:
    """Row counts of every table, the schema revision, and the photos the rows refer to."""
    tables = sorted(
        name for name in inspect(connection).get_table_names() if not name.startswith("sqlite_")
    )
    counts = {
        name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
        for name in tables
    }
    revision = None
    if "alembic_version" in tables:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    photos: set[str] = set()
    for table, column in PHOTO_COLUMNS:
        if table in tables:
            photos.update(
                value
                for (value,) in connection.execute(
                    text(f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')
                )
            )
    return {"tables": counts, "revision": revision, "photos": sorted(photos)}


def _copy_photos(
    store: LocalStorage, folder: Path, referenced: list[str]
) -> tuple[dict[str, str], list[str]]:
    """Copy every stored photo file; (key -> SHA-256, keys the rows need but the store lacks)."""
    files: dict[str, str] = {}
    for key in sorted(store.stored_keys()):
        if parse_key(key) is None:
            continue  # not a photo of ours (a stray file): not ours to back up
        try:
            source = store.open(key)
        except KeyError:
            continue  # removed meanwhile (by hand: the app never removes a photo file)
        with source:
            files[key] = _copy(source, folder / key)
    missing = [
        key
        for sha256 in referenced
        for key in (photo_key(sha256, r) for r in sorted(RENDITIONS))
        if key not in files
    ]
    _fsync_tree(folder)
    return files, missing


# --- restore ---------------------------------------------------------------------------------


def restore(directory: str | os.PathLike[str], database_url: str, upload_dir: str) -> Summary:
    """Restore a backup into an empty database and an empty photo folder, checking it all."""
    source = Path(directory)
    manifest = read_manifest(source)
    url = make_url(database_url)
    backend = manifest["database"]["backend"]
    if url.get_backend_name() != backend:
        raise BackupError(
            f"this backup is of a {backend} database; DATABASE_URL is a "
            f"{url.get_backend_name()} database"
        )
    verify(source, manifest)
    _require_empty_database(url)
    _require_empty_folder(Path(upload_dir))

    database_file = source / manifest["database"]["file"]
    if backend == "sqlite":
        _restore_sqlite(database_file, url)
    else:
        _run(
            _postgres_tool("pg_restore"),
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            str(database_file),
            url=url,
        )
    store = LocalStorage(upload_dir)
    for key in manifest["photos"]["files"]:
        store.put(key, (source / PHOTOS / key).read_bytes())

    restored = _counts(url)
    expected = manifest["database"]["tables"]
    if restored != expected:
        differences = sorted(
            f"{name}: {restored.get(name)} rows, the backup had {expected.get(name)}"
            for name in set(restored) | set(expected)
            if restored.get(name) != expected.get(name)
        )
        raise BackupError(
            "the restored database differs from the backup: " + "; ".join(differences)
        )
    for key, sha256 in manifest["photos"]["files"].items():
        with store.open(key) as restored_file:
            if _sha256_of_stream(restored_file) != sha256:
                raise BackupError(f"the restored photo {key} differs from the backup")
    return Summary(manifest, source)


def read_manifest(directory: Path) -> dict:
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(
            f"{directory} has no {MANIFEST}: not a backup, or one that did not finish."
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{directory / MANIFEST} is damaged (not JSON).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{directory / MANIFEST} is not a backup manifest this version reads.")
    return manifest


def verify(directory: Path, manifest: dict) -> None:
    """Check every file of the backup against its SHA-256 in the manifest."""
    problems = []
    expected = {manifest["database"]["file"]: manifest["database"]["sha256"]}
    for key, sha256 in manifest["photos"]["files"].items():
        if parse_key(key) is None:
            raise BackupError(f"{directory / MANIFEST} lists a file that is not a photo: {key!r}")
        expected[f"{PHOTOS}/{key}"] = sha256
    for relative, sha256 in expected.items():
        try:
            actual = _sha256_of(directory / relative)
        except FileNotFoundError:
            problems.append(f"{relative} is missing")
            continue
        if actual != sha256:
            problems.append(f"{relative} does not match its SHA-256")
    if problems:
        shown = "; ".join(problems[:10]) + (
            f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        )
        raise BackupError(f"the backup in {directory} is damaged, nothing was restored: {shown}")


def _require_empty_database(url: URL) -> None:
    tables = [name for name in _table_names(url) if not name.startswith("sqlite_")]
    if tables:
        raise BackupError(
            f"the database {url.render_as_string(hide_password=True)} is not empty "
            f"({len(tables)} tables): restore into a new, empty database."
        )


def _require_empty_folder(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(
            f"the photo folder {folder} is not empty: restore into a new, empty UPLOAD_DIR."
        )


def _restore_sqlite(file: Path, url: URL) -> None:
    if not url.database or url.database == ":memory:":
        raise BackupError("cannot restore into an in-memory SQLite database")
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    target = sqlite3.connect(url.database)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    _fsync(Path(url.database))


def _table_names(url: URL) -> list[str]:
    if url.get_backend_name() == "sqlite" and not (url.database and os.path.exists(url.database)):
        return []  # no file yet: empty (and not created by looking)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return inspect(connection).get_table_names()
    finally:
        engine.dispose()


def _counts(url: URL) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return _contents(connection)["tables"]
    finally:
        engine.dispose()


# --- helpers ---------------------------------------------------------------------------------


def _postgres_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} not found: install PostgreSQL's client programs "
            "(apt-get install postgresql-client), of the server's major version or newer."
        )
    return path


def _run(program: str, *arguments: str, url: URL) -> None:
    """Run pg_dump/pg_restore on ``url``; the password goes by environment, not argument."""
    libpq = url.set(drivername="postgresql", password=None)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    result = subprocess.run(
        [program, *arguments, f"--dbname={libpq.render_as_string(hide_password=False)}"],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"{os.path.basename(program)} failed: {result.stderr.strip()}")


def _copy(source, destination: Path) -> str:
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(destination, "wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _sha256_of(path: Path) -> str:
    with open(path, "rb") as file:
        return _sha256_of_stream(file)


def _sha256_of_stream(stream) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _write_durably(path: Path, data: bytes) -> None:
    """Write whole or not at all: a temporary file, flushed, renamed, its folder flushed."""
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as temporary:
        temporary.write(data)
        temporary.flush()
        os.fsync(temporary.fileno())
    os.replace(temporary.name, path)
    _fsync(path.parent)


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):  # not possible on every filesystem
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _fsync_tree(folder: Path) -> None:
    """Flush every folder of a copied tree, so the copies' names survive a power cut."""
    for path in _folders(folder):
        _fsync(path)


def _folders(folder: Path) -> Iterator[Path]:
    if folder.exists():
        for parent, _subfolders, _files in os.walk(folder):
            yield Path(parent)
        yield folder.parent
