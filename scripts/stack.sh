# shellcheck shell=bash
# A production-like stack on one machine, sourced by ./dev (it uses say, PY, VENV, apt_install):
#   ./dev stack        PostgreSQL and Redis from Debian's packages with their own data under
#                      var/stack/, migrations, catalogue, schedules and demo data, gunicorn
#                      (portal/site/gunicorn_conf.py), two Celery workers and beat, production
#                      settings (DEBUG off; PLAIN_HTTP=1 only because it binds 127.0.0.1)
#   ./dev stack reload a deploy: gunicorn's workers replaced one by one with the code now in
#                      the checkout (scripts/rolling_restart.py), no request refused
#   ./dev stack stop   stop what ./dev stack started, in reverse order
# Idempotent: what already runs is left running. Every wait is bounded. Everything it writes
# (data, pid files, logs, the generated settings in var/stack/env) is under var/stack/.

STACK=var/stack
STACK_ENV="$STACK/env"
STACK_PG_PORT="${STACK_PG_PORT:-5433}"
STACK_REDIS_PORT="${STACK_REDIS_PORT:-6380}"
STACK_WEB_PORT="${STACK_WEB_PORT:-8100}"
# Loopback only: secure cookies and the HTTPS redirect are relaxed (PLAIN_HTTP=1) for it alone.
STACK_HOST=127.0.0.1
STACK_CELERY_WORKERS=(worker1 worker2)

pg_bin() {
  local version
  version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$version" ] || { say "installing Debian's postgresql"; apt_install postgresql; version=$(ls /usr/lib/postgresql | sort -V | tail -n 1); }
  echo "/usr/lib/postgresql/$version/bin"
}

# PostgreSQL refuses to run as root: as root, its commands run as the postgres user, who
# then owns its directories and log.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_owns() {
  if [ "$(id -u)" = 0 ]; then chown postgres "$@"; fi
}

# wait_for SECONDS DESCRIPTION COMMAND...: retry COMMAND every 0.2 s until it succeeds.
wait_for() {
  local seconds=$1 what=$2 tries
  shift 2
  tries=$((seconds * 5))
  for _ in $(seq 1 "$tries"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "$what did not come up within ${seconds}s; see the logs in $STACK/" >&2
  return 1
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stack_settings() {
  # Generated once, kept across restarts (sessions and encrypted ID numbers need the same key).
  if [ ! -f "$STACK_ENV" ]; then
    mkdir -p "$STACK"
    local secret password
    secret=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
    password=$("$PY" -c 'import secrets; print(secrets.token_hex(16))')
    (
      umask 077
      cat >"$STACK_ENV" <<EOF
SECRET_KEY=$secret
STACK_PG_PASSWORD=$password
DATABASE_URL=postgres://benefits:$password@127.0.0.1:$STACK_PG_PORT/benefits
REDIS_URL=redis://127.0.0.1:$STACK_REDIS_PORT/0
CACHE_URL=rediscache://127.0.0.1:$STACK_REDIS_PORT/1
EOF
    )
  fi
  set -a
  # shellcheck disable=SC1090
  . "$STACK_ENV"
  set +a
  export DEBUG=0 PLAIN_HTTP=1 LOG_FORMAT="${LOG_FORMAT:-json}" CONN_MAX_AGE=60
  export ALLOWED_HOSTS="127.0.0.1,localhost"
  export PRIVATE_MEDIA_ROOT="$PWD/$STACK/private"
  export GUNICORN_BIND="$STACK_HOST:$STACK_WEB_PORT"
  export GUNICORN_READY_DIR="$PWD/$STACK/gunicorn-ready"
}

stack_postgres() {
  local bin data="$STACK/postgres" run="$STACK/run"
  bin=$(pg_bin)
  mkdir -p "$run"
  pg_owns "$run"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "initialising PostgreSQL in $data"
    mkdir -p "$data"
    pg_owns "$data"
    local pwfile="$run/pw"
    (umask 077; echo "$STACK_PG_PASSWORD" >"$pwfile")
    pg_owns "$pwfile"
    as_pg "$bin/initdb" -D "$data" -U benefits --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 >"$STACK/initdb.log"
    rm -f "$pwfile"
  fi
  if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "PostgreSQL already runs on 127.0.0.1:$STACK_PG_PORT"
  else
    say "starting PostgreSQL on 127.0.0.1:$STACK_PG_PORT (log $STACK/postgres.log)"
    touch "$STACK/postgres.log"
    pg_owns "$STACK/postgres.log"
    as_pg "$bin/pg_ctl" -D "$data" -l "$STACK/postgres.log" -w -t 30 start \
      -o "-p $STACK_PG_PORT -c listen_addresses=127.0.0.1 -k $PWD/$run" >/dev/null
  fi
  PGPASSWORD="$STACK_PG_PASSWORD" "$bin/psql" -h 127.0.0.1 -p "$STACK_PG_PORT" -U benefits \
    -d postgres -qtAc "SELECT 1 FROM pg_database WHERE datname = 'benefits'" | grep -q 1 ||
    PGPASSWORD="$STACK_PG_PASSWORD" "$bin/createdb" -h 127.0.0.1 -p "$STACK_PG_PORT" -U benefits benefits
}

stack_redis() {
  if redis-cli -p "$STACK_REDIS_PORT" ping >/dev/null 2>&1; then
    say "Redis already answers on 127.0.0.1:$STACK_REDIS_PORT"
    return 0
  fi
  command -v redis-server >/dev/null 2>&1 || { say "installing Debian's redis-server"; apt_install redis-server; }
  say "starting Redis on 127.0.0.1:$STACK_REDIS_PORT (append-only file in $STACK/redis/)"
  mkdir -p "$STACK/redis"
  redis-server --bind 127.0.0.1 --port "$STACK_REDIS_PORT" --daemonize yes --appendonly yes \
    --save "" --dir "$PWD/$STACK/redis" --logfile "$PWD/$STACK/redis.log" \
    --pidfile "$PWD/$STACK/redis.pid"
  wait_for 10 "Redis" redis-cli -p "$STACK_REDIS_PORT" ping
}

stack_data() {
  say "migrating, loading the catalogue, schedules and demo policies"
  "$PY" manage.py migrate --no-input -v0
  "$PY" manage.py load_catalogue >"$STACK/load_catalogue.log"
  "$PY" manage.py setup_schedules >/dev/null
  "$PY" manage.py collectstatic --no-input -v0
  # To this terminal only: it holds a fresh vendor token.
  "$PY" manage.py load_demo | sed 's/^/    /'
}

stack_web() {
  if pid_alive "$STACK/gunicorn.pid"; then
    say "gunicorn already runs (pid $(cat "$STACK/gunicorn.pid"))"
  else
    say "starting gunicorn on http://$GUNICORN_BIND (logs $STACK/gunicorn*.log)"
    GUNICORN_ACCESS_LOG="$STACK/gunicorn-access.log" GUNICORN_ERROR_LOG="$STACK/gunicorn.log" \
      setsid "$VENV/bin/gunicorn" -c portal/site/gunicorn_conf.py --pid "$STACK/gunicorn.pid" \
      portal.site.wsgi:application </dev/null >>"$STACK/gunicorn.log" 2>&1 &
  fi
  wait_for 30 "gunicorn" curl -fsS "http://$GUNICORN_BIND/readyz"
}

stack_celery() {
  local name
  for name in "${STACK_CELERY_WORKERS[@]}"; do
    if pid_alive "$STACK/celery-$name.pid"; then
      say "Celery $name already runs"
      continue
    fi
    say "starting Celery $name (log $STACK/celery-$name.log)"
    "$VENV/bin/celery" -A portal worker --detach -n "$name@%h" --concurrency=2 \
      --pidfile="$PWD/$STACK/celery-$name.pid" --logfile="$PWD/$STACK/celery-$name.log" -l INFO
  done
  if pid_alive "$STACK/celery-beat.pid"; then
    say "Celery beat already runs"
  else
    say "starting Celery beat (log $STACK/celery-beat.log)"
    "$VENV/bin/celery" -A portal beat --detach --pidfile="$PWD/$STACK/celery-beat.pid" \
      --logfile="$PWD/$STACK/celery-beat.log" -l INFO
  fi
  for name in "${STACK_CELERY_WORKERS[@]}"; do
    wait_for 30 "Celery $name" "$VENV/bin/celery" -A portal inspect ping --timeout 2 -d "$name@$(hostname)"
  done
}

cmd_stack_up() {
  stack_settings
  stack_postgres
  stack_redis
  stack_data
  stack_web
  stack_celery
  cat <<EOF

  The production-like stack runs (DEBUG off, JSON logs, PostgreSQL and Redis of its own):
    Web (gunicorn):   http://$GUNICORN_BIND/   readiness: http://$GUNICORN_BIND/readyz
    PostgreSQL:       127.0.0.1:$STACK_PG_PORT, database benefits (settings in $STACK_ENV)
    Redis:            127.0.0.1:$STACK_REDIS_PORT (broker db 0, cache db 1)
    Celery:           ${STACK_CELERY_WORKERS[*]} and beat; logs and pid files in $STACK/
    Admin user:       set -a; . $STACK_ENV; set +a; $PY manage.py createsuperuser
  Load test: ./dev loadtest 60      Stop: ./dev stack stop

EOF
}

# stop_pid FILE NAME SECONDS: TERM the process (graceful), KILL it after SECONDS.
stop_pid() {
  local file=$1 name=$2 seconds=$3 pid
  pid_alive "$file" || { rm -f "$file"; return 0; }
  pid=$(cat "$file")
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((seconds * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$name did not stop within ${seconds}s: killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

cmd_stack_stop() {
  local name
  stop_pid "$STACK/gunicorn.pid" "gunicorn" 35
  stop_pid "$STACK/celery-beat.pid" "Celery beat" 10
  for name in "${STACK_CELERY_WORKERS[@]}"; do
    stop_pid "$STACK/celery-$name.pid" "Celery $name" 30
  done
  stop_pid "$STACK/redis.pid" "Redis" 10
  if [ -f "$STACK/postgres/postmaster.pid" ]; then
    say "stopping PostgreSQL"
    as_pg "$(pg_bin)/pg_ctl" -D "$STACK/postgres" -m fast -w -t 30 stop >/dev/null || true
  fi
  say "the stack is stopped (data kept in $STACK/; rm -rf $STACK to start afresh)"
}

cmd_stack_reload() {
  pid_alive "$STACK/gunicorn.pid" || { echo "gunicorn does not run: ./dev stack" >&2; return 1; }
  stack_settings
  say "replacing gunicorn's workers one by one"
  "$PY" scripts/rolling_restart.py "$(cat "$STACK/gunicorn.pid")" "$GUNICORN_READY_DIR"
}

cmd_stack() {
  case "${1:-up}" in
    up | start) cmd_stack_up ;;
    reload) cmd_stack_reload ;;
    stop | down) cmd_stack_stop ;;
    *) echo "usage: ./dev stack [reload | stop]" >&2; return 2 ;;
  esac
}
