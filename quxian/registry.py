"""The outlet registry: `quxian/outlets.yaml` loaded into typed, validated records.

Partition values (district slugs) come only from here, so a slug is checked to be a plain
lowercase word before anything uses it as a path component.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import yaml

REGISTRY_FILE = Path(__file__).with_name("outlets.yaml")
PLATFORMS = ("founder_classic", "founder_pc", "xinyubao", "rongmei", "dazuwang", "gov_trs", "mirror")
KINDS = ("paper", "portal", "gov", "mirror")
_SLUG = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


class RegistryError(ValueError):
    """The registry file is malformed, or an id is not in it."""


@dataclass(frozen=True)
class District:
    slug: str
    name: str
    code: str
    type: str


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    district: str
    kind: str
    platform: str | None
    start_urls: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    encoding: str | None = None
    verified: bool = False
    evidence: str = "✗"
    offline: bool = False
    enabled: bool = True
    note: str | None = None
    hosts: tuple[str, ...] = field(default=())

    def start_urls_for(self, day: date) -> list[str]:
        """Start URLs for one day: e-paper templates filled with the date, list pages as they are."""
        return [u.format(date=day) for u in self.start_urls]


@dataclass(frozen=True)
class Registry:
    districts: dict[str, District]
    outlets: dict[str, Outlet]

    def outlet(self, outlet_id: str) -> Outlet:
        try:
            return self.outlets[outlet_id]
        except KeyError:
            raise RegistryError(f"unknown outlet {outlet_id!r} (see quxian/outlets.yaml)") from None

    def district(self, slug: str) -> District:
        try:
            return self.districts[slug]
        except KeyError:
            raise RegistryError(f"unknown district {slug!r}") from None

    def enabled_outlets(self) -> list[Outlet]:
        return [o for o in self.outlets.values() if o.enabled]

    def offline_outlets(self) -> list[Outlet]:
        return [o for o in self.outlets.values() if o.enabled and o.offline]

    def all_hosts(self) -> set[str]:
        return {h for o in self.outlets.values() for h in o.hosts}


def _outlet(raw: dict, districts: dict[str, District]) -> Outlet:
    oid = raw.get("id", "")
    if not _SLUG.match(oid):
        raise RegistryError(f"outlet id {oid!r} is not a lowercase slug")
    if raw.get("district") not in districts:
        raise RegistryError(f"outlet {oid}: unknown district {raw.get('district')!r}")
    if raw.get("kind") not in KINDS:
        raise RegistryError(f"outlet {oid}: kind must be one of {KINDS}")
    platform = raw.get("platform")
    enabled = bool(raw.get("enabled", True))
    if enabled and platform not in PLATFORMS:
        raise RegistryError(f"outlet {oid}: platform {platform!r} is not one of {PLATFORMS}")
    if enabled and not raw.get("start_urls"):
        raise RegistryError(f"outlet {oid}: enabled but has no start_urls")
    starts = tuple(raw.get("start_urls") or ())
    hosts = tuple(sorted({urlsplit(u).hostname for u in starts if urlsplit(u).hostname}))
    return Outlet(
        id=oid,
        name=raw["name"],
        district=raw["district"],
        kind=raw["kind"],
        platform=platform,
        start_urls=starts,
        allowed_domains=tuple(raw.get("allowed_domains") or ()),
        encoding=raw.get("encoding"),
        verified=bool(raw.get("verified", False)),
        evidence=raw.get("evidence", "✗"),
        offline=bool(raw.get("offline", False)),
        enabled=enabled,
        note=raw.get("note"),
        hosts=hosts,
    )


def load_file(path: Path) -> Registry:
    """Load and validate a registry file; raises RegistryError naming the bad entry."""
    # libyaml's safe loader when PyYAML has it: every crawl process and task loads the registry,
    # and the pure-Python one took 0.6 s of CPU for 400 outlets (libyaml 0.09 s).
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    districts: dict[str, District] = {}
    for d in doc.get("districts", []):
        if not _SLUG.match(d.get("slug", "")):
            raise RegistryError(f"district slug {d.get('slug')!r} is not a lowercase slug")
        districts[d["slug"]] = District(d["slug"], d["name"], str(d["code"]), d["type"])
    outlets: dict[str, Outlet] = {}
    for raw in doc.get("outlets", []):
        o = _outlet(raw, districts)
        if o.id in outlets:
            raise RegistryError(f"outlet id {o.id!r} appears twice")
        outlets[o.id] = o
    return Registry(districts, outlets)


def registry_file() -> Path:
    """The registry in use: `QUXIAN_REGISTRY` (e.g. a generated one for scale benchmarks), else
    the bundled `quxian/outlets.yaml`."""
    return Path(os.environ.get("QUXIAN_REGISTRY") or REGISTRY_FILE)


def load() -> Registry:
    """The registry in use (see `registry_file`), parsed once per file."""
    return _load_cached(registry_file().resolve())


@cache
def _load_cached(path: Path) -> Registry:
    return load_file(path)
