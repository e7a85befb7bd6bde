#!/usr/bin/env bash
# cluster-demo (`make cluster-demo`): the production profile end to end on this machine.
# Starts PostgreSQL, Redis, the offline sites, the Airflow api-server, scheduler, dag-processor
# and two Celery workers on 127.0.0.1 (scripts/cluster-up.sh), runs the nightly DAG over every
# day the offline sites cover, prints where the crawls ran and what reached the lake, and stops
# everything it started by PID (scripts/cluster-down.sh), also on failure or Ctrl-C.
# Writes $QUXIAN_CLUSTER_DIR/result.json (the run's figures) for tests.
set -euo pipefail
CHECKOUT=$(cd "$(dirname "$0")/.." && pwd)
export QUXIAN_CLUSTER_DIR=${QUXIAN_CLUSTER_DIR:-$CHECKOUT/data/cluster}
WORK=$QUXIAN_CLUSTER_DIR
FROM=${QUXIAN_DEMO_FROM:-2025-11-13}
TO=${QUXIAN_DEMO_TO:-2025-11-15}
started=$(date +%s)

trap '"$CHECKOUT/scripts/cluster-down.sh"' EXIT
"$CHECKOUT/scripts/cluster-up.sh"
echo "cluster-demo: triggering quxian_nightly for $FROM .. $TO"
rc=0
"$CHECKOUT/scripts/cluster-run.sh" "cluster-demo" "$FROM" "$TO" '[]' "${QUXIAN_DEMO_TIMEOUT:-1200}" \
  >"$WORK/result.json" || rc=$?
echo "cluster-demo: result $(cat "$WORK/result.json")"
summary=$WORK/data/runs/${FROM}_${TO}/summary.json
if [[ -f $summary ]]; then
  "$CHECKOUT/.venv/bin/python" -c 'import json, sys; from quxian.steps import format_summary; print(format_summary(json.load(open(sys.argv[1]))))' "$summary"
fi
echo "cluster-demo: done in $(( $(date +%s) - started )) s (exit $rc); logs in $WORK/logs"
exit "$rc"
