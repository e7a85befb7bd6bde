"""The pipeline's steps, shared by the Airflow DAG and the `quxian run` command.

Each step reads and writes files under one run directory (`data/runs/<run_key>/`), so a step can
be retried or rerun alone and the DAG passes only small JSON between tasks:

    crawl (one per outlet) → clean_pages → dedupe → publish → summarize

Reruns are idempotent: a step first removes what an earlier attempt of the same step left in the
run directory, the dedup index never renames a story, and publish replaces partitions by id.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from quxian import config, lakefs
from quxian.registry import Outlet
from quxian.registry import load as load_registry
from transforms import publish as lake
from transforms.schema import ARTICLE_VERSIONS, ARTICLES, QUARANTINE, staging_schema, to_table

log = logging.getLogger("quxian.steps")

DEFAULT_LOOKBACK_DAYS = 30
DEFAULT_CRAWL_OVERLAP_DAYS = 1
# A crawl subprocess (one batch) that runs longer than this is killed and its outlets fail.
CRAWL_TIMEOUT_S = 3 * 3600
# Outlets per crawl task by default (auto_crawl_batch): one Scrapy process start-up per batch.
CRAWL_BATCH_TARGET_TASKS = 32
CRAWL_BATCH_MAX = 16


class StepError(RuntimeError):
    """A step could not do its work; the message names the outlet, URL or file concerned."""


class CrawlFailed(StepError):
    """A crawl fetched nothing usable (no items, or only errors). For a batch: `failures` maps
    each failed outlet to its message, `summaries` holds every outlet's summary."""

    def __init__(
        self, message: str, *, failures: dict[str, str] | None = None, summaries: dict | None = None
    ):
        super().__init__(message)
        self.failures = failures or {}
        self.summaries = summaries or {}


@dataclass
class RunPlan:
    """What one run covers: the data dates, the crawl window and the outlets."""

    run_key: str
    date_from: date
    date_to: date
    crawl_from: date
    outlets: list[str]
    offline_url: str | None = None
    polite: bool = True
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    # Outlets per crawl task (one Scrapy process each); plans written before batches had 1.
    crawl_batch: int = 1

    @property
    def run_dir(self) -> Path:
        return config.paths().runs / self.run_key

    def to_json(self) -> dict:
        d = asdict(self)
        for k in ("date_from", "date_to", "crawl_from"):
            d[k] = d[k].isoformat()
        return d

    @classmethod
    def from_json(cls, d: dict) -> RunPlan:
        d = dict(d)
        for k in ("date_from", "date_to", "crawl_from"):
            d[k] = date.fromisoformat(d[k])
        return cls(**d)


def plan_run(
    date_from: date,
    date_to: date | None = None,
    *,
    outlets: Iterable[str] | None = None,
    offline_url: str | None = None,
    polite: bool | None = None,
    overlap_days: int = DEFAULT_CRAWL_OVERLAP_DAYS,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    crawl_batch: int | None = None,
) -> RunPlan:
    """Plan a run over the data dates [date_from, date_to].

    The crawl starts `overlap_days` earlier so that pages a site posted late under yesterday's
    date are still picked up; re-fetched pages replace themselves in the lake by id. Without
    explicit outlets, an offline run takes the outlets the offline sites serve, a live run every
    enabled outlet. Politeness defaults on for live hosts and off for our own offline server.
    Outlets per crawl task: `crawl_batch`, else `QUXIAN_CRAWL_BATCH`, else `auto_crawl_batch`.
    """
    date_to = date_to or date_from
    if date_to < date_from:
        raise StepError(f"date range is empty: {date_from} > {date_to}")
    reg = load_registry()
    if outlets:
        chosen = [reg.outlet(o) for o in outlets]
        bad = [o.id for o in chosen if not o.enabled]
        if bad:
            raise StepError(f"outlets {bad} are not crawlable yet (enabled: false in quxian/outlets.yaml)")
    else:
        chosen = reg.offline_outlets() if offline_url else reg.enabled_outlets()
    key = date_from.isoformat() if date_from == date_to else f"{date_from.isoformat()}_{date_to.isoformat()}"
    if crawl_batch is None and os.environ.get("QUXIAN_CRAWL_BATCH"):
        try:
            crawl_batch = int(os.environ["QUXIAN_CRAWL_BATCH"])
        except ValueError:
            raise StepError(
                f"QUXIAN_CRAWL_BATCH must be a whole number, got {os.environ['QUXIAN_CRAWL_BATCH']!r}"
            ) from None
    if crawl_batch is not None and crawl_batch < 1:
        raise StepError(f"crawl batch must be at least 1 outlet, got {crawl_batch}")
    return RunPlan(
        run_key=key,
        date_from=date_from,
        date_to=date_to,
        crawl_from=date_from - timedelta(days=overlap_days),
        outlets=[o.id for o in chosen],
        offline_url=offline_url,
        polite=(offline_url is None) if polite is None else polite,
        lookback_days=lookback_days,
        crawl_batch=crawl_batch or auto_crawl_batch(len(chosen)),
    )


# ---------------------------------------------------------------- crawl


def _crawl_dir(run_dir: Path, outlet_id: str) -> Path:
    return run_dir / "crawl" / outlet_id


def auto_crawl_batch(n_outlets: int) -> int:
    """Outlets per crawl task when neither the caller nor QUXIAN_CRAWL_BATCH says: about
    CRAWL_BATCH_TARGET_TASKS tasks, at most CRAWL_BATCH_MAX outlets each. A small run (the
    8-outlet demo) keeps one outlet per task; 100 outlets get 4 per task, 400 get 13."""
    return max(1, min(CRAWL_BATCH_MAX, math.ceil(n_outlets / CRAWL_BATCH_TARGET_TASKS)))


def _host_groups(outlet_ids: Iterable[str]) -> list[list[str]]:
    """The outlets in order, those sharing a host (directly or through others) in one group."""
    reg = load_registry()
    ids = list(dict.fromkeys(outlet_ids))
    parent = {o: o for o in ids}

    def root(o: str) -> str:
        while parent[o] != o:
            parent[o] = parent[parent[o]]
            o = parent[o]
        return o

    first_with: dict[str, str] = {}
    for o in ids:
        for host in reg.outlet(o).hosts:
            if host in first_with:
                parent[root(o)] = root(first_with[host])
            else:
                first_with[host] = o
    groups: dict[str, list[str]] = {}
    for o in ids:
        groups.setdefault(root(o), []).append(o)
    return list(groups.values())


def crawl_batches(plan: RunPlan) -> list[list[str]]:
    """The plan's outlets cut into crawl batches of about `plan.crawl_batch` outlets, in plan
    order. Outlets that share a host always land in one batch (where `crawl_batch` runs them one
    after another), so no lease of one batch ever waits for another batch to finish."""
    size = max(1, plan.crawl_batch)
    batches: list[list[str]] = []
    current: list[str] = []
    for group in _host_groups(plan.outlets):
        if current and len(current) + len(group) > size:
            batches.append(current)
            current = []
        current.extend(group)
    if current:
        batches.append(current)
    return batches


def batch_label(outlet_ids: list[str]) -> str:
    """How a batch is named in task lists and file names: `ccrb`, or `s0001_rm..s0013_rm (13)`."""
    if len(outlet_ids) == 1:
        return outlet_ids[0]
    return f"{outlet_ids[0]}..{outlet_ids[-1]} ({len(outlet_ids)})"


def crawl(plan: RunPlan, outlet_id: str) -> dict:
    """Crawl one outlet: a batch of one (`crawl_batch`). Returns its crawl summary; raises
    CrawlFailed naming the outlet and its first failing URL."""
    return crawl_batch(plan, [outlet_id])[outlet_id]


def crawl_batch(plan: RunPlan, outlet_ids: list[str], *, resume: bool = False) -> dict[str, dict]:
    """Crawl the outlets for the plan's window in one Scrapy subprocess (`spiders.batch`: one
    crawler per outlet, each with its own politeness, stats, WARC and feed; outlets sharing a host
    one after another). A subprocess, because Twisted's reactor cannot be restarted inside one
    process, and Airflow's `dags test` runs every task in one.

    Writes `<run_dir>/crawl/<outlet>/{items.jsonl, stats.json, crawl.log, summary.json}` for every
    outlet (a failed one's summary says `failed`), then returns the summaries by outlet, or raises
    CrawlFailed naming every failed outlet (no stats, a crash, zero items) with its first failing
    URL; `CrawlFailed.summaries` still holds them all. With `resume` (a retry of the same task),
    outlets whose summary of the earlier attempt is a success are not crawled again.
    """
    reg = load_registry()
    outlets = [reg.outlet(o) for o in dict.fromkeys(outlet_ids)]
    raw = config.raw_uri()
    # A remote archive is written locally first, then uploaded when the crawl is done.
    raw_root = lakefs.local_path(raw) if lakefs.is_local_uri(raw) else config.paths().raw
    summaries: dict[str, dict] = {}
    todo: list[Outlet] = []
    for outlet in outlets:
        out = _crawl_dir(plan.run_dir, outlet.id)
        if resume and (done := _read_json(out / "summary.json")) and not done.get("failed"):
            summaries[outlet.id] = done
            continue
        out.mkdir(parents=True, exist_ok=True)
        for name in ("items.jsonl", "stats.json", "summary.json"):
            (out / name).unlink(missing_ok=True)
        (raw_root / outlet.id).mkdir(parents=True, exist_ok=True)
        todo.append(outlet)
    failures: dict[str, str] = {}
    if todo:
        ran = _run_batch(plan, todo, raw_root)
        for outlet in todo:
            out = _crawl_dir(plan.run_dir, outlet.id)
            summary, failure = _batch_outcome(plan, outlet, out, ran)
            (out / "summary.json").write_text(
                json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            summaries[outlet.id] = summary
            if failure:
                failures[outlet.id] = failure
            elif not lakefs.is_local_uri(raw):
                lakefs.upload_tree(raw_root / outlet.id, raw, prefix=outlet.id)
    ordered = {o.id: summaries[o.id] for o in outlets}
    if failures:
        raise CrawlFailed("; ".join(failures.values()), failures=failures, summaries=ordered)
    return ordered


@dataclass
class _BatchRun:
    """What the batch subprocess left: per-outlet results, the process's fate, its wall time."""

    outlets: int
    results: dict[str, dict]
    crash: str | None
    elapsed_s: float
    log: Path


def _run_batch(plan: RunPlan, outlets: list[Outlet], raw_root: Path) -> _BatchRun:
    ids = [o.id for o in outlets]
    folder = plan.run_dir / "crawl-batches"
    folder.mkdir(parents=True, exist_ok=True)
    key = ids[0] if len(ids) == 1 else f"{ids[0]}..{ids[-1]}"
    spec_file, result_file, log = folder / f"{key}.json", folder / f"{key}.result.json", folder / f"{key}.log"
    result_file.unlink(missing_ok=True)
    platform = {o.id: o.platform for o in outlets}

    def lane_entry(oid: str) -> dict:
        out = _crawl_dir(plan.run_dir, oid)
        return {
            "outlet": oid,
            "platform": platform[oid],
            "date_from": plan.crawl_from.isoformat(),
            "date_to": plan.date_to.isoformat(),
            "items": str(out / "items.jsonl"),
            "stats": str(out / "stats.json"),
            "warc_dir": str(raw_root / oid),
            "log": str(out / "crawl.log"),
        }

    # Outlets sharing a host form one lane: crawled one after another, never two at once.
    lanes = [[lane_entry(oid) for oid in group] for group in _host_groups(ids)]
    spec = {"polite": plan.polite, "log_file": str(log), "result_file": str(result_file), "lanes": lanes}
    spec_file.write_text(json.dumps(spec, ensure_ascii=False, indent=1), encoding="utf-8")
    env = dict(os.environ)
    env.pop("QUXIAN_OFFLINE_URL", None)
    if plan.offline_url:
        env["QUXIAN_OFFLINE_URL"] = plan.offline_url
    crash = None
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "spiders.batch", str(spec_file)],
            cwd=config.CHECKOUT, env=env, capture_output=True, text=True, timeout=CRAWL_TIMEOUT_S,
        )  # fmt: skip
        if proc.returncode != 0:
            tail = (proc.stderr or "").strip().splitlines()[-5:]
            crash = f"scrapy exited {proc.returncode}: {' | '.join(tail)}"
    except subprocess.TimeoutExpired:
        crash = f"crawl killed after {CRAWL_TIMEOUT_S} s"
    elapsed = time.monotonic() - started
    results = _read_json(result_file) or {}
    return _BatchRun(len(ids), results, crash, round(elapsed, 2), log)


def _batch_outcome(plan: RunPlan, outlet: Outlet, out: Path, ran: _BatchRun) -> tuple[dict, str | None]:
    """One outlet's summary after its batch, and why it failed (None when it did not)."""
    items, stats_file, log_file = out / "items.jsonl", out / "stats.json", out / "crawl.log"
    result = ran.results.get(outlet.id, {})
    # The process this outlet shared: how many outlets, its wall time (start-up included), its log.
    batch = {"outlets": ran.outlets, "elapsed_s": ran.elapsed_s, "log": str(ran.log)}
    if result.get("finished") and stats_file.exists():
        stats = json.loads(stats_file.read_text(encoding="utf-8"))
        summary = _crawl_summary(outlet, stats, items, float(stats.get("elapsed_seconds") or 0.0))
        # summarize() reads this file: a crawl that fetched nothing must show there as failed.
        summary["failed"] = summary["items"] == 0
        summary["batch"] = batch
        if not summary["failed"]:
            return summary, None
        first = summary["errors"][0] if summary["errors"] else {}
        where = f"; first error: {first.get('url')} {first.get('reason')}" if first else ""
        return summary, (
            f"outlet {outlet.id} ({outlet.name}): no article fetched for {plan.crawl_from}..{plan.date_to} "
            f"from {', '.join(outlet.start_urls_for(plan.date_to))}; responses {summary['responses']}{where}"
        )
    if result.get("error"):
        reason = f"the crawl did not run: {result['error']}"
    elif ran.crash:
        reason = ran.crash
    else:
        reason = f"the crawl wrote no stats file {stats_file}"
    summary = {
        "outlet": outlet.id,
        "outlet_name": outlet.name,
        "district": outlet.district,
        "items": 0,
        "responses": {},
        "pages": 0,
        "errors": [],
        "failed": True,
        "error": reason,
        "elapsed_s": None,
        "batch": batch,
    }
    starts = ", ".join(outlet.start_urls_for(plan.date_to))
    return summary, f"outlet {outlet.id} ({outlet.name}): {reason}; start {starts} (log: {log_file})"


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _crawl_summary(outlet: Outlet, stats: dict, items: Path, elapsed: float) -> dict:
    n_items = sum(1 for _ in _read_items(items, [])) if items.exists() else 0
    return {
        "outlet": outlet.id,
        "outlet_name": outlet.name,
        "district": outlet.district,
        "items": n_items,
        "responses": stats.get("responses_by_status", {}),
        "pages": sum(int(v) for v in stats.get("responses_by_status", {}).values()),
        "errors": stats.get("errors", []),
        "finish_reason": stats.get("finish_reason"),
        # Requests refused by rule (robots.txt, offsite redirects, list links whose date is no
        # day of the calendar): never fetched, on purpose.
        "skipped_by_rule": sum(
            len(stats.get(k, [])) for k in ("robots_forbidden", "offsite_skipped", "bad_link_dates")
        ),
        "elapsed_s": round(elapsed, 2),
    }


def _read_items(path: Path, torn: list[tuple[int, str]]) -> Iterator[dict]:
    """The items of a crawl's `items.jsonl`, one dict per line.

    A last line cut short (no newline, not JSON) is what a crawl killed while writing leaves: it is
    not yielded but appended to `torn` as (line number, its text). Any other line that is not a
    JSON object (or not UTF-8), or a file that cannot be read, raises StepError naming the file
    and line: the file is unreadable, and which of its lines to trust is unknown."""
    try:
        with open(path, "rb") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
                    if not line.endswith(b"\n"):
                        torn.append((n, line.decode("utf-8", errors="replace")))
                        return
                    raise StepError(f"{path}:{n}: not a JSON line ({e})") from None
                if not isinstance(item, dict):
                    raise StepError(f"{path}:{n}: not a JSON object but {type(item).__name__}")
                yield item
    except OSError as e:
        raise StepError(f"{path}: cannot read ({e})") from None


_TORN_URL = re.compile(r'^\{\s*"url"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _torn_line_row(outlet: Outlet, items: Path, line_no: int, text: str, run_day: date) -> dict | None:
    """The quarantine row of a torn last line, under the URL it began with (a RawPage line starts
    with its url); None when even the URL was cut."""
    m = _TORN_URL.match(text)
    if not m:
        return None
    try:
        url = json.loads(f'"{m[1]}"')
    except ValueError:
        return None
    return {
        "url": url,
        "outlet": outlet.id,
        "stage": "crawl",
        "reason": "torn items line",
        "detail": f"{items}:{line_no}: the crawl stopped while writing this item ({len(text)} bytes kept)",
        "fetched_at": None,
        "http_status": None,
        "warc_file": None,
        "warc_offset": None,
        "district": outlet.district,
        "date": run_day,
    }


# ---------------------------------------------------------------- clean


def _sh_date(ts: datetime | None) -> date | None:
    return ts.astimezone(config.TZ).date() if ts else None


def _as_date(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _as_datetime(value) -> datetime | None:
    if not value:
        return None
    try:
        ts = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=config.TZ)


def content_hash(title: str | None, body: str | None) -> str:
    return hashlib.sha1(f"{title or ''}\n{body or ''}".encode()).hexdigest()


@dataclass
class CleanOutcome:
    version: dict | None = None
    quarantine: dict | None = None


def clean_page(raw: dict, outlet: Outlet, district_name: str) -> CleanOutcome:
    """Turn one raw page item into a version row, or a quarantine row saying why not.

    Extraction and cleaning are pure functions; any exception they raise on a page is a bug
    for that page only, so it is recorded in quarantine with its type and message (never
    swallowed) and the rest of the run goes on.
    """
    from transforms.clean import clean
    from transforms.dedupe import canonical_url, version_id
    from transforms.extract import extract

    url = raw.get("url") or ""
    fetched_at = _as_datetime(raw.get("fetched_at"))

    def quarantined(stage: str, reason: str, detail: str | None = None) -> CleanOutcome:
        return CleanOutcome(
            quarantine={
                "url": url,
                "outlet": outlet.id,
                "stage": stage,
                "reason": reason,
                "detail": detail,
                "fetched_at": fetched_at,
                "http_status": raw.get("status"),
                "warc_file": raw.get("warc_file"),
                "warc_offset": raw.get("warc_offset"),
                "district": outlet.district,
                "date": _as_date(raw.get("edition_date"))
                or _as_date(raw.get("list_date"))
                or _sh_date(fetched_at),
            }
        )

    try:
        ex = extract(raw.get("html") or "", url, platform=raw.get("platform"), hints=raw)
    except Exception as e:  # noqa: BLE001 - recorded per page, see docstring
        return quarantined("extract", "extractor error", f"{type(e).__name__}: {e}")
    if not ex.is_article:
        return quarantined("extract", ex.reason or "not an article")
    hint = _as_date(raw.get("edition_date")) or _as_date(raw.get("list_date"))
    try:
        rec = clean(ex, url=url, published_hint=hint, fetched_at=fetched_at)
    except Exception as e:  # noqa: BLE001 - recorded per page, see docstring
        return quarantined("clean", "cleaner error", f"{type(e).__name__}: {e}")
    if not rec.get("is_article", True):
        return quarantined("clean", rec.get("reason") or "not an article")
    published_at = rec.get("published_at")
    day = _sh_date(published_at) or hint
    if day is None:
        return quarantined(
            "clean", "no publication date", "neither the page nor its edition or list gave a date"
        )
    body = rec.get("body") or ""
    version = {
        "id": version_id(url),
        "story_id": "",
        "url": url,
        "canonical_url": canonical_url(url),
        "outlet": outlet.id,
        "outlet_name": outlet.name,
        "outlet_kind": outlet.kind,
        "platform": outlet.platform,
        "district_name": district_name,
        "published_at": published_at,
        "edition_date": _as_date(raw.get("edition_date")) or ex.edition_date,
        "page_label": raw.get("page_label") or ex.page_label,
        "fetched_at": fetched_at,
        "extractor": ex.extractor,
        "char_count": len(body),
        "content_hash": content_hash(rec.get("title"), body),
        "warc_file": raw.get("warc_file"),
        "warc_offset": raw.get("warc_offset"),
        "district": outlet.district,
        "date": day,
    }
    for k in ARTICLE_VERSIONS.names:
        if k not in version:
            version[k] = rec.get(k)
    for k in ("reporters", "trainee_reporters", "correspondents", "photographers", "editors", "repairs"):
        version[k] = list(version.get(k) or [])
    return CleanOutcome(version=version)


def _crawl_error_rows(outlet: Outlet, summary: dict, run_day: date) -> list[dict]:
    """Pages the crawl could not fetch at all (after retries) become quarantine rows."""
    rows = []
    for err in summary.get("errors", []):
        if not err.get("url"):
            continue
        fetched = _as_datetime(err.get("at"))
        rows.append(
            {
                "url": err["url"],
                "outlet": outlet.id,
                "stage": "crawl",
                "reason": err.get("reason") or "fetch failed",
                "detail": err.get("detail"),
                "fetched_at": fetched,
                "http_status": err.get("status"),
                "warc_file": err.get("warc_file"),
                "warc_offset": err.get("warc_offset"),
                "district": outlet.district,
                # The run's date, not the clock's: a rerun files the same error in the same partition.
                "date": run_day,
            }
        )
    return rows


def clean_pages(plan: RunPlan) -> dict:
    """Extract and clean every page the run's crawls fetched. Writes `clean/versions.parquet` and
    `clean/quarantine.parquet`, and `clean/summary.json` (the returned counts).

    One outlet's trouble costs that outlet only:
    - an outlet whose crawl summary says `failed` has its items not read (they may be partial or
      torn; a retry of its crawl is what fixes it), its crawl errors are still quarantined
      (`failed_crawls_skipped` counts them);
    - a torn last line of `items.jsonl` (a crawl killed while writing) is quarantined as `torn items
      line` under the URL it began with (`torn_lines` counts them), the whole lines are cleaned;
    - an unreadable `items.jsonl` (another bad line, not UTF-8, an I/O error) fails the outlet:
      none of its pages are cleaned and `failed_outlets` maps it to a message naming the file.
    """
    started = time.monotonic()
    reg = load_registry()
    versions: dict[str, dict] = {}
    quarantine: list[dict] = []
    counts: Counter = Counter()
    failed: dict[str, str] = {}
    for outlet_id in plan.outlets:
        items = _crawl_dir(plan.run_dir, outlet_id) / "items.jsonl"
        summary_file = items.with_name("summary.json")
        if not items.exists() or not summary_file.exists():
            counts["outlets_without_crawl"] += 1
            continue
        outlet = reg.outlet(outlet_id)
        district_name = reg.district(outlet.district).name
        summary = _read_json(summary_file)
        if summary is None:
            failed[outlet_id] = f"outlet {outlet_id}: crawl summary {summary_file} is unreadable"
            continue
        quarantine.extend(_crawl_error_rows(outlet, summary, plan.date_to))
        if summary.get("failed"):
            counts["failed_crawls_skipped"] += 1
            continue
        # One outlet at a time, merged only once its whole file has read.
        mine: list[CleanOutcome] = []
        torn: list[tuple[int, str]] = []
        try:
            for raw in _read_items(items, torn):
                mine.append(clean_page(raw, outlet, district_name))
        except StepError as e:
            log.error("clean: outlet %s failed: %s", outlet_id, e)
            failed[outlet_id] = f"outlet {outlet_id} ({outlet.name}): items file unreadable: {e}"
            continue
        counts["pages"] += len(mine)
        for outcome in mine:
            if outcome.version:
                # One row per canonical URL: a page reached twice (two lists, an overlap day) is one version.
                versions[outcome.version["id"]] = outcome.version
            else:
                quarantine.append(outcome.quarantine)
        for line_no, text in torn:
            counts["torn_lines"] += 1
            log.warning("clean: outlet %s: %s:%d is a torn last line", outlet_id, items, line_no)
            row = _torn_line_row(outlet, items, line_no, text, plan.date_to)
            if row is not None:
                quarantine.append(row)
    out = plan.run_dir / "clean"
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(to_table(versions.values(), staging_schema("article_versions")), out / "versions.parquet")
    pq.write_table(to_table(quarantine, staging_schema("quarantine")), out / "quarantine.parquet")
    counts["versions"] = len(versions)
    counts["quarantined"] = len(quarantine)
    result: dict = dict(counts)
    if failed:
        result["failed_outlets"] = failed
    result["elapsed_s"] = round(time.monotonic() - started, 2)
    (out / "summary.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


# ---------------------------------------------------------------- dedupe


def dedupe(plan: RunPlan) -> dict:
    """Give every cleaned version its `story_id` against the persistent story index."""
    started = time.monotonic()
    from transforms.dedupe import StoryIndex

    src = plan.run_dir / "clean" / "versions.parquet"
    table = pq.read_table(src)
    rows = table.to_pylist()
    index_dir = config.paths().index
    index_dir.mkdir(parents=True, exist_ok=True)
    # One writer at a time on the index, by the same kernel lock as the lake's.
    with lake.lake_lock(index_dir, wait=True):
        index = StoryIndex.open(index_dir / "stories", lookback_days=plan.lookback_days)
        ids = index.assign(rows)
        index.save()
    for row, sid in zip(rows, ids, strict=True):
        row["story_id"] = sid
    out = plan.run_dir / "dedupe"
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(to_table(rows, staging_schema("article_versions")), out / "versions.parquet")
    result = {"versions": len(rows), "stories": len(set(ids))}
    result["folded"] = result["versions"] - result["stories"]
    result["elapsed_s"] = round(time.monotonic() - started, 2)
    (out / "summary.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


# ---------------------------------------------------------------- publish


def _group(rows: Iterable[dict]) -> dict[tuple[str, date], list[dict]]:
    groups: dict[tuple[str, date], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["district"], r["date"])].append(r)
    return groups


def _merge_versions(existing: list[dict], new: list[dict]) -> list[dict]:
    """New rows replace old ones by id; an unchanged page keeps the row it had (so a rerun
    leaves the same bytes, fetched_at included)."""
    by_id = {r["id"]: r for r in existing}
    for r in new:
        old = by_id.get(r["id"])
        if old and old["content_hash"] == r["content_hash"] and old["story_id"] == r["story_id"]:
            continue
        by_id[r["id"]] = r
    return sorted(by_id.values(), key=lambda r: r["id"])


def _story_row(versions: list[dict]) -> dict:
    from transforms.dedupe import choose_canonical

    canon = choose_canonical([dict(v, kind=v.get("outlet_kind")) for v in versions])
    others = sorted(
        versions, key=lambda v: (v.get("published_at") or datetime.max.replace(tzinfo=config.TZ), v["id"])
    )
    stamps = [v["published_at"] for v in versions if v.get("published_at")]
    row = {k: canon.get(k) for k in ARTICLES.names if k in canon}
    row.update(
        story_id=canon["story_id"],
        canonical_version_id=canon["id"],
        first_published_at=min(stamps) if stamps else None,
        last_published_at=max(stamps) if stamps else None,
        version_count=len(versions),
        outlets=sorted({v["outlet"] for v in versions}),
        urls=[v["url"] for v in others],
        district=canon["district"],
        date=canon["date"],
    )
    return row


def publish(plan: RunPlan) -> dict:
    """Write the run's versions, the stories they touch and the quarantine into the lake.

    Holds the lake lock for the whole write, so two runs never interleave (the second waits).
    """
    started = time.monotonic()
    root = config.lake_uri()
    new_versions = pq.read_table(plan.run_dir / "dedupe" / "versions.parquet").to_pylist()
    new_quarantine = pq.read_table(plan.run_dir / "clean" / "quarantine.parquet").to_pylist()
    written: Counter = Counter()
    with lake.lake_lock(root, wait=True):
        lake.sweep_temporaries(root)
        for (district, day), rows in sorted(_group(new_versions).items()):
            existing = [
                dict(r, district=district, date=day)
                for r in lake.read_partition(root, "article_versions", district, day).to_pylist()
            ]
            merged = _merge_versions(existing, rows)
            lake.write_partition(root, "article_versions", district, day, to_table(merged, ARTICLE_VERSIONS))
            written["article_versions"] += 1
        written["articles"] = _publish_articles(root, new_versions, plan.lookback_days)
        # A page that now made it into article_versions is no longer quarantined.
        published = {r["url"] for r in new_versions}
        for (district, day), rows in sorted(_group(new_quarantine).items()):
            existing = lake.read_partition(root, "quarantine", district, day).to_pylist()
            keyed = {(r["url"], r["stage"]): r for r in existing}
            keyed.update({(r["url"], r["stage"]): r for r in rows})
            merged = sorted(
                (r for r in keyed.values() if r["url"] not in published), key=lambda r: (r["url"], r["stage"])
            )
            lake.write_partition(root, "quarantine", district, day, to_table(merged, QUARANTINE))
            written["quarantine"] += 1
    result = {"partitions_written": dict(written), "lake": str(root)}
    result["elapsed_s"] = round(time.monotonic() - started, 2)
    out = plan.run_dir / "publish"
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


def _publish_articles(root: Path, new_versions: list[dict], lookback_days: int) -> int:
    """Recompute the story rows of every story the new versions touch, and rewrite the article
    partitions where those stories were or now are. Versions of one story lie within the dedup
    lookback of each other, so the window read is bounded."""
    touched = {r["story_id"] for r in new_versions}
    if not touched:
        return 0
    districts = {r["district"] for r in new_versions}
    days = [r["date"] for r in new_versions]
    lo, hi = min(days) - timedelta(days=2 * lookback_days), max(days) + timedelta(days=lookback_days)
    members: dict[str, list[dict]] = defaultdict(list)
    old_places: set[tuple[str, date]] = set()
    for district, day in lake.list_partitions(root, "article_versions"):
        if district in districts and lo <= day <= hi:
            for r in lake.read_partition(root, "article_versions", district, day).to_pylist():
                if r["story_id"] in touched:
                    members[r["story_id"]].append(dict(r, district=district, date=day))
    for district, day in lake.list_partitions(root, "articles"):
        if district in districts and lo <= day <= hi:
            ids = lake.read_partition(root, "articles", district, day, columns=["story_id"])
            if touched & set(ids.column("story_id").to_pylist()):
                old_places.add((district, day))
    stories = [_story_row(vs) for vs in members.values()]
    new_places = {(s["district"], s["date"]) for s in stories}
    by_place = _group(stories)
    for district, day in sorted(old_places | new_places):
        kept = [
            r
            for r in lake.read_partition(root, "articles", district, day).to_pylist()
            if r["story_id"] not in touched
        ]
        rows = sorted(kept + by_place.get((district, day), []), key=lambda r: r["story_id"])
        lake.write_partition(root, "articles", district, day, to_table(rows, ARTICLES))
    return len(old_places | new_places)


# ---------------------------------------------------------------- summary


def summarize(plan: RunPlan) -> dict:
    """The run's figures: pages, articles and stories per district and date, folds, errors."""
    run_dir = plan.run_dir
    crawls = []
    for outlet_id in plan.outlets:
        f = _crawl_dir(run_dir, outlet_id) / "summary.json"
        if f.exists():
            crawls.append(json.loads(f.read_text(encoding="utf-8")))
        else:
            crawls.append({"outlet": outlet_id, "items": 0, "pages": 0, "failed": True})
    versions = (
        pq.read_table(run_dir / "dedupe" / "versions.parquet").to_pylist()
        if (run_dir / "dedupe" / "versions.parquet").exists()
        else []
    )
    quarantine = (
        pq.read_table(run_dir / "clean" / "quarantine.parquet").to_pylist()
        if (run_dir / "clean" / "quarantine.parquet").exists()
        else []
    )
    per_partition: dict[str, dict] = {}
    for (district, day), rows in sorted(_group(versions).items()):
        per_partition[f"{district}/{day.isoformat()}"] = {
            "versions": len(rows),
            "stories": len({r["story_id"] for r in rows}),
        }
    versions_by_outlet = Counter(r["outlet"] for r in versions)
    # Outlets whose crawl went well but whose items file the clean step could not read.
    clean_failed = (_read_json(run_dir / "clean" / "summary.json") or {}).get("failed_outlets") or {}
    for c in crawls:
        if c["outlet"] in clean_failed and not c.get("failed"):
            c.update(failed=True, error=clean_failed[c["outlet"]])
    summary = {
        "run_key": plan.run_key,
        "dates": [plan.date_from.isoformat(), plan.date_to.isoformat()],
        "outlets": len(plan.outlets),
        "failed_outlets": [c["outlet"] for c in crawls if c.get("failed")],
        "pages_fetched": sum(c.get("pages", 0) for c in crawls),
        "article_pages": sum(c.get("items", 0) for c in crawls),
        "versions": len(versions),
        "stories": len({r["story_id"] for r in versions}),
        "duplicates_folded": len(versions) - len({r["story_id"] for r in versions}),
        "quarantined": len(quarantine),
        "quarantine_reasons": dict(Counter(r["reason"] for r in quarantine)),
        "crawl_errors": sum(len(c.get("errors", [])) for c in crawls),
        "skipped_by_rule": sum(c.get("skipped_by_rule", 0) for c in crawls),
        "per_partition": per_partition,
        "per_outlet": {
            c["outlet"]: {
                "pages": c.get("pages", 0),
                "items": c.get("items", 0),
                "versions": versions_by_outlet.get(c["outlet"], 0),
                "elapsed_s": c.get("elapsed_s"),
                "error_urls": [e["url"] for e in c.get("errors", []) if e.get("url")][:3],
            }
            | ({"failed": True} if c.get("failed") else {})
            for c in crawls
        },
        "lake": config.lake_uri(),
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    return summary


def format_summary(summary: dict) -> str:
    """The summary as the few lines an operator reads after a run."""
    lines = [
        f"run {summary['run_key']}: {summary['outlets']} outlets, {summary['pages_fetched']} pages fetched, "
        f"{summary['article_pages']} article pages, {summary['versions']} versions → {summary['stories']} stories "
        f"({summary['duplicates_folded']} duplicates folded), {summary['quarantined']} quarantined, "
        f"{summary['crawl_errors']} crawl errors, {summary.get('skipped_by_rule', 0)} skipped by rule",
    ]
    if summary["failed_outlets"]:
        lines.append(f"FAILED outlets: {', '.join(summary['failed_outlets'])}")
    for reason, n in sorted(summary["quarantine_reasons"].items()):
        lines.append(f"  quarantine: {n:4d} × {reason}")
    lines.append(f"  {'district/date':28s} {'versions':>8s} {'stories':>8s}")
    for part, c in summary["per_partition"].items():
        lines.append(f"  {part:28s} {c['versions']:8d} {c['stories']:8d}")
    lines.append(f"lake: {summary['lake']}")
    return "\n".join(lines)


def run_dates(plan: RunPlan) -> list[date]:
    """The data dates a run covers, each leased for the whole run (`quxian.datelease`)."""
    return [plan.date_from + timedelta(days=i) for i in range((plan.date_to - plan.date_from).days + 1)]


def run(plan: RunPlan, *, progress=None, jobs: int = 4) -> dict:
    """All steps in order without Airflow (the `quxian run` command); see `_run_locked`.

    First the lease of every data date of the run (`quxian.datelease.holding`, the same leases
    the nightly DAG takes, all or none): a run, backfill or DAG run holding one of them makes this
    one refuse at once with StepError naming the holder, before anything is written. Then the
    run folder's lock, for runs of the same dates started before leases existed.
    """
    from quxian import datelease

    holder = datelease.process_holder(f"`quxian run` {plan.run_key}")
    try:
        with datelease.holding(run_dates(plan), holder=holder) as token:
            plan.run_dir.mkdir(parents=True, exist_ok=True)
            try:
                with lake.lake_lock(plan.run_dir):
                    summary = _run_locked(plan, progress=progress, jobs=jobs)
            except lake.LakeBusy as e:
                raise StepError(f"run {plan.run_key} is already running: {e}") from None
            if why := datelease.lost(run_dates(plan), token=token):
                raise StepError(f"run {plan.run_key}: the lease of its dates was lost during the run: {why}")
            return summary
    except datelease.DatesBusy as e:
        raise StepError(f"run {plan.run_key} refused: {e}") from None


def _run_locked(plan: RunPlan, *, progress=None, jobs: int = 4) -> dict:
    """All steps in order without Airflow (the `quxian run` command). Crawl batches
    (`crawl_batches`) run `jobs` at a time, each its own subprocess like the DAG's mapped tasks;
    a failed outlet is reported and the other outlets go on, as in the DAG."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    say = progress or (lambda msg: None)
    total = len(plan.outlets)
    n = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(crawl_batch, plan, batch): batch for batch in crawl_batches(plan)}
        for fut in as_completed(futures):
            try:
                summaries, failures = fut.result(), {}
            except CrawlFailed as e:
                summaries, failures = e.summaries, e.failures
            for outlet_id in futures[fut]:
                n += 1
                res = summaries.get(outlet_id, {})
                if outlet_id in failures:
                    say(f"[{n}/{total}] {outlet_id}: FAILED: {failures[outlet_id]}")
                else:
                    say(
                        f"[{n}/{total}] {outlet_id}: {res['pages']} pages, {res['items']} articles in {res['elapsed_s']} s"
                    )
    say(f"clean: {clean_pages(plan)}")
    say(f"dedupe: {dedupe(plan)}")
    say(f"publish: {publish(plan)}")
    summary = summarize(plan)
    from quxian.report import run_report

    say(f"report: {run_report(plan.run_key, fail_on_broken=False)['html']}")
    return summary


__all__ = [
    "CrawlFailed",
    "RunPlan",
    "StepError",
    "auto_crawl_batch",
    "batch_label",
    "clean_pages",
    "crawl",
    "crawl_batch",
    "crawl_batches",
    "dedupe",
    "format_summary",
    "plan_run",
    "publish",
    "run",
    "run_dates",
    "summarize",
]
