"""大足网 (txdzw.com): list `/xw/dzxw/`, `index_N.html`; articles `/xw/dzxw/content_N`."""

from __future__ import annotations

import re

from spiders.platforms.base import ListSpider


class DazuwangSpider(ListSpider):
    name = "dazuwang"
    column_re = re.compile(r"/xw/\w+/(?:index(?:_\d+)?\.html)?$")
    article_re = re.compile(r"/xw/\w+/content_\d+$")
    page_date_css = ".detail .info"
    field_css = {"title": ".detail h1, h1"}
