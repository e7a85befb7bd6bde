"""What a site is made of: pages (bytes + content type) by path, and shared HTML helpers."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

# Every site disallows this prefix and links one article-shaped URL under it, so a crawl that
# ignored robots.txt would be caught by the server's request log.
DISALLOWED = "/admin/"


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str


@dataclass
class Site:
    """One outlet's pages, keyed by path (query strings are not part of any shape we serve)."""

    host: str
    outlet_id: str
    pages: dict[str, Page] = field(default_factory=dict)

    def add_html(self, path: str, text: str, charset: str = "utf-8") -> None:
        if path in self.pages:
            raise ValueError(f"{self.host}: two pages rendered at {path}")
        self.pages[path] = Page(
            text.encode(charset, errors="xmlcharrefreplace"), f"text/html; charset={charset}"
        )

    def add_text(self, path: str, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
        self.pages[path] = Page(text.encode("utf-8"), content_type)


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def paras_html(paragraphs: list[str], indent: str = "") -> str:
    return "\n".join(f"{indent}<p>{esc(p)}</p>" for p in paragraphs)


def robots_txt(sitemap_host: str) -> str:
    return f"User-agent: *\nDisallow: {DISALLOWED}\nAllow: /\n\n# quxian offline copy of {sitemap_host}\n"


def admin_page(host: str) -> str:
    return f"<html><head><title>{esc(host)} 管理</title></head><body><p>后台登录</p></body></html>"
