"""Fault injection for the offline outlet sites: the same sites, served badly on purpose.

`make_fault_server(plan, host, port)` returns a `FaultServer` (a `SitesServer` subclass) whose
handler consults a `FaultPlan` before serving a page. A plan is deterministic: it names which
paths of which host get which fault, and transient faults fail the first `times` attempts of a
URL and then serve the real page, so a crawler that retries recovers them. The server counts
attempts per (host, path) and keeps a timed log of every attempt (`server.attempts_log`), from
which tests read what was fetched, how often and how far apart.

Fault kinds (`KINDS`):

- transport, transient when `times` is set, permanent when it is None: `http500`, `http502`,
  `http503` (status, small body), `reset` (the TCP connection is reset before any byte),
  `timeout` (the server stalls `plan.stall_s`, longer than the crawl's download timeout, then
  drops the connection), `dataloss` (Content-Length promises the page, half of it arrives);
- permanent answers: `http404`, `redirect_loop` (`/p` → `/p.loop` → `/p` …), `offsite_redirect`
  (302 to `fault.target`, a host outside the outlet's allowed domains),
  `retried_offsite_redirect` (503 on the first attempt, then the offsite 302: the redirect of a
  retried request), `robots_disallow` (the host's robots.txt disallows the path; the page
  itself is still served if anyone asks);
- bad bodies with status 200: `truncated` (the first 40 % of the bytes, correctly sized),
  `empty`, `login` and `moved` (placeholder pages instead of the article), `gbk_as_utf8` and
  `utf8_as_gbk` (the page encoded in one charset and declared, in the header and the meta tags,
  as the other), `oversized` (`plan.oversize_bytes` of HTML, streamed), `gzip_bomb` (a small gzip
  body that inflates to `plan.bomb_bytes`), `slow` (the real page, dripped over `plan.slow_s`),
  `bad_links` (the real page with unparsable links at the top of its body: put it on an edition
  or list page, whose other links must still be followed);
- for list pages only (`LIST_PAGE_KINDS`, not in `KINDS`): `bad_date_link` (a list page with one
  more entry in the middle of its list: a copy of the middle entry whose article URL spells a day
  that does not exist, `t20251131_…` or `/html/2025/1131/…`; the entries after it and the
  pagination must still be followed, the bad link never requested and counted as skipped).

A host in `plan.dead_hosts` resets every connection (a dead outlet). Everything listens on
loopback only (`make_fault_server` refuses other addresses) and every delay is bounded by the plan.

For crawls against this server, `crawl_settings_env(folder, **overrides)` writes a throw-away
Scrapy settings module (project settings plus overrides such as a short `DOWNLOAD_TIMEOUT`) and
returns the environment variables that make `quxian.steps.crawl`'s subprocess use it.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from quxian.sites.build import build_sites
from quxian.sites.server import SitesHandler, SitesServer

TRANSIENT = ("http500", "http502", "http503", "reset", "timeout", "dataloss")
PERMANENT = ("http404", "redirect_loop", "offsite_redirect", "retried_offsite_redirect", "robots_disallow")
BODIES = (
    "truncated",
    "empty",
    "login",
    "moved",
    "gbk_as_utf8",
    "utf8_as_gbk",
    "oversized",
    "gzip_bomb",
    "slow",
    "bad_links",
)
KINDS = TRANSIENT + PERMANENT + BODIES
# Faults for list pages only (a no-op on other pages), so not in KINDS, which plans spread over
# article pages.
LIST_PAGE_KINDS = ("bad_date_link",)
# Faults whose page the crawler must never fetch: they are skipped by rule, not errors.
RULE_KINDS = ("offsite_redirect", "retried_offsite_redirect", "robots_disallow")
LOOP_SUFFIX = ".loop"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
OFFSITE_DEFAULT = "offsite.invalid"  # RFC 2606: never resolves, so a leak cannot reach anyone

LOGIN_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>用户登录</title></head><body>'
    '<form action="/login" method="post"><p>请先登录后查看全文</p>'
    '<input name="user"><input name="pass" type="password"><button>登录</button></form></body></html>'
)
MOVED_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>页面已迁移</title>'
    '<meta http-equiv="refresh" content="5;url=/"></head><body><p>您访问的页面已迁移或已删除，'
    "5秒后返回首页。</p></body></html>"
)
# Links a page may carry that no URL parser accepts, or that must not be followed.
BAD_LINKS = (
    '\n<a href="http://[::1/broken">坏链接</a> <a href="http://[v1.x]/">坏</a> '
    '<a href="https://%zz%/x">坏</a> <a href="javascript:void(0)">脚本</a> '
    '<a href="/' + "长" * 3000 + '.html">长链接</a>\n'
)
# Article URLs that spell their date (gov_trs `…/t20251114_N.html`, mirror `/html/2025/1114/N.html`)
# and the same URL on 31 November, a day no calendar has.
_DATED_HREFS = (
    (re.compile(r'(href="[^"]*/t20\d\d)\d{4}(_\d+\.html")'), r"\g<1>1131\g<2>"),
    (re.compile(r'(href="[^"]*/html/20\d\d/)\d{4}(/\d+\.html")'), r"\g<1>1131\g<2>"),
)
_LIST_ENTRY = re.compile(r"<li>.*?</li>", re.S)
_CHARSET = re.compile(rb"(charset\s*=\s*[\"']?)([A-Za-z0-9_-]+)", re.I)


@dataclass(frozen=True)
class Fault:
    """One fault on one URL. `times`: transient kinds fail the first `times` attempts, then the
    real page is served; None fails every attempt. `target`: host of an offsite redirect."""

    host: str
    path: str
    kind: str
    times: int | None = None
    target: str = OFFSITE_DEFAULT

    def __post_init__(self) -> None:
        if self.kind not in KINDS + LIST_PAGE_KINDS:
            known = KINDS + LIST_PAGE_KINDS
            raise ValueError(f"fault on {self.host}{self.path}: unknown kind {self.kind!r} (known: {known})")
        if self.times is not None and (self.kind not in TRANSIENT or self.times < 1):
            raise ValueError(
                f"fault on {self.host}{self.path}: times={self.times} needs a transient kind and >= 1"
            )

    @property
    def url(self) -> str:
        return f"https://{self.host}{self.path}"

    @property
    def recoverable(self) -> bool:
        """A retrying crawler gets the real page in the end (given enough retries)."""
        return self.kind in TRANSIENT and self.times is not None


@dataclass
class FaultPlan:
    """Which URLs of which hosts misbehave, and how. Limits keep every fault bounded in time
    and memory: `stall_s` (a timeout's stall), `slow_s` (a slow page's drip), `oversize_bytes`,
    `bomb_bytes` (inflated size of the gzip bomb)."""

    faults: list[Fault] = field(default_factory=list)
    dead_hosts: frozenset[str] = frozenset()
    stall_s: float = 3.0
    slow_s: float = 0.6
    oversize_bytes: int = 3 * 1024 * 1024
    bomb_bytes: int = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        seen: set[tuple[str, str]] = set()
        for f in self.faults:
            if (f.host, f.path) in seen:
                raise ValueError(f"two faults on {f.host}{f.path}")
            seen.add((f.host, f.path))
        self._by_url = {(f.host, f.path): f for f in self.faults}

    def fault_for(self, host: str, path: str) -> Fault | None:
        return self._by_url.get((host, path))

    def to_json(self) -> dict:
        """The plan as JSON-able data (`from_json` reads it back), e.g. for `quxian sites --faults`."""
        return {
            "faults": [asdict(f) for f in self.faults],
            "dead_hosts": sorted(self.dead_hosts),
            "stall_s": self.stall_s,
            "slow_s": self.slow_s,
            "oversize_bytes": self.oversize_bytes,
            "bomb_bytes": self.bomb_bytes,
        }

    @classmethod
    def from_json(cls, data: dict) -> FaultPlan:
        """Raises ValueError naming the entry for an unknown kind or a bad field."""
        try:
            faults = [Fault(**f) for f in data.get("faults", [])]
        except TypeError as e:
            raise ValueError(f"fault plan: bad fault entry ({e})") from None
        limits = {k: data[k] for k in ("stall_s", "slow_s", "oversize_bytes", "bomb_bytes") if k in data}
        return cls(faults=faults, dead_hosts=frozenset(data.get("dead_hosts", [])), **limits)

    def robots_extra(self, host: str) -> list[str]:
        return sorted(f.path for f in self.faults if f.host == host and f.kind == "robots_disallow")

    def counts(self) -> Counter[str]:
        """Faults by kind ("<kind>" or "<kind>/transient"), plus "dead_host"."""
        c: Counter[str] = Counter(f"{f.kind}/transient" if f.recoverable else f.kind for f in self.faults)
        if self.dead_hosts:
            c["dead_host"] = len(self.dead_hosts)
        return c

    @classmethod
    def spread(
        cls,
        urls: Iterable[str],
        kinds: Iterable[tuple[str, int | None]],
        *,
        seed: int,
        offsite_target: str = OFFSITE_DEFAULT,
        dead_hosts: Iterable[str] = (),
        **limits: float,
    ) -> FaultPlan:
        """Give each (kind, times) to a different URL, picked with `random.Random(seed)` from the
        sorted `urls` (pages the sites really offer). Raises ValueError with fewer URLs than kinds."""
        pool = sorted(set(urls))
        kinds = list(kinds)
        if len(pool) < len(kinds):
            raise ValueError(f"{len(kinds)} faults need as many pages, only {len(pool)} offered")
        picked = random.Random(seed).sample(pool, len(kinds))
        faults = []
        for url, (kind, times) in zip(picked, kinds, strict=True):
            parts = urlsplit(url)
            faults.append(Fault(parts.hostname or "", parts.path or "/", kind, times, offsite_target))
        return cls(faults=faults, dead_hosts=frozenset(dead_hosts), **limits)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Attempt:
    """One request the fault server answered: when (monotonic s), what, which attempt, how."""

    at: float
    host: str
    path: str
    n: int
    outcome: str  # "served" or the fault kind applied


class FaultServer(SitesServer):
    """`SitesServer` that applies a `FaultPlan`; counts attempts per (host, path)."""

    def __init__(self, address: tuple[str, int], sites: dict, plan: FaultPlan):
        super().__init__(address, sites)
        self.RequestHandlerClass = FaultHandler
        self.plan = plan
        self.attempts: Counter[tuple[str, str]] = Counter()
        self.attempts_log: list[Attempt] = []
        self._attempt_lock = threading.Lock()

    def attempt(self, host: str, path: str) -> int:
        with self._attempt_lock:
            self.attempts[(host, path)] += 1
            return self.attempts[(host, path)]

    def note(self, host: str, path: str, n: int, outcome: str) -> None:
        with self._attempt_lock:
            self.attempts_log.append(Attempt(time.monotonic(), host, path, n, outcome))

    def handle_error(self, request: object, client_address: object) -> None:
        # Crawlers hang up on purpose here (a body over their size limit, a connection this
        # server reset): that is the fault working, not a server error worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def fetched(self, host: str, path: str) -> bool:
        """Whether any request for this URL reached the server (whatever the answer)."""
        return self.attempts[(host, path)] > 0


@lru_cache(maxsize=4)
def _bomb(size: int) -> bytes:
    return gzip.compress(b"\0" * size, compresslevel=9)


class FaultHandler(SitesHandler):
    server: FaultServer

    def _respond(self, send_body: bool) -> None:
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path = urlsplit(self.path).path or "/"
        plan = self.server.plan
        looped = path.endswith(LOOP_SUFFIX)
        key_path = path[: -len(LOOP_SUFFIX)] if looped else path
        n = self.server.attempt(host, path)
        if host in plan.dead_hosts:
            self.server.note(host, path, n, "dead_host")
            self._reset()
            return
        if path == "/robots.txt" and plan.robots_extra(host):
            self.server.note(host, path, n, "served")
            self._robots(host, plan.robots_extra(host), send_body)
            return
        fault = plan.fault_for(host, key_path)
        if fault is None or (fault.times is not None and n > fault.times) or fault.kind == "robots_disallow":
            self.server.note(host, path, n, "served")
            super()._respond(send_body)
            return
        self.server.note(host, path, n, fault.kind)
        self.attempt_n = n
        self.server.record(host, path, 0)
        getattr(self, f"_fault_{fault.kind}")(fault, key_path, looped, send_body)

    # ------------------------------------------------------------ helpers
    def _page(self, host: str, path: str) -> tuple[bytes, str]:
        site = self.server.sites.get(host)
        page = site.pages.get(path) if site else None
        if page is None:
            return f"not found: {host}{path}\n".encode(), "text/plain; charset=utf-8"
        return page.body, page.content_type

    def _send(
        self, status: int, body: bytes, ctype: str, send_body: bool, headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST instead of FIN: the client sees a connection reset.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _robots(self, host: str, extra: list[str], send_body: bool) -> None:
        base, ctype = self._page(host, "/robots.txt")
        lines = base.decode("utf-8").splitlines()
        at = next((i for i, line in enumerate(lines) if line.lower().startswith("disallow")), 1)
        lines[at:at] = [f"Disallow: {p}" for p in extra]
        self._send(200, ("\n".join(lines) + "\n").encode(), ctype, send_body)

    def _host(self) -> str:
        return (self.headers.get("Host") or "").split(":")[0].lower()

    # ------------------------------------------------------------ transport faults
    def _status(self, status: int, send_body: bool) -> None:
        self._send(status, f"{status} injected fault\n".encode(), "text/plain; charset=utf-8", send_body)

    def _fault_http500(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        self._status(500, send_body)

    def _fault_http502(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        self._status(502, send_body)

    def _fault_http503(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        self._status(503, send_body)

    def _fault_http404(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        self._status(404, send_body)

    def _fault_reset(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        self._reset()

    def _fault_timeout(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        time.sleep(self.server.plan.stall_s)
        self._reset()

    def _fault_dataloss(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        body, ctype = self._page(self._host(), path)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body[: len(body) // 2])
        self._reset()

    # ------------------------------------------------------------ answers that are not the page
    def _fault_redirect_loop(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        target = path if looped else path + LOOP_SUFFIX
        self._send(302, b"", "text/plain", send_body, {"Location": f"https://{self._host()}{target}"})

    def _fault_retried_offsite_redirect(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        # A retry is sent with dont_filter (Scrapy's RetryMiddleware) and its redirect inherits it.
        if self.attempt_n == 1:
            self._status(503, send_body)
        else:
            self._fault_offsite_redirect(fault, path, looped, send_body)

    def _fault_offsite_redirect(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        self._send(302, b"", "text/plain", send_body, {"Location": f"https://{fault.target}/moved{path}"})

    # ------------------------------------------------------------ bad bodies
    def _fault_truncated(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        body, ctype = self._page(self._host(), path)
        self._send(200, body[: len(body) * 2 // 5], ctype, send_body)

    def _fault_empty(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        self._send(200, b"", "text/html; charset=utf-8", send_body)

    def _fault_login(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        self._send(200, LOGIN_PAGE.encode(), "text/html; charset=utf-8", send_body)

    def _fault_moved(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        self._send(200, MOVED_PAGE.encode(), "text/html; charset=utf-8", send_body)

    def _recoded(self, path: str, actual: str, declared: str, send_body: bool) -> None:
        body, ctype = self._page(self._host(), path)
        m = _CHARSET.search(ctype.encode())
        text = body.decode(m.group(2).decode() if m else "utf-8", errors="replace")
        data = _CHARSET.sub(rb"\g<1>" + declared.encode(), text.encode(actual, errors="xmlcharrefreplace"))
        self._send(200, data, f"text/html; charset={declared}", send_body)

    def _fault_gbk_as_utf8(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        self._recoded(path, "gbk", "utf-8", send_body)

    def _fault_utf8_as_gbk(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        self._recoded(path, "utf-8", "gbk", send_body)

    def _fault_oversized(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        size = self.server.plan.oversize_bytes
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if not send_body:
            return
        chunk = b"<p>" + "很长的页面".encode() * 2000 + b"</p>\n"
        sent = 0
        try:
            while sent < size:
                part = chunk[: size - sent]
                self.wfile.write(part)
                sent += len(part)
        except OSError:
            # The client hung up once the page passed its size limit: the expected outcome.
            self.close_connection = True

    def _fault_gzip_bomb(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        self._send(
            200, _bomb(self.server.plan.bomb_bytes), "text/html; charset=utf-8", send_body,
            {"Content-Encoding": "gzip"},
        )  # fmt: skip

    def _fault_bad_links(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        body, ctype = self._page(self._host(), path)
        m = _CHARSET.search(ctype.encode())
        charset = m.group(2).decode() if m else "utf-8"
        junk = BAD_LINKS.encode(charset)
        at = body.lower().find(b"<body")
        at = body.find(b">", at) + 1 if at >= 0 else 0
        self._send(200, body[:at] + junk + body[at:], ctype, send_body)

    def _fault_bad_date_link(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        body, ctype = self._page(self._host(), path)
        m = _CHARSET.search(ctype.encode())
        charset = m.group(2).decode() if m else "utf-8"
        text = body.decode(charset)
        entries = [e for e in _LIST_ENTRY.finditer(text) if any(r.search(e[0]) for r, _ in _DATED_HREFS)]
        if entries:
            middle = entries[len(entries) // 2]
            bad = middle[0]
            for pattern, repl in _DATED_HREFS:
                bad = pattern.sub(repl, bad)
            text = text[: middle.end()] + "\n" + bad + text[middle.end() :]
        self._send(200, text.encode(charset), ctype, send_body)

    def _fault_slow(self, fault: Fault, path: str, looped: bool, send_body: bool) -> None:
        body, ctype = self._page(self._host(), path)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not send_body:
            return
        steps = 6
        size = -(-len(body) // steps)
        for i in range(steps):
            self.wfile.write(body[i * size : (i + 1) * size])
            self.wfile.flush()
            time.sleep(self.server.plan.slow_s / steps)


def make_fault_server(
    plan: FaultPlan, host: str = "127.0.0.1", port: int = 0, sites: dict | None = None
) -> FaultServer:
    """The offline sites with `plan`'s faults, bound on loopback (`port=0`: a free port); the
    caller runs `serve_forever()` (e.g. in a thread) and reads `base_url`."""
    if host not in LOOPBACK:
        raise ValueError(f"fault sites listen on loopback only, not on {host!r}")
    return FaultServer((host, port), sites if sites is not None else build_sites(), plan)


@dataclass
class RunningFaultServer:
    """A fault server in a background thread: `base_url`, `server`, `stop()`."""

    server: FaultServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def start_fault_server(plan: FaultPlan, sites: dict | None = None) -> RunningFaultServer:
    """Serve `plan` from a daemon thread on 127.0.0.1 and a free port."""
    server = make_fault_server(plan, "127.0.0.1", 0, sites=sites)
    thread = threading.Thread(target=server.serve_forever, name="quxian-fault-sites", daemon=True)
    thread.start()
    return RunningFaultServer(server, thread)


SETTINGS_MODULE = "quxian_fault_crawl_settings"


def crawl_settings_env(folder: Path, **overrides: object) -> dict[str, str]:
    """Write a Scrapy settings module (the project's settings plus `overrides`) into `folder`
    and return the environment that makes a `scrapy crawl` subprocess load it.

    `quxian.steps.crawl` passes its environment to the subprocess, so a test sets these
    variables (e.g. with monkeypatch) to run the real pipeline with a short download timeout
    or a small size limit. Overrides must be repr()-able literals."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        '"""Generated by quxian.sites.faults.crawl_settings_env for a fault run."""',
        "from spiders.settings import *  # noqa: F403",
    ]
    lines += [f"{k} = {v!r}" for k, v in sorted(overrides.items())]
    (folder / f"{SETTINGS_MODULE}.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    return {"SCRAPY_SETTINGS_MODULE": SETTINGS_MODULE, "PYTHONPATH": path}


# ---------------------------------------------------------------- the pipeline against a plan

# Crawl settings for fault runs: short timeouts and size limits so that every fault costs
# seconds, a real (small) retry backoff so that it can be measured, no politeness delays.
FAULT_CRAWL_SETTINGS: dict[str, object] = {
    "DOWNLOAD_TIMEOUT": 1.0,
    "DOWNLOAD_MAXSIZE": 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 512 * 1024,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "RETRY_TIMES": 3,
    "QUXIAN_RETRY_BACKOFF_BASE": 0.2,
    "QUXIAN_RETRY_BACKOFF_MAX": 0.8,
}
# A fault plan's limits that fit FAULT_CRAWL_SETTINGS (stall past the timeout, oversize and bomb
# past the size limit).
FAULT_LIMITS: dict[str, float] = {
    "stall_s": 1.6,
    "slow_s": 0.4,
    "oversize_bytes": 3 * 1024 * 1024,
    "bomb_bytes": 32 * 1024 * 1024,
}


@dataclass
class Accounting:
    """Where every offered page of a run went. `offered`: article URLs the sites offer for the
    run (from a fault-free run); `published`: URLs in `article_versions`; `quarantined`: URL →
    reason; `skipped`: URL → rule (robots.txt, offsite redirect) from the crawl reports."""

    offered: set[str]
    published: set[str]
    quarantined: dict[str, str]
    skipped: dict[str, str]

    @property
    def unaccounted(self) -> set[str]:
        return self.offered - self.published - set(self.quarantined) - set(self.skipped)

    @property
    def doubly_counted(self) -> set[str]:
        """Pages both published and quarantined, or published and skipped: must be none."""
        return (self.published & set(self.quarantined)) | (self.published & set(self.skipped))


@dataclass
class FaultRun:
    """One pipeline run against a fault server: its summary, the lake, the crawl reports and the
    server's attempt log."""

    summary: dict
    data_dir: Path
    stats: dict[str, dict]
    attempts: Counter[tuple[str, str]]
    attempts_log: list[Attempt]
    elapsed_s: float

    @property
    def lake(self) -> Path:
        return self.data_dir / "lake"

    def lake_rows(self, dataset: str, columns: str = "*") -> list[dict]:
        """Rows of a dataset with its partition columns, read with DuckDB (empty if none)."""
        import duckdb

        if not any((self.lake / dataset).glob("district=*/date=*/data.parquet")):
            return []
        con = duckdb.connect()
        cur = con.execute(
            f"SELECT {columns} FROM read_parquet('{self.lake}/{dataset}/*/*/data.parquet', hive_partitioning = true)"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def skipped_by_rule(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for st in self.stats.values():
            out.update({u: "robots.txt" for u in st.get("robots_forbidden", [])})
            out.update({u: "offsite redirect" for u in st.get("offsite_skipped", [])})
            out.update({u: "bad link date" for u in st.get("bad_link_dates", [])})
        return out

    def accounting(self, offered: Iterable[str]) -> Accounting:
        quarantined = {r["url"]: r["reason"] for r in self.lake_rows("quarantine", "url, reason")}
        published = {r["url"] for r in self.lake_rows("article_versions", "url")}
        return Accounting(set(offered), published, quarantined, self.skipped_by_rule())


def run_with_faults(
    plan: FaultPlan,
    day: date,
    outlets: list[str],
    data_dir: Path,
    settings_dir: Path,
    *,
    sites: dict | None = None,
    crawl_settings: dict[str, object] | None = None,
) -> FaultRun:
    """Run the whole pipeline (`quxian.steps.run`) for `day` and `outlets` against a fault server
    serving `plan`, with a fresh `QUXIAN_DATA=data_dir` and the crawl settings module written to
    `settings_dir`. The environment is restored afterwards. Crawls are polite-mode (so the retry
    backoff is real) with the delays of `crawl_settings` (default FAULT_CRAWL_SETTINGS)."""
    from quxian import steps

    env = crawl_settings_env(settings_dir, **(crawl_settings or FAULT_CRAWL_SETTINGS))
    env["QUXIAN_DATA"] = str(data_dir)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    running = start_fault_server(plan, sites=sites)
    started = time.monotonic()
    try:
        run_plan = steps.plan_run(day, offline_url=running.base_url, outlets=outlets, polite=True)
        summary = steps.run(run_plan)
        stats = {}
        for outlet in outlets:
            f = run_plan.run_dir / "crawl" / outlet / "stats.json"
            if f.exists():
                stats[outlet] = json.loads(f.read_text(encoding="utf-8"))
    finally:
        running.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return FaultRun(
        summary, data_dir, stats, Counter(running.server.attempts), list(running.server.attempts_log),
        time.monotonic() - started,
    )  # fmt: skip


def warc_record_at(warc_file: str, offset: int) -> tuple[str, str | None, int]:
    """(record type, target URI, payload bytes) of the WARC record at `offset`; raises
    ValueError naming the file and offset when no readable record starts there."""
    from warcio.archiveiterator import ArchiveIterator

    with open(warc_file, "rb") as fh:
        fh.seek(offset)
        for rec in ArchiveIterator(fh):
            payload = rec.content_stream().read()
            return rec.rec_type, rec.rec_headers.get_header("WARC-Target-URI"), len(payload)
    raise ValueError(f"{warc_file}@{offset}: no WARC record there")


def readable_warc_records(warc_file: Path) -> tuple[int, str | None]:
    """How many records of a WARC file read back whole, and the error that stopped the reading
    (None when the file ended cleanly). A crashed writer may leave one partial record at the end;
    everything before it must read."""
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    try:
        with open(warc_file, "rb") as fh:
            for rec in ArchiveIterator(fh):
                rec.content_stream().read()
                n += 1
    except Exception as e:  # noqa: BLE001 - warcio/zlib raise several types on a torn record; reported, not hidden
        return n, f"{type(e).__name__}: {e}"
    return n, None
