"""District 融媒体 portals on the shared city platform (outlets.md, platform D): column lists
`/web/column/<id>/index.html`, articles `/web/article/<19 digits>/web/content_<id>.html` (永川网
spells it `aritcle`)."""

from __future__ import annotations

import re

from spiders.platforms.base import ListSpider


class RongmeiSpider(ListSpider):
    name = "rongmei"
    column_re = re.compile(r"/web/column/\d+/(?:index(?:_\d+)?\.html)?$")
    article_re = re.compile(r"/web/a(?:rticle|ritcle)/\d{19}/web/content_\d{19}\.html$")
    page_date_css = ".info .time, .info"
    field_css = {"title": ".article h1, h1"}
