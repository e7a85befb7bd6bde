"""The nightly DAG: crawl every outlet, then clean, dedupe and publish into the Parquet lake.

Wiring only: each task calls a step function of `quxian.steps` (imported inside the task, so
parsing this file costs no heavy import, network or database access). The crawl is mapped over
batches of outlets (`quxian.steps.crawl_batches`: one outlet per task for small runs, up to 16 for
hundreds of outlets, `QUXIAN_CRAWL_BATCH` to choose): each task is one Scrapy subprocess with one
crawler per outlet, and fails naming every outlet of its batch that failed.

Which dates a run covers: the `date_from`/`date_to` params when given (backfills, manual
reruns); otherwise the day before the run in Asia/Shanghai, from `logical_date`, or from
`run_after` when a manual trigger leaves `logical_date` empty. The 02:00 cron run of 11-15
therefore crawls 11-14. Offline runs: set QUXIAN_OFFLINE_URL for the Airflow processes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from airflow.sdk import Asset, CronTriggerTimetable, Param, TriggerRule, dag, task

from quxian.config import lake_uri

TZ = ZoneInfo("Asia/Shanghai")
# The lake's URI (QUXIAN_LAKE: a path, or s3://… and the like); reading it costs no I/O.
LAKE = lake_uri()
LAKE_URI = LAKE if "://" in LAKE else f"file://{LAKE}"
# Downstream DAGs schedule on these: they fire when a run has rewritten the datasets.
ARTICLES = Asset(name="quxian_articles", uri=f"{LAKE_URI}/articles")
ARTICLE_VERSIONS = Asset(name="quxian_article_versions", uri=f"{LAKE_URI}/article_versions")
QUARANTINE = Asset(name="quxian_quarantine", uri=f"{LAKE_URI}/quarantine")
# Every task hands its dict on whole, as one XCom. TaskFlow would otherwise infer multiple_outputs
# from the `-> dict` annotations and push one more XCom per key: a crawl batch of 13 outlets made
# 14 execution-API calls when it ended, on the api-server every worker shares.
step = partial(task, multiple_outputs=False)
# A crawl task's name in the grid: its outlet, or its batch's `first..last (count)`, as
# quxian.steps.batch_label spells it.
CRAWL_LABEL = (
    "{% set b = task.op_kwargs['outlet_ids'] %}{{ b[0] }}"
    "{% if b | length > 1 %}..{{ b[-1] }} ({{ b | length }}){% endif %}"
)


def _lease_dates(context) -> None:  # noqa: ANN001 - Airflow's task context
    """Every task's `pre_execute`: take or renew the lease of the run's data dates (see
    quxian.datelease); a run, backfill or `quxian run` holding one of them stops the task."""
    from quxian.dagsupport import hold_run_dates

    hold_run_dates(context)


@dag(
    dag_id="quxian_nightly",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="Asia/Shanghai"),
    start_date=datetime(2025, 11, 1, tzinfo=TZ),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30), "pre_execute": _lease_dates},
    params={
        "date_from": Param(
            None,
            type=["null", "string"],
            format="date",
            description="first data date (default: the day before the run)",
        ),
        "date_to": Param(
            None, type=["null", "string"], format="date", description="last data date (default: date_from)"
        ),
        "outlets": Param(
            [],
            type="array",
            description="outlet ids (default: every enabled outlet, or the offline ones offline)",
        ),
        "lookback_days": Param(
            30, type="integer", minimum=1, description="days of earlier stories new articles may fold into"
        ),
    },
    tags=["quxian"],
    doc_md=__doc__,
)
def quxian_nightly():
    @step
    def plan(**context) -> dict:
        from quxian.dagsupport import plan_from_context

        return plan_from_context(context).to_json()

    @step
    def outlet_ids(plan: dict) -> list[list[str]]:
        """The plan's outlets in crawl batches (one mapped crawl task each)."""
        from quxian import steps

        return steps.crawl_batches(steps.RunPlan.from_json(plan))

    @step(retries=2, retry_delay=timedelta(seconds=20), map_index_template=CRAWL_LABEL)
    def crawl(plan: dict, outlet_ids: list[str], **context) -> dict:
        from quxian import steps
        from quxian.cluster import outlet_lease

        # Per-host politeness across workers: one crawl at a time per host of the batch,
        # cluster-wide. A retry crawls again only the outlets that failed in the earlier try.
        with outlet_lease(outlet_ids, plan["polite"]):
            return steps.crawl_batch(
                steps.RunPlan.from_json(plan), outlet_ids, resume=context["ti"].try_number > 1
            )

    @step(trigger_rule=TriggerRule.ALL_DONE)
    def clean(plan: dict) -> dict:
        from quxian import steps

        return steps.clean_pages(steps.RunPlan.from_json(plan))

    @step
    def dedupe(plan: dict) -> dict:
        from quxian import steps

        return steps.dedupe(steps.RunPlan.from_json(plan))

    @step(outlets=[ARTICLES, ARTICLE_VERSIONS, QUARANTINE])
    def publish(plan: dict) -> dict:
        from quxian import steps

        return steps.publish(steps.RunPlan.from_json(plan))

    @step(trigger_rule=TriggerRule.ALL_DONE)
    def summary(plan: dict) -> dict:
        from quxian import steps

        result = steps.summarize(steps.RunPlan.from_json(plan))
        print(steps.format_summary(result))
        return result

    @step(trigger_rule=TriggerRule.ALL_DONE)
    def report(plan: dict) -> dict:
        from quxian.report import run_report

        # Writes the HTML/JSON report, then fails this task naming any broken outlet and a URL.
        return run_report(plan["run_key"])

    @step(trigger_rule=TriggerRule.ALL_DONE, pre_execute=None)
    def release_dates(**context) -> dict:
        from quxian.dagsupport import release_run_dates

        # Last, whatever happened: the run's data dates are free for the next run at once.
        return {"released": release_run_dates(context)}

    p = plan()
    crawled = crawl.partial(plan=p).expand(outlet_ids=outlet_ids(p))
    cleaned = clean(p)
    crawled >> cleaned
    published = publish(p)
    cleaned >> dedupe(p) >> published >> summary(p) >> report(p) >> release_dates()


quxian_nightly()
