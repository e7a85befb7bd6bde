"""Downloader components: offline routing and retry with backoff.

Offline routing (design.md, `QUXIAN_OFFLINE_URL`): spiders always use real URLs. When the setting or
the environment variable is set, `OfflineRoutingMiddleware` marks every request for a registry host;
`OfflineAwareDownloadHandler` then fetches it from the offline server (URL rewritten to the base,
`Host` = the real host) and hands back a response whose `url` is the real URL. The rewrite happens
below the middleware chain, so Offsite, RobotsTxt, redirects, the download slots (politeness per
real domain), the WARC archive and the items only ever see real hosts.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future

from quxian import config
from quxian.registry import Registry
from quxian.registry import load as load_registry

OFFLINE_META = "quxian_offline_base"


def offline_base(crawler: Crawler) -> str | None:
    """`QUXIAN_OFFLINE_URL` from the Scrapy settings, else from the environment, else None."""
    return crawler.settings.get("QUXIAN_OFFLINE_URL") or config.offline_url()


def registry_domains(registry: Registry) -> frozenset[str]:
    """Every start-URL host and allowed domain of the registry."""
    return frozenset(registry.all_hosts()) | {d for o in registry.outlets.values() for d in o.allowed_domains}


def registry_host(host: str | None, registry: Registry | frozenset[str]) -> bool:
    """A host the registry knows: a start-URL host, or under an outlet's allowed domain."""
    if not host:
        return False
    domains = registry if isinstance(registry, frozenset) else registry_domains(registry)
    # Walk up the labels (a.b.example.org → b.example.org → example.org): a few set lookups.
    labels = host.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels) - 1))


def offline_url_for(url: str, base: str) -> str:
    """`https://www.dazu.gov.cn/a/b.html?x=1` → `<base>/a/b.html?x=1`."""
    parts, b = urlsplit(url), urlsplit(base)
    return urlunsplit((b.scheme, b.netloc, parts.path or "/", parts.query, ""))


class OfflineRoutingMiddleware:
    """Marks requests for registry hosts to be fetched from the offline sites server.

    Not configured (removed from the chain) when no offline URL is set: live crawls are untouched.
    """

    def __init__(self, base: str, registry: Registry):
        self.base = base.rstrip("/")
        self.domains = registry_domains(registry)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OfflineRoutingMiddleware:
        base = offline_base(crawler)
        if not base:
            raise NotConfigured("QUXIAN_OFFLINE_URL is not set: live crawl")
        return cls(base, load_registry())

    def process_request(self, request: Request) -> None:
        if registry_host(urlsplit(request.url).hostname, self.domains):
            request.meta[OFFLINE_META] = self.base
        else:
            # A redirect copies the meta of the request it came from: unmark a foreign host.
            request.meta.pop(OFFLINE_META, None)


class OfflineAwareDownloadHandler:
    """HTTP(S) download handler that fetches marked requests from the offline server.

    Unmarked requests go to Scrapy's HTTP/1.1 handler unchanged.
    """

    lazy = False

    def __init__(self, crawler: Crawler):
        from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

        self._http = HTTP11DownloadHandler(crawler)
        self._offline = bool(offline_base(crawler))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OfflineAwareDownloadHandler:
        return cls(crawler)

    async def download_request(self, request: Request) -> Response:
        base = request.meta.get(OFFLINE_META)
        if not base:
            if self._offline:
                # An offline crawl talks to the offline server only, whatever slipped through.
                raise IgnoreRequest(
                    f"offline crawl: {urlsplit(request.url).hostname} is not a registry host, not fetched"
                )
            return await self._http.download_request(request)
        real_host = urlsplit(request.url).netloc
        routed = request.replace(url=offline_url_for(request.url, base))
        routed.headers["Host"] = real_host
        response = await self._http.download_request(routed)
        return response.replace(url=request.url)

    async def close(self) -> None:
        await self._http.close()


class RedirectOffsiteMiddleware(OffsiteMiddleware):
    """Scrapy's offsite filter, applied to every redirect.

    Scrapy lets a request with `dont_filter` through its offsite filter. RetryMiddleware sets
    `dont_filter` on each retry and RedirectMiddleware copies it to the redirect, so a page that
    failed once and then redirected off the outlet's allowed domains would be fetched. A
    redirect is checked whatever its `dont_filter` (unless `allow_offsite` is set on purpose).
    """

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if (
            request.dont_filter
            and request.meta.get("redirect_urls")
            and not request.meta.get("allow_offsite")
        ):
            request = request.replace(dont_filter=False)
        super().process_request(request)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, waiting `base * 2**(n-1)` seconds (capped) before retry n.

    `QUXIAN_RETRY_BACKOFF_BASE` / `QUXIAN_RETRY_BACKOFF_MAX`; base 0 retries at once (tests).
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        mw = super().from_crawler(crawler)
        mw.backoff_base = crawler.settings.getfloat("QUXIAN_RETRY_BACKOFF_BASE", 2.0)
        mw.backoff_max = crawler.settings.getfloat("QUXIAN_RETRY_BACKOFF_MAX", 60.0)
        return mw

    async def _wait(self, retry: Request | Response | None) -> None:
        if not isinstance(retry, Request) or self.backoff_base <= 0:
            return
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        n = retry.meta.get("retry_times", 1)
        delay = min(self.backoff_max, self.backoff_base * 2 ** (n - 1))
        await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        result = super().process_response(request, response)
        await self._wait(result)
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:
        result = super().process_exception(request, exception)
        await self._wait(result)
        return result
