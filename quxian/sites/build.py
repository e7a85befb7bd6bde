"""Stories → the articles each outlet publishes (numbered, timed) → rendered sites by host.

Numbering follows the real platforms: ids are global per platform and rise with the publication
date (government docids rise across districts). Everything here is a pure function of the stories,
so the sites serve the same bytes on every start.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zlib import crc32

from quxian.registry import Outlet, Registry
from quxian.registry import load as load_registry
from quxian.sites.content import CONTENT_DIR, Story, load_stories
from quxian.sites.pages import DISALLOWED, Site, admin_page, robots_txt
from quxian.sites.seed import Seed, load_seed

log = logging.getLogger(__name__)

# First id each platform hands out in the covered days (real sites were near these in 2025).
FIRST_NUMBER = {
    "xinyubao": 24500,
    "founder_classic": 118300,
    "founder_pc": 35200,
    "dazuwang": 98100,
    "gov_trs": 40412000,
    "mirror": 730000,
    "rongmei": 0,  # rongmei ids are built from the date, see render_rongmei
}


@dataclass(frozen=True)
class Article:
    """One story as published by one outlet on one day."""

    outlet_id: str
    story: Story
    day: date
    number: int  # the outlet's article id (content_N, docid, …)
    slot: int  # position among the outlet's articles of that day, 0 first
    time: str  # HH:MM:SS of publication, for portals

    @property
    def stamp(self) -> str:
        return f"{self.day.isoformat()} {self.time}"


def _time_of(story: Story, slot: int) -> str:
    minutes = 8 * 60 + 30 + slot * 41 + crc32(story.id.encode()) % 17
    minutes = min(minutes, 23 * 60 + 50)
    return f"{minutes // 60:02d}:{minutes % 60:02d}:{crc32(story.id.encode()) % 60:02d}"


def articles_by_outlet(stories: list[Story], outlets: list[Outlet]) -> dict[str, list[Article]]:
    """Each offline outlet's articles sorted by (day, slot); numbers rise with the day."""
    runs: dict[str, list[tuple[date, Story]]] = defaultdict(list)
    known = {o.id for o in outlets}
    for s in stories:
        for outlet_id, day in s.runs.items():
            if outlet_id in known:
                runs[outlet_id].append((day, s))
            else:
                log.warning("story %s runs on %r, which is not an offline outlet", s.id, outlet_id)
    platform_of = {o.id: o.platform for o in outlets}
    # Number per platform across its outlets, ordered by day then outlet, so gov docids rise
    # with the date across districts.
    entries: list[tuple[date, str, int, Story]] = []
    for outlet_id, items in runs.items():
        items.sort(key=lambda t: (t[0], t[1].template is not None, t[1].id))
        slot_of_day: dict[date, int] = defaultdict(int)
        for day, s in items:
            entries.append((day, outlet_id, slot_of_day[day], s))
            slot_of_day[day] += 1
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    counters = dict(FIRST_NUMBER)
    out: dict[str, list[Article]] = defaultdict(list)
    for day, outlet_id, slot, s in entries:
        platform = platform_of[outlet_id] or ""
        counters[platform] = counters.get(platform, 1000) + 1 + crc32(s.id.encode()) % 3
        out[outlet_id].append(Article(outlet_id, s, day, counters[platform], slot, _time_of(s, slot)))
    return dict(out)


def default_content_dir() -> Path:
    """The package's story folder; the test fixtures when it holds no story file yet."""
    if any(CONTENT_DIR.glob("*.yaml")):
        return CONTENT_DIR
    fixtures = CONTENT_DIR.parents[2] / "tests" / "fixtures" / "stories"
    log.warning("no story files in %s: using the test fixtures in %s", CONTENT_DIR, fixtures)
    return fixtures


def build_sites(
    content_dir: Path | None = None,
    registry: Registry | None = None,
    seed: Seed | None | bool = True,
) -> dict[str, Site]:
    """Render every offline outlet: `{host: Site}`.

    `seed=True` loads the seed from the shared folder (skipped with a warning when missing),
    `None`/`False` leaves it out, a `Seed` is used as given.
    """
    from quxian.sites import renderers  # late: renderers import this module's Article

    registry = registry or load_registry()
    outlets = registry.offline_outlets()
    stories = load_stories(content_dir or default_content_dir())
    seed_obj = load_seed() if seed is True else (seed or None)
    known = {o.id for o in outlets}
    if seed_obj is not None and known & {*seed_obj.story.runs, "mirror_cqxw"}:
        stories = [*stories, seed_obj.story]
    elif seed_obj is not None:
        seed_obj = None  # a registry without the seed's outlets (generated ones for scale runs)
    by_outlet = articles_by_outlet(stories, outlets)
    sites: dict[str, Site] = {}
    for outlet in outlets:
        render = renderers.RENDERERS[outlet.platform or ""]
        for host in outlet.hosts:
            site = Site(host=host, outlet_id=outlet.id)
            render(site, outlet, by_outlet.get(outlet.id, []), seed_obj)
            site.add_text("/robots.txt", robots_txt(host))
            site.add_html(DISALLOWED, admin_page(host))
            sites[host] = site
    return sites


def publication_dates(content_dir: Path | None = None) -> tuple[date, date] | None:
    """First and last publication date over the stories (for the `quxian sites` banner)."""
    days = [d for s in load_stories(content_dir or default_content_dir()) for d in s.runs.values()]
    return (min(days), max(days)) if days else None
