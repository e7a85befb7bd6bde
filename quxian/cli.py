"""The `quxian` command: the pipeline's steps, the offline sites and the lake, from a shell.

Errors a user can fix (a bad date, an unknown outlet, a file that is not JSON lines) print one
line on stderr and exit with status 2; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

EXIT_USAGE = 2
MAX_INPUT_BYTES = 20 * 1024 * 1024


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _url(text: str) -> str:
    try:
        parts = urlsplit(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a URL: {text!r} ({e})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {text!r}")
    return text


def _jsonable(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _print_json(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=_jsonable) + "\n")


# ---------------------------------------------------------------- sites


def cmd_sites(args: argparse.Namespace) -> int:
    from quxian.sites.server import make_server

    if args.faults:
        from quxian.sites.faults import FaultPlan, make_fault_server

        try:
            plan = FaultPlan.from_json(json.loads(Path(args.faults).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise UsageError(f"{args.faults}: not a fault plan ({e})") from None
        server = make_fault_server(plan, args.host, args.port)
    else:
        server = make_server(args.host, args.port)
    host, port = server.server_address[:2]
    print(
        f"offline outlet sites on http://{host}:{port}/ (Host header selects the outlet); Ctrl-C stops",
        flush=True,
    )
    print(f"use them with: QUXIAN_OFFLINE_URL=http://{host}:{port} quxian run ... --offline", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


class OfflineSites:
    """The offline sites served from a thread of this process, for `run --offline`."""

    def __enter__(self) -> str:
        from quxian.sites.server import make_server

        self.server = make_server("127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- run


def cmd_run(args: argparse.Namespace) -> int:
    import os

    from quxian import steps
    from quxian.registry import RegistryError

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    def go(offline_url: str | None) -> dict:
        plan = steps.plan_run(
            args.date_from,
            args.date_to,
            outlets=args.outlet,
            offline_url=offline_url,
            polite=args.polite,
            lookback_days=args.lookback_days,
        )
        progress(
            f"run {plan.run_key}: {len(plan.outlets)} outlets, crawl window {plan.crawl_from}..{plan.date_to}"
        )
        return steps.run(plan, progress=progress, jobs=args.jobs)

    try:
        if args.offline:
            external = os.environ.get("QUXIAN_OFFLINE_URL")
            if external:
                summary = go(external)
            else:
                with OfflineSites() as url:
                    summary = go(url)
        else:
            summary = go(None)
    except (steps.StepError, RegistryError) as e:
        raise UsageError(str(e)) from e
    from quxian.report import format_report_table, read_report

    report = read_report(summary["run_key"])
    print(format_report_table(report) if report else steps.format_summary(summary))
    broken = bool(report) and any(h["status"] == "broken" for h in report["health"])
    return 1 if summary["failed_outlets"] or broken else 0


# ---------------------------------------------------------------- extract


def _looks_like_html(data: bytes) -> bool:
    head = data[:4096].lower()
    return b"<html" in head or b"<!doctype" in head or b"<body" in head or b"<div" in head or b"<p>" in head


def extract_file(path: Path, *, url: str | None, published: date | None) -> dict:
    """One file → one cleaned record (HTML page, or plain text with the headline first)."""
    from transforms.clean import clean, parse_plain_text
    from transforms.extract import extract
    from transforms.record import Extracted

    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            ex = Extracted(is_article=False, reason=f"file too large ({size} bytes > {MAX_INPUT_BYTES})")
            data = b""
        else:
            data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror or e})") from None
    if size <= MAX_INPUT_BYTES:
        if not data.strip():
            ex = Extracted(is_article=False, reason="empty file")
        elif b"\x00" in data[:8192]:
            ex = Extracted(is_article=False, reason="binary file (NUL bytes), not a page or text")
        elif _looks_like_html(data):
            ex = extract(data, url)
        else:
            text = _decode_text(data)
            ex = (
                parse_plain_text(text)
                if text is not None
                else Extracted(is_article=False, reason="not UTF-8 or GB18030 text")
            )
    rec = {"file": str(path), "url": url}
    if ex.is_article:
        rec.update(clean(ex, url=url, published_hint=published))
    else:
        rec.update(is_article=False, reason=ex.reason)
    rec["extractor"] = ex.extractor
    return rec


def _decode_text(data: bytes) -> str | None:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def cmd_extract(args: argparse.Namespace) -> int:
    status = 0
    for name in args.files:
        try:
            _print_json(extract_file(Path(name), url=args.url, published=args.published))
        except UsageError as e:
            print(f"quxian extract: {e}", file=sys.stderr)
            status = EXIT_USAGE
    return status


# ---------------------------------------------------------------- dedupe

DEDUPE_FIELDS = ("id", "outlet", "district", "url", "title", "body", "published_at")


def read_dedupe_input(path: Path) -> list[dict]:
    """JSON lines with the dedupe fields; raises UsageError naming the line that is wrong."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UsageError(f"{path}: not UTF-8 at byte {e.start}") from None
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as e:
            raise UsageError(f"{path}:{n}: not valid JSON ({str(e)[:80]})") from None
        if not isinstance(row, dict):
            raise UsageError(f"{path}:{n}: expected a JSON object, got {type(row).__name__}")
        # JSON may escape a lone surrogate (\ud800), which no UTF-8 output can carry.
        bad = [k for k, v in row.items() if isinstance(v, str) and not _encodable(v)]
        if bad:
            raise UsageError(
                f"{path}:{n}: field {bad[0]!r} holds an invalid Unicode escape (a lone surrogate)"
            )
        missing = [f for f in ("id", "body") if f not in row]
        if missing:
            raise UsageError(
                f"{path}:{n}: missing field(s) {', '.join(missing)} (need {', '.join(DEDUPE_FIELDS)})"
            )
        for f in ("id", "outlet", "district", "url", "title", "body", "published_at"):
            if row.get(f) is not None and not isinstance(row[f], str):
                raise UsageError(f"{path}:{n}: field {f!r} must be a string or null")
        if row.get("published_at"):
            try:
                datetime.fromisoformat(row["published_at"])
            except ValueError:
                raise UsageError(
                    f"{path}:{n}: published_at {row['published_at'][:40]!r} is not an ISO date or time"
                ) from None
        rows.append(row)
    return rows


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def cmd_dedupe(args: argparse.Namespace) -> int:
    from transforms.dedupe import dedupe_rows

    rows = read_dedupe_input(Path(args.file))
    for row in dedupe_rows(rows):
        _print_json(row)
    return 0


# ---------------------------------------------------------------- report / query


def cmd_report(args: argparse.Namespace) -> int:
    from quxian.report import report_for_run, terminal_report

    if args.rebuild:
        try:
            html_path, _ = report_for_run(args.rebuild)
        except (FileNotFoundError, ValueError) as e:
            raise UsageError(str(e)) from None
        print(f"wrote {html_path}", file=sys.stderr)
    print(terminal_report(args.date))
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from quxian.lakeviews import connect, interactive, print_result

    con = connect()
    if not args.sql:
        return interactive(con)
    try:
        result = con.execute(args.sql)
    except Exception as e:  # noqa: BLE001 - DuckDB raises many error types; all are the user's SQL
        raise UsageError(f"query failed: {str(e).splitlines()[0]}") from None
    print_result(result)
    return 0


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="quxian",
        description="Nightly scraping pipeline for Chongqing's district press (区县媒体): crawl, clean, dedupe, publish to Parquet.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser(
        "sites",
        help="serve the offline outlet sites on 127.0.0.1",
        description="Serve every offline outlet site from one HTTP server; the Host header selects the outlet.",
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    s.add_argument(
        "--faults",
        metavar="PLAN.json",
        help="inject the faults of a plan (quxian.sites.faults.FaultPlan as JSON)",
    )
    s.set_defaults(func=cmd_sites)

    r = sub.add_parser(
        "run",
        help="run the pipeline's steps without Airflow",
        description="Crawl, clean, dedupe and publish the given data dates, as the nightly DAG does.",
    )
    r.add_argument("--from", dest="date_from", type=_date, required=True, help="first data date, YYYY-MM-DD")
    r.add_argument("--to", dest="date_to", type=_date, help="last data date (default: --from)")
    r.add_argument(
        "--outlet",
        action="append",
        metavar="ID",
        help="only this outlet (repeatable; ids in quxian/outlets.yaml)",
    )
    r.add_argument(
        "--offline",
        action="store_true",
        help="crawl the bundled offline sites (started in-process unless QUXIAN_OFFLINE_URL is set)",
    )
    r.add_argument(
        "--polite",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="delays and AutoThrottle (default: on live, off offline)",
    )
    r.add_argument(
        "--lookback-days",
        type=int,
        default=30,
        help="days of earlier stories new articles may fold into (default 30)",
    )
    r.set_defaults(func=cmd_run)

    e = sub.add_parser(
        "extract",
        help="HTML pages or plain-text articles → cleaned records (JSON lines)",
        description="Extract and clean each file; one JSON object per file on stdout. Plain text files have the headline on the first line.",
    )
    e.add_argument("files", nargs="+", metavar="FILE")
    e.add_argument("--url", type=_url, help="the page's URL (selects platform rules, gives a date)")
    e.add_argument(
        "--published", type=_date, help="publication date to resolve datelines against, YYYY-MM-DD"
    )
    e.set_defaults(func=cmd_extract)

    d = sub.add_parser(
        "dedupe",
        help="JSON lines → the same rows with story_id",
        description=f"Read JSON lines with {', '.join(DEDUPE_FIELDS)}; print every row with a story_id added (no row dropped).",
    )
    d.add_argument("file", metavar="FILE.jsonl")
    d.set_defaults(func=cmd_dedupe)

    rp = sub.add_parser("report", help="what the lake holds, per district and date")
    rp.add_argument("--date", type=_date, help="only this date")
    rp.add_argument("--rebuild", metavar="RUN_KEY", help="rewrite that run's report first")
    rp.set_defaults(func=cmd_report)

    q = sub.add_parser(
        "query",
        help="DuckDB SQL over the lake (views: articles, article_versions, quarantine)",
        description="Run SQL over the lake with views named after the datasets; with no SQL, open an interactive shell.",
    )
    q.add_argument("sql", nargs="?", help="the SQL to run")
    q.set_defaults(func=cmd_query)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        print(f"quxian {args.command}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `quxian ... | head`: the reader left; say nothing more.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
