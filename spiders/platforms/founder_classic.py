"""Classic Founder e-paper (outlets.md, platform A): `/…/html/YYYY-MM/DD/node_N.htm` 版面 pages,
`content_N.htm` articles (永川's `content_<page>_<id>.htm` too), `table.wz` rows for the titles."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urljoin

from scrapy.http import TextResponse

from spiders.platforms.base import EditionSpider, strip_query, text_of


class FounderClassicSpider(EditionSpider):
    name = "founder_classic"

    @classmethod
    def page_re(cls, day: date) -> re.Pattern[str]:
        return re.compile(rf"/html/{day:%Y-%m}/{day:%d}/node_\d+\.htm$")

    @classmethod
    def article_re(cls, day: date) -> re.Pattern[str]:
        return re.compile(rf"/html/{day:%Y-%m}/{day:%d}/content_(?:\d+_)?\d+\.htm$")

    def page_labels(self, response: TextResponse) -> dict[str, str]:
        out = {}
        for a in response.css("td.default a#pageLink, a#pageLink"):
            label = text_of(a)
            if label and a.attrib.get("href"):
                out[strip_query(urljoin(response.url, a.attrib["href"]))] = label
        return out

    def template_fields(self, response: TextResponse) -> dict[str, str | None]:
        rows = [text_of(r) for r in response.css("table.wz tr[valign=top], table.wz tr[valign=TOP]")[:4]]
        rows += [None] * (4 - len(rows))
        return {"pre_title": rows[0], "title": rows[1], "sub_title": rows[2], "author_line": rows[3]}
