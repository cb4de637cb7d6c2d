"""Photo storage (compliance.storage): content-addressed keys, atomic no-clobber writes.

Plain unit tests on a temporary folder; no app, no database.
"""

import hashlib
import multiprocessing
import os
import stat
import subprocess
import sys
import tempfile
import threading

import pytest

from compliance import storage
from compliance.storage import LocalStorage, Storage, photo_key, storage_from_config

SHA = hashlib.sha256(b"a photo").hexdigest()
KEY = photo_key(SHA, "display")


def leftovers(root) -> list[str]:
    """Temporary files left anywhere under root."""
    return [name for _, _, names in os.walk(root) for name in names if name.startswith(".put-")]


def test_photo_key_spreads_by_hash_prefix():
    assert photo_key(SHA, "display") == f"{SHA[:2]}/{SHA[2:4]}/{SHA}-display.jpg"
    assert photo_key(SHA, "thumb") == f"{SHA[:2]}/{SHA[2:4]}/{SHA}-thumb.jpg"


@pytest.mark.parametrize(
    "sha",
    ["", SHA[:63], SHA + "0", SHA.upper(), "../" + SHA[3:], "g" * 64, SHA[:62] + "/x", None],
)
def test_photo_key_refuses_anything_but_a_sha256(sha):
    with pytest.raises(ValueError):
        photo_key(sha, "display")


@pytest.mark.parametrize("rendition", ["original", "", "../display", "DISPLAY"])
def test_photo_key_refuses_unknown_renditions(rendition):
    with pytest.raises(ValueError):
        photo_key(SHA, rendition)


def test_put_then_open_returns_the_bytes(tmp_path):
    store = LocalStorage(tmp_path)

    assert store.put(KEY, b"jpeg bytes") is True

    assert store.exists(KEY)
    with store.open(KEY) as stored:
        assert stored.read() == b"jpeg bytes"
    assert (tmp_path / KEY).read_bytes() == b"jpeg bytes"


def test_put_twice_returns_false_and_keeps_one_file(tmp_path):
    store = LocalStorage(tmp_path)

    assert store.put(KEY, b"first") is True
    assert store.put(KEY, b"second") is False

    assert (tmp_path / KEY).read_bytes() == b"first"  # never rewritten
    assert os.listdir(tmp_path / KEY.rsplit("/", 1)[0]) == [KEY.rsplit("/", 1)[1]]


def test_path_is_the_local_file(tmp_path):
    store = LocalStorage(tmp_path)
    store.put(KEY, b"jpeg bytes")

    assert store.path(KEY) == str(tmp_path / KEY)


def test_missing_key_has_no_path_and_cannot_be_opened(tmp_path):
    store = LocalStorage(tmp_path)

    assert not store.exists(KEY)
    assert store.path(KEY) is None
    with pytest.raises(KeyError):
        store.open(KEY)


def test_a_folder_is_not_a_stored_file(tmp_path):
    store = LocalStorage(tmp_path)
    store.put(KEY, b"jpeg bytes")
    folder = KEY.rsplit("/", 1)[0]

    assert not store.exists(folder)
    with pytest.raises(KeyError):
        store.open(folder)


@pytest.mark.parametrize(
    "key",
    [
        "../outside.jpg",
        "ab/../../outside.jpg",
        "ab/cd/..",
        "/etc/passwd",
        "ab\\..\\outside.jpg",
        "ab//cd.jpg",
        "./ab.jpg",
        "",
        "ab/cd\x00.jpg",
        "C:/outside.jpg",
    ],
)
def test_path_traversal_is_refused(tmp_path, key):
    store = LocalStorage(tmp_path / "uploads")

    for operation in (store.exists, store.path, store.open):
        with pytest.raises(ValueError):
            operation(key)
    with pytest.raises(ValueError):
        store.put(key, b"x")
    assert not (tmp_path / "outside.jpg").exists()


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    store = LocalStorage(tmp_path)

    def disk_full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.os, "fsync", disk_full)
    with pytest.raises(OSError):
        store.put(KEY, b"jpeg bytes")

    assert not store.exists(KEY)
    assert leftovers(tmp_path) == []


def test_readers_never_see_a_partial_file(tmp_path):
    store = LocalStorage(tmp_path)
    data = os.urandom(4 * 1024 * 1024)
    keys = [photo_key(hashlib.sha256(bytes([n])).hexdigest(), "display") for n in range(20)]
    seen_partial = []
    done = threading.Event()

    def read_while_writing():
        while not done.is_set():
            for key in keys:
                try:
                    with store.open(key) as stored:
                        content = stored.read()
                except KeyError:
                    continue
                if content != data:
                    seen_partial.append(key)

    reader = threading.Thread(target=read_while_writing)
    reader.start()
    try:
        for key in keys:
            store.put(key, data)
    finally:
        done.set()
        reader.join()

    assert seen_partial == []


def test_concurrent_puts_from_threads_leave_one_intact_file(tmp_path):
    store = LocalStorage(tmp_path)
    data = os.urandom(1024 * 1024)
    start = threading.Barrier(8)
    results = []

    def put():
        start.wait()
        results.append(store.put(KEY, data))

    threads = [threading.Thread(target=put) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False] * 7 + [True]
    assert (tmp_path / KEY).read_bytes() == data
    assert leftovers(tmp_path) == []


def _put_from_process(root, data, start, results):
    start.wait()
    results.put(LocalStorage(root).put(KEY, data))


def test_concurrent_puts_from_processes_leave_one_intact_file(tmp_path):
    # Several app server processes receiving the same retried upload at once.
    context = multiprocessing.get_context("fork")
    data = os.urandom(2 * 1024 * 1024)
    start, results = context.Barrier(6), context.Queue()
    workers = [
        context.Process(target=_put_from_process, args=(str(tmp_path), data, start, results))
        for _ in range(6)
    ]
    for worker in workers:
        worker.start()
    outcomes = sorted(results.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)

    assert all(worker.exitcode == 0 for worker in workers)
    assert outcomes == [False] * 5 + [True]
    assert (tmp_path / KEY).read_bytes() == data
    assert leftovers(tmp_path) == []


def test_storage_from_config_gives_a_local_store(tmp_path):
    store = storage_from_config(str(tmp_path))

    assert isinstance(store, Storage)
    assert store.put(KEY, b"x") is True
    assert (tmp_path / KEY).exists()


def test_module_works_without_flask():
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('storage', {storage.__file__!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert 'flask' not in sys.modules, 'storage imported flask'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


# --- durability: what a crash or a power cut leaves behind ------------------------------------


def test_put_flushes_the_bytes_then_the_name_then_returns(tmp_path, monkeypatch):
    """The row written after put() must never point at bytes a power cut can take back."""
    store = LocalStorage(tmp_path / "uploads")
    events = []
    real_fsync, real_link, real_open = os.fsync, os.link, os.open
    folders = {}

    def tracking_open(path, flags, *args, **kwargs):
        descriptor = real_open(path, flags, *args, **kwargs)
        folders[descriptor] = os.path.relpath(path, tmp_path / "uploads")
        return descriptor

    def tracking_fsync(descriptor):
        is_file = stat.S_ISREG(os.fstat(descriptor).st_mode)
        events.append(("fsync", "data" if is_file else folders[descriptor]))
        real_fsync(descriptor)

    def tracking_link(source, target):
        events.append(("link", os.path.relpath(target, tmp_path / "uploads")))
        real_link(source, target)

    monkeypatch.setattr(storage.os, "open", tracking_open)
    monkeypatch.setattr(storage.os, "fsync", tracking_fsync)
    monkeypatch.setattr(storage.os, "link", tracking_link)

    store.put(KEY, b"jpeg bytes")

    first, second, _name = KEY.split("/")
    data_synced = events.index(("fsync", "data"))
    linked = events.index(("link", KEY))
    assert data_synced < linked
    # The folder holding the new name is flushed after the link, before put() returns...
    assert events[-1] == ("fsync", f"{first}/{second}")
    # ...and so is every folder that gained a new sub-folder on the way.
    for parent in (".", first):
        assert ("fsync", parent) in events[:linked]


def test_put_keeps_its_temporary_file_in_the_staging_folder(tmp_path, monkeypatch):
    store = LocalStorage(tmp_path)
    seen = []
    real_link = os.link

    def spy(source, target):
        seen.append(os.path.relpath(source, tmp_path))
        real_link(source, target)

    monkeypatch.setattr(storage.os, "link", spy)
    store.put(KEY, b"jpeg bytes")

    [temporary] = seen
    assert temporary.startswith(f"{storage.STAGING}/.put-") and temporary.endswith(".tmp")
    assert os.listdir(tmp_path / storage.STAGING) == []


CRASH_POINTS = ["write", "fsync", "link", "folder"]


def _put_then_die(root, point):
    """In a child process: put() and SIGKILL ourselves at ``point``, as a crash would."""
    import signal

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    real_fsync, real_link, real_temporary = os.fsync, os.link, tempfile.NamedTemporaryFile

    def half_written(*args, **kwargs):  # "write": killed with half the bytes in the file
        handle = real_temporary(*args, **kwargs)
        handle.write(b"the whole")
        handle.flush()
        die()

    def before_data_synced(descriptor):  # "fsync": the bytes written, not yet on disk
        if stat.S_ISREG(os.fstat(descriptor).st_mode):
            die()
        real_fsync(descriptor)

    def linked_then_die(source, target):  # "folder": named, the folder not yet flushed
        real_link(source, target)
        die()

    if point == "write":
        storage.tempfile.NamedTemporaryFile = half_written
    elif point == "fsync":
        os.fsync = before_data_synced
    elif point == "link":
        os.link = die  # synced, not yet named
    elif point == "folder":
        os.link = linked_then_die
    LocalStorage(root).put(KEY, b"the whole photo")
    os._exit(3)  # not reached when the crash point is hit


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_process_killed_anywhere_in_put_leaves_the_whole_file_or_none(tmp_path, point):
    context = multiprocessing.get_context("fork")
    child = context.Process(target=_put_then_die, args=(str(tmp_path), point))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == -9, "the crash point was not reached"
    store = LocalStorage(tmp_path)

    # Named only once whole: before that, a retry finds nothing and sends again.
    assert store.exists(KEY) is (point == "folder")
    if store.exists(KEY):
        assert (tmp_path / KEY).read_bytes() == b"the whole photo"
    # The killed writer left its temporary file, outside the store's keys...
    left = leftovers(tmp_path)
    assert len(left) == 1 and list(store.stored_keys()) == ([KEY] if point == "folder" else [])
    # ...the retry completes the photo whatever the crash left...
    store.put(KEY, b"the whole photo")
    assert (tmp_path / KEY).read_bytes() == b"the whole photo"
    # ...and the sweep removes the leftover once it is old enough.
    assert store.sweep() == 0
    assert store.sweep(older_than=0) == 1
    assert leftovers(tmp_path) == []
    assert list(store.stored_keys()) == [KEY]


def test_sweep_removes_only_old_temporary_files(tmp_path):
    store = LocalStorage(tmp_path)
    store.put(KEY, b"kept")
    staging = tmp_path / storage.STAGING
    old, fresh = staging / ".put-old.tmp", staging / ".put-fresh.tmp"
    legacy = tmp_path / KEY.rsplit("/", 1)[0] / ".put-legacy.tmp"  # next to its target
    other = staging / "notes.txt"
    for path in (old, fresh, legacy, other):
        path.write_bytes(b"partial")
    hour_ago = os.stat(fresh).st_mtime - 3600
    for path in (old, legacy, other):
        os.utime(path, (hour_ago, hour_ago))

    # A write in progress on another server is younger than the limit: never touched.
    assert store.sweep(older_than=600) == 1
    assert not old.exists() and fresh.exists() and legacy.exists() and other.exists()
    assert store.sweep(older_than=600, everywhere=True) == 1
    assert not legacy.exists() and fresh.exists()
    assert (tmp_path / KEY).read_bytes() == b"kept"


def test_sweep_of_a_store_never_written_does_nothing(tmp_path):
    assert LocalStorage(tmp_path / "none").sweep(older_than=0, everywhere=True) == 0
    assert not (tmp_path / "none").exists()


def test_stored_keys_lists_files_not_temporaries(tmp_path):
    store = LocalStorage(tmp_path)
    other = photo_key(hashlib.sha256(b"other").hexdigest(), "thumb")
    store.put(KEY, b"a")
    store.put(other, b"b")
    (tmp_path / storage.STAGING / ".put-x.tmp").write_bytes(b"partial")
    (tmp_path / KEY.rsplit("/", 1)[0] / ".put-y.tmp").write_bytes(b"partial")

    assert sorted(store.stored_keys()) == sorted([KEY, other])


def test_parse_key_reads_only_our_own_keys():
    assert storage.parse_key(KEY) == (SHA, "display")
    assert storage.parse_key(photo_key(SHA, "thumb")) == (SHA, "thumb")
    assert storage.parse_key(f"00/00/{SHA}-display.jpg") is None  # folders off the hash
    assert storage.parse_key(f"{SHA}-display.jpg") is None
    assert storage.parse_key("notes.txt") is None
