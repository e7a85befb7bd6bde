"""Newer Founder layout (outlets.md, platform B): `/pc/layout/YYYYMM/DD/node_NN.html` 版面 pages
(list `ul#widthNone li a`), `/pc/content/YYYYMM/DD/content_N.html` articles."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urljoin

from scrapy.http import TextResponse

from spiders.platforms.base import EditionSpider, strip_query, text_of


class FounderPcSpider(EditionSpider):
    name = "founder_pc"
    field_css = {
        "pre_title": "#PreTitle",
        "title": "#Title, #main-title",
        "sub_title": "#SubTitle, #sub-title",
        "author_line": "#author",
    }

    @classmethod
    def page_re(cls, day: date) -> re.Pattern[str]:
        return re.compile(rf"/pc/(?:layout/{day:%Y%m}/{day:%d}/node_\d+|{day:%Y%m}/{day:%d}/col\d+)\.html$")

    @classmethod
    def article_re(cls, day: date) -> re.Pattern[str]:
        return re.compile(rf"/pc/content/{day:%Y%m}/{day:%d}/content_\d+\.html$")

    def page_labels(self, response: TextResponse) -> dict[str, str]:
        out = {}
        for a in response.css("ul#widthNone li a"):
            label = text_of(a)
            if label and a.attrib.get("href"):
                out[strip_query(urljoin(response.url, a.attrib["href"]))] = label
        return out

    def template_fields(self, response: TextResponse) -> dict[str, str | None]:
        fields = super().template_fields(response)
        # `#author` ends with the edition date on this template; the byline is what precedes it.
        if fields["author_line"]:
            fields["author_line"] = re.sub(r"\s*20\d\d-\d\d-\d\d$", "", fields["author_line"]) or None
        return fields

    def article_page_label(self, response: TextResponse) -> str | None:
        return text_of(response.css(".layout"))
