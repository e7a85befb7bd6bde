"""新渝报 (outlets.md, platform C): `/Html/YYYY-MM-DD/<id>.html` articles; the per-day
`/Html/YYYY-MM-DD/index.html` lists them under 版面 headings (an assumption of the offline site:
any article link of the date found on the day's pages is followed too)."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urljoin

from scrapy.http import TextResponse

from spiders.platforms.base import EditionSpider, strip_query, text_of

HEADER = re.compile(r"^([A-Z]\d+[:：]\S+)")
AUTHOR = re.compile(r"作者[:：]\s*(.*)$")


class XinyubaoSpider(EditionSpider):
    name = "xinyubao"
    field_css = {"pre_title": ".article .yt", "title": ".article h1, h1.title", "sub_title": ".article .ft"}

    @classmethod
    def page_re(cls, day: date) -> re.Pattern[str]:
        return re.compile(rf"/Html/{day:%Y-%m-%d}/index\.html$")

    @classmethod
    def article_re(cls, day: date) -> re.Pattern[str]:
        return re.compile(rf"/Html/{day:%Y-%m-%d}/\d+\.html$")

    def article_labels(self, response: TextResponse, own_label: str | None) -> dict[str, str]:
        out = {}
        for block in response.css("div.bm"):
            label = text_of(block.css("h3"))
            for href in block.css("a::attr(href)").getall():
                if label:
                    out[strip_query(urljoin(response.url, href))] = label
        return out

    def article_page_label(self, response: TextResponse) -> str | None:
        m = HEADER.match(text_of(response.css(".bmnav .bm, .bmnav")) or "")
        return m[1] if m else None

    def template_fields(self, response: TextResponse) -> dict[str, str | None]:
        fields = super().template_fields(response)
        m = AUTHOR.search(text_of(response.css(".article .info")) or "")
        fields["author_line"] = (m[1].strip() or None) if m else None
        return fields
