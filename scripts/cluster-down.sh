#!/usr/bin/env bash
# cluster-down: stop what cluster-up.sh started, by the PIDs it recorded, newest first.
# Each PID leads its own process group (cluster-up starts every component with setsid), so the
# group's children (api-server workers, Celery pool processes, task processes) stop with it.
set -euo pipefail
CHECKOUT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${QUXIAN_CLUSTER_DIR:-$CHECKOUT/data/cluster}
[[ -f $WORK/pids/order ]] || { echo "cluster-down: nothing recorded in $WORK/pids"; exit 0; }

alive() { kill -0 -- "-$1" 2>/dev/null; }
for name in $(tac "$WORK/pids/order"); do
  pidfile=$WORK/pids/$name.pid
  [[ -f $pidfile ]] || continue
  pid=$(cat "$pidfile")
  if alive "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.2; done
    if alive "$pid"; then
      echo "cluster-down: $name (group $pid) still running after 20 s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
  fi
  echo "cluster-down: stopped $name (pid $pid)"
  rm -f "$pidfile"
done
rm -f "$WORK/pids/order"
# PostgreSQL's data directory (created by cluster-up.sh under /tmp), now that it is stopped.
if [[ -f $WORK/pgroot ]]; then
  pgroot=$(cat "$WORK/pgroot")
  case $pgroot in /tmp/quxian-pg.*) rm -rf "$pgroot" ;; esac
  rm -f "$WORK/pgroot"
fi
