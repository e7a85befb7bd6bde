"""The run report in a real headless Chromium (Debian's package): it renders, the charts are in
the DOM with a size, nothing is fetched and nothing reaches the console.

The browser is driven over the DevTools protocol (a websocket on 127.0.0.1, `websockets` comes
with Airflow's dependencies) so console messages, uncaught exceptions, log entries and every
request are observed as events, not scraped from log text. A control page with a failing
script, a `console.error` and an image proves the same checks do catch problems.

Chromium missing is a failure, not a skip: `scripts/install-system-deps.sh browser` installs it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from test_report import DAY, make_summary, write_test_lake
from websockets.sync.client import connect

from quxian import report

CHROMIUM = Path(os.environ.get("QUXIAN_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1000,1400",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]
CHARTS = [
    "articles_per_district_day",
    "outlet_yield",
    "duplicate_rate",
    "errors_quarantine",
    "task_durations",
]
START_TIMEOUT_S = 30
EVENT_TIMEOUT_S = 20


class Page:
    """One browser tab over the DevTools protocol: call methods, collect events."""

    def __init__(self, ws, session: str) -> None:
        self.ws, self.session, self.next_id = ws, session, 1000
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(
            json.dumps({"id": self.next_id, "method": method, "params": params, "sessionId": self.session})
        )
        deadline = time.monotonic() + EVENT_TIMEOUT_S
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv(timeout=EVENT_TIMEOUT_S))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise AssertionError(f"DevTools {method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)
        raise AssertionError(f"DevTools {method}: no answer in {EVENT_TIMEOUT_S} s")

    def wait_for(self, method: str) -> dict:
        deadline = time.monotonic() + EVENT_TIMEOUT_S
        for e in self.events:
            if e["method"] == method:
                return e
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv(timeout=EVENT_TIMEOUT_S))
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return msg
        raise AssertionError(f"no {method} event within {EVENT_TIMEOUT_S} s")

    def load(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        # Let late console messages and failed loads arrive before they are read.
        self.call("Runtime.evaluate", expression="new Promise(r => setTimeout(r, 200))", awaitPromise=True)

    def evaluate(self, expression: str):
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in res:
            raise AssertionError(f"evaluating {expression[:60]!r}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def problems(self, page_url: str) -> list[str]:
        """Console messages, uncaught exceptions, error log entries and any request other than
        the page itself: each a line naming what happened."""
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.consoleAPICalled":
                out.append(
                    f"console.{p['type']}: " + " ".join(str(a.get("value")) for a in p.get("args", []))
                )
            elif e["method"] == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append(f"uncaught: {d.get('exception', {}).get('description') or d.get('text')}")
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                out.append(f"log {p['entry']['level']}: {p['entry']['text']} {p['entry'].get('url', '')}")
            elif e["method"] == "Network.requestWillBeSent" and p["request"]["url"] != page_url:
                out.append(f"request: {p['request']['url']}")
        return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Page]:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-system-deps.sh browser (as root) first")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ws_url, seen = None, []
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and ws_url is None:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            seen.append(line)
            m = re.search(r"DevTools listening on (ws://127\.0\.0\.1:\d+/\S+)", line)
            ws_url = m.group(1) if m else None
        if ws_url is None:
            pytest.fail(f"{CHROMIUM} did not open its DevTools port: {''.join(seen[-5:])}")
        # Drain stderr so a chatty browser never blocks on a full pipe.
        drain = threading.Thread(target=proc.stderr.read, daemon=True)
        drain.start()
        with connect(ws_url, proxy=None, max_size=None, open_timeout=START_TIMEOUT_S) as ws:
            ws.send(json.dumps({"id": 1, "method": "Target.createTarget", "params": {"url": "about:blank"}}))
            target = _answer(ws, 1)["targetId"]
            ws.send(
                json.dumps(
                    {
                        "id": 2,
                        "method": "Target.attachToTarget",
                        "params": {"targetId": target, "flatten": True},
                    }
                )
            )
            page = Page(ws, _answer(ws, 2)["sessionId"])
            for domain in ("Page", "Runtime", "Log", "Network"):
                page.call(f"{domain}.enable")
            # Belt and braces: a page that tried the network would fail the test, not reach it.
            page.call("Network.setBlockedURLs", urls=["http://*", "https://*", "ws://*", "wss://*"])
            yield page
            ws.send(json.dumps({"id": 3, "method": "Browser.close"}))
        proc.wait(timeout=10)
        drain.join(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _answer(ws, msg_id: int) -> dict:
    while True:
        msg = json.loads(ws.recv(timeout=EVENT_TIMEOUT_S))
        if msg.get("id") == msg_id:
            assert "error" not in msg, msg
            return msg["result"]


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> Path:
    """A report built from a small test lake: 4 nights, one outlet broken, one on the fallback."""
    data = tmp_path_factory.mktemp("data")
    lake, runs = data / "lake", data / "runs"
    days = [DAY - timedelta(days=k) for k in range(3, -1, -1)]
    usual = {"xinyubao": 8, "sxdsb": 6, "ccrb": 5, "bswxw": 7}
    write_test_lake(
        lake, days, usual, generic={"sxdsb": 5}, shared_stories=2, quarantine={"ccrb": ["HTTP 404"]}
    )
    for day in days[:-1]:
        (runs / day.isoformat()).mkdir(parents=True)
        (runs / day.isoformat() / "summary.json").write_text(json.dumps(make_summary(day.isoformat(), usual)))
    summary = make_summary(
        DAY.isoformat(), usual, failed=["dazu_gov"], duplicates=2, quarantine_reasons={"HTTP 404": 1}
    )
    html_path, _ = report.write_report(
        summary,
        lake=lake,
        reports_dir=data / "reports",
        runs_dir=runs,
        task_durations={"clean": 2.0, "dedupe": 0.4, "publish": 0.9},
    )
    return html_path


def test_report_renders_with_its_charts_and_a_clean_console(browser: Page, report_page: Path, tmp_path: Path):
    url = report_page.as_uri()
    browser.load(url)
    assert browser.problems(url) == []
    assert browser.evaluate("document.characterSet") == "UTF-8"
    assert browser.evaluate("document.title") == "quxian run 2025-11-14"
    charts = browser.evaluate(
        """[...document.querySelectorAll('svg[data-chart]')].map(s => {
             const r = s.getBoundingClientRect();
             return [s.dataset.chart, Math.round(r.width), Math.round(r.height), s.querySelectorAll('rect').length];
           })"""
    )
    assert [c[0] for c in charts] == CHARTS
    for name, width, height, rects in charts:
        assert width > 200 and height > 30, f"chart {name} rendered {width}x{height}"
        assert rects > 0, f"chart {name} has no bars or cells"
    # The flags box comes first and is laid out above the first chart.
    flags_bottom, first_chart_top = browser.evaluate(
        "[document.querySelector('.flags').getBoundingClientRect().bottom,"
        " document.querySelector('svg[data-chart]').getBoundingClientRect().top]"
    )
    assert flags_bottom < first_chart_top
    flags = browser.evaluate("document.querySelector('.flags').innerText")
    assert "dazu_gov" in flags and "大足区人民政府" in flags and "https://www.dazu.gov.cn/" in flags
    assert "sxdsb" in flags and "generic extractor" in flags
    shot = base64.b64decode(
        browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
    )
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000
    keep = os.environ.get("QUXIAN_REPORT_SCREENSHOT")
    (Path(keep) if keep else tmp_path / "report.png").write_bytes(shot)


def test_the_checks_catch_a_broken_page(browser: Page, tmp_path: Path):
    """Control: a page with a console error, an uncaught exception and a resource to fetch."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        '<img src="https://example.invalid/chart.png">'
        '<script>console.error("chart failed"); undefinedFunction();</script></body></html>',
        encoding="utf-8",
    )
    browser.load(bad.as_uri())
    problems = browser.problems(bad.as_uri())
    assert "console.error: chart failed" in problems
    assert any(p.startswith("uncaught: ReferenceError: undefinedFunction") for p in problems)
    assert "request: https://example.invalid/chart.png" in problems
    assert browser.evaluate("document.querySelectorAll('svg[data-chart]').length") == 0


def test_install_script_is_idempotent_when_chromium_is_present():
    script = Path(__file__).resolve().parent.parent / "scripts" / "install-system-deps.sh"
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run {script} browser (as root) first")
    out = subprocess.run(
        ["sh", str(script), "browser"], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    # One line and nothing installed: the script stops before apt-get when the browser is there.
    assert out.stdout == "system packages (browser): present\n"
    bad = subprocess.run(
        ["sh", str(script), "nosuch"], capture_output=True, text=True, timeout=60, check=False
    )
    assert bad.returncode == 2 and "unknown group 'nosuch'" in bad.stderr
