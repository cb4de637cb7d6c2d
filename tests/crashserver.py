"""The app as gunicorn serves it, with crash points, for tests/test_crash_uploads.py.

Only that test loads this module (``gunicorn tests.crashserver:app``). It arms one crash at a
time by writing ``$CRASH_PLAN_DIR/plan.json``: ``{"id": n, "point": name, "hit": k, "scope":
"worker" | "server"}``. When a process reaches that point for the k-th time since the plan was
written, it records ``fired-n`` and SIGKILLs itself (``worker``: gunicorn's master starts
another) or its whole process group, master included (``server``: the test starts it again).
No cleanup of any kind runs, exactly as with a crash, the OOM killer or a power cut.

The points, in the order an upload meets them:

- ``store``: the photo checked and shrunk, nothing written;
- ``fsync-data``: a rendition's bytes written to a temporary file, not yet flushed;
- ``link``: flushed, not yet given its name;
- ``linked``: named, its folder not yet flushed;
- ``fsync-folder``: a folder about to be flushed (a new one, or the one holding a new name);
- ``commit``: the files durable, the row not committed;
- ``committed``: the row committed, the answer not sent.
"""

from __future__ import annotations

import json
import os
import signal
import stat

from sqlalchemy import event
from sqlalchemy.orm import Session

from compliance import create_app, inspections

PLAN = os.path.join(os.environ["CRASH_PLAN_DIR"], "plan.json")
_hits: dict[int, int] = {}


def crash_point(name: str) -> None:
    try:
        with open(PLAN) as file:
            plan = json.load(file)
    except FileNotFoundError:
        return
    if plan["point"] != name:
        return
    _hits[plan["id"]] = _hits.get(plan["id"], 0) + 1
    if _hits[plan["id"]] != plan["hit"]:
        return
    fired = os.path.join(os.path.dirname(PLAN), f"fired-{plan['id']}")
    try:  # once, whichever worker gets there first
        descriptor = os.open(fired, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(descriptor, f"{name} {plan['scope']}".encode())
    os.close(descriptor)
    if plan["scope"] == "server":
        os.killpg(os.getpgrp(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


_fsync, _link, _receive_photo = os.fsync, os.link, inspections.receive_photo


def _crashing_fsync(descriptor: int) -> None:
    is_folder = stat.S_ISDIR(os.fstat(descriptor).st_mode)
    crash_point("fsync-folder" if is_folder else "fsync-data")
    _fsync(descriptor)


def _crashing_link(source, target, *args, **kwargs) -> None:
    crash_point("link")
    _link(source, target, *args, **kwargs)
    crash_point("linked")


def _crashing_receive_photo(*args, **kwargs):
    crash_point("store")
    return _receive_photo(*args, **kwargs)


os.fsync = _crashing_fsync
os.link = _crashing_link
inspections.receive_photo = _crashing_receive_photo
event.listen(Session, "before_commit", lambda session: crash_point("commit"))
event.listen(Session, "after_commit", lambda session: crash_point("committed"))

app = create_app()
