"""Where photo bytes live.

Photos are content-addressed: a rendition's key comes from the SHA-256 of the upload, so a key
is written once and never rewritten, and a retried upload finds its bytes already there. The
default store is a local folder; anything with the same four methods (object storage, say) can
stand in for it.

Plain Python: no Flask, no database.
"""

import contextlib
import errno
import os
import re
import tempfile
from typing import BinaryIO, Protocol, runtime_checkable

RENDITIONS = frozenset({"display", "thumb"})
_SHA256 = re.compile(r"[0-9a-f]{64}")


@runtime_checkable
class Storage(Protocol):
    """What the app needs from a photo store."""

    def put(self, key: str, data: bytes) -> bool:
        """Store ``data`` under ``key``; False if the key already existed (it is not rewritten)."""
        ...

    def exists(self, key: str) -> bool: ...

    def open(self, key: str) -> BinaryIO:
        """Open for reading; raises KeyError when there is no such key."""
        ...

    def path(self, key: str) -> str | None:
        """A local file path for ``send_file``, or None when the store has none for this key."""
        ...


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
        """Write ``data`` under ``key`` unless it is already there.

        The bytes go to a temporary file in the target folder, are flushed to disk, and are
        then hard-linked to the final name, which fails rather than replaces when the name
        exists. So a reader sees the whole file or nothing, and when several processes race
        on one key exactly one wins, the others return False, and none raises.
        """
        target = self._file(key)
        if os.path.exists(target):
            return False
        folder = os.path.dirname(target)
        os.makedirs(folder, exist_ok=True)
        temporary = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, name kept
            dir=folder, prefix=".put-", suffix=".tmp", delete=False
        )
        try:
            with temporary:
                temporary.write(data)
                temporary.flush()
                os.fsync(temporary.fileno())
            created = _link_no_clobber(temporary.name, target)
            if created:
                _fsync_folder(folder)  # so the new name itself survives a power cut
            return created
        finally:
            # After a successful link this only drops the temporary name; the file stays.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary.name)

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
