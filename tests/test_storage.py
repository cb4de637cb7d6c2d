"""Photo storage (compliance.storage): content-addressed keys, atomic no-clobber writes.

Plain unit tests on a temporary folder; no app, no database.
"""

import hashlib
import multiprocessing
import os
import subprocess
import sys
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
