"""Where photo bytes live.

Photos are content-addressed: a rendition's key comes from the SHA-256 of the upload, so a key
is written once and never rewritten, and a retried upload finds its bytes already there. The
default store is a local folder; anything with the same methods (object storage, say) can
stand in for it.

Plain Python: no Flask, no database.
"""

import contextlib
import errno
import os
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import BinaryIO, Protocol, runtime_checkable

RENDITIONS = frozenset({"display", "thumb"})
_SHA256 = re.compile(r"[0-9a-f]{64}")
_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})-(display|thumb)\.jpg")

# Writes are staged in one folder under the root, so that sweeping what a killed process left
# behind reads one small folder rather than the whole store.
STAGING = ".incoming"
TEMPORARY_PREFIX, TEMPORARY_SUFFIX = ".put-", ".tmp"
# A write takes milliseconds; a temporary file older than this belongs to a dead process, even
# with several app servers sharing the folder (a younger one may be another server's write).
STALE_AFTER_SECONDS = 10 * 60


@runtime_checkable
class Storage(Protocol):
    """What the app needs from a photo store."""

    def put(self, key: str, data: bytes) -> bool:
        """Store ``data`` under ``key``; False if the key already existed (it is not rewritten)."""
        ...

    def put_many(self, items: Sequence[tuple[str, bytes]]) -> list[bool]:
        """:meth:`put` for several keys at once (a photo's renditions); durable when it returns."""
        ...

    def exists(self, key: str) -> bool: ...

    def open(self, key: str) -> BinaryIO:
        """Open for reading; raises KeyError when there is no such key."""
        ...

    def path(self, key: str) -> str | None:
        """A local file path for ``send_file``, or None when the store has none for this key."""
        ...

    def stored_keys(self) -> Iterator[str]:
        """Every stored key (for checks and backups), in no particular order."""
        ...

    def sweep(self, older_than: float = STALE_AFTER_SECONDS, *, everywhere: bool = False) -> int:
        """Remove unfinished writes older than ``older_than`` seconds; how many were removed."""
        ...


def parse_key(key: str) -> tuple[str, str] | None:
    """``(sha256, rendition)`` of a photo key, None for anything else."""
    match = _KEY.fullmatch(key)
    if match is None or photo_key(match[1], match[2]) != key:  # folders must match the hash
        return None
    return match[1], match[2]


def photo_key(sha256: str, rendition: str) -> str:
    """The storage key of one rendition, e.g. ``"ab/cd/abcd…-display.jpg"``.

    Both pieces end up in a file path, so both are checked even though they come from our own
    database.
    """
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a lowercase hex SHA-256: {sha256!r}")
    if rendition not in RENDITIONS:
        raise ValueError(f"unknown rendition {rendition!r}; expected one of {sorted(RENDITIONS)}")
    # Two levels of 256 folders keep any one directory small however many photos there are.
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}-{rendition}.jpg"


class LocalStorage:
    """Files under a root folder, one per key, written atomically and never overwritten."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.abspath(root)

    def __repr__(self) -> str:
        return f"LocalStorage({self.root!r})"

    def put(self, key: str, data: bytes) -> bool:
        """Write ``data`` under ``key`` unless it is already there; durable when it returns.

        The bytes go to a temporary file in the staging folder and are flushed to disk; the
        file is then hard-linked to its final name, which fails rather than replaces when the
        name exists, and the folder holding the name is flushed too. So a reader sees the whole
        file or nothing; when several processes race on one key exactly one wins, the others
        return False, and none raises; and whatever this returns, the file and its name
        survive a crash or a power cut from then on, so a database row written after it never
        points at missing bytes. A process killed midway leaves at most a temporary file,
        which :meth:`sweep` removes.
        """
        return self.put_many([(key, data)])[0]

    def put_many(self, items: Sequence[tuple[str, bytes]]) -> list[bool]:
        """:meth:`put` for several keys: each as :meth:`put` says, one after the other (at
        most one temporary file at a time), and each folder that gained a name flushed once at
        the end (a photo's two renditions share theirs: one flush, not two)."""
        created = []
        folders: dict[str, None] = {}  # to flush, in order
        for key, data in items:
            target = self._file(key)
            folder = os.path.dirname(target)
            folders[folder] = None
            if os.path.exists(target):
                # Another writer's name: maybe not flushed yet if that writer still runs.
                created.append(False)
                continue
            _make_folders(folder)
            temporary = self._stage(data)
            try:
                created.append(_link_no_clobber(temporary, target))
            finally:
                # After a successful link this only drops the temporary name; the file stays.
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
        for folder in folders:
            _fsync_folder(folder)  # so the new names themselves survive a power cut
        return created

    def _stage(self, data: bytes) -> str:
        """Write ``data`` to a new temporary file in the staging folder, flushed to disk."""
        staging = os.path.join(self.root, STAGING)
        _make_folders(staging)
        temporary = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, name kept
            dir=staging, prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX, delete=False
        )
        try:
            with temporary:
                temporary.write(data)
                temporary.flush()
                os.fsync(temporary.fileno())
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary.name)
            raise
        return temporary.name

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._file(key))

    def open(self, key: str) -> BinaryIO:
        """Open the bytes under ``key`` for reading; KeyError if there are none."""
        try:
            return open(self._file(key), "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyError(key) from None

    def path(self, key: str) -> str | None:
        """The file's path when it exists, else None."""
        target = self._file(key)
        return target if os.path.isfile(target) else None

    def stored_keys(self) -> Iterator[str]:
        """Every stored file's key; unfinished writes and the staging folder are skipped."""
        for folder, subfolders, names in os.walk(self.root):
            if folder == self.root and STAGING in subfolders:
                subfolders.remove(STAGING)
            relative = os.path.relpath(folder, self.root)
            for name in names:
                if _is_temporary(name):
                    continue
                yield name if relative == "." else f"{relative.replace(os.sep, '/')}/{name}"

    def sweep(self, older_than: float = STALE_AFTER_SECONDS, *, everywhere: bool = False) -> int:
        """Remove temporary files older than ``older_than`` seconds left by killed writers.

        Cheap by default (the staging folder only), so it can run at each start-up;
        ``everywhere`` also walks the whole store for those an older version left next to
        their target.
        """
        limit = time.time() - older_than
        folders = [os.path.join(self.root, STAGING)]
        if everywhere:
            folders = (folder for folder, _, _ in os.walk(self.root))
        removed = 0
        for folder in folders:
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:
                continue
            for entry in entries:
                if not _is_temporary(entry.name) or not entry.is_file(follow_symlinks=False):
                    continue
                try:
                    if entry.stat(follow_symlinks=False).st_mtime > limit:
                        continue  # maybe a write in progress on this or another server
                    os.unlink(entry.path)
                except FileNotFoundError:
                    continue  # its writer finished meanwhile, or another sweep took it
                removed += 1
        return removed

    def _file(self, key: str) -> str:
        """Map a key to a path under root, refusing anything that could step outside it."""
        if not isinstance(key, str) or not key:
            raise ValueError("empty storage key")
        if "\\" in key or "\x00" in key or key.startswith("/") or ":" in key:
            raise ValueError(f"unsafe storage key {key!r}")
        parts = key.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"unsafe storage key {key!r}")
        target = os.path.join(self.root, *parts)
        # Belt and braces: whatever the checks above missed, never leave the root.
        if os.path.commonpath([self.root, os.path.normpath(target)]) != self.root:
            raise ValueError(f"unsafe storage key {key!r}")
        return target


def _link_no_clobber(source: str, target: str) -> bool:
    """Give ``source`` the name ``target`` unless ``target`` exists; True if it was created."""
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    except OSError as error:
        # Some mounted filesystems have no hard links. Replacing is still atomic, and since
        # keys are content addresses whoever wins wrote the same bytes.
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        if os.path.exists(target):
            return False
        os.replace(source, target)
    return True


def _is_temporary(name: str) -> bool:
    return name.startswith(TEMPORARY_PREFIX) and name.endswith(TEMPORARY_SUFFIX)


def _make_folders(folder: str) -> None:
    """``os.makedirs``, flushing each parent that gains a folder, so the path survives a crash."""
    missing = []
    while not os.path.isdir(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another writer made it meanwhile
            os.mkdir(path)
        _fsync_folder(os.path.dirname(path))


def _fsync_folder(folder: str) -> None:
    # Not possible on every platform or filesystem; the data itself is already synced.
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def storage_from_config(upload_dir: str) -> Storage:
    """The store the app uses for ``UPLOAD_DIR``: a local folder today."""
    return LocalStorage(upload_dir)
