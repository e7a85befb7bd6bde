"""The production profile: what lets the nightly DAG run on many machines at once.

- `named_lock(name)`: one holder at a time, cluster-wide. With `QUXIAN_LOCK_URL=redis://…` (the
  Celery broker the cluster already runs) it is a Redis lock with an expiry, so a holder killed
  with its machine frees it; without it, a kernel lock on a file of this machine
  (`QUXIAN_LOCK_DIR`, default `<data>/locks`), which dies with its process.
- `host_lease(hosts)`: per-host politeness across workers. Scrapy's per-domain delay holds inside
  one crawl; two mapped crawls on two workers whose outlets share a host (sxdsb and wzsb are both
  on dpaper.sxcm.net) would otherwise double the rate on it. The crawl task holds the leases of
  the hosts of every outlet in its batch, in sorted order (no deadlock), for the whole crawl;
  inside one batch, outlets sharing a host are crawled one after another (`quxian.steps`).
- `task_policy(task)`: an Airflow cluster policy (installed through `airflow_local_settings.py`
  by the deployment, not by the DAG file) that puts every crawl into the `quxian_crawl` pool, so
  the operator bounds concurrent crawls cluster-wide with `airflow pools set`.
- `worker_hostname()`: `[core] hostname_callable` for several workers on one machine
  (`QUXIAN_WORKER_NAME`), so task instances record which worker ran them.

The demo that starts a whole cluster on 127.0.0.1 lives in `quxian.clusterdemo`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

from quxian import config

CRAWL_POOL = "quxian_crawl"
# A Redis lock outlives a holder that died without releasing it by at most this long; a crawl
# is killed by steps.CRAWL_TIMEOUT_S (3 h) before it.
LOCK_TTL_S = 4 * 3600


class LockBusy(RuntimeError):
    """The named lock is held by someone else (`holder` says who, when known)."""

    def __init__(self, name: str, holder: str):
        super().__init__(f"{name} is held by {holder}")
        self.name = name
        self.holder = holder


def _holder() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


def lock_dir() -> Path:
    return Path(os.environ.get("QUXIAN_LOCK_DIR") or config.paths().data / "locks")


@contextmanager
def _redis_lock(url: str, name: str, wait: bool, ttl: float) -> Iterator[None]:
    import redis

    client = redis.Redis.from_url(url)
    key = f"quxian:lock:{name}"
    # The token is the lock's value in Redis: it says who holds it when another asks.
    token = f"{_holder()} [{uuid.uuid4().hex[:8]}]"
    lock = client.lock(key, timeout=ttl, sleep=0.2, blocking=wait, thread_local=False)
    if not lock.acquire(token=token):
        held = client.get(key)
        raise LockBusy(name, held.decode() if held else "unknown")
    try:
        yield
    finally:
        lock.release()
        client.close()


@contextmanager
def _file_lock(name: str, wait: bool) -> Iterator[None]:
    d = lock_dir()
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{hashlib.sha1(name.encode()).hexdigest()[:20]}.lock"
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            fh.seek(0)
            raise LockBusy(name, fh.read().strip() or "unknown") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{_holder()} ({name})\n")
        fh.flush()
        yield


@contextmanager
def named_lock(name: str, *, wait: bool = True, ttl: float = LOCK_TTL_S) -> Iterator[None]:
    """Hold the lock `name`; raises LockBusy at once when it is held and `wait` is False.

    Cluster-wide with `QUXIAN_LOCK_URL` (Redis), else on this machine only (see module doc).
    """
    url = os.environ.get("QUXIAN_LOCK_URL")
    with _redis_lock(url, name, wait, ttl) if url else _file_lock(name, wait):
        yield


@contextmanager
def host_lease(hosts: Iterable[str], *, wait: bool = True) -> Iterator[None]:
    """Hold the politeness lease of every host in `hosts` (see module doc)."""
    with ExitStack() as stack:
        for host in sorted(set(hosts)):
            stack.enter_context(named_lock(f"host:{host}", wait=wait))
        yield


def outlet_lease(outlet_ids: str | Iterable[str], polite: bool) -> AbstractContextManager:
    """The leases a crawl of one outlet or a batch of outlets must hold: every host of every
    outlet when the crawl is polite, none when it is not (our own offline server needs no
    politeness)."""
    if not polite:
        return ExitStack()
    from quxian.registry import load

    reg = load()
    ids = [outlet_ids] if isinstance(outlet_ids, str) else list(outlet_ids)
    return host_lease(h for o in ids for h in reg.outlet(o).hosts)


def task_policy(task) -> None:  # noqa: ANN001 - Airflow passes its operator type
    """Airflow cluster policy: every crawl task runs in the `quxian_crawl` pool."""
    if getattr(task, "dag_id", None) == "quxian_nightly" and task.task_id == "crawl":
        task.pool = CRAWL_POOL


def worker_hostname() -> str:
    """`[core] hostname_callable`: the worker's name when several share one machine."""
    name = os.environ.get("QUXIAN_WORKER_NAME")
    return f"{name}@{socket.getfqdn()}" if name else socket.getfqdn()
