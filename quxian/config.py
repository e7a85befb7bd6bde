"""Where things live. Every path can be moved with an environment variable; nothing reads `now()`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

CHECKOUT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Paths:
    data: Path

    @property
    def raw(self) -> Path:
        return self.data / "raw"

    @property
    def runs(self) -> Path:
        return self.data / "runs"

    @property
    def index(self) -> Path:
        return self.data / "index"

    @property
    def lake(self) -> Path:
        return self.data / "lake"

    @property
    def reports(self) -> Path:
        return self.data / "reports"


def paths() -> Paths:
    """The data folders, from `QUXIAN_DATA` (default `<checkout>/data`)."""
    return Paths(Path(os.environ.get("QUXIAN_DATA", CHECKOUT / "data")).resolve())


def shared_dir() -> Path:
    """`../shared` beside the checkout (seeds, corpus, docs), or `QUXIAN_SHARED`."""
    return Path(os.environ.get("QUXIAN_SHARED", CHECKOUT.parent / "shared")).resolve()


def offline_url() -> str | None:
    """Base URL of the offline outlet sites when the run is offline, else None."""
    return os.environ.get("QUXIAN_OFFLINE_URL") or None


def lake_uri() -> str:
    """The lake root: `QUXIAN_LAKE`, a local path or a URI such as `s3://bucket/quxian/lake`
    (opened by `quxian.lakefs.resolve`, credentials from the environment or an Airflow
    connection), else the local `<data>/lake`."""
    return os.environ.get("QUXIAN_LAKE") or str(paths().lake)


def raw_uri() -> str:
    """The raw archive root (WARC files): `QUXIAN_RAW`, a path or URI, else the local `<data>/raw`."""
    return os.environ.get("QUXIAN_RAW") or str(paths().raw)
