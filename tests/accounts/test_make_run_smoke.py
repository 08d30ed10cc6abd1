"""`make run`'s server script: an embedded PostgreSQL 18 that web, worker, beat, the Celery broker
and the rate-limit cache all share, environment variables that win over .env, and a clean stop."""

import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest
import requests
from celery import Celery

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_in(base: str, email: str, password: str) -> requests.Response:
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=20)
    return session.post(
        f"{base}/accounts/login/",
        data={
            "username": email,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=20,
        allow_redirects=False,
    )


@pytest.mark.live
def test_run_script_serves_everything_on_embedded_postgresql_then_stops_on_sigint(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env_file = tmp_path / "env"
    # A .env from an earlier start: the environment's DEMO_PASSWORD must win over it.
    env_file.write_text(
        "SECRET_KEY=smoke-test-secret-key-0123456789abcdefghijklmnop\n"
        "DEMO_PASSWORD=the-password-in-dotenv\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "PORT": str(port),
        "ENV_FILE": str(env_file),
        "RUN_DIR": str(tmp_path / "run"),
        "DEMO_PASSWORD": "the-password-from-the-environment",
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

    def wait_for(pattern: str, deadline: float) -> re.Match | None:
        while time.monotonic() < deadline:
            for line in list(lines):
                if match := re.search(pattern, line):
                    return match
            time.sleep(0.3)
        return None

    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = requests.get(f"{base}/accounts/login/", timeout=20).status_code
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        assert status == 200, "".join(lines)
        admin = requests.get(f"{base}/admin/", timeout=20, allow_redirects=True)
        assert (
            admin.status_code == 200
            and "OAuth Consent Server" in admin.text
            and "id_username" in admin.text
        )
        assert wait_for(r" ready\.", deadline), "the Celery worker did not start"
        assert wait_for(r"beat: Starting", deadline), "Celery beat did not start"

        # The web server's database is the embedded PostgreSQL 18 under RUN_DIR.
        url = wait_for(r"^DATABASE_URL=(\S+)", deadline).group(1)
        assert f"host={tmp_path / 'run' / 'postgres'}" in url
        with psycopg.connect(url, autocommit=True) as conn:
            major = conn.execute("SHOW server_version_num").fetchone()[0]
            assert int(major) // 10000 == 18
            demo = conn.execute(
                "SELECT count(*) FROM accounts_user WHERE email = 'demo@example.com'"
            ).fetchone()
            assert demo == (1,)

        # DEMO_PASSWORD from the environment, not the one in .env, logs the demo user in.
        assert _log_in(base, "demo@example.com", "the-password-in-dotenv").status_code == 200
        logged_in = _log_in(base, "demo@example.com", "the-password-from-the-environment")
        assert logged_in.status_code == 302 and logged_in.headers["Location"] == "/"

        # Rate limits count in the database cache, which every gunicorn worker shares.
        with psycopg.connect(url, autocommit=True) as conn:
            (cached,) = conn.execute("SELECT count(*) FROM django_cache").fetchone()
            assert cached >= 1

        # The worker consumes from the broker in that PostgreSQL (kombu's SQLAlchemy transport).
        # (An explicit connection: Celery would prefer the test run's CELERY_BROKER_URL.)
        broker = "sqla+postgresql+psycopg://" + url.split("://", 1)[1]
        app = Celery()
        with app.connection_for_write(broker) as connection:
            app.send_task("tokens.tasks.purge_pending_tokens", connection=connection)
        assert wait_for(r"Task tokens\.tasks\.purge_pending_tokens\[.*\] succeeded", deadline), (
            "the worker did not run a task sent through the PostgreSQL broker"
        )

        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    output = "".join(lines)
    assert "Starting the embedded PostgreSQL" in output
    assert "demo@example.com / the-password-from-the-environment" in output
    assert f"Serving {base}" in output
    assert "Stopped PostgreSQL" in output
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/accounts/login/", timeout=2)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
