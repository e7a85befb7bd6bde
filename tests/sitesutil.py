"""Start the offline outlet sites for a test: `start_sites() -> (base_url, stop)` or the
`running_sites()` context manager. Binds 127.0.0.1 on a free port; `stop()` shuts the server down
and joins its thread. The server object (with `request_log`) is `stop.server`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from quxian.sites.server import SitesServer, make_server


class _Stop:
    def __init__(self, server: SitesServer, thread: threading.Thread):
        self.server = server
        self._thread = thread

    def __call__(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


def start_sites(content_dir: Path | None = None) -> tuple[str, Callable[[], None]]:
    """Render and serve the offline sites in a background thread; returns (base_url, stop)."""
    server = make_server("127.0.0.1", 0, content_dir=content_dir)
    thread = threading.Thread(target=server.serve_forever, name="quxian-sites", daemon=True)
    thread.start()
    return server.base_url, _Stop(server, thread)


@contextmanager
def running_sites(content_dir: Path | None = None) -> Iterator[tuple[str, SitesServer]]:
    """`with running_sites() as (base_url, server): …`"""
    base, stop = start_sites(content_dir)
    try:
        yield base, stop.server  # type: ignore[attr-defined]
    finally:
        stop()
