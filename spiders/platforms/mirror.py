"""Spam mirrors: list `/list/`, `index_N.html`; articles `/html/YYYY/MMDD/<n>.html`."""

from __future__ import annotations

import re
from datetime import date

from spiders.platforms.base import ListSpider, spelled_date

URL_DATE = re.compile(r"/html/(20\d\d)/(\d\d)(\d\d)/\d+\.html$")


class MirrorSpider(ListSpider):
    name = "mirror"
    column_re = re.compile(r"/list/(?:index(?:_\d+)?\.html)?$")
    article_re = URL_DATE
    page_date_css = ".time"
    field_css = {"title": ".main h1, h1"}

    def url_date(self, url: str) -> date | None:
        return spelled_date(URL_DATE.search(url))
