"""The offline outlet sites: URL shapes and markup per platform (outlets.md), GBK, determinism,
the seed story on several outlets, enough articles per outlet and day, robots.txt."""

from __future__ import annotations

import hashlib
import http.client
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from parsel import Selector
from sitesutil import running_sites

from quxian.registry import load as load_registry
from quxian.sites.build import build_sites
from quxian.sites.pages import DISALLOWED, Site
from quxian.sites.seed import SEED_GOV_TITLE, load_seed

DAYS = (date(2025, 11, 13), date(2025, 11, 14), date(2025, 11, 15))
OFFLINE = {o.id: o for o in load_registry().offline_outlets()}
HOST = {oid: o.hosts[0] for oid, o in OFFLINE.items()}

# Article URL shapes (outlets.md) and where each page says its publication date.
ARTICLE = {
    "founder_classic": re.compile(r"^/sxdsb/html/(\d{4})-(\d\d)/(\d\d)/content_\d+\.htm$"),
    "founder_pc": re.compile(r"^/pc/content/(\d{4})(\d\d)/(\d\d)/content_\d+\.html$"),
    "xinyubao": re.compile(r"^/Html/(\d{4})-(\d\d)-(\d\d)/\d+\.html$"),
    "rongmei": re.compile(r"^/web/article/(\d{19})/web/content_\1\.html$"),
    "dazuwang": re.compile(r"^/xw/dzxw/content_\d+$"),
    "gov_trs": re.compile(r"^/zwxx_\d+/(?:qxdt|gzdt)/\d{6}/t(\d{4})(\d\d)(\d\d)_\d+\.html$"),
    "mirror": re.compile(r"^/html/(\d{4})/(\d\d)(\d\d)/\d+\.html$"),
}
PAGE_DATE = re.compile(r"(?:发布时间:|<span class=\"time\">)(\d{4})-(\d\d)-(\d\d)")


@pytest.fixture(scope="module")
def sites() -> dict[str, Site]:
    return build_sites()


@pytest.fixture(scope="module")
def server():
    with running_sites() as (base, srv):
        yield srv


def get(server, host: str, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


def html_of(site: Site, path: str) -> str:
    page = site.pages[path]
    charset = page.content_type.split("charset=")[-1]
    return page.body.decode(charset)


def article_day(platform: str, path: str, text: str) -> date | None:
    m = ARTICLE[platform].match(path)
    if not m:
        return None
    if platform in ("rongmei", "dazuwang"):
        m = PAGE_DATE.search(text)
        assert m, f"{path}: no publication date on the page"
    return date(int(m[1]), int(m[2]), int(m[3]))


def articles(sites: dict[str, Site], outlet_id: str) -> dict[str, tuple[date, str]]:
    """path → (publication day, html) for every article page of an outlet."""
    o = OFFLINE[outlet_id]
    site = sites[HOST[outlet_id]]
    out = {}
    for path in site.pages:
        if ARTICLE[o.platform].match(path):
            text = html_of(site, path)
            out[path] = (article_day(o.platform, path, text), text)
    return out


def test_every_offline_outlet_is_served_by_host(server):
    for oid, o in OFFLINE.items():
        for day in DAYS:
            for url in o.start_urls_for(day):
                path = url.split(o.hosts[0], 1)[1] or "/"
                status, _, body = get(server, o.hosts[0], path)
                assert status == 200, f"{oid}: {url} → {status}"
                assert body
    assert get(server, "unknown.example.org", "/")[0] == 404
    assert get(server, HOST["xinyubao"], "/Html/1999-01-01/index.html")[0] == 404
    assert ("unknown.example.org", "/", 404) in server.request_log


@pytest.mark.parametrize("outlet_id", sorted(OFFLINE))
def test_at_least_five_articles_per_outlet_and_day(sites, outlet_id):
    per_day = Counter(day for day, _ in articles(sites, outlet_id).values())
    for day in DAYS:
        assert per_day[day] >= 5, f"{outlet_id} has {per_day[day]} articles on {day}"


def test_robots_txt_disallows_one_path_linked_from_each_site(sites, server):
    for oid, host in HOST.items():
        status, ctype, body = get(server, host, "/robots.txt")
        assert status == 200 and ctype.startswith("text/plain")
        assert f"Disallow: {DISALLOWED}" in body.decode()
        linked = any(
            f'href="{DISALLOWED}' in html_of(sites[host], p)
            or f"href={DISALLOWED}" in html_of(sites[host], p)
            for p, pg in sites[host].pages.items()
            if pg.content_type.startswith("text/html")
        )
        assert linked, f"{oid}: no page links under {DISALLOWED}"


def test_founder_classic_is_gbk_and_has_the_founder_markup(sites, server):
    host = HOST["sxdsb"]
    status, ctype, body = get(server, host, "/sxdsb/html/2025-11/14/node_1.htm")
    assert status == 200 and ctype == "text/html; charset=gbk"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("gbk")
    assert "<meta charset=gb2312>" in text
    sel = Selector(text=text)
    labels = sel.css("td.default a#pageLink::text").getall()
    assert len(labels) >= 2 and labels[0] == "第01版：要闻" and labels[1].startswith("第02版：")
    assert sel.css('img[usemap="#PagePicMap"]')
    areas = sel.css("map[name=PagePicMap] area::attr(href)").getall()
    assert areas and all(re.match(r"content_\d+\.htm", a) for a in areas)
    assert sel.css("a#ed_next::attr(href)").get() == "node_2.htm"
    titles = sel.css("div.titlelist a::attr(href)").getall()
    assert sorted(titles) == sorted(a.split("?")[0] for a in areas)
    art = html_of(sites[host], "/sxdsb/html/2025-11/14/" + titles[0])
    asel = Selector(text=art)
    rows = asel.css("table.wz tr[valign=top]")
    assert len(rows) == 4 and rows[1].xpath("string(.)").get().strip()
    assert re.search(r"<div id=ozoom[^>]*>\s*<founder-content><!--enpcontent--><p>", art)
    assert re.search(r"<!--enpproperty <date>2025-11-14</date><title>[^<]+</title><author>", art)
    # Article ids are global: they rise from one day to the next.
    ids = {
        d: [
            int(re.search(r"content_(\d+)", p)[1])
            for p, (dd, _) in articles(sites, "sxdsb").items()
            if dd == d
        ]
        for d in DAYS
    }
    assert max(ids[DAYS[0]]) < min(ids[DAYS[1]]) and max(ids[DAYS[1]]) < min(ids[DAYS[2]])


def test_founder_pc_layout_content_and_period(sites):
    site = sites[HOST["ccrb"]]
    layout = Selector(text=html_of(site, "/pc/layout/202511/13/node_01.html"))
    assert len(layout.css("ul#widthNone li a")) >= 2
    links = layout.css(".news-list a::attr(href)").getall()
    assert links and all(re.match(r"\.\./\.\./\.\./content/202511/13/content_\d+\.html$", h) for h in links)
    path = "/pc/content/202511/13/" + links[0].rsplit("/", 1)[1]
    page = Selector(text=html_of(site, path))
    assert page.css("#Title::text").get() and page.css("#PreTitle") and page.css("#SubTitle")
    assert "<founder-content><!--enpcontent--><p>本报讯(" in html_of(site, path)
    assert page.css("div.newsdetatext founder-content")
    period = site.pages["/pc/layout/202511/period.xml"].body.decode()
    assert all(f"<period_name>{d.isoformat()}</period_name>" in period for d in DAYS)


def test_xinyubao_article_template(sites):
    for _path, (day, text) in articles(sites, "xinyubao").items():
        sel = Selector(text=text)
        header = sel.css(".bmnav .bm::text").get()
        assert re.fullmatch(rf"A\d+:\S+ 总第\d+期 >{day.isoformat()}编印", header), header
        assert re.fullmatch(rf"刊发日期:{day.isoformat()} 阅读次数: 作者:.*", sel.css(".info::text").get())
        assert sel.css("#ozoom p::text").get().startswith("新渝报讯")
    index = Selector(text=html_of(sites[HOST["xinyubao"]], "/Html/2025-11-14/index.html"))
    assert len(index.css("div.bm h3")) >= 2
    numbers = sorted((d, int(p.rsplit("/", 1)[1][:-5])) for p, (d, _) in articles(sites, "xinyubao").items())
    assert [n for _, n in numbers] == sorted(n for _, n in numbers), "ids must rise with the date"


def test_rongmei_article_and_paginated_lists(sites):
    site = sites[HOST["bswxw"]]
    for _path, (day, text) in articles(sites, "bswxw").items():
        assert re.search(
            rf"{day.isoformat()} \d\d:\d\d:\d\d</span> <span class=\"source\">来源: 璧山区融媒体中心", text
        )
        assert (
            "责任编辑:" in text
            and "发言请遵守新闻跟帖服务协议" in text
            and "相关新闻" in text
            and "打印" in text
        )
    pages = sorted(p for p in site.pages if re.match(r"^/web/column/1729384756/index(_\d+)?\.html$", p))
    assert len(pages) >= 2, "the main column must span several list pages"
    dates = []
    for p in ["/web/column/1729384756/index.html"] + [
        f"/web/column/1729384756/index_{i}.html" for i in range(1, len(pages))
    ]:
        sel = Selector(text=html_of(site, p))
        items = sel.css("ul.list li")
        assert 0 < len(items) <= 10
        dates += [date.fromisoformat(li.css("span.date::text").get()) for li in items]
    assert dates == sorted(dates, reverse=True), "lists run newest first"


def test_dazuwang_own_and_republished_articles(sites):
    seen = Counter()
    for _path, (day, text) in articles(sites, "dazuwang").items():
        info = re.search(r"来源:(\S+) 发布时间:(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) 浏览次数:", text)
        assert info and info[2].startswith(day.isoformat())
        assert re.search(r"<p>终审:\S+</p>\s*</div>", text)
        first = Selector(text=text).css("#content p::text").get()
        if info[1] == "新渝报":
            assert first.startswith("新渝报讯("), first
            seen["republished"] += 1
        else:
            assert info[1] == "大足网"
            seen["own"] += 1
    assert seen["republished"] >= 1
    assert "/xw/dzxw/index_1.html" in sites[HOST["dazuwang"]].pages


def test_gov_portals_meta_columns_and_rising_docids(sites):
    docids = []
    for oid in ("dazu_gov", "wanzhou_gov"):
        site = sites[HOST[oid]]
        home = Selector(text=html_of(site, "/"))
        cols = [h for h in home.css("a::attr(href)").getall() if re.match(r"^/zwxx_\d+/(qxdt|gzdt)/$", h)]
        assert len(cols) == 2
        listed = {
            h
            for p, pg in site.pages.items()
            if "/index" in p
            for h in Selector(text=html_of(site, p)).css("a::attr(href)").getall()
        }
        for path, (day, text) in articles(sites, oid).items():
            sel = Selector(text=text)
            meta = {m.attrib["name"]: m.attrib["content"] for m in sel.css("meta[name]")}
            for key in (
                "ArticleTitle",
                "PubDate",
                "ContentSource",
                "ColumnName",
                "SiteName",
                "SiteIDCode",
                "Keywords",
            ):
                assert meta.get(key), f"{oid} {path}: meta {key} missing"
            assert re.fullmatch(rf"{day.isoformat()} \d\d:\d\d", meta["PubDate"])
            assert sel.css("#UCAP-CONTENT .trs_paper_default, #UCAP-CONTENT .TRS_UEDITOR")
            assert path in listed and path.replace(".html", "_wap.html") in site.pages
            assert path.replace(".html", "_wap.html") not in listed
            docids.append((day, int(path.rsplit("_", 1)[1][:-5])))
    docids.sort()
    assert [d for _, d in docids] == sorted(d for _, d in docids), (
        "docids rise with the date across districts"
    )


def test_mirror_pages_are_damaged_copies(sites):
    damaged = 0
    pinyin = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùü]+\)")
    seed_title = load_seed().raw_text.splitlines()[0]
    for _path, (_day, text) in articles(sites, "mirror_cqxw").items():
        sel = Selector(text=text)
        paras = sel.css(".text p::text").getall()
        assert pinyin.sub("", paras[-1]) == "網站專欄", "navigation residue ends the text"
        if sel.css("h1::text").get() != seed_title:
            assert sel.css(".main > *")[0].attrib.get("class") == "kw", "spam keyword lines come first"
            assert sel.css(".main > h1")
        if re.search(r"[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùü]+\)", text):
            damaged += 1
    assert damaged >= len(articles(sites, "mirror_cqxw")) // 2


def test_seed_story_runs_on_several_outlets(sites, shared_dir):
    seed = load_seed()
    assert seed is not None
    raw_lines = [ln for ln in seed.raw_text.splitlines() if ln.strip()]
    mirror = [t for (d, t) in articles(sites, "mirror_cqxw").values() if d == date(2025, 11, 15)]
    verbatim = [t for t in mirror if Selector(text=t).css("h1::text").get() == raw_lines[0]]
    assert len(verbatim) == 1
    assert Selector(text=verbatim[0]).css(".text p::text").getall() == raw_lines[1:]

    lead = "新渝报讯(记者余佳 通讯员徐鹏)11月14日上午"
    paper = [t for (d, t) in articles(sites, "xinyubao").values() if d == date(2025, 11, 15) and lead in t]
    assert len(paper) == 1 and "區" not in paper[0] and "(qū)" not in paper[0]
    portal = [t for (d, t) in articles(sites, "dazuwang").values() if d == date(2025, 11, 15) and lead in t]
    assert len(portal) == 1 and "来源:新渝报" in portal[0]
    gov = [t for (d, t) in articles(sites, "dazu_gov").values() if lead in t]
    assert len(gov) == 1
    meta = {m.attrib["name"]: m.attrib["content"] for m in Selector(text=gov[0]).css("meta[name]")}
    assert meta["ArticleTitle"] == SEED_GOV_TITLE and meta["ContentSource"] == "新渝报"
    assert meta["PubDate"].startswith("2025-11-15")


def test_missing_seed_is_a_warning(tmp_path: Path, monkeypatch, caplog):
    monkeypatch.setenv("QUXIAN_SHARED", str(tmp_path))
    sites = build_sites()
    assert "seed file" in caplog.text
    assert not any(SEED_GOV_TITLE in html_of(sites[HOST["dazu_gov"]], p) for p in articles(sites, "dazu_gov"))


def test_rendering_is_deterministic(sites):
    def digest(s: dict[str, Site]) -> dict[tuple[str, str], str]:
        return {
            (h, p): hashlib.sha256(pg.body).hexdigest()
            for h, site in s.items()
            for p, pg in site.pages.items()
        }

    assert digest(build_sites()) == digest(sites)


def test_fixture_stories_render_every_platform(tmp_path):
    """The bundled fixture stories (used before the content files exist) cover every outlet."""
    fixtures = Path(__file__).parent / "fixtures" / "stories"
    sites = build_sites(fixtures, seed=None)
    per_outlet = defaultdict(Counter)
    for oid in OFFLINE:
        for day, _ in articles(sites, oid).values():
            per_outlet[oid][day] += 1
    assert set(per_outlet) == set(OFFLINE)
