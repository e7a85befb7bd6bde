"""Crawl-wide extensions: the WARC archive of everything fetched, and the crawl report file.

`WarcArchive` appends every downloaded response (robots.txt, lists, articles, errors), preceded by
its request record, to `<QUXIAN_WARC_DIR>/<outlet>-<crawl start, UTC>.warc.gz`: one gzip member per
record and a flush after each, so a crash leaves a readable archive of what was written. Records
carry the real URL. The response's position goes into `request.meta` (`warc_file`, `warc_offset`)
for the items.

`CrawlReport` writes `QUXIAN_STATS_FILE` (JSON) at spider close: items (and by date), responses by
status, `error_counts` by kind, `errors` = per-URL failures (url, kind, reason, detail, at, status,
warc_file, warc_offset; capped at 200), URLs skipped by rule and not errors (`robots_forbidden`,
`offsite_skipped` = pages that redirected off the outlet's domains, `bad_link_dates` = list links
whose date is no day of the calendar, never requested; `missing_editions`), finish
reason, elapsed time and pages/second. Scrapy exits 0 even when every request failed, so callers decide from this file.

`OutletLog` writes `QUXIAN_LOG_FILE`: the log records of this crawler's spider only. A batch of
outlets in one process (`spiders.batch`) shares one `LOG_FILE`; this gives each outlet its own.

All three read their target from the crawler's own settings, so several crawlers in one process
(one per outlet) each write their own files.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from quxian.config import TZ, paths

log = logging.getLogger(__name__)

# Sent by the spiders' errback: page_failed(url, kind, reason, detail=None, status=None,
# warc_file=None, warc_offset=None). Kinds: "download", "http", and three that are not errors:
# "robots" (a disallowed URL), "no_edition" (an e-paper's edition page is 404 that day) and
# "bad_link_date" (a list link whose date is no day of the calendar: never requested).
page_failed = object()

MAX_ERROR_URLS = 200


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    pairs = []
    for key, values in headers.items():
        for v in values:
            pairs.append((key.decode("latin-1"), v.decode("latin-1")))
    return pairs


class WarcArchive:
    """Appends request + response records of every download to the outlet's WARC file."""

    def __init__(self, crawler: Crawler, folder: Path):
        self.crawler = crawler
        self.folder = folder
        self.path: Path | None = None
        self._fh: BinaryIO | None = None
        self._writer: WARCWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcArchive:
        folder = crawler.settings.get("QUXIAN_WARC_DIR") or paths().raw
        ext = cls(crawler, Path(folder))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        outlet = getattr(spider, "outlet_id", spider.name)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / f"{outlet}-{stamp}.warc.gz"
        self._fh = open(self.path, "ab")  # noqa: SIM115 (held open for the crawl, closed at spider_closed)
        self._writer = WARCWriter(self._fh, gzip=True)
        info = self._writer.create_warcinfo_record(
            self.path.name,
            {"software": "quxian/0.1 (scrapy)", "format": "WARC File Format 1.1", "outlet": str(outlet)},
        )
        self._write(info)

    def _write(self, record: Any) -> int:
        assert self._fh is not None and self._writer is not None
        offset = self._fh.tell()
        self._writer.write_record(record)
        self._fh.flush()
        return offset

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        if self._writer is None:
            return
        url = response.url  # the real URL: offline routing rewrites below this signal's view
        path = request.url.split("/", 3)[3] if request.url.count("/") >= 3 else ""
        # Twisted adds Host on the wire; the record names the real host, as the site saw it.
        host = [("Host", url.split("/", 3)[2])] if url.count("/") >= 2 else []
        req_headers = StatusAndHeaders(
            f"{request.method} /{path} HTTP/1.1", host + _header_pairs(request.headers), is_http_request=True
        )
        req_rec = self._writer.create_warc_record(
            url, "request", payload=BytesIO(request.body or b""), http_headers=req_headers
        )
        status_line = f"{response.status} {'OK' if response.status == 200 else 'STATUS'}"
        resp_headers = StatusAndHeaders(status_line, _header_pairs(response.headers), protocol="HTTP/1.1")
        resp_rec = self._writer.create_warc_record(
            url, "response", payload=BytesIO(response.body), http_headers=resp_headers
        )
        self._write(req_rec)
        offset = self._write(resp_rec)
        request.meta["warc_file"] = str(self.path)
        request.meta["warc_offset"] = offset

    def spider_closed(self, spider: Spider) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            self._writer = None


class CrawlReport:
    """Collects what happened during the crawl and writes it as JSON at spider close."""

    def __init__(self, crawler: Crawler, target: Path | None):
        self.crawler = crawler
        self.target = target
        self.started = time.monotonic()
        self.items_by_date: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.error_urls: list[dict[str, Any]] = []
        self.robots_forbidden: list[str] = []
        self.missing_editions: list[str] = []
        self.offsite_skipped: list[str] = []
        self.bad_link_dates: list[str] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlReport:
        target = crawler.settings.get("QUXIAN_STATS_FILE")
        ext = cls(crawler, Path(target) if target else None)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        crawler.signals.connect(ext.page_failed, signal=page_failed)
        crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.started = time.monotonic()

    def item_scraped(self, item: Any, response: Response, spider: Spider) -> None:
        day = getattr(item, "edition_date", None) or getattr(item, "list_date", None) or "unknown"
        self.items_by_date[str(day)] += 1

    def _failure(self, url: str, kind: str, reason: str, **extra: Any) -> None:
        self.errors[kind] += 1
        if len(self.error_urls) < MAX_ERROR_URLS:
            row = {
                "url": url,
                "kind": kind,
                "reason": reason,
                "at": datetime.now(TZ).isoformat(timespec="seconds"),
            }
            row.update({k: extra.get(k) for k in ("detail", "status", "warc_file", "warc_offset")})
            self.error_urls.append(row)

    def spider_error(self, failure: Failure, response: Response, spider: Spider) -> None:
        self._failure(
            response.url,
            "spider",
            f"spider exception {failure.type.__name__}",
            detail=failure.getErrorMessage(),
            status=response.status,
            warc_file=response.meta.get("warc_file"),
            warc_offset=response.meta.get("warc_offset"),
        )

    def page_failed(self, url: str, kind: str, reason: str, **extra: Any) -> None:
        if kind == "robots":
            self.robots_forbidden.append(url)
        elif kind == "no_edition":
            self.missing_editions.append(url)
        elif kind == "bad_link_date":
            if url not in self.bad_link_dates:  # one URL listed on two pages is one skipped page
                self.bad_link_dates.append(url)
        else:
            self._failure(url, kind, reason, **extra)

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        """Scrapy's OffsiteMiddleware drops offsite requests right at scheduling, with no errback
        and no request_dropped signal: a redirect that leaves the outlet's domains is recorded here,
        under the URL that redirected. (Offsite links that are not redirects are simply not followed.)"""
        # Not `dont_filter`: a retried request carries it, and so does its redirect, which
        # spiders.middlewares.RedirectOffsiteMiddleware filters all the same.
        if not request.meta.get("redirect_urls") or request.meta.get("allow_offsite"):
            return
        host = (urlsplit(request.url).hostname or "").lower()
        domains = [d.lower() for d in getattr(spider, "allowed_domains", None) or []]
        if domains and not any(host == d or host.endswith("." + d) for d in domains):
            origin = request.meta["redirect_urls"][0]
            if origin not in self.offsite_skipped:
                self.offsite_skipped.append(origin)

    def request_dropped(self, request: Request, spider: Spider) -> None:
        """The dupefilter drops a redirect to a URL already requested: back into its own chain (a
        redirect loop), or to a page crawled before (a "page moved" notice refreshing to the home
        page). Either way the linked page is lost, so it is recorded under the URL that redirected."""
        chain = request.meta.get("redirect_urls") or []
        if not chain:
            return  # a plain duplicate link: the page is fetched once, nothing is lost
        reason = (
            "redirect loop"
            if request.url in chain
            else f"redirected to an already crawled page {request.url}"
        )
        # The redirect carries the meta of the response that sent it: its place in the archive.
        self._failure(
            chain[0],
            "download",
            reason,
            detail=" -> ".join([*chain, request.url]),
            warc_file=request.meta.get("warc_file"),
            warc_offset=request.meta.get("warc_offset"),
        )

    def report(self, spider: Spider, reason: str) -> dict[str, Any]:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        prefix = "downloader/response_status_count/"
        by_status = {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}
        elapsed = round(time.monotonic() - self.started, 3)
        responses = int(stats.get("downloader/response_count", 0))
        return {
            "outlet": getattr(spider, "outlet_id", None),
            "platform": spider.name,
            "date_from": str(getattr(spider, "date_from", "")),
            "date_to": str(getattr(spider, "date_to", "")),
            "items": int(stats.get("item_scraped_count", 0)),
            "items_by_date": dict(sorted(self.items_by_date.items())),
            "requests": int(stats.get("downloader/request_count", 0)),
            "responses": responses,
            "responses_by_status": dict(sorted(by_status.items())),
            "error_counts": {
                # Download exceptions as Scrapy counts them (retried ones included); robots.txt
                # refusals are IgnoreRequest "exceptions" too and are not errors.
                "download_exceptions": int(stats.get("downloader/exception_count", 0))
                - int(stats.get("downloader/exception_type_count/scrapy.exceptions.IgnoreRequest", 0)),
                "download": self.errors.get("download", 0),
                "http": self.errors.get("http", 0),
                "spider": self.errors.get("spider", 0),
                "total": sum(self.errors.values()),
            },
            "errors": self.error_urls,
            "robots_forbidden": self.robots_forbidden[:MAX_ERROR_URLS],
            "missing_editions": self.missing_editions[:MAX_ERROR_URLS],
            "offsite_skipped": self.offsite_skipped[:MAX_ERROR_URLS],
            "bad_link_dates": self.bad_link_dates[:MAX_ERROR_URLS],
            "finish_reason": reason,
            "elapsed_seconds": elapsed,
            "pages_per_second": round(responses / elapsed, 2) if elapsed > 0 else None,
            "warc_file": next((str(e.path) for e in self._warc_extensions() if e.path is not None), None),
        }

    def _warc_extensions(self) -> list[WarcArchive]:
        ext = self.crawler.extensions
        return [m for m in (ext.middlewares if ext else ()) if isinstance(m, WarcArchive)]

    def spider_closed(self, spider: Spider, reason: str) -> None:
        report = self.report(spider, reason)
        if self.target is None:
            log.info("crawl report: %s", json.dumps({k: v for k, v in report.items() if k != "errors"}))
            return
        self.target.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.target.with_name(self.target.name + ".tmp")
        tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        tmp.replace(self.target)


class _SpiderFilter(logging.Filter):
    """Passes the records Scrapy and the spider tag with this spider (`extra={"spider": …}`)."""

    def __init__(self, spider: Spider):
        super().__init__()
        self.spider = spider

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "spider", None) is self.spider


class OutletLog:
    """A log file per outlet when several crawlers share one process (see the module doc)."""

    def __init__(self, crawler: Crawler, target: Path):
        self.crawler = crawler
        self.target = target
        self.handler: logging.Handler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OutletLog:
        from scrapy.exceptions import NotConfigured

        target = crawler.settings.get("QUXIAN_LOG_FILE")
        if not target:
            raise NotConfigured("QUXIAN_LOG_FILE is not set: the process log (LOG_FILE) is the only log")
        ext = cls(crawler, Path(target))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        settings = self.crawler.settings
        self.target.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(self.target, mode="w", encoding=settings.get("LOG_ENCODING") or "utf-8")
        handler.setFormatter(logging.Formatter(settings.get("LOG_FORMAT"), settings.get("LOG_DATEFORMAT")))
        handler.setLevel(settings.get("LOG_LEVEL") or logging.DEBUG)
        handler.addFilter(_SpiderFilter(spider))
        shared = settings.get("LOG_FILE")
        if shared and os.path.abspath(shared) != os.path.abspath(self.target):
            handler.stream.write(
                f"# outlet {getattr(spider, 'outlet_id', spider.name)}; the whole process log: {shared}\n"
            )
        logging.root.addHandler(handler)
        self.handler = handler

    def engine_stopped(self) -> None:
        # After spider_closed, so "Spider closed (finished)" and the stats dump are in the file.
        if self.handler is not None:
            logging.root.removeHandler(self.handler)
            self.handler.close()
            self.handler = None
