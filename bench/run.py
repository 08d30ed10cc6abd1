"""`make bench`: our server side by side with django-oauth-toolkit 3.4 and the bare-Django floor.

Same machine, same PostgreSQL, same gunicorn configuration (bench/gunicorn.conf.py), one run.
wrk drives each server at a fixed concurrency for a fixed duration, after a warm-up; rounds are
interleaved (A, B, C, then B, C, A, ...) so drift on the machine hits every server alike, and the
report gives the median of the rounds and the ratios between servers.

Single-use credentials (codes for W2, refresh tokens for W3) are minted right before each run,
sized from the warm-up's rate; a run that had to reuse one is flagged, never silently counted.

    python bench/run.py [--duration S] [--rounds N] [--warmup S] [--only W1,W2,...] [--quick]

Results: bench/results/latest.json and bench/results/latest.md (the table docs/benchmarks.md
quotes). Needs PostgreSQL and Redis on loopback (scripts/ensure-services.sh starts them).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from listnames import NameIndex, varied_queries

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / "work"
RESULTS = BENCH / "results"
PEER_VENV = BENCH / ".venv-peer"
PEER_DIR = BENCH / "peers" / "dot"
FLOOR_DIR = BENCH / "peers" / "floor"
OUR_PY = ROOT / ".venv" / "bin" / "python"
PEER_PY = PEER_VENV / "bin" / "python"
LUA = BENCH / "wrk" / "requests.lua"

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
OUR_DB = os.environ.get("BENCH_DB", "oauth_bench")
PEER_DB = OUR_DB + "_dot"
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "8"))
CONCURRENCY = 8
# A round counts when no worker holds more of the connections than this (5 of 8 on 2 workers).
MAX_CONNECTIONS_PER_WORKER = CONCURRENCY - 3
# A round whose connections landed unevenly on the workers is run again, at most this often.
MAX_ATTEMPTS = 4
WRK_THREADS = 2
REDIRECT_URI = "http://127.0.0.1:8765/callback"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- machine and tools -----------------------------------------------------------------------


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    log("installing wrk from Debian")
    if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True).returncode:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)


def ensure_peer_venv() -> None:
    requirements = PEER_DIR / "requirements.txt"
    stamp = PEER_VENV / (".installed-" + hashlib.sha256(requirements.read_bytes()).hexdigest()[:12])
    if stamp.exists():
        return
    log("building the peer's virtualenv (django-oauth-toolkit) in bench/.venv-peer")
    if not PEER_PY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run(
        [
            str(PEER_PY),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(requirements),
        ],
        check=True,
    )
    for old in PEER_VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def machine() -> dict[str, object]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    pg = subprocess.run(
        ["psql", f"{PG}/postgres", "-tAc", "SHOW server_version"], capture_output=True, text=True
    ).stdout.strip()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg,
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "",
    }


def free_port(start: int) -> int:
    port = start
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
        port += 1


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", "-q", f"{PG}/{db}", "-c", sql], check=True, capture_output=True)


# --- the three servers -----------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    python: Path
    cwd: Path
    app: str
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, *args: str, check: bool = True) -> dict:
        """Run a helper script (ours.py / seed.py) in this server's environment; its last stdout
        line is JSON."""
        script = BENCH / "ours.py" if self.name == "ours" else PEER_DIR / "seed.py"
        done = subprocess.run(
            [str(self.python), str(script), *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if check and done.returncode:
            raise RuntimeError(f"{self.name} {args[0]} failed:\n{done.stdout}\n{done.stderr}")
        lines = done.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}

    def start(self) -> None:
        self.log_path = WORK / f"{self.name}.log"
        gunicorn = self.python.parent / "gunicorn"
        self.proc = subprocess.Popen(
            [str(gunicorn), "-c", str(BENCH / "gunicorn.conf.py"), self.app],
            cwd=self.cwd,
            env={**self.env, "BENCH_BIND": f"127.0.0.1:{self.port}"},
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url + "/", timeout=1)
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start; see {self.log_path}")

    def workers(self) -> list[int]:
        if self.proc is None:
            return []
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        return pids

    def peak_rss_mib(self) -> list[float]:
        peaks = []
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(round(int(line.split()[1]) / 1024, 1))
        return sorted(peaks)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def make_servers() -> dict[str, Server]:
    ours_port = free_port(8101)
    dot_port = free_port(ours_port + 1)
    floor_port = free_port(dot_port + 1)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BENCH_"))}
    base_env["BENCH_WORK"] = str(WORK)
    ours_env = {
        **base_env,
        "DEBUG": "false",
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
        "DATABASE_URL": f"{PG}/{OUR_DB}",
        "DB_CONN_MAX_AGE": "60",
        "PUBLIC_URL": f"http://127.0.0.1:{ours_port}",
        "CACHE_URL": f"rediscache://127.0.0.1:6379/{REDIS_DB + 1}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "LOG_LEVEL": "WARNING",
        "ENV_FILE": str(WORK / "no.env"),
        # wrk sends everything from 127.0.0.1: the limiters still count every request in Redis
        # (their cost is measured) but with a ceiling no run reaches.
        "RATE_LIMIT_TOKEN": "1000000000/60",
        "RATE_LIMIT_INTROSPECT": "1000000000/60",
    }
    peer_env = {
        **base_env,
        "BENCH_DB_NAME": PEER_DB,
        "BENCH_PUBLIC_URL": f"http://127.0.0.1:{dot_port}",
        "DJANGO_SETTINGS_MODULE": "dotpeer.settings",
    }
    floor_env = {**base_env, "BENCH_DB_NAME": PEER_DB, "DJANGO_SETTINGS_MODULE": "floor.settings"}
    return {
        "ours": Server("ours", ours_port, OUR_PY, ROOT, "config.wsgi:application", ours_env),
        "dot": Server("dot", dot_port, PEER_PY, PEER_DIR, "dotpeer.wsgi:application", peer_env),
        "floor": Server(
            "floor", floor_port, OUR_PY, FLOOR_DIR, "floor.wsgi:application", floor_env
        ),
    }


# --- requests and wrk --------------------------------------------------------------------------


def raw_request(
    server: Server, method: str, path: str, headers: dict[str, str], body: str = ""
) -> str:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body.encode())}")
    return "\x01".join(lines) + "\x01\x01" + body


def write_requests(name: str, requests: list[str]) -> Path:
    path = WORK / f"{name}.req"
    path.write_text("\n".join(requests) + "\n")
    return path


def wrk(server: Server, requests: Path, seconds: float) -> dict:
    proc = subprocess.Popen(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{CONCURRENCY}",
            f"-d{seconds:g}s",  # wrk refuses "2.0s"
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            server.url + "/",
        ],
        env={**os.environ, "BENCH_REQUESTS": str(requests), "BENCH_THREADS": str(WRK_THREADS)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(min(1.0, seconds / 3))
    split, workers = connections_per_worker(server), len(server.workers())
    stdout, stderr = proc.communicate()
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result = json.loads(line[len("BENCH_JSON ") :])
            result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
            result["connections_per_worker"] = split
            result["balanced"] = balanced(split, workers)
            return result
    raise RuntimeError(f"wrk failed: {stdout}\n{stderr}")


def connections_per_worker(server: Server) -> list[int]:
    """How the load generator's connections sit on the server's workers, most loaded first.

    With keep-alive each connection stays on the worker that accepted it for the whole round,
    and a worker is one process holding one GIL: a round in which one worker got six or more
    of the eight measures one core, not the configuration (the floor ran at half speed then).
    """
    done = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{server.port} )"],
        capture_output=True,
        text=True,
    )
    counts: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", done.stdout):
        counts[pid] = counts.get(pid, 0) + 1
    return sorted(counts.values(), reverse=True)


def balanced(split: list[int], workers: int) -> bool:
    """Every worker has work and none holds more than MAX_CONNECTIONS_PER_WORKER."""
    return len(split) == workers and split[0] <= MAX_CONNECTIONS_PER_WORKER


def http(method: str, url: str, headers: dict[str, str], body: str = "") -> tuple[int, str]:
    request = urllib.request.Request(
        url, method=method, headers=headers, data=body.encode() or None
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def form(**fields: str) -> str:
    return urllib.parse.urlencode(fields)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Target:
    """One server's side of a workload: how to get N requests, and what a good answer is."""

    server: Server
    build: object  # (n) -> list of (request line, check request tuple)
    single_use: bool = False
    expect: int = 200


@dataclass
class Workload:
    key: str
    title: str
    targets: list[Target]
    runs: dict[str, list[dict]] = field(default_factory=dict)
    note: str = ""
    skipped: dict[str, str] = field(default_factory=dict)
    # The first requests each server answered for this workload (its warm-up run).
    warmups: dict[str, dict] = field(default_factory=dict)


def run_workload(wl: Workload, args: argparse.Namespace) -> None:
    log(f"{wl.key}: {wl.title}")
    live = []
    for target in wl.targets:
        name = target.server.name
        probe = target.build(1)
        status, body = http(*probe[0][1])
        if status != target.expect:
            wl.skipped[name] = f"sanity request answered {status}: {body[:160]!r}"
            log(f"  {name}: NOT MEASURED ({wl.skipped[name]})")
            continue
        live.append(target)
    if not live:
        return
    rates: dict[str, float] = {}
    for target in live:
        reqs = target.build(int(2000 if target.single_use else 1000))
        path = write_requests(f"{wl.key}-{target.server.name}-warmup", [r for r, _ in reqs])
        warmup = wrk(target.server, path, args.warmup)
        rates[target.server.name] = warmup["rps"]
        wl.warmups[target.server.name] = warmup
    for rnd in range(args.rounds):
        order = live[rnd % len(live) :] + live[: rnd % len(live)]
        for target in order:
            name = target.server.name
            n = 1000
            if target.single_use:
                n = int(max(rates[name], 50) * args.duration * 1.6) + 500
            for attempt in range(1, MAX_ATTEMPTS + 1):
                reqs = target.build(n)
                path = write_requests(f"{wl.key}-{name}", [r for r, _ in reqs])
                result = wrk(target.server, path, args.duration)
                result["attempt"] = attempt
                if result["balanced"]:
                    break
                log(
                    f"  round {rnd + 1} {name}: connections per worker "
                    f"{result['connections_per_worker']}, not counted; again"
                )
            else:
                result["flag"] = "connections unbalanced on every attempt"
            result["loadavg_1m"] = os.getloadavg()[0]
            if target.single_use and result["wrapped"]:
                result["flag"] = "ran out of single-use requests: some were sent twice"
            rates[name] = max(rates[name], result["rps"])
            wl.runs.setdefault(name, []).append(result)
            log(
                f"  round {rnd + 1} {name:5s} {result['rps']:8.1f} req/s  "
                f"p50 {result['p50_us'] / 1000:6.2f} ms  p95 {result['p95_us'] / 1000:6.2f} ms  "
                f"non-2xx {result['non2xx']}"
            )


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


# --- workloads ---------------------------------------------------------------------------------


def lines_of(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line]


class Requests:
    """Pre-rendered requests for wrk, and the single-use credentials they carry (minted by each
    server's own seeding script, one file per batch)."""

    def __init__(self) -> None:
        self.batches = 0
        self.access_pool: dict[str, list[str]] = {}

    def mint(self, server: Server, kind: str, n: int) -> list[str]:
        self.batches += 1
        out = WORK / f"{server.name}-{kind}-{self.batches}.txt"
        server.run(kind, str(n), str(out))
        return lines_of(out)

    def access_tokens(self, server: Server) -> list[str]:
        if server.name not in self.access_pool:
            self.access_pool[server.name] = self.mint(server, "access", 1000)
        return self.access_pool[server.name]

    @staticmethod
    def get(server: Server, path: str, headers: dict[str, str]) -> tuple[str, tuple]:
        return raw_request(server, "GET", path, headers), ("GET", server.url + path, headers)

    def bearer_get(self, server: Server, path: str, token: str) -> tuple[str, tuple]:
        return self.get(server, path, {"Authorization": f"Bearer {token}"})

    @staticmethod
    def post(
        server: Server, path: str, body: str, headers: dict | None = None
    ) -> tuple[str, tuple]:
        h = {**FORM, **(headers or {})}
        return raw_request(server, "POST", path, h, body), ("POST", server.url + path, h, body)


def w1_bearer(req: Requests, server: Server):
    if server.name == "floor":
        return lambda n: [req.bearer_get(server, "/api/me", "not-checked")]
    return lambda n: [req.bearer_get(server, "/api/me", t) for t in req.access_tokens(server)]


def w2_code_exchange(req: Requests, server: Server, path: str, client_id: str):
    def build(n: int):
        out = []
        for line in req.mint(server, "codes", n):
            code, verifier = line.split()
            body = form(
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
                redirect_uri=REDIRECT_URI,
                client_id=client_id,
            )
            out.append(req.post(server, path, body))
        return out

    return build


def w3_refresh(req: Requests, server: Server, path: str, client_id: str):
    def build(n: int):
        body = {"grant_type": "refresh_token", "client_id": client_id}
        return [
            req.post(server, path, form(**body, refresh_token=t))
            for t in req.mint(server, "refresh", n)
        ]

    return build


def w4_introspection(req: Requests, server: Server, path: str, auth: dict[str, str]):
    return lambda n: [
        req.post(server, path, form(token=t), auth) for t in req.access_tokens(server)
    ]


def w5_varied_list(req: Requests, server: Server, names: NameIndex, api_token: str):
    """The i-th batch this server is asked for is the i-th of one seeded sequence, so every
    server gets the same requests in the same round; no request repeats within a batch."""
    calls = [0]

    def build(n: int):
        calls[0] += 1
        return [
            req.bearer_get(server, "/api/me/oauth-tokens?" + urllib.parse.urlencode(q), api_token)
            for q in varied_queries(names, n, seed=calls[0])
        ]

    return build


def w6_consent_page(req: Requests, server: Server, ours_base: dict, orgs: int):
    challenge = base64.urlsafe_b64encode(hashlib.sha256(b"bench-verifier" * 4).digest())
    authorize = "/oauth/authorize?" + urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": ours_base["client_id"],
            "redirect_uri": REDIRECT_URI,
            "scope": ours_base["scope"],
            "state": "bench-state",
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )
    session = ours_base["sessions"][str(orgs)]
    cookie = {"Cookie": f"{ours_base['session_cookie_name']}={session}"}
    return lambda n: [req.get(server, authorize, cookie)]


def w5_workload(req: Requests, ours: Server, api_token: str, list_tokens: int) -> Workload:
    return Workload(
        "W5",
        "GET /api/me/oauth-tokens, varied filter, sort, direction and page",
        [Target(ours, w5_varied_list(req, ours, NameIndex(list_tokens), api_token), True)],
        note=f"{list_tokens} tokens; each request a different filter (prefix or infix of a "
        "token name), sort field, direction and page, none repeated within a round",
    )


def build_workloads(
    s: dict[str, Server], ours_base: dict, dot_base: dict, list_tokens: int
) -> list[Workload]:
    ours, dot, floor = s["ours"], s["dot"], s["floor"]
    req = Requests()
    client, dot_client = ours_base["client_id"], dot_base["client_id"]
    secret = f"{ours_base['confidential_client_id']}:{ours_base['confidential_client_secret']}"
    basic = {"Authorization": f"Basic {base64.b64encode(secret.encode()).decode()}"}
    dot_bearer = {"Authorization": f"Bearer {dot_base['introspect_bearer']}"}
    return [
        Workload(
            "W1",
            "bearer-authenticated GET /api/me",
            [Target(x, w1_bearer(req, x)) for x in (ours, dot, floor)],
        ),
        Workload(
            "W2",
            "authorization_code + PKCE exchange",
            [
                Target(ours, w2_code_exchange(req, ours, "/oauth/token", client), True),
                Target(dot, w2_code_exchange(req, dot, "/o/token/", dot_client), True),
            ],
        ),
        Workload(
            "W3",
            "refresh_token grant (rotation)",
            [
                Target(ours, w3_refresh(req, ours, "/oauth/token", client), True),
                Target(dot, w3_refresh(req, dot, "/o/token/", dot_client), True),
            ],
        ),
        Workload(
            "W4",
            "token introspection",
            [
                Target(ours, w4_introspection(req, ours, "/oauth/introspect", basic)),
                Target(dot, w4_introspection(req, dot, "/o/introspect/", dot_bearer)),
            ],
            note="ours: client_secret_basic; DOT: resource-server bearer (its cheaper path: "
            "DOT checks client secrets with PBKDF2)",
        ),
        w5_workload(req, ours, ours_base["list_api_token"], list_tokens),
        *[
            Workload(
                f"W6-{n}",
                f"consent page, user in {n} organization(s)",
                [Target(ours, w6_consent_page(req, ours, ours_base, n))],
            )
            for n in (1, 10, 100)
        ],
    ]


# --- report ------------------------------------------------------------------------------------


def summarize(workloads: list[Workload]) -> list[dict]:
    rows = []
    for wl in workloads:
        row: dict[str, object] = {
            "key": wl.key,
            "title": wl.title,
            "note": wl.note,
            "skipped": wl.skipped,
            "servers": {},
        }
        for name, runs in wl.runs.items():
            row["servers"][name] = {
                "rps": median_of(runs, "rps"),
                "p50_ms": median_of(runs, "p50_us") / 1000,
                "p95_ms": median_of(runs, "p95_us") / 1000,
                "p99_ms": median_of(runs, "p99_us") / 1000,
                "rounds_rps": [r["rps"] for r in runs],
                "non2xx": sum(r["non2xx"] for r in runs),
                "flags": sorted({r["flag"] for r in runs if "flag" in r}),
                "loadavg_1m": [round(r["loadavg_1m"], 2) for r in runs],
                "connections_per_worker": [r["connections_per_worker"] for r in runs],
                "attempts": [r["attempt"] for r in runs],
                "rounds_p95_ms": [r["p95_us"] / 1000 for r in runs],
            }
            warmup = wl.warmups.get(name)
            if warmup:
                row["servers"][name]["warmup_p50_p95_ms"] = [
                    warmup["p50_us"] / 1000,
                    warmup["p95_us"] / 1000,
                ]
        srv = row["servers"]
        if "ours" in srv and "dot" in srv:
            row["ours_vs_dot"] = round(srv["ours"]["rps"] / srv["dot"]["rps"], 2)
        if "ours" in srv and "floor" in srv:
            row["ours_vs_floor"] = round(srv["ours"]["rps"] / srv["floor"]["rps"], 3)
        if "dot" in srv and "floor" in srv:
            row["dot_vs_floor"] = round(srv["dot"]["rps"] / srv["floor"]["rps"], 3)
        rows.append(row)
    return rows


TABLE_HEAD = [
    "| Workload | ours req/s | DOT req/s | floor req/s | ours/DOT | ours/floor "
    "| ours p50 / p95 ms | DOT p50 / p95 ms |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
]


def table_row(row: dict) -> str:
    srv = row["servers"]

    def rate(name: str) -> str:
        return f"{srv[name]['rps']:.0f}" if name in srv else "–"

    def lat(name: str) -> str:
        return f"{srv[name]['p50_ms']:.2f} / {srv[name]['p95_ms']:.2f}" if name in srv else "–"

    title = f"{row['key']} {row['title']}"
    if row["skipped"]:
        skipped = "; ".join(f"{k}: {v[:60]}" for k, v in row["skipped"].items())
        title += f" (not measured: {skipped})"
    flags = sorted({f for s in srv.values() for f in s["flags"]})
    if flags:
        title += " ⚠ " + ", ".join(flags)
    return (
        f"| {title} | {rate('ours')} | {rate('dot')} | {rate('floor')} | "
        f"{row.get('ours_vs_dot', '–')} | {row.get('ours_vs_floor', '–')} | {lat('ours')} "
        f"| {lat('dot')} |"
    )


def markdown_notes(report: dict) -> list[str]:
    """What follows the table: warm-ups, re-run rounds, queries, W7, memory, revocation."""
    out = []
    for row in report["workloads"]:
        for name, srv in row["servers"].items():
            if row["key"] == "W5" and "warmup_p50_p95_ms" in srv:
                p50, p95 = srv["warmup_p50_p95_ms"]
                out.append(
                    f"W5 {name}, first requests (warm-up): p50 / p95 {p50:.2f} / {p95:.2f} ms."
                )
    reruns = sum(
        a - 1 for row in report["workloads"] for s in row["servers"].values() for a in s["attempts"]
    )
    out.append(
        f"Rounds run again because one worker held more than {MAX_CONNECTIONS_PER_WORKER} of the "
        f"{CONCURRENCY} connections: {reruns} (the split of every counted round is in the JSON)."
    )
    queries = report.get("queries", {})
    if queries:
        counts = ", ".join(
            f"{k.upper()} {v['queries']} (HTTP {v['status']})"
            for k, v in queries.items()
            if isinstance(v, dict)
        )
        out.append(f"Queries per request: {counts}.")
    if report.get("w7"):
        w7 = report["w7"]
        out.append(
            f"W7 purge of {w7.get('pending_before', '?')} pending tokens: {w7.get('seconds')} s, "
            f"longest transaction {w7.get('longest_transaction_s')} s "
            f"(pending after: {w7.get('pending_after')}, authorized kept: "
            f"{w7.get('authorized_after')}/{w7.get('authorized_before')})."
        )
    if report.get("rss"):
        rss = "; ".join(f"{k} {v}" for k, v in report["rss"].items())
        out.append(f"Peak RSS per worker (MiB): {rss}.")
    if report.get("revocation_check"):
        out.append(f"Revocation check: {report['revocation_check']}")
    return out


def markdown(report: dict) -> str:
    m, args = report["machine"], report["args"]
    out = [
        f"Run {report['started']}: {m['nproc']} × {m['cpu']}, {m['memory_gib']} GiB, "
        f"PostgreSQL {m['postgresql']}, Python {m['python']}, {m['wrk']}.",
        f"wrk -t{WRK_THREADS} -c{CONCURRENCY}, {args['rounds']} interleaved rounds of "
        f"{args['duration']} s after a {args['warmup']} s warm-up; medians. "
        f"Load average (1 min) seen at the rounds: {report.get('loadavg_range', '?')}.",
        "",
        *TABLE_HEAD,
        *(table_row(row) for row in report["workloads"]),
    ]
    for note in markdown_notes(report):
        out += ["", note]
    return "\n".join(out) + "\n"


# --- main --------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--only", default="", help="comma-separated workload keys, e.g. W1,W2,W7")
    parser.add_argument(
        "--quick", action="store_true", help="2 rounds of 4 s, 100 000 pending for W7"
    )
    parser.add_argument("--pending", type=int, default=1_000_000)
    parser.add_argument("--list-tokens", type=int, default=100_000)
    args = parser.parse_args()
    if args.quick:
        args.duration, args.rounds, args.warmup, args.pending = 4, 2, 2, 100_000
    args.only = {k.strip().upper() for k in args.only.split(",") if k.strip()}
    return args


def wanted(args: argparse.Namespace, key: str) -> bool:
    only = args.only
    return not only or key.upper() in only or key.split("-")[0].upper().rstrip("AB") in only


def prepare_databases(servers: dict[str, Server], args: argparse.Namespace) -> tuple[dict, dict]:
    """Recreate, migrate and seed both databases; our side's and the peer's seeding output."""
    log(f"databases {OUR_DB} and {PEER_DB}: recreate and migrate")
    for db in (OUR_DB, PEER_DB):
        psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        psql(f'CREATE DATABASE "{db}"')
    ours, dot = servers["ours"], servers["dot"]
    subprocess.run([str(OUR_PY), "manage.py", "migrate", "-v0"], cwd=ROOT, env=ours.env, check=True)
    subprocess.run(
        [str(PEER_PY), "manage.py", "migrate", "-v0"], cwd=PEER_DIR, env=dot.env, check=True
    )
    log("seeding: users, clients, organizations (1/10/100), the W5 user's tokens")
    ours_base = ours.run("base")
    ours.run("list-tokens", str(args.list_tokens))
    ours_base.update(ours.run("list-api-token"))
    dot_base = dot.run("base")
    # Bulk-loaded tables have no statistics until autovacuum gets to them; a real database
    # has them, and without them the planner misjudges W5's filters (docs/benchmarks.md).
    for db in (OUR_DB, PEER_DB):
        psql("VACUUM ANALYZE", db=db)
    return ours_base, dot_base


def run_servers(servers: dict[str, Server], args: argparse.Namespace, report: dict) -> None:
    """Start the servers, run every wanted workload against them, stop them."""
    ours_base, dot_base = prepare_databases(servers, args)
    ours = servers["ours"]
    try:
        for server in servers.values():
            server.start()
        log("servers: " + ", ".join(f"{s.name} {s.url}" for s in servers.values()))
        workloads = build_workloads(servers, ours_base, dot_base, args.list_tokens)
        workloads = [w for w in workloads if wanted(args, w.key)]
        for wl in workloads:
            run_workload(wl, args)
        report["workloads"] = summarize(workloads)
        loads = [r["loadavg_1m"] for wl in workloads for runs in wl.runs.values() for r in runs]
        if loads:
            report["loadavg_range"] = f"{min(loads):.2f}–{max(loads):.2f}"
        if any(wanted(args, key) for key in ("W1", "W5", "W6")):
            report["queries"] = ours.run("queries", check=False)
        if wanted(args, "W1"):
            report["revocation_check"] = revocation_check(ours)
        report["rss"] = {name: s.peak_rss_mib() for name, s in servers.items()}
    finally:
        for server in servers.values():
            server.stop()


def run_purge(ours: Server, args: argparse.Namespace) -> dict:
    log(f"W7: seeding {args.pending} stale pending tokens (with their codes)")
    ours.run("pending", str(args.pending))
    psql("VACUUM ANALYZE", db=OUR_DB)
    log("W7: purge")
    result = ours.run("purge", check=False) or {"error": "purge service not available"}
    log(f"  {result}")
    return result


def main() -> int:
    args = parse_args()
    WORK.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure-services.sh")], check=True)
    ensure_wrk()
    ensure_peer_venv()
    report: dict[str, object] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        "args": {
            "duration": args.duration,
            "rounds": args.rounds,
            "warmup": args.warmup,
            "concurrency": CONCURRENCY,
            "wrk_threads": WRK_THREADS,
            "list_tokens": args.list_tokens,
            "pending": args.pending,
        },
    }
    servers = make_servers()
    run_servers(servers, args, report)
    if wanted(args, "W7"):
        report["w7"] = run_purge(servers["ours"], args)
    # A partial run (--only) never overwrites the full run's figures.
    stem = "latest" if not args.only else "latest-" + "-".join(sorted(args.only)).lower()
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (RESULTS / f"{stem}.md").write_text(text)
    print()
    print(text)
    return 0


def revocation_check(ours: Server) -> str:
    """Deactivate a token that has just been used, then use it again: it must fail at once."""
    result = ours.run("revocation-check", ours.url, check=False)
    return result.get("verdict", "not run")


if __name__ == "__main__":
    sys.exit(main())
