"""What the image and compose file are made of (issue 17). No Docker engine runs here, so the
files are read and their rules checked; `docker compose config` (or docker-compose v1) validates
the compose file when a client is installed."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEV_TOOLS = {"pytest", "ruff", "playwright", "schemathesis", "hypothesis", "factory-boy", "mcp"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            package, sep, version = line.partition("==")
            assert sep, f"{name}: {line!r} is not pinned with =="
            pins[_norm(package)] = version
    return pins


def _stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile as stages of (instruction, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule, for the patterns used here: a path is excluded when it or
    one of its parent directories matches a pattern (`**/` matches any depth); `!` re-includes."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        variants = {pattern}
        if pattern.startswith("**/"):
            variants.add(pattern[3:])
        hit = any(
            fnmatch.fnmatchcase(candidate, variant)
            or fnmatch.fnmatchcase(candidate, "*/" + variant)
            if variant != pattern
            else fnmatch.fnmatchcase(candidate, variant)
            for candidate in candidates
            for variant in variants
        )
        if hit:
            excluded = not negate
    return excluded


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_runtime_lock_has_no_development_tool_and_dev_lock_has_the_rest():
    runtime, dev = _lock("requirements.lock"), _lock("requirements-dev.lock")
    assert not DEV_TOOLS & set(runtime)
    assert set(dev) >= DEV_TOOLS
    assert not set(runtime) & set(dev), "a package is pinned in both locks"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name, version = re.split(r"==", re.sub(r"\[.*\]", "", requirement))
        assert runtime.get(_norm(name)) == version, requirement
    for requirement in project["optional-dependencies"]["dev"]:
        name, version = requirement.split("==")
        assert dev.get(_norm(name)) == version, requirement


def test_makefile_installs_both_locks_and_its_stamp_hashes_both():
    makefile = (ROOT / "Makefile").read_text()
    assert "-r requirements.lock -r requirements-dev.lock" in makefile
    assert "LOCKS := requirements.lock requirements-dev.lock" in makefile
    assert "cat $(LOCKS) pyproject.toml | sha256sum" in makefile


def test_image_is_multi_stage_non_root_runtime_only_with_gunicorn_cmd():
    stages = _stages()
    assert len(stages) >= 2
    build, final = stages[0], stages[-1]
    runs = " ".join(arguments for instruction, arguments in build if instruction == "RUN")
    assert "pip --python /opt/venv/bin/python install -r requirements.lock" in runs
    assert "requirements-dev" not in (ROOT / "Dockerfile").read_text()
    assert "collectstatic --noinput" in runs  # static files are baked in at build time
    copies = [arguments for instruction, arguments in final if instruction == "COPY"]
    assert copies and all(arguments.startswith("--from=") for arguments in copies)
    users = [arguments for instruction, arguments in final if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    (cmd,) = [arguments for instruction, arguments in final if instruction == "CMD"]
    assert cmd.startswith('["gunicorn", "config.wsgi:application", "-c", "config/gunicorn.conf.py"')
    env = " ".join(arguments for instruction, arguments in final if instruction == "ENV")
    assert "LOG_FORMAT=json" in env
    assert "SECRET_KEY" not in env


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.production",
        ".venv/bin/python",
        ".git/HEAD",
        ".run/celery-broker.sqlite3",
        "db.sqlite3",
        "tests/interop/node_modules/@modelcontextprotocol/sdk/package.json",
        "node_modules/x/index.js",
        "staticfiles/css/app.css",
        "tests/conftest.py",
        "bench/run.py",
        "config/__pycache__/settings.cpython-311.pyc",
        ".pytest_cache/v/cache",
        "celerybeat-schedule",
    ],
)
def test_dockerignore_keeps_secrets_and_local_artefacts_out(path):
    assert _ignored(path, _dockerignore()), path


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "requirements.lock",
        "config/settings.py",
        "config/gunicorn.conf.py",
        "tokens/migrations/0001_initial.py",
        "templates/_base.html",
        "static/css/app.css",
    ],
)
def test_dockerignore_keeps_what_the_image_runs(path):
    assert not _ignored(path, _dockerignore()), path


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_migrate_once_before_web_worker_and_beat():
    services = _compose()["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    assert "migrate" in " ".join(services["migrate"]["command"])
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["postgres"] == {"condition": "service_healthy"}, name
        assert "migrate" not in str(services[name].get("command", "")), name
        assert services[name]["restart"] == "unless-stopped", name
        assert "healthcheck" in services[name], name
    for name in ("postgres", "redis"):
        assert services[name]["restart"] == "unless-stopped"
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "${WEB_REPLICAS" in str(services["web"]["deploy"]["replicas"])


def test_compose_takes_every_secret_from_env():
    text = (ROOT / "docker-compose.yml").read_text()
    services = _compose()["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    for name in ("migrate", "web", "worker", "beat"):
        assert services[name]["env_file"] == ".env"
        environment = services[name]["environment"]
        assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]
        assert "${REDIS_PASSWORD:?" in environment["CELERY_BROKER_URL"]
        assert "SECRET_KEY" not in environment
    for service in services.values():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|AUTH", key):
                assert str(value).startswith("${"), f"{key} is written in the file"
    assert "postgres:postgres@" not in text


def test_web_healthcheck_uses_healthz_which_ignores_the_host_header():
    web = _compose()["services"]["web"]
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
    assert "command" not in web  # the image's CMD: gunicorn with the production config


def test_docker_compose_config_is_valid(tmp_path):
    """Validated by the Compose client (no engine needed; scripts/ensure-test-tools.sh installs
    Debian's docker-compose when neither client is present)."""
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        command = ["docker", "compose"]
    else:
        assert shutil.which("docker-compose"), "no Compose client: run scripts/ensure-test-tools.sh"
        command = ["docker-compose"]
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text(
        "SECRET_KEY=k\nPOSTGRES_PASSWORD=pg-secret\nREDIS_PASSWORD=redis-secret\n"
    )
    result = subprocess.run(
        [*command, "-f", "docker-compose.yml", "config"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "postgres://oauth:pg-secret@postgres:5432/oauth_server" in result.stdout
    (tmp_path / ".env").write_text("SECRET_KEY=k\n")
    missing = subprocess.run(
        [*command, "-f", "docker-compose.yml", "config"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in missing.stderr
