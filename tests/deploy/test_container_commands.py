"""What the containers run, run here as plain processes (issue 17): the image's CMD, word for
word but for the port, serving a real domain's settings; and the compose healthcheck's own
command passing against it although ALLOWED_HOSTS names only the public host."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.security.live import free_port, server_env

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def _image_cmd() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    (cmd,) = re.findall(r"^CMD (\[.*\])$", text, flags=re.MULTILINE)
    return json.loads(cmd)


def test_the_image_cmd_serves_and_the_compose_healthcheck_passes(tmp_path):
    port = free_port()
    command = [
        str(ROOT / ".venv/bin/gunicorn") if word == "gunicorn" else word for word in _image_cmd()
    ]
    command[command.index("0.0.0.0:8000")] = f"127.0.0.1:{port}"
    env = server_env(
        PUBLIC_URL="https://auth.example.com",
        ALLOWED_HOSTS="auth.example.com",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        LOG_FORMAT="json",
        WEB_CONCURRENCY="2",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
    )
    log = tmp_path / "web.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        check = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"][
            "healthcheck"
        ]["test"]
        assert check[0] == "CMD"
        check = [word.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for word in check[1:]]
        check[0] = str(ROOT / ".venv/bin/python")
        deadline = time.monotonic() + 30
        while subprocess.run(check, capture_output=True).returncode != 0:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)

        url = f"http://127.0.0.1:{port}"
        # The public host over https (as the proxy forwards it) is served; over http redirected.
        https = {"Host": "auth.example.com", "X-Forwarded-Proto": "https"}
        page = requests.get(url + "/accounts/login/", headers=https, timeout=10)
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"
        )
        plain = requests.get(
            url + "/accounts/login/",
            headers={"Host": "auth.example.com"},
            timeout=10,
            allow_redirects=False,
        )
        assert plain.status_code == 301
        assert plain.headers["Location"] == "https://auth.example.com/accounts/login/"
        assert requests.get(url + "/readyz", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=25)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any("Booting worker" in entry["message"] for entry in lines)
    assert not any("control socket" in entry["message"].lower() for entry in lines)
