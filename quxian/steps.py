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
import os
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
# A crawl subprocess that runs longer than this is killed and its outlet's task fails.
CRAWL_TIMEOUT_S = 3 * 3600


class StepError(RuntimeError):
    """A step could not do its work; the message names the outlet, URL or file concerned."""


class CrawlFailed(StepError):
    """A crawl fetched nothing usable (no items, or only errors)."""


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
) -> RunPlan:
    """Plan a run over the data dates [date_from, date_to].

    The crawl starts `overlap_days` earlier so that pages a site posted late under yesterday's
    date are still picked up; re-fetched pages replace themselves in the lake by id. Without
    explicit outlets, an offline run takes the outlets the offline sites serve, a live run every
    enabled outlet. Politeness defaults on for live hosts and off for our own offline server.
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
    return RunPlan(
        run_key=key,
        date_from=date_from,
        date_to=date_to,
        crawl_from=date_from - timedelta(days=overlap_days),
        outlets=[o.id for o in chosen],
        offline_url=offline_url,
        polite=(offline_url is None) if polite is None else polite,
        lookback_days=lookback_days,
    )


# ---------------------------------------------------------------- crawl


def _crawl_dir(run_dir: Path, outlet_id: str) -> Path:
    return run_dir / "crawl" / outlet_id


def crawl(plan: RunPlan, outlet_id: str) -> dict:
    """Crawl one outlet for the plan's window in a Scrapy subprocess (Twisted's reactor cannot
    be restarted inside one process, and Airflow's `dags test` runs every task in one).

    Returns the crawl summary. Raises CrawlFailed when Scrapy exits non-zero, writes no stats, or
    yields no item; the message names the outlet and the first failing URL.
    """
    outlet = load_registry().outlet(outlet_id)
    out = _crawl_dir(plan.run_dir, outlet_id)
    out.mkdir(parents=True, exist_ok=True)
    items, stats_file, log_file = out / "items.jsonl", out / "stats.json", out / "crawl.log"
    for f in (items, stats_file):
        f.unlink(missing_ok=True)
    raw = config.raw_uri()
    # A remote archive is written locally first, then uploaded when the crawl is done.
    warc_dir = (lakefs.local_path(raw) if lakefs.is_local_uri(raw) else config.paths().raw) / outlet_id
    warc_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", outlet.platform,
        "-a", f"outlet={outlet_id}",
        "-a", f"date_from={plan.crawl_from.isoformat()}",
        "-a", f"date_to={plan.date_to.isoformat()}",
        "-O", f"{items}:jsonlines",
        "-s", f"QUXIAN_STATS_FILE={stats_file}",
        "-s", f"QUXIAN_WARC_DIR={warc_dir}",
        "-s", f"QUXIAN_POLITE={1 if plan.polite else 0}",
        "-s", f"LOG_FILE={log_file}",
    ]  # fmt: skip
    env = dict(os.environ)
    env.pop("QUXIAN_OFFLINE_URL", None)
    if plan.offline_url:
        env["QUXIAN_OFFLINE_URL"] = plan.offline_url
    started = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, cwd=config.CHECKOUT, env=env, capture_output=True, text=True, timeout=CRAWL_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as e:
        raise CrawlFailed(
            f"outlet {outlet_id}: crawl killed after {CRAWL_TIMEOUT_S} s (log: {log_file})"
        ) from e
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        tail = (proc.stderr or "").strip().splitlines()[-5:]
        raise CrawlFailed(
            f"outlet {outlet_id}: scrapy exited {proc.returncode}: {' | '.join(tail)} (log: {log_file})"
        )
    if not stats_file.exists():
        raise CrawlFailed(f"outlet {outlet_id}: the crawl wrote no stats file {stats_file} (log: {log_file})")
    stats = json.loads(stats_file.read_text(encoding="utf-8"))
    summary = _crawl_summary(outlet, stats, items, elapsed)
    # summarize() reads this file: a crawl that fetched nothing must show there as failed.
    summary["failed"] = summary["items"] == 0
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    if summary["items"] == 0:
        first = summary["errors"][0] if summary["errors"] else {}
        where = f"; first error: {first.get('url')} {first.get('reason')}" if first else ""
        raise CrawlFailed(
            f"outlet {outlet_id} ({outlet.name}): no article fetched for {plan.crawl_from}..{plan.date_to} "
            f"from {', '.join(outlet.start_urls_for(plan.date_to))}; responses {summary['responses']}{where}"
        )
    if not lakefs.is_local_uri(raw):
        lakefs.upload_tree(warc_dir, raw, prefix=outlet_id)
    return summary


def _crawl_summary(outlet: Outlet, stats: dict, items: Path, elapsed: float) -> dict:
    n_items = sum(1 for _ in _jsonl(items)) if items.exists() else 0
    return {
        "outlet": outlet.id,
        "outlet_name": outlet.name,
        "district": outlet.district,
        "items": n_items,
        "responses": stats.get("responses_by_status", {}),
        "pages": sum(int(v) for v in stats.get("responses_by_status", {}).values()),
        "errors": stats.get("errors", []),
        "finish_reason": stats.get("finish_reason"),
        # Requests refused by rule (robots.txt, offsite redirects): never fetched, on purpose.
        "skipped_by_rule": len(stats.get("robots_forbidden", [])) + len(stats.get("offsite_skipped", [])),
        "elapsed_s": round(elapsed, 2),
    }


def _jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as e:
                raise StepError(f"{path}:{n}: not a JSON line ({e})") from e


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
    """Extract and clean every page the run's crawls fetched (outlets whose crawl failed are
    skipped and reported). Writes `clean/versions.parquet` and `clean/quarantine.parquet`."""
    started = time.monotonic()
    reg = load_registry()
    versions: dict[str, dict] = {}
    quarantine: list[dict] = []
    counts: Counter = Counter()
    for outlet_id in plan.outlets:
        items = _crawl_dir(plan.run_dir, outlet_id) / "items.jsonl"
        summary_file = items.with_name("summary.json")
        if not items.exists() or not summary_file.exists():
            counts["outlets_without_crawl"] += 1
            continue
        outlet = reg.outlet(outlet_id)
        district_name = reg.district(outlet.district).name
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        quarantine.extend(_crawl_error_rows(outlet, summary, plan.date_to))
        for raw in _jsonl(items):
            counts["pages"] += 1
            outcome = clean_page(raw, outlet, district_name)
            if outcome.version:
                # One row per canonical URL: a page reached twice (two lists, an overlap day) is one version.
                versions[outcome.version["id"]] = outcome.version
            else:
                quarantine.append(outcome.quarantine)
    out = plan.run_dir / "clean"
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(to_table(versions.values(), staging_schema("article_versions")), out / "versions.parquet")
    pq.write_table(to_table(quarantine, staging_schema("quarantine")), out / "quarantine.parquet")
    counts["versions"] = len(versions)
    counts["quarantined"] = len(quarantine)
    result = dict(counts)
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


def run(plan: RunPlan, *, progress=None, jobs: int = 4) -> dict:
    """All steps in order without Airflow (the `quxian run` command); see `_run_locked`.

    Two runs of the same dates would share `data/runs/<key>/`: the second refuses at once with
    StepError instead of truncating the first one's crawl files.
    """
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    try:
        with lake.lake_lock(plan.run_dir):
            return _run_locked(plan, progress=progress, jobs=jobs)
    except lake.LakeBusy as e:
        raise StepError(f"run {plan.run_key} is already running: {e}") from None


def _run_locked(plan: RunPlan, *, progress=None, jobs: int = 4) -> dict:
    """All steps in order without Airflow (the `quxian run` command). Crawls run `jobs` at a
    time (each is its own subprocess, like the DAG's mapped tasks); a failed crawl is reported
    and the other outlets go on, as in the DAG."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    say = progress or (lambda msg: None)
    total = len(plan.outlets)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(crawl, plan, outlet_id): outlet_id for outlet_id in plan.outlets}
        for n, fut in enumerate(as_completed(futures), 1):
            outlet_id = futures[fut]
            try:
                res = fut.result()
                say(
                    f"[{n}/{total}] {outlet_id}: {res['pages']} pages, {res['items']} articles in {res['elapsed_s']} s"
                )
            except CrawlFailed as e:
                say(f"[{n}/{total}] {outlet_id}: FAILED: {e}")
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
    "clean_pages",
    "crawl",
    "dedupe",
    "format_summary",
    "plan_run",
    "publish",
    "run",
    "summarize",
]
