#!/usr/bin/env bash
# make test needs real PostgreSQL and Redis on loopback. Start them if installed but stopped;
# if missing, say how to install them. Never fall back to mocks.
set -euo pipefail

pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_up() { [ "$(printf 'PING\r\n' | timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/6379; cat >&3; head -c 7 <&3' 2>/dev/null)" = "+PONG"$'\r' ]; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
    echo "PostgreSQL is stopped; starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  else
    echo "PostgreSQL is not installed. Install it with: apt-get install -y postgresql" >&2
    echo "(make test needs a server on 127.0.0.1:5432 with trust auth for postgres, or set TEST_DATABASE_URL)" >&2
    exit 1
  fi
fi
pg_up || { echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }

if ! redis_up; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "Redis is stopped; starting it"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 30); do redis_up && break; sleep 0.5; done
  else
    echo "Redis is not installed. Install it with: apt-get install -y redis-server" >&2
    exit 1
  fi
fi
redis_up || { echo "Redis did not come up on 127.0.0.1:6379" >&2; exit 1; }
echo "PostgreSQL and Redis are up"
