"""Broken-outlet detection: is each outlet of a run producing what it usually does?

`assess(run_summary, history, lake=...)` rates every outlet of one run `ok`, `warn` or `broken`
with the reasons and one URL an operator can open. The policy (documented in
`docs/operations.md`, thresholds in `HealthPolicy`):

- broken: the crawl failed (no stats, Scrapy error, killed) or the outlet yielded zero article
  versions. The outlet's crawl task has already failed in Airflow; the run's report task fails
  too (`raise_for_broken`) so the run is red and names the outlet.
- warn: the yield is below `low_ratio` (30 %) of the outlet's trailing median, or more than
  `generic_share` (50 %) of its rows came from the generic extractor (its template changed and
  the platform rules no longer match; platforms without a body rule, the spam mirrors, are
  exempt). A warning is logged and flagged in the report; no task
  fails.
- With fewer than `min_history` earlier runs that carried the outlet only the zero rule applies:
  a median of one or two nights says little.

Yields are compared per data day (a three-day backfill is not three times "better" than a
nightly run): `expected` is the median of earlier runs' per-day yields times this run's days.
A run summary's per-outlet yield is `per_outlet[o]["versions"]` when the summary carries it,
else `per_outlet[o]["items"]` (article pages fetched).
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date
from pathlib import Path
from typing import Literal

log = logging.getLogger("quxian.health")

Status = Literal["ok", "warn", "broken"]
_RANK = {"ok": 0, "warn": 1, "broken": 2}


@dataclass(frozen=True)
class HealthPolicy:
    """Thresholds of the broken-outlet policy (see the module docstring)."""

    window: int = 14  # earlier runs the trailing median looks at
    min_history: int = 3  # earlier runs needed before the median rule applies
    low_ratio: float = 0.3  # yield below this share of the median → warn
    generic_share: float = 0.5  # more than this share of rows from the generic extractor → warn
    generic_min_versions: int = 4  # …counted only when the outlet has at least this many rows
    # Platforms with no body rule, whose pages always take the generic path (the spam mirrors'
    # templates vary per network): the generic rule says nothing about them.
    generic_exempt_platforms: tuple[str, ...] = ("mirror",)


DEFAULT_POLICY = HealthPolicy()


@dataclass(frozen=True)
class OutletHealth:
    """One outlet's verdict for one run.

    `versions` is the run's yield; `expected` the trailing median scaled to this run's days (None
    with too little history); `generic_share` the share of the outlet's lake rows for the run's
    dates whose extractor is `generic:*` (None without a lake or rows); `sample_url` a page or
    start URL to open first.
    """

    outlet: str
    status: Status
    reasons: tuple[str, ...] = ()
    outlet_name: str | None = None
    district: str | None = None
    versions: int = 0
    expected: float | None = None
    history_runs: int = 0
    generic_share: float | None = None
    generic_versions: int = 0
    crawl_failed: bool = False
    sample_url: str | None = None

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "ok"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["reasons"] = list(self.reasons)
        d["reason"] = self.reason
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> OutletHealth:
        """The inverse of `to_dict` (e.g. from a report's JSON); unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in d.items() if k in names}
        values["reasons"] = tuple(values.get("reasons") or ())
        return cls(**values)


class OutletsBroken(RuntimeError):
    """Raised by `raise_for_broken`; the message names every broken outlet and a sample URL."""


# ---------------------------------------------------------------- inputs


def run_days(summary: Mapping) -> int:
    """Number of data days a run summary covers (its `dates` = [first, last])."""
    dates = summary.get("dates") or []
    if len(dates) != 2:
        return 1
    return max(1, (date.fromisoformat(dates[1]) - date.fromisoformat(dates[0])).days + 1)


def outlet_yields(summary: Mapping) -> dict[str, int]:
    """Per-outlet yield of a run summary: `versions` when present, else `items`."""
    out = {}
    for oid, c in (summary.get("per_outlet") or {}).items():
        out[oid] = int(c.get("versions", c.get("items", 0)) or 0)
    return out


def load_history(
    current: Mapping,
    *,
    reports_dir: Path | None = None,
    runs_dir: Path | None = None,
    limit: int = DEFAULT_POLICY.window,
) -> list[dict]:
    """Earlier runs' summaries, newest first, at most `limit`.

    Reads `<reports_dir>/*.json` (reports carry the run's per-outlet figures) and
    `<runs_dir>/*/summary.json`; a run present in both counts once (the report wins). "Earlier"
    means a different run key whose last data date is before this run's first one, so a rerun or
    a later backfill never compares a night with itself or with the future. Unreadable files are
    logged and skipped: a broken old report must not stop tonight's.
    """
    first = (current.get("dates") or [None])[0]
    by_key: dict[str, dict] = {}
    sources: list[Path] = []
    if runs_dir and runs_dir.is_dir():
        sources += sorted(runs_dir.glob("*/summary.json"))
    if reports_dir and reports_dir.is_dir():
        sources += sorted(p for p in reports_dir.glob("*.json") if p.name != "latest.json")
    for path in sources:  # reports last, so they replace run summaries of the same key
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            log.warning("history: skipping %s (%s)", path, e)
            continue
        summary = doc.get("run") if isinstance(doc.get("run"), dict) else doc
        key = summary.get("run_key") if isinstance(summary, dict) else None
        dates = summary.get("dates") if key else None
        if not key or not dates or key == current.get("run_key"):
            continue
        if first and dates[1] >= first:
            continue
        by_key[key] = summary
    ordered = sorted(by_key.values(), key=lambda s: (s["dates"][1], s["run_key"]), reverse=True)
    return ordered[:limit]


def _lake_figures(lake: Path | str, days: tuple[str, str]) -> tuple[dict[str, dict], dict[str, str]]:
    """Per outlet for the run's dates: rows, generic rows and sample URLs (versions), and one
    quarantined URL (crawl errors first)."""
    from quxian.lakeviews import connect

    con = connect(lake)
    lo, hi = date.fromisoformat(days[0]), date.fromisoformat(days[1])
    versions = {}
    for oid, n, g, gurl, url in con.execute(
        """
        SELECT outlet, count(*), count(*) FILTER (WHERE extractor LIKE 'generic:%'),
               min(url) FILTER (WHERE extractor LIKE 'generic:%'), min(url)
        FROM article_versions WHERE date BETWEEN ? AND ? GROUP BY outlet
        """,
        [lo, hi],
    ).fetchall():
        versions[oid] = {"rows": n, "generic": g, "generic_url": gurl, "url": url}
    quarantined = {
        oid: url
        for oid, url in con.execute(
            """
            SELECT outlet, arg_min(url, (stage <> 'crawl', url)) FROM quarantine
            WHERE date BETWEEN ? AND ? GROUP BY outlet
            """,
            [lo, hi],
        ).fetchall()
    }
    con.close()
    return versions, quarantined


def _registry_facts(outlet_id: str, day: str | None) -> tuple[str | None, str | None, str | None, str | None]:
    """(name, district, platform, first start URL for the day) from the registry, Nones if unknown."""
    from quxian.registry import RegistryError, load

    try:
        o = load().outlet(outlet_id)
    except RegistryError:
        return None, None, None, None
    urls = o.start_urls_for(date.fromisoformat(day)) if day else list(o.start_urls)
    return o.name, o.district, o.platform, (urls[0] if urls else None)


# ---------------------------------------------------------------- verdict


def assess(
    run_summary: Mapping,
    history: Iterable[Mapping],
    *,
    lake: Path | str | None = None,
    policy: HealthPolicy = DEFAULT_POLICY,
) -> list[OutletHealth]:
    """Rate every outlet of `run_summary` (its `per_outlet` and `failed_outlets`), worst first.

    `history` holds earlier run summaries (see `load_history`); only the first `policy.window`
    are used. With `lake`, the generic-extractor share and sample URLs come from the lake's
    `article_versions` and `quarantine` rows dated within the run's dates; without it the
    generic rule is not applied. Sample URL order: the crawl's first error URL
    (`per_outlet[o]["error_urls"]`), a quarantined or generically extracted page, a published
    page, the outlet's start URL from the registry.
    """
    history = list(history)[: policy.window]
    days = run_days(run_summary)
    dates = run_summary.get("dates") or [None, None]
    per_outlet = run_summary.get("per_outlet") or {}
    failed = set(run_summary.get("failed_outlets") or [])
    yields = outlet_yields(run_summary)
    past = [(outlet_yields(h), run_days(h)) for h in history]
    lake_versions, lake_quarantine = (
        _lake_figures(lake, (dates[0], dates[1])) if lake is not None and dates[0] else ({}, {})
    )
    verdicts = []
    for oid in sorted(set(per_outlet) | failed):
        counts = per_outlet.get(oid) or {}
        name, district, platform, start = _registry_facts(oid, dates[1])
        n = yields.get(oid, 0)
        rates = [y[oid] / d for y, d in past if oid in y]
        expected = statistics.median(rates) * days if len(rates) >= policy.min_history else None
        lv = lake_versions.get(oid)
        share = lv["generic"] / lv["rows"] if lv and lv["rows"] else None
        crawl_failed = oid in failed or bool(counts.get("failed"))
        reasons: list[str] = []
        status: Status = "ok"
        error_urls = [u for u in counts.get("error_urls") or [] if u]
        sample = None
        if crawl_failed:
            status = "broken"
            reasons.append("crawl failed")
            sample = error_urls[0] if error_urls else lake_quarantine.get(oid)
        elif n == 0:
            status = "broken"
            pages = counts.get("items", 0)
            reasons.append(
                f"zero article versions from {pages} article pages"
                if "versions" in counts and pages
                else "zero articles"
            )
            sample = error_urls[0] if error_urls else lake_quarantine.get(oid)
        else:
            if expected is not None and n < policy.low_ratio * expected:
                status = "warn"
                reasons.append(
                    f"yield {n} is below {policy.low_ratio:.0%} of the trailing median "
                    f"{expected:.1f} ({len(rates)} earlier runs)"
                )
                sample = error_urls[0] if error_urls else (lake_quarantine.get(oid) or (lv or {}).get("url"))
            if (
                share is not None
                and platform not in policy.generic_exempt_platforms
                and lv["rows"] >= policy.generic_min_versions
                and share > policy.generic_share
            ):
                status = "warn"
                reasons.append(
                    f"{share:.0%} of {lv['rows']} pages fell back to the generic extractor "
                    "(platform rules no longer match?)"
                )
                sample = sample or lv["generic_url"]
        verdicts.append(
            OutletHealth(
                outlet=oid,
                status=status,
                reasons=tuple(reasons),
                outlet_name=counts.get("outlet_name") or name,
                district=counts.get("district") or district,
                versions=n,
                expected=round(expected, 2) if expected is not None else None,
                history_runs=len(rates),
                generic_share=round(share, 4) if share is not None else None,
                generic_versions=lv["generic"] if lv else 0,
                crawl_failed=crawl_failed,
                sample_url=sample or (lv or {}).get("url") or start,
            )
        )
    return sorted(verdicts, key=lambda h: (-_RANK[h.status], h.outlet))


def flagged(healths: Iterable[OutletHealth]) -> list[OutletHealth]:
    """The outlets that are not ok, worst first."""
    return [h for h in healths if h.status != "ok"]


def describe(h: OutletHealth) -> str:
    """One line for logs and the terminal: status, outlet, reason, sample URL."""
    who = f"{h.outlet} ({h.outlet_name})" if h.outlet_name else h.outlet
    return f"{h.status.upper()}: {who}: {h.reason}; sample {h.sample_url or '(no URL known)'}"


def raise_for_broken(healths: Iterable[OutletHealth]) -> None:
    """Log a warning per `warn` outlet and raise OutletsBroken naming every `broken` one."""
    healths = list(healths)
    for h in healths:
        if h.status == "warn":
            log.warning("%s", describe(h))
    broken = [h for h in healths if h.status == "broken"]
    if broken:
        raise OutletsBroken(f"{len(broken)} outlet(s) broken: " + " | ".join(describe(h) for h in broken))


__all__ = [
    "DEFAULT_POLICY",
    "HealthPolicy",
    "OutletHealth",
    "OutletsBroken",
    "assess",
    "describe",
    "flagged",
    "load_history",
    "outlet_yields",
    "raise_for_broken",
    "run_days",
]
