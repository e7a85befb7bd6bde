#!/usr/bin/env bash
# cluster-up: the production profile on one machine, every server on 127.0.0.1 only.
#
# Starts PostgreSQL (Airflow's metadata database), Redis (Celery broker and the cluster-wide
# politeness/lake locks), the offline outlet sites, and Airflow 3 with the CeleryExecutor: the
# api-server (which also serves the Task SDK execution API the workers call), the scheduler, the
# dag-processor and N Celery workers. Every PID goes to $QUXIAN_CLUSTER_DIR/pids/<name>.pid and
# `cluster-down.sh` stops exactly those process groups. Nothing binds 0.0.0.0: the log servers
# of the scheduler and workers (which would) are skipped, task logs are read from the shared
# AIRFLOW_HOME of this machine (on many machines: remote logging, see docs/deployment.md).
#
# Settings (environment): QUXIAN_CLUSTER_DIR (default <checkout>/data/cluster, wiped first),
# QUXIAN_CLUSTER_WORKERS (2), QUXIAN_CLUSTER_CONCURRENCY (task slots per worker, 1),
# QUXIAN_CLUSTER_CRAWL_SLOTS (pool quxian_crawl, 8), QUXIAN_REGISTRY and QUXIAN_SITES_CONTENT
# (a generated registry and story folder, for scale runs), QUXIAN_PYCACHE (bytecode cache, default
# ~/.cache/quxian/pycache). Writes $QUXIAN_CLUSTER_DIR/env.sh: source it to talk to the cluster
# (`airflow dags list`, psql).
set -euo pipefail

CHECKOUT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$CHECKOUT/.venv/bin
WORK=${QUXIAN_CLUSTER_DIR:-$CHECKOUT/data/cluster}
WORKERS=${QUXIAN_CLUSTER_WORKERS:-2}
CONCURRENCY=${QUXIAN_CLUSTER_CONCURRENCY:-1}
CRAWL_SLOTS=${QUXIAN_CLUSTER_CRAWL_SLOTS:-8}
PYCACHE=${QUXIAN_PYCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quxian/pycache}

say() { printf 'cluster-up: %s\n' "$*"; }
die() { printf 'cluster-up: FAILED: %s\n' "$*" >&2; exit 1; }

if [[ -e $WORK/pids ]] && compgen -G "$WORK/pids/*.pid" >/dev/null; then
  die "$WORK/pids holds PIDs of a running cluster: run scripts/cluster-down.sh first"
fi

# Debian's packages; installed when missing (CI machines start without them).
"$CHECKOUT/scripts/install-system-deps.sh" cluster >/dev/null || die "PostgreSQL and Redis are missing (see above)"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

rm -rf "$WORK"
mkdir -p "$WORK"/{logs,pids,airflow/config,data}
free_port() { "$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PG_PORT=$(free_port); REDIS_PORT=$(free_port); API_PORT=$(free_port)
SECRET=$("$BIN/python" -c 'import secrets; print(secrets.token_hex(16))')

# start NAME CMD...: a new session (so the process and its children form one group) whose PID
# is recorded; cluster-down.sh signals that group and nothing else.
start() {
  local name=$1; shift
  setsid "$@" >"$WORK/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$WORK/pids/$name.pid"
  echo "$name" >>"$WORK/pids/order"
}
wait_for() {  # wait_for WHAT SECONDS CMD...: until CMD succeeds; fails early if WHAT (a started name) died
  local what=$1 secs=$2; shift 2
  for _ in $(seq "$((secs * 5))"); do
    "$@" >/dev/null 2>&1 && return 0
    if [[ -f $WORK/pids/$what.pid ]] && ! kill -0 "$(cat "$WORK/pids/$what.pid")" 2>/dev/null; then
      die "$what exited (see $WORK/logs/$what.log)"
    fi
    sleep 0.2
  done
  die "$what not ready after ${secs}s (logs in $WORK/logs)"
}

# PostgreSQL refuses to run as root: as root, run it as the postgres user.
AS_PG=()
if [[ $(id -u) == 0 ]]; then AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups); fi
# The data directory lives under /tmp: the postgres user must reach it, and $WORK may sit in a
# root-only directory (pytest's tmp_path is). cluster-down.sh removes it.
PGROOT=$(mktemp -d /tmp/quxian-pg.XXXXXX)
echo "$PGROOT" >"$WORK/pgroot"
PGDATA=$PGROOT/data
mkdir -p "$PGDATA"; printf '%s\n' "$SECRET" >"$PGROOT/pw"
if [[ $(id -u) == 0 ]]; then chown -R postgres: "$PGROOT"; fi
chmod 700 "$PGDATA"; chmod 600 "$PGROOT/pw"
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$PGDATA" -U airflow --pwfile="$PGROOT/pw" -E UTF8 \
  --auth-host=scram-sha-256 --auth-local=peer >"$WORK/logs/initdb.log" 2>&1 || die "initdb (see $WORK/logs/initdb.log)"
start postgres "${AS_PG[@]}" "$PG_BIN/postgres" -D "$PGDATA" -p "$PG_PORT" \
  -c listen_addresses=127.0.0.1 -c unix_socket_directories="$PGDATA" -c max_connections=200
wait_for postgres 60 "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"
PGPASSWORD=$SECRET "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U airflow airflow
say "PostgreSQL on 127.0.0.1:$PG_PORT (pid $(cat "$WORK/pids/postgres.pid"))"

start redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --requirepass "$SECRET" \
  --save '' --appendonly no --daemonize no --dir "$WORK"
wait_for redis 30 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -a "$SECRET" --no-auth-warning ping
say "Redis on 127.0.0.1:$REDIS_PORT (pid $(cat "$WORK/pids/redis.pid"))"

SITES_ARGS=()
if [[ -n ${QUXIAN_SITES_CONTENT:-} ]]; then SITES_ARGS=(--content "$QUXIAN_SITES_CONTENT"); fi
start sites "$BIN/python" -m quxian.sites.server --port 0 "${SITES_ARGS[@]}"
wait_for sites 300 grep -q 'http://127.0.0.1:' "$WORK/logs/sites.log"
SITES_URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/logs/sites.log" | head -1)
say "offline sites on $SITES_URL (pid $(cat "$WORK/pids/sites.pid"))"

DB="postgresql+psycopg2://airflow:$SECRET@127.0.0.1:$PG_PORT/airflow"
cat >"$WORK/env.sh" <<ENV
# Source this file to talk to the cluster started by cluster-up.sh (it holds local secrets).
export AIRFLOW_HOME=$WORK/airflow
export AIRFLOW__CORE__DAGS_FOLDER=$CHECKOUT/dags
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__EXECUTOR=CeleryExecutor
export AIRFLOW__CORE__PARALLELISM=$((WORKERS * CONCURRENCY + 4))
export AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT=120
export AIRFLOW__CORE__HOSTNAME_CALLABLE=quxian.cluster.worker_hostname
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:$API_PORT/execution/
# The default 5 s is too short for a first call to a busy api-server (measured: a task lost its
# first try to a read timeout on 2 loaded cores); retries stay at the default 5.
export AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT=30
# The task supervisor sometimes notices its task's exit only at its next wake-up, which is this
# many seconds (default 5): measured, 4 of 25 tasks of a night held their worker slot 5 s after
# they had ended. At 1 s a task costs at most 1 s more, for one heartbeat a second per running task.
export AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL=${QUXIAN_CLUSTER_HEARTBEAT:-1}
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=$DB
export AIRFLOW__CELERY__BROKER_URL=redis://:$SECRET@127.0.0.1:$REDIS_PORT/0
export AIRFLOW__CELERY__RESULT_BACKEND=db+postgresql+psycopg2://airflow:$SECRET@127.0.0.1:$PG_PORT/airflow
export AIRFLOW__CELERY__WORKER_CONCURRENCY=$CONCURRENCY
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API__PORT=$API_PORT
export AIRFLOW__API__BASE_URL=http://127.0.0.1:$API_PORT
export AIRFLOW__API_AUTH__JWT_SECRET=$SECRET
export AIRFLOW__LOGGING__BASE_LOG_FOLDER=$WORK/airflow/logs
export AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK=False
# Runs are triggered (demo, benchmarks), never made by the cron: an unpaused nightly DAG would
# otherwise start today's 02:00 run at once, over a day the offline sites do not cover.
export AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE=${QUXIAN_CLUSTER_CRON:-False}
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
export QUXIAN_DATA=$WORK/data
export QUXIAN_OFFLINE_URL=$SITES_URL
export QUXIAN_LOCK_URL=redis://:$SECRET@127.0.0.1:$REDIS_PORT/1
export QUXIAN_CLUSTER_DIR=$WORK
export QUXIAN_CLUSTER_PSQL="$PG_BIN/psql postgresql://airflow:$SECRET@127.0.0.1:$PG_PORT/airflow"
# Every task and every crawl batch is a fresh Python process (or a fork that imports the steps):
# without bytecode each one compiles Airflow, Scrapy and pyarrow's Python from source (measured:
# 1.5 s of CPU per Scrapy start, 0.75 s with it). Where writing it beside the sources is off
# (PYTHONDONTWRITEBYTECODE, a read-only install) it goes to a cache of its own.
export PYTHONPYCACHEPREFIX=$PYCACHE
unset PYTHONDONTWRITEBYTECODE
ENV
if [[ -n ${QUXIAN_REGISTRY:-} ]]; then echo "export QUXIAN_REGISTRY=$QUXIAN_REGISTRY" >>"$WORK/env.sh"; fi
chmod 600 "$WORK/env.sh"
# shellcheck disable=SC1091
source "$WORK/env.sh"
# The cluster policy (an Airflow mechanism, not the DAG file) puts crawls into the crawl pool.
echo 'from quxian.cluster import task_policy  # noqa: F401' >"$AIRFLOW_HOME/config/airflow_local_settings.py"

cd "$CHECKOUT"
# Fill the bytecode cache once (about a minute the first time, a second when it is up to date),
# so that no component or task of the cluster pays for compiling.
"$BIN/python" -m compileall -q -j 0 "$("$BIN/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
  quxian spiders transforms dags >"$WORK/logs/compileall.log" 2>&1 || say "compileall: some files did not compile (see $WORK/logs/compileall.log)"
say "bytecode cache $PYCACHE up to date"
"$BIN/airflow" db migrate >"$WORK/logs/migrate.log" 2>&1 || die "airflow db migrate (see $WORK/logs/migrate.log)"
"$BIN/airflow" pools set quxian_crawl "$CRAWL_SLOTS" "crawls at once, cluster-wide" >>"$WORK/logs/migrate.log" 2>&1
say "Airflow metadata database migrated; pool quxian_crawl = $CRAWL_SLOTS slots"

start api-server "$BIN/airflow" api-server --host 127.0.0.1 --port "$API_PORT" --workers 1
start scheduler "$BIN/airflow" scheduler --skip-serve-logs
start dag-processor "$BIN/airflow" dag-processor
for i in $(seq "$WORKERS"); do
  start "worker$i" env QUXIAN_WORKER_NAME="worker$i" "$BIN/airflow" celery worker \
    --celery-hostname "worker$i@%h" --concurrency "$CONCURRENCY" --skip-serve-logs --without-mingle --without-gossip
done
wait_for api-server 180 "$BIN/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$API_PORT/api/v2/monitor/health', timeout=2)"
# The execution API (what workers call) is built on its first request: measured 8 s of CPU, which
# the first task of the first night would otherwise wait for. Warm it before saying ready.
wait_for api-server 120 "$BIN/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$API_PORT/execution/health/ping', timeout=60)"
say "api-server on 127.0.0.1:$API_PORT; scheduler, dag-processor and $WORKERS Celery workers (concurrency $CONCURRENCY) started"
wait_for dag-processor 300 bash -c "$QUXIAN_CLUSTER_PSQL -tAc \"SELECT 1 FROM dag WHERE dag_id = 'quxian_nightly'\" | grep -q 1"
for i in $(seq "$WORKERS"); do
  wait_for "worker$i" 180 grep -q 'ready' "$WORK/logs/worker$i.log"
done

for name in $(cat "$WORK/pids/order"); do
  kill -0 "$(cat "$WORK/pids/$name.pid")" 2>/dev/null || die "$name exited (see $WORK/logs/$name.log)"
done
say "ready: source $WORK/env.sh"
