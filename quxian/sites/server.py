"""The offline outlet sites: one threaded HTTP server on 127.0.0.1 serving every offline outlet by
the request's `Host` header (the real host, e.g. `xyb.txdzw.com`).

Content is rendered once at start (`quxian.sites.build.build_sites`) and served from memory, so a
restart serves the same bytes. Unknown host or path → 404. The server keeps a log of the requests
it answered (`server.request_log`) so tests can check what a crawler fetched.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from quxian.sites.build import build_sites, publication_dates
from quxian.sites.pages import Site

log = logging.getLogger(__name__)


class SitesServer(ThreadingHTTPServer):
    """ThreadingHTTPServer holding the rendered sites and a log of (host, path, status)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], sites: dict[str, Site]):
        super().__init__(address, SitesHandler)
        self.sites = sites
        self.request_log: list[tuple[str, str, int]] = []
        self._log_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def record(self, host: str, path: str, status: int) -> None:
        with self._log_lock:
            self.request_log.append((host, path, status))


class SitesHandler(BaseHTTPRequestHandler):
    server: SitesServer
    server_version = "quxian-sites/0.1"
    protocol_version = "HTTP/1.1"

    def _respond(self, send_body: bool) -> None:
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path = urlsplit(self.path).path or "/"
        site = self.server.sites.get(host)
        page = site.pages.get(path) if site else None
        if page is None:
            status, body, ctype = 404, f"not found: {host}{path}\n".encode(), "text/plain; charset=utf-8"
        else:
            status, body, ctype = 200, page.body, page.content_type
        self.server.record(host, path, status)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._respond(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(send_body=False)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("%s - %s", self.address_string(), format % args)


def make_server(
    host: str = "127.0.0.1",
    port: int = 0,
    content_dir: Path | None = None,
    sites: dict[str, Site] | None = None,
) -> SitesServer:
    """Render the sites (unless given) and bind; the caller runs `serve_forever()`.

    `port=0` picks a free port (read it from `server.base_url`). Only loopback hosts are accepted:
    the offline sites are never exposed to a network.
    """
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"offline sites listen on loopback only, not on {host!r}")
    return SitesServer((host, port), sites if sites is not None else build_sites(content_dir))


def run(port: int = 8765, content_dir: Path | None = None) -> int:
    """Serve until Ctrl-C, printing the URL, the hosts served and the date range."""
    server = make_server(port=port, content_dir=content_dir)
    days = publication_dates(content_dir)
    # First line: the URL, as `quxian sites` prints it (scripts read it from there).
    print(f"offline outlet sites on {server.base_url}/ (Host header selects the outlet); Ctrl-C stops")
    print(f"use them with: QUXIAN_OFFLINE_URL={server.base_url}")
    for host, site in sorted(server.sites.items()):
        print(f"  {host:24} {site.outlet_id:12} {len(site.pages):4} pages")
    if days:
        print(f"publication dates {days[0].isoformat()} .. {days[1].isoformat()}")
    sys.stdout.flush()
    # SIGTERM (a service manager, `kill`) stops it the same way as Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="quxian sites", description="Serve the offline outlet sites.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--content", type=Path, default=None, help="story folder (default: the package's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run(args.port, args.content)


if __name__ == "__main__":
    sys.exit(main())
