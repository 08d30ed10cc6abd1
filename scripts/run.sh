#!/usr/bin/env bash
# `make run`: SQLite and a SQLite-file Celery broker (no servers needed); web (gunicorn),
# Celery worker and Celery beat. Ctrl-C stops every process started here.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p .run
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
set -a; source "$ENV_FILE"; set +a
PORT="${PORT:-8000}"
export PUBLIC_URL="${PUBLIC_URL:-http://127.0.0.1:$PORT}"

$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput >/dev/null
$PY manage.py seed_demo

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

.venv/bin/celery -A config worker --loglevel=INFO --concurrency=1 --pool=solo &
pids+=($!)
.venv/bin/celery -A config beat --loglevel=INFO --schedule=.run/celerybeat-schedule &
pids+=($!)
.venv/bin/gunicorn config.wsgi:application -c config/gunicorn.conf.py --bind "127.0.0.1:$PORT" --workers 2 --access-logfile - &
pids+=($!)

echo
echo "Serving $PUBLIC_URL  (log in at $PUBLIC_URL/accounts/login/, admin at $PUBLIC_URL/admin/)"
echo "Press Ctrl-C to stop."
# Stop everything if any one process dies.
wait -n "${pids[@]}"
