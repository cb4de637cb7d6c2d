"""The shipped systemd units: valid, stopping the whole cgroup, and their command line serves.

systemd cannot run inside the test, so its part is read (and checked by ``systemd-analyze
verify`` where it exists); gunicorn's part is run: the unit's own command line, handed a socket
the way systemd hands it over (LISTEN_FDS), must serve the app.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICE = ROOT / "deploy" / "soukcheck.service"
SOCKET = ROOT / "deploy" / "soukcheck.socket"
INSTALLED_VENV = "/srv/soukcheck/app/.venv"


def settings(path: Path) -> dict[str, str]:
    """``Key=value`` lines of a unit file (each key appears once in ours)."""
    found = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            assert key not in found, f"{key} set twice in {path.name}"
            found[key] = value
    return found


def test_the_service_stops_every_process_of_its_cgroup():
    service = settings(SERVICE)
    # Orphaned workers of a killed master are killed before any restart, never left serving.
    assert service["KillMode"] == "control-group"
    assert service["Restart"] == "always" and service["SendSIGKILL"] == "yes"
    assert service["Requires"] == "soukcheck.socket" and service["Type"] == "notify"
    assert settings(SOCKET)["ListenStream"] == "127.0.0.1:8000"
    readme = (ROOT / "README.md").read_text()
    assert "deploy/soukcheck.service" in readme and "KillMode=control-group" in readme


def test_systemd_accepts_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    # CI (.ci/run sets SOUKCHECK_REQUIRE_BROWSER) runs on Debian with systemd's tools; a
    # developer's machine without them still has the reading test above.
    if analyze is None:
        assert not (os.environ.get("CI") or os.environ.get("SOUKCHECK_REQUIRE_BROWSER")), (
            "systemd-analyze not found: apt-get install systemd"
        )
        return
    venv = Path(sys.executable).parent.parent
    for unit in (SERVICE, SOCKET):
        text = unit.read_text().replace(INSTALLED_VENV, str(venv))
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / SERVICE.name), str(tmp_path / SOCKET.name)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "soukcheck" in line  # lines about other units of this machine are not ours
    ]
    assert result.returncode == 0 and problems == [], result.stdout + result.stderr


def test_the_services_command_line_serves_on_the_socket_systemd_hands_over(tmp_path):
    command = shlex.split(settings(SERVICE)["ExecStart"])
    assert command[0] == f"{INSTALLED_VENV}/bin/gunicorn" and "--bind" not in command
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
        "UPLOAD_DIR": str(tmp_path / "photos"),
        "LISTEN_FDS": "1",
        "XDG_RUNTIME_DIR": str(tmp_path),  # gunicorn's control socket: ours alone
    }
    env.pop("SOUKCHECK_ENV", None)
    # As systemd does: the socket as descriptor 3, LISTEN_PID naming gunicorn's own process
    # (known only after the fork, so a small launcher sets both and execs gunicorn in its place).
    launcher = (
        "import os, sys; os.dup2(int(sys.argv[1]), 3); os.environ['LISTEN_PID'] = str(os.getpid());"
        " os.execv(sys.executable, [sys.executable, '-m', 'gunicorn', *sys.argv[2:]])"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", launcher, str(listener.fileno()), *command[1:], "--workers", "1"],
        cwd=ROOT,
        env=env,
        pass_fds=(listener.fileno(),),
        stderr=(tmp_path / "gunicorn.log").open("wb"),
        start_new_session=True,
    )
    try:
        # Sent before gunicorn is up: waits in the socket's backlog, as systemd's would.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=180) as response:
            assert response.status == 200
            assert b'name="username"' in response.read()
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        listener.close()
