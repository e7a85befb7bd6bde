"""Crawl several outlets in one Scrapy process: `python -m spiders.batch SPEC.json`.

Starting a Scrapy process costs seconds (imports, settings, the reactor); a night of hundreds of
outlets would spend most of its time there. A batch runs one `Crawler` per outlet inside one
reactor. Each crawler has its own settings, spider, downloader (so its own per-domain slots,
delay and AutoThrottle), stats, WARC archive and feed: the per-outlet outputs are exactly those of
`scrapy crawl <platform> -a outlet=<id>`, and politeness per host is unchanged.

The spec (written by `quxian.steps.crawl_batch`) is JSON:

    {"polite": true, "log_file": ".../batch.log", "result_file": ".../result.json",
     "lanes": [[{"outlet": "ccrb", "platform": "founder_pc", "date_from": "2025-11-13",
                 "date_to": "2025-11-14", "items": ".../items.jsonl", "stats": ".../stats.json",
                 "warc_dir": ".../raw/ccrb", "log": ".../crawl.log"}, ...], ...]}

Lanes run at the same time; the crawls of one lane run one after another (the caller puts
outlets that share a host in one lane, so a host never sees two crawlers at once). `log_file`
gets every log record of the process, each outlet's `log` the records of its own spider
(`spiders.extensions.OutletLog`). `result_file` maps each outlet to `{"finished": true}` or
`{"finished": false, "error": "<type>: <message>"}` (a spider that could not start, a crawl that
raised); it is rewritten after every crawl, so a killed process leaves what had finished. One
outlet's failure never stops the others. Exit status 0 once every crawl has ended (the caller
judges each outlet from its stats file), 2 on a bad spec.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

LANE_KEYS = ("outlet", "platform", "date_from", "date_to", "items", "stats", "warc_dir", "log")


def load_spec(path: Path) -> dict[str, Any]:
    """Read and check a batch spec; raises ValueError naming what is missing."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    for key in ("log_file", "result_file", "lanes"):
        if key not in spec:
            raise ValueError(f"{path}: batch spec without {key!r}")
    seen: set[str] = set()
    for lane in spec["lanes"]:
        for crawl in lane:
            missing = [k for k in LANE_KEYS if not crawl.get(k)]
            if missing:
                raise ValueError(f"{path}: crawl {crawl.get('outlet')!r} without {missing}")
            if crawl["outlet"] in seen:
                raise ValueError(f"{path}: outlet {crawl['outlet']} twice in one batch")
            seen.add(crawl["outlet"])
    return spec


def crawler_settings(base: Any, crawl: dict[str, Any], polite: bool) -> Any:
    """The project settings plus one outlet's outputs, as `scrapy crawl -O … -s …` would set them."""
    settings = base.copy()
    settings.set("FEEDS", {crawl["items"]: {"format": "jsonlines", "overwrite": True}}, priority="cmdline")
    settings.set("QUXIAN_STATS_FILE", crawl["stats"], priority="cmdline")
    settings.set("QUXIAN_WARC_DIR", crawl["warc_dir"], priority="cmdline")
    settings.set("QUXIAN_LOG_FILE", crawl["log"], priority="cmdline")
    settings.set("QUXIAN_POLITE", polite, priority="cmdline")
    return settings


def run(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Run the batch in this process (which must not have a reactor yet); returns the results."""
    from scrapy.crawler import AsyncCrawlerRunner, Crawler
    from scrapy.spiderloader import get_spider_loader
    from scrapy.utils.defer import deferred_f_from_coro_f
    from scrapy.utils.log import configure_logging
    from scrapy.utils.project import get_project_settings
    from scrapy.utils.reactor import install_reactor
    from twisted.internet.task import react

    base = get_project_settings()
    base.set("LOG_FILE", spec["log_file"], priority="cmdline")
    # Appended to: every crawler re-installs Scrapy's root log handler, which would truncate it.
    base.set("LOG_FILE_APPEND", True, priority="cmdline")
    polite = bool(spec.get("polite", True))
    Path(spec["log_file"]).parent.mkdir(parents=True, exist_ok=True)
    Path(spec["log_file"]).write_text("", encoding="utf-8")
    result_file = Path(spec["result_file"])
    results: dict[str, dict[str, Any]] = {}

    def record(outlet: str, outcome: dict[str, Any]) -> None:
        results[outlet] = outcome
        tmp = result_file.with_name(result_file.name + ".tmp")
        tmp.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(result_file)

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    configure_logging(base)
    loader = get_spider_loader(base)
    runner = AsyncCrawlerRunner(base)

    async def lane(crawls: list[dict[str, Any]]) -> None:
        for crawl in crawls:
            try:
                spidercls = loader.load(crawl["platform"])
                crawler = Crawler(spidercls, crawler_settings(base, crawl, polite))
                await runner.crawl(
                    crawler, outlet=crawl["outlet"], date_from=crawl["date_from"], date_to=crawl["date_to"]
                )
            except Exception as e:  # noqa: BLE001 - one outlet's failure is recorded for it alone
                record(crawl["outlet"], {"finished": False, "error": f"{type(e).__name__}: {e}"})
            else:
                record(crawl["outlet"], {"finished": True})

    @deferred_f_from_coro_f
    async def main(reactor: Any) -> None:
        await asyncio.gather(*(lane(crawls) for crawls in spec["lanes"]))

    try:
        react(main)
    except SystemExit as e:  # react() exits the process; keep our own status below
        if e.code not in (0, None):
            raise
    return results


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m spiders.batch SPEC.json", file=sys.stderr)
        return 2
    try:
        spec = load_spec(Path(argv[0]))
    except (OSError, ValueError) as e:
        print(f"spiders.batch: {e}", file=sys.stderr)
        return 2
    run(spec)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
