#!/usr/bin/env bash
# cluster-run: trigger one run of quxian_nightly on the cluster of cluster-up.sh and wait for it.
#
#   scripts/cluster-run.sh RUN_ID DATE_FROM [DATE_TO [OUTLETS_JSON [TIMEOUT_S]]]
#
# Prints one JSON line: run_id, state, wall_s (queued → end), crawl_s (first crawl start → last
# crawl end), the crawl tasks per worker, and the failed task ids. Exits 0 on success, 1 on a
# failed run, 2 on timeout.
set -euo pipefail
CHECKOUT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${QUXIAN_CLUSTER_DIR:-$CHECKOUT/data/cluster}
# shellcheck disable=SC1091
source "$WORK/env.sh"
RUN_ID=$1; DATE_FROM=$2; DATE_TO=${3:-$2}; OUTLETS=${4:-[]}; TIMEOUT=${5:-1800}
sql() { $QUXIAN_CLUSTER_PSQL -tAqc "$1"; }

conf=$(printf '{"date_from": "%s", "date_to": "%s", "outlets": %s}' "$DATE_FROM" "$DATE_TO" "$OUTLETS")
cd "$CHECKOUT"
"$CHECKOUT/.venv/bin/airflow" dags trigger quxian_nightly --run-id "$RUN_ID" --conf "$conf" \
  >>"$WORK/logs/trigger.log" 2>&1 || { echo "cluster-run: trigger failed (see $WORK/logs/trigger.log)" >&2; exit 1; }

state=""
for _ in $(seq "$TIMEOUT"); do
  state=$(sql "SELECT state FROM dag_run WHERE dag_id = 'quxian_nightly' AND run_id = '$RUN_ID'")
  [[ $state == success || $state == failed ]] && break
  sleep 1
done
result=$(sql "
  SELECT json_build_object(
    'run_id', r.run_id, 'state', r.state,
    'wall_s', round(extract(epoch FROM r.end_date - r.queued_at)::numeric, 1),
    'crawl_s', (SELECT round(extract(epoch FROM max(end_date) - min(start_date))::numeric, 1)
                FROM task_instance WHERE run_id = r.run_id AND task_id = 'crawl'),
    'crawls', (SELECT count(*) FROM task_instance WHERE run_id = r.run_id AND task_id = 'crawl'),
    'crawl_pool', (SELECT min(pool) FROM task_instance WHERE run_id = r.run_id AND task_id = 'crawl'),
    'crawls_by_worker', (SELECT json_object_agg(h, n) FROM (SELECT split_part(hostname, '@', 1) AS h, count(*) AS n
                         FROM task_instance WHERE run_id = r.run_id AND task_id = 'crawl' GROUP BY 1) w),
    'failed', (SELECT coalesce(json_agg(task_id || coalesce('[' || map_index || ']', '')), '[]'::json)
               FROM task_instance WHERE run_id = r.run_id AND state NOT IN ('success', 'skipped')))
  FROM dag_run r WHERE r.dag_id = 'quxian_nightly' AND r.run_id = '$RUN_ID'")
echo "$result"
case $state in
  success) exit 0 ;;
  failed) exit 1 ;;
  *) echo "cluster-run: $RUN_ID still '$state' after ${TIMEOUT}s" >&2; exit 2 ;;
esac
