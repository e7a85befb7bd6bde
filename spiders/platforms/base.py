"""What every platform spider shares: arguments, the registry entry, items, errors, and the two ways
of walking a site (an e-paper's editions by date, a portal's column lists page by page).

Subclasses only say what their platform's URLs and templates look like (regexes and selectors).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from quxian.config import TZ
from quxian.registry import Outlet
from quxian.registry import load as load_registry
from spiders.extensions import page_failed
from spiders.items import RawPage

ISO_DATE = re.compile(r"(20\d\d)-(\d\d)-(\d\d)")


def spelled_date(m: re.Match[str] | None) -> date | None:
    """The day a match of (year, month, day) groups spells; None without a match. Raises
    ValueError naming the digits when they are no day of the calendar (`2025-11-31`): pages
    carry such strings, and the callers decide what a bad date costs (only its link)."""
    if m is None:
        return None
    y, mo, d = m[1], m[2], m[3]
    try:
        return date(int(y), int(mo), int(d))
    except ValueError:
        raise ValueError(f"no such day {y}-{mo}-{d}") from None


def parse_day(value: str | date | None, what: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{what} must be YYYY-MM-DD, got {value!r}") from None


def strip_query(url: str) -> str:
    """Drop query and fragment: e-paper links carry `?div=-1` and the like."""
    p = urlsplit(urldefrag(url)[0])
    return urlunsplit((p.scheme, p.netloc, p.path, "", ""))


def true_encoding(response: TextResponse) -> TextResponse:
    """The response decoded by what its bytes are when they contradict its declared charset.

    Bytes that decode strictly as UTF-8 (and are not plain ASCII) are UTF-8 whatever the page
    says: GBK-encoded Chinese practically never does. Bytes declared UTF-8 that do not decode
    are tried as GB18030 (a superset of GBK and GB2312). Otherwise the response is returned as
    it is. Without this a UTF-8 page declared GBK is published as mojibake."""
    body = response.body
    try:
        declared = codecs.lookup(response.encoding).name
    except LookupError:
        declared = ""
    if body.isascii():
        return response
    try:
        body.decode("utf-8")
        return response if declared == "utf-8" else response.replace(encoding="utf-8")
    except UnicodeDecodeError:
        pass
    if declared == "utf-8":
        try:
            body.decode("gb18030")
            return response.replace(encoding="gb18030")
        except UnicodeDecodeError:
            pass
    return response


def text_of(sel: Any) -> str | None:
    """Whitespace-normalised text of a selector list, None when empty."""
    joined = " ".join(t.strip() for t in sel.xpath("string(.)").getall() if t.strip())
    return re.sub(r"\s+", " ", joined).strip() or None


class OutletSpider(scrapy.Spider):
    """Base spider: `-a outlet=<id> -a date_from=YYYY-MM-DD -a date_to=YYYY-MM-DD`.

    `date_to` defaults to `date_from`. Raises ValueError when the outlet's platform is not this
    spider's, or when no date is given (a crawl never guesses its dates from the clock).
    """

    name: ClassVar[str]
    # Template fields: CSS selectors per field (None: the template has no such field).
    field_css: ClassVar[dict[str, str | None]] = {}

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        if not settings.getbool("QUXIAN_POLITE", True):
            # Against the offline sites only: no delay, no AutoThrottle, more at once. The retry
            # backoff stays: it only costs time when a page fails, and fault tests measure it.
            settings.set("DOWNLOAD_DELAY", 0, priority="spider")
            settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")
            settings.set("CONCURRENT_REQUESTS", 16, priority="spider")
            settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 8, priority="spider")

    def __init__(
        self, outlet: str | None = None, date_from: str | None = None, date_to: str | None = None, **kw: Any
    ):
        super().__init__(**kw)
        if not outlet:
            raise ValueError(f"spider {self.name}: pass -a outlet=<id> (see quxian/outlets.yaml)")
        self.outlet: Outlet = load_registry().outlet(outlet)
        if self.outlet.platform != self.name:
            raise ValueError(
                f"outlet {outlet} is on platform {self.outlet.platform!r}, not {self.name!r}: "
                f"run `scrapy crawl {self.outlet.platform} -a outlet={outlet}`"
            )
        self.outlet_id = self.outlet.id
        start = parse_day(date_from, "date_from")
        if start is None:
            raise ValueError(f"outlet {outlet}: pass -a date_from=YYYY-MM-DD (and optionally date_to)")
        end = parse_day(date_to, "date_to") or start
        if end < start:
            raise ValueError(f"outlet {outlet}: date_to {end} is before date_from {start}")
        self.date_from, self.date_to = start, end
        self.allowed_domains = list(self.outlet.allowed_domains)
        # List links skipped for a date that is no day of the calendar (ListSpider.parse_list).
        self.bad_link_dates: list[str] = []

    # ---------------------------------------------------------------- helpers
    def days(self) -> list[date]:
        n = (self.date_to - self.date_from).days
        return [self.date_from + timedelta(days=i) for i in range(n + 1)]

    def in_range(self, day: date | None) -> bool:
        return day is not None and self.date_from <= day <= self.date_to

    def request(self, url: str, callback: Any, **meta: Any) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta)

    def on_error(self, failure: Failure) -> None:
        """Report a failed request to the crawl report (`spiders.extensions.page_failed`)."""
        request = failure.request  # type: ignore[attr-defined]
        extra: dict[str, Any] = {}
        if failure.check(HttpError):
            resp = failure.value.response
            kind, reason = "http", f"HTTP {resp.status}"
            if resp.status == 404 and request.meta.get("edition_start"):
                # Papers skip days (weekends, holidays): a missing edition is news, not an error.
                kind, reason = "no_edition", f"no edition on {request.meta.get('edition_date')}"
            extra = {
                "status": resp.status,
                "warc_file": resp.meta.get("warc_file"),
                "warc_offset": resp.meta.get("warc_offset"),
            }
        elif failure.check(IgnoreRequest) and "robots.txt" in failure.getErrorMessage():
            kind, reason = "robots", "forbidden by robots.txt"
        else:
            kind, reason = "download", f"download failed: {failure.type.__name__}"
            extra = {"detail": failure.getErrorMessage()}
            if failure.check(IgnoreRequest):  # e.g. too many redirects, a page over DOWNLOAD_MAXSIZE
                reason = f"ignored: {failure.getErrorMessage()}"
        chain = request.meta.get("redirect_urls") or []
        if chain:
            # The page the outlet linked is the one lost, wherever its redirects ended.
            hops = " -> ".join([*chain, request.url])
            extra["detail"] = f"{hops}: {extra['detail']}" if extra.get("detail") else hops
        url = chain[0] if chain else request.url
        if kind not in ("robots", "no_edition"):
            self.logger.warning("outlet %s: %s failed (%s)", self.outlet_id, url, reason)
        self.crawler.signals.send_catch_log(page_failed, url=url, kind=kind, reason=reason, **extra)

    def redirected_off_article(self, response: Response, article_re: re.Pattern[str]) -> bool:
        """An article link that redirected (HTTP or meta refresh) to a page of another shape: a
        login, the home page, a "page moved" notice. Reported as a failed page under the linked
        URL (the page the outlet offered), so no item is made from the page it landed on."""
        chain = response.meta.get("redirect_urls")
        if not chain or article_re.search(urlsplit(response.url).path):
            return False
        self.logger.warning(
            "outlet %s: %s redirected to %s, not an article", self.outlet_id, chain[0], response.url
        )
        self.crawler.signals.send_catch_log(
            page_failed,
            url=chain[0],
            kind="download",
            reason="redirected to a page that is not an article",
            detail=" -> ".join([*chain, response.url]),
            status=response.status,
            warc_file=response.meta.get("warc_file"),
            warc_offset=response.meta.get("warc_offset"),
        )
        return True

    def field(self, response: TextResponse, name: str) -> str | None:
        css = self.field_css.get(name)
        return text_of(response.css(css)) if css else None

    def template_fields(self, response: TextResponse) -> dict[str, str | None]:
        """pre_title/title/sub_title/author_line from the platform's selectors (override for more)."""
        return {k: self.field(response, k) for k in ("pre_title", "title", "sub_title", "author_line")}

    def make_item(self, response: TextResponse, **fields: Any) -> RawPage:
        response = true_encoding(response)
        meta_tags = {
            m.attrib["name"]: m.attrib.get("content", "")
            for m in response.css("meta[name]")
            if m.attrib.get("name")
        }
        values = {**self.template_fields(response), **{k: v for k, v in fields.items() if v is not None}}
        return RawPage(
            url=response.url,
            outlet=self.outlet.id,
            district=self.outlet.district,
            platform=self.name,
            fetched_at=datetime.now(TZ).isoformat(timespec="seconds"),
            status=response.status,
            encoding=response.encoding,
            html=response.text,
            meta=meta_tags,
            warc_file=response.meta.get("warc_file"),
            warc_offset=response.meta.get("warc_offset"),
            **values,
        )

    def links(self, response: TextResponse) -> Iterator[tuple[str, Any]]:
        """(absolute URL without query, the <a>/<area> selector) for every link on the page.
        Links no URL parser accepts are skipped (and logged): one broken href must not cost the
        page's other links, which an exception here would."""
        for sel in response.css("a[href], area[href]"):
            href = sel.attrib["href"].strip()
            if href and not href.startswith(("javascript:", "mailto:", "#")):
                try:
                    url = strip_query(urljoin(response.url, href))
                except ValueError as e:
                    self.logger.info(
                        "outlet %s: %s links to %r, not a URL (%s)",
                        self.outlet_id,
                        response.url,
                        href[:200],
                        e,
                    )
                    continue
                yield url, sel


class EditionSpider(OutletSpider):
    """E-papers: for each date, the edition's first 版面 (registry start URL template), every other
    版面 it links, and every article of that date linked from a 版面 (list, image map or any link
    of the article URL shape)."""

    @classmethod
    def page_re(cls, day: date) -> re.Pattern[str]:
        """版面 pages of `day`."""
        raise NotImplementedError

    @classmethod
    def article_re(cls, day: date) -> re.Pattern[str]:
        """Article pages of `day`."""
        raise NotImplementedError

    async def start(self) -> AsyncIterator[Any]:
        for day in self.days():
            for url in self.outlet.start_urls_for(day):
                yield self.request(url, self.parse_edition, edition_date=day, edition_start=True)

    def page_labels(self, response: TextResponse) -> dict[str, str]:
        """URL → 版面 label, from the 版面 list of this page (override per template)."""
        return {}

    def article_labels(self, response: TextResponse, own_label: str | None) -> dict[str, str]:
        """Article URL → 版面 label; by default every article gets this page's label."""
        return {}

    def parse_edition(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            return
        day: date = response.meta["edition_date"]
        labels = self.page_labels(response)
        own = labels.get(strip_query(response.url)) or response.meta.get("page_label")
        per_article = self.article_labels(response, own)
        page_re, article_re = self.page_re(day), self.article_re(day)
        for url, _sel in self.links(response):
            path = urlsplit(url).path
            if article_re.search(path):
                label = per_article.get(url, own)
                yield self.request(url, self.parse_article, edition_date=day, page_label=label)
            elif page_re.search(path):
                yield self.request(url, self.parse_edition, edition_date=day, page_label=labels.get(url))

    def parse_article(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            return
        day: date = response.meta["edition_date"]
        if self.redirected_off_article(response, self.article_re(day)):
            return
        yield self.make_item(
            response,
            edition_date=day.isoformat(),
            page_label=self.article_page_label(response) or response.meta.get("page_label"),
        )

    def article_page_label(self, response: TextResponse) -> str | None:
        return None


class ListSpider(OutletSpider):
    """Portals: from the start pages, follow column lists (`column_re`) and their pagination
    (`index_N.html`), follow article links (`article_re`) whose date — from the URL or from the
    list entry — is in range (undated links are followed and checked on the article page), and
    stop paginating a column once its page holds entries older than `date_from`."""

    column_re: ClassVar[re.Pattern[str] | None] = None
    article_re: ClassVar[re.Pattern[str]]
    pagination_re: ClassVar[re.Pattern[str]] = re.compile(r"/index(?:_\d+)?\.html$")
    # Where the article page states its publication date (text searched for YYYY-MM-DD).
    page_date_css: ClassVar[str | None] = None

    async def start(self) -> AsyncIterator[Any]:
        for url in self.outlet.start_urls:
            yield self.request(url, self.parse_list)

    def url_date(self, url: str) -> date | None:
        """The publication date the URL spells, if the platform's URLs carry one."""
        return None

    @staticmethod
    def entry_date(sel: Any) -> date | None:
        """The date printed beside a link in its list entry (the link's parent element); raises
        ValueError when it is no day of the calendar."""
        return spelled_date(ISO_DATE.search(" ".join(sel.xpath("..//text()").getall())))

    def skip_bad_link_date(self, url: str, where: str, error: ValueError) -> None:
        """A list link whose date (in its URL or beside it) is no day of the calendar: skipped,
        and counted in the crawl report (`bad_link_dates`, skipped by rule) under its URL. The
        page's other links and its pagination are still followed."""
        self.logger.warning(
            "outlet %s: %s links to %s, bad link date (%s)", self.outlet_id, where, url, error
        )
        self.bad_link_dates.append(url)
        crawler = getattr(self, "crawler", None)
        if crawler is not None:
            crawler.signals.send_catch_log(
                page_failed, url=url, kind="bad_link_date", reason="bad link date", detail=f"{where}: {error}"
            )

    def parse_list(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            return
        dates: list[date] = []
        pages: list[str] = []
        undated: list[str] = []
        columns = 0
        here = strip_query(response.url)
        for url, sel in self.links(response):
            path = urlsplit(url).path
            if self.article_re.search(path):
                try:
                    day = self.url_date(url) or self.entry_date(sel)
                except ValueError as e:
                    self.skip_bad_link_date(url, here, e)
                    continue
                if day is None:
                    undated.append(url)
                    continue
                dates.append(day)
                if self.in_range(day):
                    yield self.request(url, self.parse_article, list_date=day)
            elif self.column_re is not None and self.column_re.search(path) and url != here:
                if self.pagination_re.search(path) and _same_folder(url, here):
                    pages.append(url)
                else:
                    columns += 1
                    yield self.request(url, self.parse_list)
            elif self.pagination_re.search(path) and _same_folder(url, here) and url != here:
                pages.append(url)
        # Undated links on a hub (a home page linking columns) are reached again, dated, from the
        # columns; on a list page they are followed and checked on the article page.
        is_column = self.column_re is None or bool(self.column_re.search(urlsplit(here).path))
        if is_column or not columns:
            for url in undated:
                yield self.request(url, self.parse_article, list_date=None)
        # Lists run newest first: once a page reaches back before date_from, later pages only
        # hold older entries.
        if dates and min(dates) < self.date_from:
            return
        for url in pages:
            yield self.request(url, self.parse_list)

    def parse_article(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            return
        if self.redirected_off_article(response, self.article_re):
            return
        listed: date | None = response.meta.get("list_date")
        day = (
            listed
            or self.known_date(self.url_date, response.url)
            or self.known_date(self.page_date, response)
        )
        if day is not None and not self.in_range(day):
            return
        yield self.make_item(response, list_date=listed.isoformat() if listed else None)

    def known_date(self, read: Any, source: Any) -> date | None:
        """`read(source)`, or None (logged) when the date it finds is no day of the calendar: on
        an article page an unreadable date is an unknown one, and the item is still made (the
        cleaning step dates it from its text, or quarantines it with "no publication date")."""
        try:
            return read(source)
        except ValueError as e:
            url = getattr(source, "url", source)
            self.logger.warning("outlet %s: %s: bad date ignored (%s)", self.outlet_id, url, e)
            return None

    def page_date(self, response: TextResponse) -> date | None:
        """The date the article page states (`page_date_css`); raises ValueError for a date that
        is no day of the calendar."""
        if not self.page_date_css:
            return None
        return spelled_date(ISO_DATE.search(text_of(response.css(self.page_date_css)) or ""))


def _same_folder(a: str, b: str) -> bool:
    return a.rsplit("/", 1)[0] == b.rsplit("/", 1)[0]
