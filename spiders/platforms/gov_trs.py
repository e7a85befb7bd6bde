"""District government portals on the municipal TRS-like CMS (outlets.md, platform E): news
columns `/<section>_<n>/(qxdt|gzdt)/`, lists `index.html`, `index_N.html`, articles
`…/YYYYMM/tYYYYMMDD_<docid>.html` (the `_wap.html` twins are skipped)."""

from __future__ import annotations

import re
from datetime import date

from scrapy.http import TextResponse

from spiders.platforms.base import ListSpider, spelled_date, text_of

URL_DATE = re.compile(r"/t(20\d\d)(\d\d)(\d\d)_\d+\.html$")


class GovTrsSpider(ListSpider):
    name = "gov_trs"
    column_re = re.compile(r"/\w+_\d+/(?:qxdt|gzdt|bmdt|jdxw|zwyw)/(?:index(?:_\d+)?\.html)?$")
    article_re = re.compile(r"/\d{6}/t\d{8}_\d+\.html$")

    def url_date(self, url: str) -> date | None:
        return spelled_date(URL_DATE.search(url))

    def page_date(self, response: TextResponse) -> date | None:
        return spelled_date(
            re.match(r"(20\d\d)-(\d\d)-(\d\d)", response.css("meta[name=PubDate]::attr(content)").get() or "")
        )

    def template_fields(self, response: TextResponse) -> dict[str, str | None]:
        title = response.css("meta[name=ArticleTitle]::attr(content)").get() or text_of(response.css("h1"))
        return {"pre_title": None, "title": title, "sub_title": None, "author_line": None}
