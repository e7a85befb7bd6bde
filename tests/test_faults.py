"""Faults on the offline sites: what the server injects, and what the pipeline makes of it.

The server tests talk HTTP to a `FaultServer` on 127.0.0.1. The pipeline tests run the real
pipeline (Scrapy subprocesses, clean, dedupe, publish) twice: once against the sites without
faults (the pages they offer, and the rows those pages give), once with one fault of every kind on
those pages and one dead outlet; then every offered page must be published, quarantined or
skipped by rule, and nothing else may change.
"""

from __future__ import annotations

import gzip
import http.client
import json
import socket
from datetime import date

import pytest

from quxian.sites.build import build_sites
from quxian.sites.faults import (
    BAD_LINKS,
    BODIES,
    FAULT_CRAWL_SETTINGS,
    FAULT_LIMITS,
    KINDS,
    RULE_KINDS,
    TRANSIENT,
    Fault,
    FaultPlan,
    make_fault_server,
    run_with_faults,
    start_fault_server,
    warc_record_at,
)

OUTLETS = ["xinyubao", "dazu_gov"]
DEAD_OUTLET, DEAD_HOST = "bswxw", "www.bswxw.org.cn"
OFFSITE = "www.txdzw.com"  # a registry host outside both outlets' allowed domains: a leak would show
DAY = date(2025, 11, 14)
SEED = 20251114
CHARSET_KINDS = ("gbk_as_utf8", "utf8_as_gbk")
# Start pages (an edition, a portal's home) served with unparsable links at the top.
BAD_LINK_PAGES = [("xyb.txdzw.com", "/Html/2025-11-14/index.html"), ("www.dazu.gov.cn", "/")]
RETRIES = int(FAULT_CRAWL_SETTINGS["RETRY_TIMES"])  # type: ignore[arg-type]
BACKOFF = float(FAULT_CRAWL_SETTINGS["QUXIAN_RETRY_BACKOFF_BASE"])  # type: ignore[arg-type]

# One transient fault of each transport kind (recovered on the third attempt), the same kinds for
# good where a retry cannot help, and one of every other kind.
FAULT_MIX = (
    [(k, 2) for k in TRANSIENT]
    + [(k, None) for k in ("http503", "reset", "timeout")]
    + [(k, None) for k in KINDS if k not in TRANSIENT and k != "bad_links"]
)


# ---------------------------------------------------------------- the server


@pytest.fixture(scope="module")
def sites():
    return build_sites()


def _get(base: str, host: str, path: str) -> http.client.HTTPResponse:
    port = int(base.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers={"Host": host})
    return conn.getresponse()


@pytest.fixture(scope="module")
def article(sites):
    site = sites["xyb.txdzw.com"]
    path = next(
        p for p in sorted(site.pages) if p.startswith("/Html/2025-11-14/") and not p.endswith("index.html")
    )
    return "xyb.txdzw.com", path, site.pages[path]


def test_transient_fault_fails_k_times_then_serves_the_real_page(sites, article):
    host, path, page = article
    running = start_fault_server(FaultPlan([Fault(host, path, "http503", times=2)]), sites=sites)
    try:
        statuses = []
        for _ in range(3):
            resp = _get(running.base_url, host, path)
            statuses.append(resp.status)
            body = resp.read()
        assert statuses == [503, 503, 200]
        assert body == page.body
        assert running.server.attempts[(host, path)] == 3
        assert [a.outcome for a in running.server.attempts_log] == ["http503", "http503", "served"]
    finally:
        running.stop()


def test_reset_and_dead_host_drop_the_connection(sites, article):
    host, path, _ = article
    plan = FaultPlan([Fault(host, path, "reset")], dead_hosts=frozenset({DEAD_HOST}))
    running = start_fault_server(plan, sites=sites)
    try:
        for h, p in ((host, path), (DEAD_HOST, "/")):
            with pytest.raises((ConnectionError, http.client.RemoteDisconnected, socket.error)):
                _get(running.base_url, h, p).read()
        # Other pages of the same host are unaffected.
        assert _get(running.base_url, host, "/robots.txt").status == 200
    finally:
        running.stop()


def test_bad_bodies_are_what_they_claim(sites, article):
    host, path, page = article
    other = "/Html/2025-11-13/index.html"
    plan = FaultPlan(
        [
            Fault(host, path, "gbk_as_utf8"),
            Fault(host, other, "gzip_bomb"),
            Fault(host, "/Html/2025-11-14/index.html", "robots_disallow"),
            Fault(host, "/Html/2025-11-13/24503.html", "bad_links"),
        ],
        bomb_bytes=4 * 1024 * 1024,
    )
    running = start_fault_server(plan, sites=sites)
    try:
        resp = _get(running.base_url, host, path)
        data = resp.read()
        assert "charset=utf-8" in resp.headers["Content-Type"]
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        assert data.decode("gbk").replace("charset=utf-8", "") == page.body.decode("utf-8").replace(
            "charset=utf-8", ""
        )
        resp = _get(running.base_url, host, other)
        bomb = resp.read()
        assert resp.headers["Content-Encoding"] == "gzip" and len(bomb) < 64 * 1024
        assert len(gzip.decompress(bomb)) == 4 * 1024 * 1024
        linked = _get(running.base_url, host, "/Html/2025-11-13/24503.html").read().decode()
        original = sites[host].pages["/Html/2025-11-13/24503.html"].body.decode()
        assert "http://[::1/broken" in linked and linked.replace(BAD_LINKS, "") == original
        robots = _get(running.base_url, host, "/robots.txt").read().decode()
        assert "Disallow: /Html/2025-11-14/index.html" in robots and "Disallow: /admin/" in robots
    finally:
        running.stop()


def test_plans_are_validated_and_deterministic():
    with pytest.raises(ValueError, match="unknown kind"):
        Fault("h", "/p", "meteor")
    with pytest.raises(ValueError, match="transient"):
        Fault("h", "/p", "http404", times=1)
    with pytest.raises(ValueError, match="two faults"):
        FaultPlan([Fault("h", "/p", "empty"), Fault("h", "/p", "login")])
    urls = [f"https://h/{i}.html" for i in range(30)]
    a = FaultPlan.spread(urls, FAULT_MIX, seed=1)
    assert a.faults == FaultPlan.spread(reversed(urls), FAULT_MIX, seed=1).faults
    assert len({(f.host, f.path) for f in a.faults}) == len(FAULT_MIX)
    assert FaultPlan.from_json(json.loads(json.dumps(a.to_json()))) == a
    with pytest.raises(ValueError, match="unknown kind"):
        FaultPlan.from_json({"faults": [{"host": "h", "path": "/p", "kind": "meteor"}]})
    with pytest.raises(ValueError, match="bad fault entry"):
        FaultPlan.from_json({"faults": [{"host": "h", "url": "/p", "kind": "empty"}]})
    with pytest.raises(ValueError, match="only 3 offered"):
        FaultPlan.spread(urls[:3], FAULT_MIX, seed=1)
    with pytest.raises(ValueError, match="loopback"):
        make_fault_server(FaultPlan(), "0.0.0.0", 0, sites={})


# ---------------------------------------------------------------- the pipeline


@pytest.fixture(scope="module")
def runs(tmp_path_factory, sites):
    root = tmp_path_factory.mktemp("faults")
    base = run_with_faults(FaultPlan(), DAY, OUTLETS, root / "base", root / "settings", sites=sites)
    published = {r["url"]: r for r in base.lake_rows("article_versions")}
    spread = FaultPlan.spread(
        published, FAULT_MIX, seed=SEED, offsite_target=OFFSITE, dead_hosts=[DEAD_HOST], **FAULT_LIMITS
    )
    bad_links = [Fault(host, path, "bad_links") for host, path in BAD_LINK_PAGES]
    plan = FaultPlan(spread.faults + bad_links, dead_hosts=spread.dead_hosts, **FAULT_LIMITS)
    faulty = run_with_faults(
        plan, DAY, [*OUTLETS, DEAD_OUTLET], root / "faulty", root / "settings", sites=sites
    )
    offered = set(published) | {r["url"] for r in base.lake_rows("quarantine")} | set(base.skipped_by_rule())
    return {"base": base, "baseline_rows": published, "plan": plan, "run": faulty, "offered": offered}


def test_baseline_publishes_every_offered_page(runs):
    base = runs["base"]
    assert base.summary["failed_outlets"] == [] and base.summary["quarantined"] == 0
    assert len(runs["baseline_rows"]) >= len(FAULT_MIX) + 3  # room for untouched pages


def test_every_offered_page_is_published_quarantined_or_skipped(runs):
    acc = runs["run"].accounting(runs["offered"])
    kind_of = {f.url: f.kind for f in runs["plan"].faults}
    assert {u: kind_of.get(u) for u in acc.unaccounted} == {}
    assert acc.doubly_counted == set()
    offered = acc.offered
    assert len(offered) == (
        len(acc.published & offered) + len(set(acc.quarantined) & offered) + len(set(acc.skipped) & offered)
    )


def test_transient_faults_are_recovered_by_retry_with_backoff(runs):
    run, baseline = runs["run"], runs["baseline_rows"]
    published = {r["url"]: r for r in run.lake_rows("article_versions")}
    for f in runs["plan"].faults:
        if not f.recoverable:
            continue
        assert f.url in published, f"{f.kind} x{f.times} on {f.url} was not recovered"
        assert published[f.url]["content_hash"] == baseline[f.url]["content_hash"]
        tries = sorted(a.at for a in run.attempts_log if (a.host, a.path) == (f.host, f.path))
        # Twisted may resend once by itself after a reset connection; Scrapy's retries are on top.
        assert len(tries) >= f.times + 1, (f, tries)
        if f.kind.startswith("http"):
            assert len(tries) == f.times + 1
            gaps = [b - a for a, b in zip(tries, tries[1:], strict=False)]
            # Retry n waits base * 2**(n-1): the server sees the attempts spread at least that far.
            assert gaps[0] >= BACKOFF * 0.9 and gaps[1] >= 2 * BACKOFF * 0.9, (f, gaps)


def test_unrecoverable_pages_are_quarantined_with_a_reason(runs):
    run = runs["run"]
    quarantine = {r["url"]: r for r in run.lake_rows("quarantine")}
    for f in runs["plan"].faults:
        if (
            f.recoverable
            or f.kind in RULE_KINDS
            or f.kind in ("slow", "bad_links")
            or f.kind in CHARSET_KINDS
        ):
            continue
        row = quarantine.get(f.url)
        assert row is not None, f"{f.kind} on {f.url} is not in quarantine"
        assert row["outlet"] in OUTLETS and row["reason"], row
        if f.kind in ("http404", "http503"):
            assert f.kind[-3:] in row["reason"]
        if f.kind in BODIES and f.kind not in ("oversized", "gzip_bomb"):
            # The page was fetched: the quarantine row points at its bytes in the raw archive.
            # (An oversized page or a bomb is cut off while downloading: no archive record.)
            rec_type, uri, _ = warc_record_at(row["warc_file"], row["warc_offset"])
            assert (rec_type, uri) == ("response", f.url)
    # A retry costs time, never an unbounded loop: a page failing for good is tried 1 + RETRIES times.
    for f in runs["plan"].faults:
        if f.kind == "http503" and f.times is None:
            assert run.attempts[(f.host, f.path)] == RETRIES + 1


def test_a_wrong_charset_declaration_never_publishes_mojibake(runs):
    run, baseline = runs["run"], runs["baseline_rows"]
    published = {r["url"]: r for r in run.lake_rows("article_versions")}
    quarantine = {r["url"] for r in run.lake_rows("quarantine")}
    for f in runs["plan"].faults:
        if f.kind in CHARSET_KINDS:
            # Decoded by what the bytes are (the same row as without the fault), or quarantined.
            if f.url in published:
                assert published[f.url]["content_hash"] == baseline[f.url]["content_hash"], (
                    f,
                    published[f.url]["title"],
                )
            else:
                assert f.url in quarantine, f


def test_offsite_redirects_and_disallowed_paths_are_never_fetched(runs):
    run = runs["run"]
    skipped = run.skipped_by_rule()
    for f in runs["plan"].faults:
        if f.kind == "robots_disallow":
            assert run.attempts[(f.host, f.path)] == 0 and skipped.get(f.url) == "robots.txt"
        if f.kind in ("offsite_redirect", "retried_offsite_redirect"):
            assert skipped.get(f.url) == "offsite redirect", f
    assert not any(host == OFFSITE for host, _ in run.attempts), "a request left the outlets' domains"
    assert not any(path.startswith("/admin/") for _, path in run.attempts)


def test_the_rest_of_the_outlet_and_the_other_outlets_carry_on(runs):
    run, baseline = runs["run"], runs["baseline_rows"]
    faulted = {f.url for f in runs["plan"].faults}
    published = {r["url"]: r for r in run.lake_rows("article_versions")}
    untouched = set(baseline) - faulted
    assert untouched and untouched <= set(published)
    for url in untouched:
        assert published[url]["content_hash"] == baseline[url]["content_hash"], url
    slow = [f.url for f in runs["plan"].faults if f.kind == "slow"]
    assert slow and set(slow) <= set(published)
    # A start page with unparsable links was served, and its good links were still followed.
    for host, path in BAD_LINK_PAGES:
        assert any(a.outcome == "bad_links" for a in run.attempts_log if (a.host, a.path) == (host, path))
    summary = run.summary
    assert summary["failed_outlets"] == [DEAD_OUTLET]
    assert summary["per_outlet"][DEAD_OUTLET]["items"] == 0
    # The dead outlet's start page is quarantined, so the run says what it could not reach.
    dead = [r for r in run.lake_rows("quarantine") if r["outlet"] == DEAD_OUTLET]
    assert dead and all(r["stage"] == "crawl" and r["date"] == DAY for r in dead)


def test_the_run_summary_counts_the_quarantine(runs):
    run = runs["run"]
    rows = run.lake_rows("quarantine")
    summary = run.summary
    assert summary["quarantined"] == len(rows)
    assert sum(summary["quarantine_reasons"].values()) == len(rows)
    assert all(r["fetched_at"] is not None or r["stage"] == "crawl" for r in rows)
