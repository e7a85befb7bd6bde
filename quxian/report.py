"""The run report: what last night did, as a static HTML page and the same figures as JSON.

`write_report(run_summary)` writes `data/reports/<run_key>.html` and `<run_key>.json` (and
`latest.html`/`latest.json` when this run's last data date is the newest reported). The page is
self-contained: inline CSS and SVG (`quxian.svgcharts`), no script, no external resource, so
it opens offline from a mail attachment or an artifact store. It shows, top first:

1. health flags (`quxian.health`): every `warn`/`broken` outlet with its reason and a sample URL;
2. the run's totals;
3. articles per district per day (the lake's `articles` rows over the last `HEATMAP_DAYS` days);
4. each outlet's yield against its trailing median;
5. the duplicate rate of this run and the earlier ones;
6. crawl errors and quarantine by reason;
7. run time per task (crawls from their summaries, other steps from theirs or `task_durations`).

`format_report_table(report)` renders the JSON figures for a terminal; `terminal_report(day)`
is what `quxian report [--date D]` prints.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path

import pyarrow.parquet as pq

from quxian import config, health, svgcharts
from quxian.svgcharts import Bar

REPORT_FORMAT = 1
HEATMAP_DAYS = 14
HISTORY_RUNS = 14  # earlier runs shown in the duplicate-rate chart
STEP_TASKS = ("clean", "dedupe", "publish")


# ---------------------------------------------------------------- figures


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"report: cannot read {path}: {e}") from e


def enrich_summary(run_summary: Mapping, run_dir: Path | None) -> dict:
    """A copy of the run summary whose `per_outlet` entries also carry, when the run directory
    has them: `versions` (rows of `dedupe/versions.parquet`), `error_urls` (first crawl error
    URLs), `elapsed_s` and `outlet_name`/`district` (from the crawl summaries)."""
    summary = json.loads(json.dumps(run_summary, default=str))
    per_outlet = summary.setdefault("per_outlet", {})
    if run_dir is None or not run_dir.is_dir():
        return summary
    versions_file = run_dir / "dedupe" / "versions.parquet"
    if versions_file.exists() and not all("versions" in c for c in per_outlet.values()):
        counts: dict[str, int] = {}
        for oid in pq.read_table(versions_file, columns=["outlet"]).column("outlet").to_pylist():
            counts[oid] = counts.get(oid, 0) + 1
        for oid, c in per_outlet.items():
            c.setdefault("versions", counts.get(oid, 0))
    for oid, c in per_outlet.items():
        crawl = _read_json(run_dir / "crawl" / oid / "summary.json")
        if not crawl:
            continue
        c.setdefault("error_urls", [e.get("url") for e in crawl.get("errors", [])[:3] if e.get("url")])
        for k in ("elapsed_s", "outlet_name", "district"):
            if k in crawl:
                c.setdefault(k, crawl[k])
    return summary


def collect_durations(
    summary: Mapping, run_dir: Path | None, task_durations: Mapping[str, float] | None
) -> dict[str, float]:
    """Seconds per task: `crawl[<outlet>]` from the crawl summaries, the other steps from the
    `elapsed_s` of their `summary.json` when they record it; `task_durations` adds or overrides."""
    out: dict[str, float] = {}
    for oid, c in sorted((summary.get("per_outlet") or {}).items()):
        if c.get("elapsed_s") is not None:
            out[f"crawl[{oid}]"] = float(c["elapsed_s"])
    if run_dir is not None:
        for step in STEP_TASKS:
            doc = _read_json(run_dir / step / "summary.json")
            if doc and doc.get("elapsed_s") is not None:
                out[step] = float(doc["elapsed_s"])
    for task, secs in (task_durations or {}).items():
        out[task] = float(secs)
    return out


def _district_names() -> dict[str, str]:
    from quxian.registry import load

    return {slug: d.name for slug, d in load().districts.items()}


def articles_per_district_day(lake: Path | str, last_day: date, days: int = HEATMAP_DAYS) -> dict:
    """Stories (`articles` rows) and versions per district per day for the `days` days ending at
    `last_day`: `{"days": [...], "districts": [{"district", "name", "articles": [...],
    "versions": [...]}]}`, districts with no row in the window left out."""
    from quxian.lakeviews import connect

    first = last_day - timedelta(days=days - 1)
    day_list = [first + timedelta(days=i) for i in range(days)]
    con = connect(lake)
    counts: dict[str, dict[str, list[int]]] = {}
    for dataset in ("articles", "article_versions"):
        for district, day, n in con.execute(
            f"SELECT district, date, count(*) FROM {dataset} WHERE date BETWEEN ? AND ? GROUP BY ALL",
            [first, last_day],
        ).fetchall():
            row = counts.setdefault(district, {"articles": [0] * days, "article_versions": [0] * days})
            row[dataset][(day - first).days] = n
    con.close()
    names = _district_names()
    return {
        "days": [d.isoformat() for d in day_list],
        "districts": [
            {
                "district": slug,
                "name": names.get(slug, slug),
                "articles": c["articles"],
                "versions": c["article_versions"],
            }
            for slug, c in sorted(counts.items())
        ],
    }


def _duplicate_rate(summary: Mapping) -> float:
    versions = summary.get("versions") or 0
    return (summary.get("duplicates_folded") or 0) / versions if versions else 0.0


def build_figures(
    run_summary: Mapping,
    *,
    lake: Path | str | None = None,
    reports_dir: Path | None = None,
    runs_dir: Path | None = None,
    task_durations: Mapping[str, float] | None = None,
    policy: health.HealthPolicy = health.DEFAULT_POLICY,
) -> dict:
    """Every figure of the report as JSON-ready data (what `<run_key>.json` holds).

    `lake=None` leaves out the lake's figures (articles per district per day, generic-extractor
    shares). History comes from `reports_dir` and `runs_dir` (see `health.load_history`).
    """
    run_dir = runs_dir / run_summary["run_key"] if runs_dir else None
    summary = enrich_summary(run_summary, run_dir)
    history = health.load_history(
        summary, reports_dir=reports_dir, runs_dir=runs_dir, limit=max(policy.window, HISTORY_RUNS)
    )
    verdicts = health.assess(summary, history, lake=lake, policy=policy)
    last_day = date.fromisoformat(summary["dates"][1])
    window = max(HEATMAP_DAYS, health.run_days(summary))
    trend = [*reversed(history[:HISTORY_RUNS]), summary]
    reasons = dict(sorted((summary.get("quarantine_reasons") or {}).items(), key=lambda kv: (-kv[1], kv[0])))
    return {
        "format": REPORT_FORMAT,
        "run_key": summary["run_key"],
        "dates": summary["dates"],
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "totals": {
            k: summary.get(k)
            for k in (
                "outlets",
                "pages_fetched",
                "article_pages",
                "versions",
                "stories",
                "duplicates_folded",
                "quarantined",
                "crawl_errors",
            )
        }
        | {
            "failed_outlets": list(summary.get("failed_outlets") or []),
            "duplicate_rate": _duplicate_rate(summary),
        },
        "health": [h.to_dict() for h in verdicts],
        "articles_per_district_day": articles_per_district_day(lake, last_day, window) if lake else None,
        "duplicate_rate": [
            {
                "run_key": s["run_key"],
                "versions": s.get("versions", 0),
                "duplicates_folded": s.get("duplicates_folded", 0),
                "rate": _duplicate_rate(s),
            }
            for s in trend
        ],
        "errors_by_reason": {"crawl failed": len(summary.get("failed_outlets") or [])}
        if summary.get("failed_outlets")
        else {},
        "quarantine_by_reason": reasons,
        "task_durations": collect_durations(summary, run_dir, task_durations),
        "per_partition": summary.get("per_partition") or {},
        "run": summary,
    }


# ---------------------------------------------------------------- HTML

_CSS = """
body{font-family:'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif;
 margin:24px auto;max-width:980px;color:#222;background:#fff;line-height:1.45;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e3e6ea}
.muted{color:#667}.flags{border:2px solid #c0392b;border-radius:6px;padding:8px 14px;background:#fdf3f2}
.flags.none{border-color:#4a7fb5;background:#f2f6fb}.flags li{margin:4px 0}
.badge{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px;font-weight:bold}
.broken{background:#c0392b}.warn{background:#d99a00}.ok{background:#4a7fb5}
.tiles{display:flex;flex-wrap:wrap;gap:10px}.tile{border:1px solid #e3e6ea;border-radius:6px;padding:6px 12px;min-width:110px}
.tile b{display:block;font-size:20px}table{border-collapse:collapse;font-size:13px}
td,th{border-bottom:1px solid #e3e6ea;padding:3px 8px;text-align:left}td.n{text-align:right}
a{color:#2a5d94;word-break:break-all}svg.chart{display:block;max-width:100%;height:auto;margin:6px 0}
"""


def _tile(label: str, value) -> str:
    return f'<div class="tile"><span class="muted">{escape(label)}</span><b>{escape(str(value))}</b></div>'


def _link(url: str | None) -> str:
    if not url:
        return '<span class="muted">(no URL)</span>'
    return f'<a href="{escape(url)}">{escape(url)}</a>'


def _flags_html(verdicts: list[dict]) -> str:
    bad = [h for h in verdicts if h["status"] != "ok"]
    if not bad:
        return f'<div class="flags none">All {len(verdicts)} outlets ok / 各媒体正常.</div>'
    items = "".join(
        f'<li><span class="badge {h["status"]}">{h["status"].upper()}</span> '
        f"<b>{escape(h['outlet'])}</b> {escape(h.get('outlet_name') or '')} "
        f'<span class="muted">{escape(h.get("district") or "")}</span>: {escape(h["reason"])}'
        f"<br>sample: {_link(h.get('sample_url'))}</li>"
        for h in bad
    )
    return f'<div class="flags"><b>{len(bad)} outlet(s) need attention / 需处理</b><ul>{items}</ul></div>'


def _charts(fig: dict) -> dict[str, str]:
    charts = {}
    grid = fig.get("articles_per_district_day")
    if grid is not None:
        charts["articles_per_district_day"] = svgcharts.heatmap(
            [d["name"] for d in grid["districts"]],
            [d[5:] for d in grid["days"]],
            [d["articles"] for d in grid["districts"]],
            chart_id="articles_per_district_day",
            title="Articles (stories) per district per day",
        )
    yields = [
        Bar(
            label=f"{h['outlet']} {h.get('outlet_name') or ''}".strip(),
            value=h["versions"],
            marker=h.get("expected"),
            tone=h["status"],
            tip=f"{h['outlet']}: {h['versions']} (median {h.get('expected')}) {h['reason']}",
        )
        for h in sorted(fig["health"], key=lambda h: h["outlet"])
    ]
    charts["outlet_yield"] = svgcharts.hbar_chart(
        yields,
        chart_id="outlet_yield",
        title="Each outlet's yield against its trailing median",
        marker_label="trailing median (scaled to this run's days) / 近期中位数",
    )
    trend = fig["duplicate_rate"]
    charts["duplicate_rate"] = svgcharts.column_chart(
        [r["run_key"][5:10] if len(r["run_key"]) >= 10 else r["run_key"] for r in trend],
        [r["rate"] for r in trend],
        chart_id="duplicate_rate",
        title="Duplicate rate per run (versions folded into an existing story)",
        percent=True,
        tones=["muted"] * (len(trend) - 1) + ["default"],
    )
    reason_bars = [Bar(k, v, tone="broken") for k, v in fig["errors_by_reason"].items()] + [
        Bar(k, v, tone="warn") for k, v in fig["quarantine_by_reason"].items()
    ]
    charts["errors_quarantine"] = svgcharts.hbar_chart(
        reason_bars,
        chart_id="errors_quarantine",
        title="Errors and quarantine by reason",
        empty_text="no failed crawl, nothing quarantined / 无错误、无隔离",
    )
    durations = fig["task_durations"]
    if durations:
        order = sorted(durations, key=lambda t: (not t.startswith("crawl["), -durations[t]))
        charts["task_durations"] = svgcharts.hbar_chart(
            [Bar(t, round(durations[t], 2), note=f"{durations[t]:.1f} s") for t in order],
            chart_id="task_durations",
            title="Run time per task (seconds)",
        )
    return charts


def _percent(share: float | None) -> str:
    return "" if share is None else f"{share:.0%}"


def _outlet_table(verdicts: list[dict]) -> str:
    rows = "".join(
        f'<tr><td><span class="badge {h["status"]}">{h["status"]}</span></td>'
        f"<td>{escape(h['outlet'])}</td><td>{escape(h.get('outlet_name') or '')}</td>"
        f'<td>{escape(h.get("district") or "")}</td><td class="n">{h["versions"]}</td>'
        f'<td class="n">{"" if h.get("expected") is None else h["expected"]}</td>'
        f'<td class="n">{_percent(h.get("generic_share"))}</td>'
        f"<td>{escape(h['reason'])}</td></tr>"
        for h in verdicts
    )
    return (
        "<table><tr><th>status</th><th>outlet</th><th>name</th><th>district</th><th>yield</th>"
        f"<th>median</th><th>generic</th><th>reason</th></tr>{rows}</table>"
    )


def render_html(fig: dict) -> str:
    """The report page for `build_figures`' output: one self-contained UTF-8 HTML document."""
    t = fig["totals"]
    charts = _charts(fig)
    first, last = fig["dates"]
    span = first if first == last else f"{first} – {last}"
    sections = [
        ("Articles per district per day / 各区县每日稿件", "articles_per_district_day"),
        ("Outlet yield vs trailing median / 各媒体产出", "outlet_yield"),
        ("Duplicate rate / 重复率", "duplicate_rate"),
        ("Errors and quarantine by reason / 错误与隔离原因", "errors_quarantine"),
        ("Run time per task / 各任务耗时", "task_durations"),
    ]
    body = [
        f"<h1>quxian run {escape(fig['run_key'])}</h1>",
        f'<p class="muted">data dates {escape(span)} · generated {escape(fig["generated_at"])}</p>',
        _flags_html(fig["health"]),
        "<h2>Totals / 概况</h2><div class='tiles'>",
        _tile("outlets / 媒体", f"{t['outlets']} ({len(t['failed_outlets'])} failed)"),
        _tile("pages fetched / 抓取页面", t["pages_fetched"]),
        _tile("article versions / 稿件版本", t["versions"]),
        _tile("stories / 报道", t["stories"]),
        _tile("duplicate rate / 重复率", f"{t['duplicate_rate']:.1%}"),
        _tile("quarantined / 隔离", t["quarantined"]),
        _tile("crawl errors / 抓取错误", t["crawl_errors"]),
        "</div>",
    ]
    for heading, key in sections:
        body.append(f"<h2>{escape(heading)}</h2>")
        body.append(charts.get(key) or '<p class="muted">not recorded for this run</p>')
    body.append("<h2>Outlets / 媒体明细</h2>")
    body.append(_outlet_table(fig["health"]))
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>quxian run {escape(fig['run_key'])}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


# ---------------------------------------------------------------- files


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_report(
    run_summary: dict,
    *,
    lake: Path | str | None = None,
    reports_dir: Path | None = None,
    task_durations: dict[str, float] | None = None,
    runs_dir: Path | None = None,
    policy: health.HealthPolicy = health.DEFAULT_POLICY,
) -> tuple[Path, Path]:
    """Write `<reports_dir>/<run_key>.html` and `.json`; returns (html, json).

    Defaults: `lake` is `quxian.config.lake_uri()` (a path or URI), `reports_dir` and `runs_dir`
    from `quxian.config.paths()`. `latest.html`
    and `latest.json` are replaced too unless a report for a later data date already holds them
    (a backfill does not hide last night). Files are replaced atomically, so a rerun rewrites
    them and a reader never sees half a page. Raises KeyError when the summary has no
    `run_key`/`dates`.
    """
    paths = config.paths()
    lake = lake if lake is not None else config.lake_uri()
    reports_dir = reports_dir if reports_dir is not None else paths.reports
    runs_dir = runs_dir if runs_dir is not None else paths.runs
    fig = build_figures(
        run_summary,
        lake=lake,
        reports_dir=reports_dir,
        runs_dir=runs_dir,
        task_durations=task_durations,
        policy=policy,
    )
    reports_dir.mkdir(parents=True, exist_ok=True)
    html_text = render_html(fig)
    json_text = json.dumps(fig, ensure_ascii=False, indent=1, default=str)
    html_path, json_path = reports_dir / f"{fig['run_key']}.html", reports_dir / f"{fig['run_key']}.json"
    _write_atomic(html_path, html_text)
    _write_atomic(json_path, json_text)
    latest = _read_json(reports_dir / "latest.json") if (reports_dir / "latest.json").exists() else None
    if latest is None or latest.get("dates", ["", ""])[1] <= fig["dates"][1]:
        _write_atomic(reports_dir / "latest.html", html_text)
        _write_atomic(reports_dir / "latest.json", json_text)
    return html_path, json_path


def report_for_run(run_key: str, **kwargs) -> tuple[Path, Path]:
    """Rebuild the report of an earlier run from `data/runs/<run_key>/summary.json`."""
    path = config.paths().runs / run_key / "summary.json"
    summary = _read_json(path)
    if summary is None:
        raise FileNotFoundError(f"run {run_key}: no summary at {path} (was the run summarised?)")
    return write_report(summary, **kwargs)


def run_report(run_key: str, *, fail_on_broken: bool = True, **kwargs) -> dict:
    """What the DAG's `report` task (and `quxian run`) call once the run is summarised.

    Writes the report of `data/runs/<run_key>/summary.json` (keyword arguments go to
    `write_report`), logs a warning per `warn` outlet and, with `fail_on_broken`, raises
    `health.OutletsBroken` naming every broken outlet and its sample URL (after the files are
    written). Returns `{"html", "json", "flags"}`, flags as one line per flagged outlet.
    Raises FileNotFoundError when the run has no summary.
    """
    html_path, json_path = report_for_run(run_key, **kwargs)
    verdicts = [
        health.OutletHealth.from_dict(h) for h in json.loads(json_path.read_text(encoding="utf-8"))["health"]
    ]
    if fail_on_broken:
        health.raise_for_broken(verdicts)
    return {
        "html": str(html_path),
        "json": str(json_path),
        "flags": [health.describe(h) for h in health.flagged(verdicts)],
    }


def read_report(run_key: str, reports_dir: Path | None = None) -> dict | None:
    """The JSON figures of one run's report, or None when it has none."""
    return _read_json((reports_dir or config.paths().reports) / f"{run_key}.json")


def load_report(day: date | None = None, reports_dir: Path | None = None) -> dict | None:
    """The JSON figures of the newest report covering `day` (any day: `latest.json`), or None."""
    reports_dir = reports_dir or config.paths().reports
    if day is None:
        return _read_json(reports_dir / "latest.json")
    best = None
    for path in sorted(reports_dir.glob("*.json")):
        if path.name == "latest.json":
            continue
        doc = _read_json(path)
        if not isinstance(doc, dict) or doc.get("format") != REPORT_FORMAT:
            continue  # not a report this version can show
        first, last = doc["dates"]
        if first <= day.isoformat() <= last and (best is None or (first, last) > tuple(best["dates"])):
            # The narrowest covering run would also do; the latest-starting one is the one
            # that most likely reran the day.
            best = doc
    return best


# ---------------------------------------------------------------- terminal


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(value, width: int, right: bool = False) -> str:
    text = "" if value is None else str(value)
    pad = " " * max(0, width - _width(text))
    return pad + text if right else text + pad


def _table(header: list[str], rows: list[list], right: set[int]) -> list[str]:
    widths = [
        max([_width(str(h))] + [_width("" if r[i] is None else str(r[i])) for r in rows])
        for i, h in enumerate(header)
    ]
    fmt = [
        "  ".join(_cell(v, widths[i], i in right) for i, v in enumerate(r)).rstrip() for r in [header, *rows]
    ]
    return ["  " + line for line in fmt]


def format_report_table(report: Mapping, *, day: date | None = None) -> str:
    """The report's figures as terminal text: totals, flags, outlets, partitions, reasons, times.

    With `day`, the per-district rows are limited to that date.
    """
    t = report["totals"]
    lines = [
        f"run {report['run_key']} (data {report['dates'][0]}..{report['dates'][1]}): {t['outlets']} outlets"
        f" ({len(t['failed_outlets'])} failed), {t['pages_fetched']} pages, {t['versions']} versions → "
        f"{t['stories']} stories ({t['duplicate_rate']:.1%} duplicates), {t['quarantined']} quarantined, "
        f"{t['crawl_errors']} crawl errors"
    ]
    bad = [h for h in report["health"] if h["status"] != "ok"]
    lines.append(f"flags: {len(bad)}" if bad else "flags: none, every outlet ok")
    for h in bad:
        lines.append(f"  {h['status'].upper():6s} {h['outlet']}: {h['reason']}")
        lines.append(f"         sample {h.get('sample_url') or '(no URL known)'}")
    lines.append("outlets:")
    lines += _table(
        ["outlet", "name", "status", "yield", "median", "generic"],
        [
            [
                h["outlet"],
                h.get("outlet_name") or "",
                h["status"],
                h["versions"],
                "" if h.get("expected") is None else f"{h['expected']:g}",
                "" if h.get("generic_share") is None else f"{h['generic_share']:.0%}",
            ]
            for h in report["health"]
        ],
        right={3, 4, 5},
    )
    parts = [
        [*k.split("/", 1), c["versions"], c["stories"]]
        for k, c in sorted(report.get("per_partition", {}).items())
        if day is None or k.endswith(day.isoformat())
    ]
    if parts:
        lines.append("published by this run:")
        lines += _table(["district", "date", "versions", "stories"], parts, right={2, 3})
    reasons = [[k, v] for k, v in {**report["errors_by_reason"], **report["quarantine_by_reason"]}.items()]
    if reasons:
        lines.append("errors and quarantine:")
        lines += _table(["reason", "count"], reasons, right={1})
    if report.get("task_durations"):
        d = report["task_durations"]
        lines.append("run time:")
        lines += _table(
            ["task", "seconds"], [[k, f"{d[k]:.1f}"] for k in sorted(d, key=lambda k: -d[k])], right={1}
        )
    return "\n".join(lines)


def _lake_table(day: date | None, lake: Path | str | None) -> str:
    from quxian.lakeviews import lake_summary

    rows = lake_summary(day=day, lake=lake)
    no_report = f"no run report covers {day}" if day else "no run report yet"
    if not rows:
        return (
            f"{no_report}, and the lake is empty"
            + (f" for {day}" if day else "")
            + " (run `make demo` or `quxian run`)"
        )
    body = [
        [r["district"], str(r["date"]), r["versions"], r["stories"], r["outlets"], r["quarantined"]]
        for r in rows
    ]
    body.append(
        [
            "total",
            "",
            *(sum(r[k] for r in rows) for k in ("versions", "stories")),
            "",
            sum(r["quarantined"] for r in rows),
        ]
    )
    return "\n".join(
        [f"{no_report}; what the lake holds:"]
        + _table(
            ["district", "date", "versions", "stories", "outlets", "quarantine"], body, right={2, 3, 4, 5}
        )
    )


def terminal_report(
    day: date | None = None, *, reports_dir: Path | None = None, lake: Path | str | None = None
) -> str:
    """What `quxian report [--date D]` prints: the newest run report covering the day (any day:
    the latest) as a table with its HTML path, else the lake's counts per district and date."""
    reports_dir = reports_dir or config.paths().reports
    report = load_report(day, reports_dir)
    if report is None:
        return _lake_table(day, lake)
    page = reports_dir / f"{report['run_key']}.html"
    return format_report_table(report, day=day) + f"\nreport: {page}"


__all__ = [
    "articles_per_district_day",
    "build_figures",
    "collect_durations",
    "enrich_summary",
    "format_report_table",
    "load_report",
    "read_report",
    "render_html",
    "report_for_run",
    "run_report",
    "terminal_report",
    "write_report",
]
