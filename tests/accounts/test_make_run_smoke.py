"""`make run`'s server script starts web, worker and beat on SQLite and serves the login page."""

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.live
def test_run_script_serves_login_and_admin_then_stops_on_sigint(tmp_path):
    port = _free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "PORT": str(port),
        "ENV_FILE": str(tmp_path / "env"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}",
    }
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()

    def wait_for(text: str, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if any(text in line for line in list(lines)):
                return True
            time.sleep(0.3)
        return False

    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline:
            try:
                status = requests.get(
                    f"http://127.0.0.1:{port}/accounts/login/", timeout=20
                ).status_code
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        assert status == 200
        admin = requests.get(f"http://127.0.0.1:{port}/admin/", timeout=20, allow_redirects=True)
        assert admin.status_code == 200 and "Django administration" in admin.text
        assert wait_for(" ready.", deadline), "the Celery worker did not start"
        assert wait_for("beat: Starting", deadline), "Celery beat did not start"
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    output = "".join(lines)
    assert "demo@example.com / " in output
    assert f"Serving http://127.0.0.1:{port}" in output
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
