#!/usr/bin/env bash
# Finds the Redis and PostgreSQL servers the tests share, or starts private ones.
#
# Prints the environment to use (REDIS_URL, KMS_TEST_POSTGRES_URL) as shell
# assignments. A server already answering on the standard loopback port is used
# as it is; otherwise, when the binaries are installed, one is started with its
# data in the user's cache directory (never in the source tree) and left running
# for the next `make test`.
set -euo pipefail
run="${XDG_CACHE_HOME:-$HOME/.cache}/kmsless/run"
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/0}
pg_url=${KMS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -z "${REDIS_URL:-}" ] && ! port_open 6379; then
  if command -v redis-server >/dev/null; then
    mkdir -p "$run/redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir "$run/redis" --logfile "$run/redis/redis.log" >&2
    for _ in $(seq 50); do port_open 6379 && break; sleep 0.1; done
  else
    echo "services: no Redis on 127.0.0.1:6379 and no redis-server installed (apt-get install redis-server)" >&2
    exit 1
  fi
fi

if [ -z "${KMS_TEST_POSTGRES_URL:-}" ] && ! port_open 5432; then
  bindir=$(dirname "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | tail -1 || true)")
  if [ -x "$bindir/initdb" ]; then
    data="$run/postgres"
    owner=$(id -un)
    if [ "$(id -u)" = 0 ]; then owner=postgres; fi
    if [ ! -f "$data/PG_VERSION" ]; then
      mkdir -p "$data" && chown "$owner" "$data" "$run"
      runuser_() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
      runuser_ "$bindir/initdb" -D "$data" -U postgres --auth=trust >/dev/null
    fi
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- "$bindir/pg_ctl" -D "$data" -l "$data/log" -o "-k $data -p 5432 -h 127.0.0.1" -w start >&2
    else
      "$bindir/pg_ctl" -D "$data" -l "$data/log" -o "-k $data -p 5432 -h 127.0.0.1" -w start >&2
    fi
    "$bindir/psql" -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 ||
      "$bindir/createdb" -h 127.0.0.1 -U postgres test
  else
    echo "services: no PostgreSQL on 127.0.0.1:5432 and no initdb installed (apt-get install postgresql)" >&2
    exit 1
  fi
fi

echo "export REDIS_URL='$redis_url'"
echo "export KMS_TEST_POSTGRES_URL='$pg_url'"
