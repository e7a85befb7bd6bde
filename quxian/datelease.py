"""One writer per data date: the lease a run holds on every date it covers.

`quxian run`, a backfill and the nightly DAG all write `data/runs/<run_key>/` and the lake
partitions of their dates. Two runs of one date at once would overwrite each other's crawl files,
so every run first takes the lease of each of its data dates, all or none, in sorted order
(`hold`). A lease names its holder (`holder`: which run, which process on which host) and a
`token` (who may renew and release it: the command's own random token, or the DAG run's id), and
expires `ttl` seconds after its last renewal, so the lease of a run that died frees itself.
While a holder's process runs, a heartbeat thread renews its leases every `ttl / 3` seconds.

- The command takes the leases for the whole run and releases them at the end (`holding`).
- The DAG cannot hold a kernel lock across tasks that run in different processes (and machines):
  every task of a run takes or renews the leases of the run's dates before it starts (the DAG's
  `pre_execute` hook, `quxian.dagsupport.hold_run_dates`) with the DAG run id as token, and a
  last task that runs whatever happened (`ALL_DONE`) releases them. A run whose process died
  between tasks keeps the dates at most `ttl` seconds longer.

Taking a date another token holds raises `DatesBusy` naming the holder, since when, and when the
lease expires. Same backends as `quxian.cluster.named_lock`: Redis keys with an expiry when
`QUXIAN_LOCK_URL` is set (cluster-wide, checked and set in one Lua script), else one JSON file per
date in `<lock dir>/dates/`, read and written under a kernel lock on a guard file (this machine).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from quxian.cluster import LockBusy, lock_dir

log = logging.getLogger(__name__)

# A lease outlives its dead holder by at most this long (renewed every third of it while held).
DEFAULT_TTL_S = 30 * 60


def lease_ttl() -> float:
    """`QUXIAN_DATE_LEASE_TTL` seconds, else DEFAULT_TTL_S."""
    raw = os.environ.get("QUXIAN_DATE_LEASE_TTL")
    return float(raw) if raw else DEFAULT_TTL_S


class DatesBusy(LockBusy):
    """A data date of the run is leased by another run (`holder` says who, since when)."""

    def __init__(self, day: str, holder: str):
        super().__init__(f"data date {day}", holder)
        self.day = day


def process_holder(what: str) -> str:
    """How a holder names itself: `<what>, pid N on HOST`."""
    return f"{what}, pid {os.getpid()} on {socket.gethostname()}"


def _days(days: Iterable[date | str]) -> list[str]:
    return sorted({d.isoformat() if isinstance(d, date) else str(d) for d in days})


def _describe(lease: dict, now: float) -> str:
    left = max(0, round(float(lease.get("expires_at", now)) - now))
    return f"{lease.get('holder', 'unknown')} since {lease.get('since', '?')} (lease expires in {left} s)"


# ---------------------------------------------------------------- backends


class _FileLeases:
    """One JSON file per date under `<lock dir>/dates/`; every check-and-write under one flock."""

    def __init__(self) -> None:
        self.dir = lock_dir() / "dates"

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".guard", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    def _read(self, day: str) -> dict | None:
        try:
            return json.loads((self.dir / f"{day}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def take(self, days: list[str], token: str, holder: str, ttl: float) -> None:
        with self._guard():
            now = time.time()
            current = {d: self._read(d) for d in days}
            for d in days:
                lease = current[d]
                if lease and lease.get("token") != token and float(lease.get("expires_at", 0)) > now:
                    raise DatesBusy(d, _describe(lease, now))
            for d in days:
                lease = current[d]
                mine = lease is not None and lease.get("token") == token
                record = {
                    "day": d,
                    "token": token,
                    "holder": holder,
                    "since": lease["since"] if mine else _stamp(now),
                    "expires_at": now + ttl,
                }
                tmp = self.dir / f".{d}.{os.getpid()}.tmp"
                tmp.write_text(json.dumps(record), encoding="utf-8")
                os.replace(tmp, self.dir / f"{d}.json")

    def release(self, days: list[str], token: str) -> None:
        with self._guard():
            for d in days:
                lease = self._read(d)
                if lease and lease.get("token") == token:
                    (self.dir / f"{d}.json").unlink(missing_ok=True)

    def get(self, day: str) -> dict | None:
        lease = self._read(day)
        return lease if lease and float(lease.get("expires_at", 0)) > time.time() else None


# KEYS: the dates' keys. ARGV: token, then one value per key, then the TTL in ms. Refuses (returns
# the first foreign holder's key and value) unless every key is free or already this token's.
_TAKE = """
local n = #KEYS
for i = 1, n do
  local v = redis.call('GET', KEYS[i])
  if v then
    local ok, lease = pcall(cjson.decode, v)
    if not ok or lease['token'] ~= ARGV[1] then return {KEYS[i], v} end
  end
end
for i = 1, n do redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[n + 2]) end
return {}
"""
_RELEASE = """
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v then
    local ok, lease = pcall(cjson.decode, v)
    if ok and lease['token'] == ARGV[1] then redis.call('DEL', KEYS[i]) end
  end
end
return 0
"""


class _RedisLeases:
    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)

    @staticmethod
    def _key(day: str) -> str:
        return f"quxian:date:{day}"

    def take(self, days: list[str], token: str, holder: str, ttl: float) -> None:
        now = time.time()
        values = []
        for d in days:
            # `since` is kept across renewals; the script alone decides who gets the dates.
            old = self.get(d)
            since = old["since"] if old and old.get("token") == token else _stamp(now)
            record = {"day": d, "token": token, "holder": holder, "since": since, "expires_at": now + ttl}
            values.append(json.dumps(record))
        keys = [self._key(d) for d in days]
        refused = self.client.eval(_TAKE, len(keys), *keys, token, *values, int(ttl * 1000))
        if refused:
            key, value = (x.decode() for x in refused)
            try:
                lease = json.loads(value)
            except ValueError:
                lease = {"holder": value}
            raise DatesBusy(key.rsplit(":", 1)[-1], _describe(lease, time.time()))

    def release(self, days: list[str], token: str) -> None:
        keys = [self._key(d) for d in days]
        self.client.eval(_RELEASE, len(keys), *keys, token)

    def get(self, day: str) -> dict | None:
        value = self.client.get(self._key(day))
        if value is None:
            return None
        try:
            return json.loads(value)
        except ValueError:
            return {"holder": value.decode(errors="replace")}


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@contextlib.contextmanager
def _backend() -> Iterator[_FileLeases | _RedisLeases]:
    url = os.environ.get("QUXIAN_LOCK_URL")
    if not url:
        yield _FileLeases()
        return
    store = _RedisLeases(url)
    try:
        yield store
    finally:
        store.client.close()


# ---------------------------------------------------------------- the API


@dataclass
class _Heartbeat:
    thread: threading.Thread | None
    stop: threading.Event
    lost: list[str]


_heartbeats: dict[tuple[str, tuple[str, ...]], _Heartbeat] = {}
_heartbeats_lock = threading.Lock()


def _beat(days: list[str], token: str, holder: str, ttl: float, hb: _Heartbeat) -> None:
    while not hb.stop.wait(ttl / 3):
        try:
            with _backend() as store:
                store.take(days, token, holder, ttl)
        except DatesBusy as e:
            hb.lost.append(str(e))
            log.error("lease of %s lost: %s", ", ".join(days), e)
            return
        except Exception as e:  # noqa: BLE001 - a store hiccup: retried at the next beat, logged
            log.warning("lease of %s not renewed this time: %s", ", ".join(days), e)


def hold(days: Iterable[date | str], *, token: str, holder: str, ttl: float | None = None) -> list[str]:
    """Take (or, for the same token, renew) the lease of every date, all or none, and keep it
    renewed from a heartbeat thread of this process until `release`. Raises DatesBusy naming the
    holder of the first date another token holds. Returns the dates as YYYY-MM-DD, sorted."""
    ds = _days(days)
    ttl = lease_ttl() if ttl is None else ttl
    with _backend() as store:
        store.take(ds, token, holder, ttl)
    key = (token, tuple(ds))
    with _heartbeats_lock:
        hb = _heartbeats.get(key)
        if hb is None or hb.thread is None or not hb.thread.is_alive():
            hb = _Heartbeat(None, threading.Event(), [])
            hb.thread = threading.Thread(
                target=_beat, args=(ds, token, holder, ttl, hb), name=f"quxian-lease-{ds[0]}", daemon=True
            )
            hb.thread.start()
            _heartbeats[key] = hb
    return ds


def release(days: Iterable[date | str], *, token: str) -> None:
    """Stop renewing and give back the dates this token holds (others' leases are left alone)."""
    ds = _days(days)
    with _heartbeats_lock:
        stopped = [_heartbeats.pop(k) for k in list(_heartbeats) if k[0] == token and set(k[1]) & set(ds)]
    for hb in stopped:
        hb.stop.set()
        # A renewal in flight must land before the release, or it would take the dates again.
        if hb.thread is not None and hb.thread is not threading.current_thread():
            hb.thread.join(timeout=30)
    with _backend() as store:
        store.release(ds, token)


def lost(days: Iterable[date | str], *, token: str) -> str | None:
    """Why this process's heartbeat lost the lease of these dates (None when it did not)."""
    hb = _heartbeats.get((token, tuple(_days(days))))
    return hb.lost[0] if hb and hb.lost else None


def holder_of(day: date | str) -> dict | None:
    """The live lease of a date (holder, token, since, expires_at), None when it is free."""
    with _backend() as store:
        return store.get(_days([day])[0])


@contextlib.contextmanager
def holding(days: Iterable[date | str], *, holder: str, ttl: float | None = None) -> Iterator[str]:
    """`hold` the dates with a fresh token for the `with` block, then `release` them. Yields the
    token. Raises DatesBusy before the block runs when another run holds one of them."""
    token = f"{uuid.uuid4().hex[:12]}"
    ds = hold(days, token=token, holder=holder, ttl=ttl)
    try:
        yield token
    finally:
        release(ds, token=token)
