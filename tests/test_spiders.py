"""The spiders against the offline sites, as real `scrapy crawl` subprocesses (politeness off):
items per outlet and day, real URLs only, template fields, robots.txt obeyed, WARC archive, stats.

All crawls of the module run in one fixture, two processes at a time (a Scrapy process spends most
of its few seconds in start-up); the tests then read their outputs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from parsel import Selector
from scrapy import Request
from scrapy.http import HtmlResponse
from sitesutil import running_sites
from warcio.archiveiterator import ArchiveIterator

from quxian.config import CHECKOUT
from quxian.registry import load as load_registry
from quxian.sites.build import build_sites
from quxian.sites.faults import Fault, FaultPlan, make_fault_server
from quxian.sites.pages import DISALLOWED
from spiders.middlewares import offline_url_for, registry_host
from spiders.platforms.rongmei import RongmeiSpider
from spiders.platforms.xinyubao import XinyubaoSpider

DATE_FROM, DATE_TO = "2025-11-13", "2025-11-15"
DAYS = ("2025-11-13", "2025-11-14", "2025-11-15")
PARALLEL = 2
REGISTRY = load_registry()
OFFLINE = {o.id: o for o in REGISTRY.offline_outlets()}


@dataclass
class Crawl:
    outlet: str
    items: list[dict]
    stats: dict
    warc_dir: Path
    returncode: int
    stderr: str


def _command(outlet_id: str, out: Path, date_from: str, date_to: str) -> list[str]:
    o = OFFLINE[outlet_id]
    return [
        sys.executable, "-m", "scrapy", "crawl", o.platform,
        "-a", f"outlet={outlet_id}", "-a", f"date_from={date_from}", "-a", f"date_to={date_to}",
        "-O", str(out / "items.jsonl"),
        "-s", f"QUXIAN_STATS_FILE={out / 'stats.json'}",
        "-s", f"QUXIAN_WARC_DIR={out / 'warc'}",
        "-s", "QUXIAN_POLITE=0",
        "-s", "LOG_LEVEL=WARNING",
    ]  # fmt: skip


FAULTY = "dazuwang"  # the outlet crawled a second time against a server with faults


def _fault_plan(sites) -> FaultPlan:
    """Four faulty article pages of 大足网: an offsite redirect, a redirect loop, a 503 twice
    (recovered by retry) and a 404."""
    host = OFFLINE[FAULTY].hosts[0]
    arts = sorted(p for p in sites[host].pages if "/content_" in p and not p.startswith(DISALLOWED))
    return FaultPlan(
        faults=[
            Fault(host, arts[0], "offsite_redirect"),
            Fault(host, arts[1], "redirect_loop"),
            Fault(host, arts[2], "http503", times=2),
            Fault(host, arts[3], "http404"),
        ]
    )


def _read(key: str, oid: str, out: Path, proc: subprocess.Popen) -> Crawl:
    _, err = proc.communicate(timeout=240)
    items_file, stats_file = out / "items.jsonl", out / "stats.json"
    items = (
        [json.loads(ln) for ln in items_file.read_text(encoding="utf-8").splitlines()]
        if items_file.exists()
        else []
    )
    stats = json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.exists() else {}
    return Crawl(oid, items, stats, out / "warc", proc.returncode, err)


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    """Every offline outlet crawled for 2025-11-13..15 (key = outlet id), plus 大足网 against a
    fault server (key `faulty`, plan under `_plan`, its server's attempts under `_attempts`)."""
    root = tmp_path_factory.mktemp("crawls")
    sites = build_sites()
    plan = _fault_plan(sites)
    fault_server = make_fault_server(plan, sites=sites)
    fault_thread = threading.Thread(target=fault_server.serve_forever, daemon=True)
    fault_thread.start()
    try:
        with running_sites() as (base, server):
            jobs = [(oid, oid, base) for oid in OFFLINE] + [("faulty", FAULTY, fault_server.base_url)]
            results: dict = {}
            running: list[tuple[str, str, Path, subprocess.Popen]] = []
            # Two at a time: the machine has two cores and a Scrapy process is mostly start-up CPU.
            while jobs or running:
                while jobs and len(running) < PARALLEL:
                    key, oid, url = jobs.pop(0)
                    out = root / key
                    out.mkdir()
                    cmd = _command(oid, out, DATE_FROM, DATE_TO)
                    if key == "faulty":
                        cmd += ["-s", "QUXIAN_RETRY_BACKOFF_BASE=0.2"]
                    env = {**os.environ, "QUXIAN_OFFLINE_URL": url}
                    proc = subprocess.Popen(
                        cmd, cwd=CHECKOUT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                    )
                    running.append((key, oid, out, proc))
                key, oid, out, proc = running.pop(0)
                results[key] = _read(key, oid, out, proc)
            results["_log"] = list(server.request_log)
    finally:
        fault_server.shutdown()
        fault_server.server_close()
        fault_thread.join(timeout=10)
    results["_plan"] = plan
    results["_attempts"] = list(fault_server.attempts_log)
    return results


@pytest.mark.parametrize("outlet_id", sorted(OFFLINE))
def test_crawl_yields_five_items_per_day(crawls, outlet_id):
    c = crawls[outlet_id]
    assert c.returncode == 0, c.stderr[-2000:]
    per_day = Counter(it["edition_date"] or it["list_date"] or _page_day(it) for it in c.items)
    for day in DAYS:
        assert per_day[day] >= 5, f"{outlet_id}: {per_day[day]} items on {day} ({dict(per_day)})"
    assert set(per_day) <= set(DAYS), f"{outlet_id}: items outside the range: {dict(per_day)}"
    urls = [it["url"] for it in c.items]
    assert len(urls) == len(set(urls)), "each page is scraped once"


def _page_day(item: dict) -> str:
    """Publication day of a list-platform item reached without a list date."""
    import re

    m = re.search(r"(20\d\d-\d\d-\d\d) \d\d:\d\d", item["html"])
    return m[1] if m else "unknown"


@pytest.mark.parametrize("outlet_id", sorted(OFFLINE))
def test_items_carry_real_urls_and_required_fields(crawls, outlet_id):
    c = crawls[outlet_id]
    o = OFFLINE[outlet_id]
    assert c.items
    for it in c.items:
        host = urlsplit(it["url"]).hostname
        assert host in o.hosts and "127.0.0.1" not in it["url"], it["url"]
        assert it["outlet"] == outlet_id and it["district"] == o.district and it["platform"] == o.platform
        assert it["status"] == 200 and it["html"] and it["title"], it["url"]
        assert it["fetched_at"].endswith("+08:00")
        assert it["warc_file"] and isinstance(it["warc_offset"], int)
        if o.platform in ("founder_classic", "founder_pc", "xinyubao"):
            assert it["edition_date"] in DAYS and it["page_label"], it["url"]
        else:
            assert it["edition_date"] is None
        if o.platform == "gov_trs":
            for key in ("ArticleTitle", "PubDate", "ContentSource", "ColumnName", "SiteName"):
                assert it["meta"].get(key), f"{it['url']}: meta {key}"
            assert it["title"] == it["meta"]["ArticleTitle"]
            assert not it["url"].endswith("_wap.html")


def test_template_fields_per_platform(crawls):
    sx = crawls["sxdsb"].items
    assert all(it["page_label"].startswith("第") and "版：" in it["page_label"] for it in sx)
    assert {it["page_label"] for it in sx} >= {"第01版：要闻", "第02版：综合"}
    assert any(it["author_line"] and it["author_line"].startswith("记者") for it in sx)
    assert crawls["sxdsb"].items[0]["encoding"] in ("gbk", "gb18030")
    assert any(it["pre_title"] for it in sx + crawls["ccrb"].items)
    xyb = crawls["xinyubao"].items
    assert all(it["page_label"][0] == "A" and ":" in it["page_label"] for it in xyb)
    assert all(it["list_date"] for it in crawls["dazuwang"].items + crawls["dazu_gov"].items)


def test_robots_txt_is_fetched_and_obeyed(crawls):
    log = crawls["_log"]
    fetched = {(h, p) for h, p, _ in log}
    for oid, o in OFFLINE.items():
        assert (o.hosts[0], "/robots.txt") in fetched, f"{oid}: robots.txt not fetched"
        forbidden = crawls[oid].stats["robots_forbidden"]
        assert forbidden and all(urlsplit(u).path.startswith(DISALLOWED) for u in forbidden), oid
    assert not [p for _, p, _ in log if p.startswith(DISALLOWED)], "a disallowed path reached the server"


def test_warc_archives_hold_real_urls(crawls):
    for oid, o in OFFLINE.items():
        c = crawls[oid]
        files = list(c.warc_dir.glob(f"{oid}-*.warc.gz"))
        assert len(files) == 1, files
        uris, types = [], Counter()
        with open(files[0], "rb") as fh:
            for rec in ArchiveIterator(fh):
                types[rec.rec_type] += 1
                if rec.rec_type == "response":
                    uris.append(rec.rec_headers.get_header("WARC-Target-URI"))
        assert types["warcinfo"] == 1 and types["request"] == types["response"] >= len(c.items) + 2
        assert all(urlsplit(u).hostname in o.hosts for u in uris), oid
        assert f"https://{o.hosts[0]}/robots.txt" in uris
        assert {it["url"] for it in c.items} <= set(uris)
        # The offset an item names is its own response record.
        item = c.items[-1]
        with open(item["warc_file"], "rb") as fh:
            fh.seek(item["warc_offset"])
            rec = next(iter(ArchiveIterator(fh)))
            assert rec.rec_type == "response" and rec.rec_headers.get_header("WARC-Target-URI") == item["url"]


def test_stats_file_counts_items_and_statuses(crawls):
    for oid in OFFLINE:  # the clean crawls
        s = crawls[oid].stats
        assert s["outlet"] == oid and s["finish_reason"] == "finished"
        assert s["items"] == len(crawls[oid].items) == sum(s["items_by_date"].values())
        assert s["responses_by_status"].get("200", 0) == s["responses"] > s["items"]
        assert s["errors"] == [] and s["error_counts"]["total"] == 0
        assert s["elapsed_seconds"] > 0


def _list_requests(spider, site, path: str) -> list:
    host = site.host
    page = site.pages[path]
    response = HtmlResponse(url=f"https://{host}{path}", body=page.body, encoding="utf-8")
    return [r for r in spider.parse_list(response) if isinstance(r, Request)]


def test_failures_are_reported_per_url_and_rules_are_not_errors(crawls):
    c, plan = crawls["faulty"], crawls["_plan"]
    assert c.returncode == 0, c.stderr[-2000:]
    offsite, loop, flaky, missing = (f.url for f in plan.faults)
    s = c.stats
    assert s["offsite_skipped"] == [offsite]
    rows = {e["url"]: e for e in s["errors"]}
    assert set(rows) == {loop, missing}, rows
    assert (
        rows[missing]["status"] == 404
        and rows[missing]["reason"] == "HTTP 404"
        and rows[missing]["warc_file"]
    )
    assert rows[loop]["reason"] == "redirect loop"
    assert s["error_counts"]["http"] == 1 and s["error_counts"]["download"] == 1
    # The 503s were retried with backoff (0.2 s, then 0.4 s) and the page was scraped in the end.
    assert flaky in {it["url"] for it in c.items}
    host, path = urlsplit(flaky).hostname, urlsplit(flaky).path
    tries = sorted(a.at for a in crawls["_attempts"] if (a.host, a.path) == (host, path))
    assert len(tries) == 3 and tries[1] - tries[0] >= 0.18 and tries[2] - tries[1] >= 0.36, tries
    assert len(c.items) == len(crawls[FAULTY].items) - 3


def test_list_walk_follows_dated_links_and_stops_paginating_before_date_from():
    site = build_sites()["www.bswxw.org.cn"]
    first = "/web/column/1729384756/index.html"
    next_page = "https://www.bswxw.org.cn/web/column/1729384756/index_1.html"
    dates = [
        date.fromisoformat(d)
        for d in Selector(text=site.pages[first].body.decode()).css("span.date::text").getall()
    ]
    assert min(dates) < max(dates), "the first list page must span two days for this test"

    whole = RongmeiSpider(outlet="bswxw", date_from="2025-11-13", date_to="2025-11-15")
    urls = {r.url: r for r in _list_requests(whole, site, first)}
    assert next_page in urls, "older entries are still in range: paginate"
    assert sum(1 for r in urls.values() if r.meta.get("list_date")) == len(dates)

    newest = RongmeiSpider(outlet="bswxw", date_from=max(dates).isoformat())
    reqs = _list_requests(newest, site, first)
    assert next_page not in {r.url for r in reqs}, "the page reaches before date_from: stop"
    listed = [r.meta["list_date"] for r in reqs if r.meta.get("list_date")]
    assert listed and set(listed) == {max(dates)}


def test_crawl_speed_is_reported(crawls, capsys):
    pages = sum(crawls[o].stats["responses"] for o in OFFLINE)
    elapsed = sum(crawls[o].stats["elapsed_seconds"] for o in OFFLINE)
    with capsys.disabled():
        print(
            f"\n[crawl] {pages} pages in {elapsed:.2f} s of crawling: {pages / elapsed:.1f} pages/s (politeness off)"
        )
    assert pages / elapsed > 1


def test_scrapy_list_names_every_platform():
    out = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], cwd=CHECKOUT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == sorted(
        ["founder_classic", "founder_pc", "xinyubao", "rongmei", "dazuwang", "gov_trs", "mirror"]
    )


def test_spider_arguments_are_checked():
    with pytest.raises(ValueError, match="platform 'founder_classic'"):
        XinyubaoSpider(outlet="sxdsb", date_from="2025-11-13")
    with pytest.raises(ValueError, match="date_from"):
        XinyubaoSpider(outlet="xinyubao")
    with pytest.raises(ValueError, match="before date_from"):
        XinyubaoSpider(outlet="xinyubao", date_from="2025-11-15", date_to="2025-11-13")
    s = XinyubaoSpider(outlet="xinyubao", date_from="2025-11-13", date_to="2025-11-15")
    assert s.allowed_domains == ["xyb.txdzw.com"] and [d.isoformat() for d in s.days()] == list(DAYS)
    assert s.in_range(date(2025, 11, 14)) and not s.in_range(date(2025, 11, 12))


def test_offline_routing_helpers():
    assert offline_url_for(
        "https://www.dazu.gov.cn/zwxx_176/qxdt/index_1.html?x=1", "http://127.0.0.1:9/"
    ) == ("http://127.0.0.1:9/zwxx_176/qxdt/index_1.html?x=1")
    assert registry_host("www.dazu.gov.cn", REGISTRY) and registry_host("xyb.txdzw.com", REGISTRY)
    assert not registry_host("127.0.0.1", REGISTRY) and not registry_host("example.org", REGISTRY)


# Lists whose middle entry is followed by a link to 31 November (quxian.sites.faults `bad_date_link`).
BAD_DATE_LISTS = {"dazu_gov": "/zwxx_176/qxdt/", "mirror_cqxw": "/list/"}


@pytest.fixture(scope="module")
def bad_date_crawls(tmp_path_factory):
    """A gov_trs and a mirror outlet crawled against a server that puts a link with an impossible
    date in the middle of a list page (key = outlet id; the server's attempts under `_attempts`)."""
    root = tmp_path_factory.mktemp("bad-dates")
    sites = build_sites()
    plan = FaultPlan(
        faults=[Fault(OFFLINE[o].hosts[0], path, "bad_date_link") for o, path in BAD_DATE_LISTS.items()]
    )
    server = make_fault_server(plan, sites=sites)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {**os.environ, "QUXIAN_OFFLINE_URL": server.base_url}
        procs = []
        for oid in BAD_DATE_LISTS:
            out = root / oid
            out.mkdir()
            cmd = _command(oid, out, DATE_FROM, DATE_TO)
            procs.append((oid, out, subprocess.Popen(
                cmd, cwd=CHECKOUT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )))  # fmt: skip
        results: dict = {oid: _read(oid, oid, out, proc) for oid, out, proc in procs}
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    results["_attempts"] = [(a.host, a.path) for a in server.attempts_log]
    results["_sites"] = sites
    return results


@pytest.mark.parametrize("outlet_id", sorted(BAD_DATE_LISTS))
def test_a_bad_date_in_one_list_link_skips_that_link_only(crawls, bad_date_crawls, outlet_id):
    import re

    c = bad_date_crawls[outlet_id]
    assert c.returncode == 0, c.stderr[-2000:]
    host, path = OFFLINE[outlet_id].hosts[0], BAD_DATE_LISTS[outlet_id]
    served = Selector(text=bad_date_crawls["_sites"][host].pages[path].body.decode("utf-8"))
    listed = [h for h in served.css("ul.list li a::attr(href)").getall()]
    bad = [u for u in listed if re.search(r"(t20\d\d|/20\d\d/)1131", u)]
    assert not bad, "the real page has no bad link: the fault adds it"
    fetched = set(bad_date_crawls["_attempts"])
    # Every link of the page after the bad one, and the next list page, were still requested.
    middle = len(listed) // 2
    after = [urlsplit(u).path for u in listed[middle + 1 :]]
    assert after and all((host, p) in fetched for p in after), after
    next_page = path + "index_1.html"
    assert (host, next_page) in fetched
    # And the crawl scraped exactly what the crawl without the fault did.
    assert sorted(it["url"] for it in c.items) == sorted(it["url"] for it in crawls[outlet_id].items)
    # The bad link the fault added: counted as skipped by rule, with its real URL, never requested.
    skipped = c.stats.get("bad_link_dates")
    assert skipped and len(skipped) == 1, c.stats
    bad_url = skipped[0]
    assert urlsplit(bad_url).hostname == host and "1131" in bad_url, bad_url
    assert (host, urlsplit(bad_url).path) not in fetched
    assert c.stats["error_counts"]["total"] == 0 and c.stats["errors"] == []
    # The run summary counts it with the pages skipped by rule: offered = published + quarantined + skipped.
    from quxian.steps import _crawl_summary

    summary = _crawl_summary(REGISTRY.outlet(outlet_id), c.stats, c.warc_dir.parent / "items.jsonl", 0.0)
    assert summary["skipped_by_rule"] == len(c.stats["robots_forbidden"]) + 1


def test_impossible_dates_in_urls_and_list_entries_are_bad_link_dates():
    from spiders.platforms.gov_trs import GovTrsSpider
    from spiders.platforms.mirror import MirrorSpider

    gov = GovTrsSpider(outlet="dazu_gov", date_from="2025-11-13", date_to="2025-11-15")
    with pytest.raises(ValueError, match="2025-11-31"):
        gov.url_date("https://www.dazu.gov.cn/zwxx_176/qxdt/202511/t20251131_1.html")
    assert gov.url_date("https://www.dazu.gov.cn/zwxx_176/qxdt/202511/t20251130_1.html") == date(2025, 11, 30)
    mirror = MirrorSpider(outlet="mirror_cqxw", date_from="2025-11-13")
    with pytest.raises(ValueError, match="2025-13-01"):
        mirror.url_date("https://www.cqxw-mirror.test/html/2025/1301/1.html")
    # A list entry printing 2025-02-30 beside an undated link: that link is skipped, the others
    # of the page (and its next page) are still requested.
    site = build_sites()["www.bswxw.org.cn"]
    first = "/web/column/1729384756/index.html"
    page = site.pages[first].body.decode("utf-8")
    dates = Selector(text=page).css("span.date::text").getall()
    broken = page.replace(f">{dates[1]}<", ">2025-02-30<", 1)
    assert broken != page
    whole = [
        r.url
        for r in _list_requests(
            RongmeiSpider(outlet="bswxw", date_from=DATE_FROM, date_to=DATE_TO), site, first
        )
    ]
    spider = RongmeiSpider(outlet="bswxw", date_from="2025-11-13", date_to="2025-11-15")
    response = HtmlResponse(url=f"https://{site.host}{first}", body=broken.encode(), encoding="utf-8")
    reqs = [r.url for r in spider.parse_list(response) if isinstance(r, Request)]
    assert f"https://{site.host}/web/column/1729384756/index_1.html" in reqs
    assert spider.bad_link_dates and set(whole) - set(reqs) == set(spider.bad_link_dates)
    assert len(reqs) == len(whole) - 1
