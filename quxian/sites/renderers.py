"""Platform name → renderer.

A renderer has the signature `render(site, outlet, articles, seed) -> None`: it adds every page of
one outlet to `site` (articles come sorted by day and slot, see `quxian.sites.build`).
"""

from __future__ import annotations

from collections.abc import Callable

from quxian.registry import Outlet
from quxian.sites import (
    render_dazuwang,
    render_founder_classic,
    render_founder_pc,
    render_gov_trs,
    render_mirror,
    render_rongmei,
    render_xinyubao,
)
from quxian.sites.build import Article
from quxian.sites.pages import Site
from quxian.sites.seed import Seed

Renderer = Callable[[Site, Outlet, list[Article], Seed | None], None]

RENDERERS: dict[str, Renderer] = {
    "founder_classic": render_founder_classic.render,
    "founder_pc": render_founder_pc.render,
    "xinyubao": render_xinyubao.render,
    "rongmei": render_rongmei.render,
    "dazuwang": render_dazuwang.render,
    "gov_trs": render_gov_trs.render,
    "mirror": render_mirror.render,
}
