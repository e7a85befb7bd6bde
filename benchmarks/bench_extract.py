"""Extraction benchmark over the labelled real pages of `../shared/corpus`, side by side with
trafilatura and gne in one run.

Prints, per corpus group and overall for the human-labelled pages: body character F1 (Han
characters, letters and digits; punctuation and spaces ignored; averaged over pages) with
precision and recall, title accuracy, date accuracy and milliseconds per page, for `ours`,
`trafilatura` (bare_extraction with metadata, i.e. the same job: body + title + date) and `gne`.
The human-labelled set is also split into two halves by a hash of the page id ("tune" and
"holdout") so over-fitting shows up as a gap between them.

Usage: `.venv/bin/python benchmarks/bench_extract.py [--record-baseline] [--limit N]`.
Writes nothing unless `--record-baseline` (then `benchmarks/baselines/extract.json`).
The scoring functions are imported by `tests/test_extract_gate.py`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
if str(CHECKOUT) not in sys.path:
    sys.path.insert(0, str(CHECKOUT))

from quxian.config import shared_dir  # noqa: E402
from transforms.extract import extract  # noqa: E402

BASELINE = CHECKOUT / "benchmarks" / "baselines" / "extract.json"


# --- corpus -----------------------------------------------------------------------------------


@dataclass
class Page:
    """One labelled page of the corpus manifest."""

    id: str
    group: str
    path: Path
    url: str | None
    page_type: str
    quality: str
    body: str | None
    title: str | None
    date: str | None
    with_snippets: list[str] = field(default_factory=list)
    without_snippets: list[str] = field(default_factory=list)

    @property
    def human_body(self) -> bool:
        return self.quality.startswith("human") and bool(self.body)

    @property
    def human_date(self) -> bool:
        return self.quality.startswith("human") and bool(self.date)

    @property
    def half(self) -> str:
        """A stable split of the pages, independent of their order or content."""
        return "tune" if hashlib.sha1(self.id.encode()).digest()[0] % 2 == 0 else "holdout"


def corpus_dir() -> Path:
    return shared_dir() / "corpus"


def load_pages(root: Path | None = None) -> list[Page]:
    """Labelled pages of the manifest (those with a body, title or date label)."""
    root = root or corpus_dir()
    pages = []
    for line in (root / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        if d.get("page_type") not in ("article", "forum"):
            continue
        p = Page(
            id=d["id"] if "id" in d else d["html"],
            group=f"{d['source']}/{d['page_type']}",
            path=root / d["html"],
            url=d.get("url"),
            page_type=d["page_type"],
            quality=d.get("gt_quality") or "",
            body=d.get("gt_body"),
            title=d.get("gt_title"),
            date=d.get("gt_publish_time") or None,
            with_snippets=d.get("gt_snippets_with") or [],
            without_snippets=d.get("gt_snippets_without") or [],
        )
        if p.body or p.title or p.date or p.with_snippets:
            pages.append(p)
    return pages


# --- scoring ----------------------------------------------------------------------------------


def scored_chars(text: str | None) -> Counter:
    """Han characters, letters and digits of `text` (NFKC, lower-cased) as a multiset."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return Counter(ch for ch in text if ch.isalnum())


def char_prf(pred: str | None, gold: str | None) -> tuple[float, float, float]:
    """Character precision, recall and F1 of `pred` against `gold` (bags of characters)."""
    p, g = scored_chars(pred), scored_chars(gold)
    if not p and not g:
        return 1.0, 1.0, 1.0
    common = sum((p & g).values())
    precision = common / sum(p.values()) if p else 0.0
    recall = common / sum(g.values()) if g else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _norm_title(t: str | None) -> str:
    return "".join(scored_chars_order(t))


def scored_chars_order(text: str | None) -> list[str]:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return [ch for ch in text if ch.isalnum()]


def title_ok(pred: str | None, gold: str | None) -> bool:
    """Equal after normalisation, or one is the other plus a site-name suffix (`_腾讯网`)."""
    a, b = _norm_title(pred), _norm_title(gold)
    if not a or not b:
        return False
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return long_.startswith(short) and len(short) >= 0.5 * len(long_)


_GOLD_DATE = re.compile(r"(?:(\d{4})\s*[-/年.]\s*)?(\d{1,2})\s*[-/月.]\s*(\d{1,2})")


def date_ok(pred: str | None, gold: str | None) -> bool:
    """Same calendar day. Silver labels are raw page strings (`2019年09月07`, `2019-9-5 9`,
    `09月07日`): they are normalised, and a label without a year is compared on month and day."""
    if not pred or not gold:
        return False
    m = _GOLD_DATE.search(gold)
    if not m:
        return False
    year, month, day = m.group(1), int(m.group(2)), int(m.group(3))
    want = f"-{month:02d}-{day:02d}"
    return pred[4:10] == want and (year is None or pred[:4] == year)


# --- extractors -------------------------------------------------------------------------------


@dataclass
class Result:
    body: str
    title: str | None
    date: str | None


def run_ours(html: bytes, url: str | None) -> Result:
    ex = extract(html, url)
    return Result(
        "\n".join(ex.paragraphs),
        ex.title,
        ex.published_at.isoformat() if ex.published_at else None,
    )


def run_trafilatura(html: bytes, url: str | None) -> Result:
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, output_format="python")
    if doc is None:
        return Result("", None, None)
    d = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    return Result(d.get("text") or "", d.get("title"), d.get("date"))


def run_gne(html: bytes, url: str | None) -> Result:
    from gne import GeneralNewsExtractor

    from transforms.encoding import decode_html

    text, _ = decode_html(html)
    try:
        r = GeneralNewsExtractor().extract(text)
    except Exception as exc:  # noqa: BLE001 - a baseline library's failure is a score of zero
        print(f"gne failed: {type(exc).__name__}", file=sys.stderr)
        return Result("", None, None)
    m = re.search(r"(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})", r.get("publish_time") or "")
    date = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else None
    return Result(r.get("content") or "", r.get("title"), date)


EXTRACTORS: dict[str, Callable[[bytes, str | None], Result]] = {
    "ours": run_ours,
    "trafilatura": run_trafilatura,
    "gne": run_gne,
}


# --- evaluation -------------------------------------------------------------------------------


@dataclass
class Scores:
    f1: list[float] = field(default_factory=list)
    precision: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    title: list[bool] = field(default_factory=list)
    date: list[bool] = field(default_factory=list)
    snippets: list[bool] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)

    def add(self, page: Page, res: Result, ms: float) -> None:
        self.ms.append(ms)
        if page.body:
            p, r, f = char_prf(res.body, page.body)
            self.precision.append(p)
            self.recall.append(r)
            self.f1.append(f)
        if page.title:
            self.title.append(title_ok(res.title, page.title))
        if page.date:
            self.date.append(date_ok(res.date, page.date))
        body = res.body or ""
        self.snippets.extend(s in body for s in page.with_snippets)
        self.snippets.extend(s not in body for s in page.without_snippets)

    def summary(self) -> dict[str, float | int | None]:
        def mean(xs: Iterable[float]) -> float | None:
            xs = list(xs)
            return round(sum(xs) / len(xs), 4) if xs else None

        return {
            "pages": len(self.ms),
            "f1": mean(self.f1),
            "precision": mean(self.precision),
            "recall": mean(self.recall),
            "title": mean(map(float, self.title)),
            "title_n": len(self.title),
            "date": mean(map(float, self.date)),
            "date_n": len(self.date),
            "snippets": mean(map(float, self.snippets)),
            "ms": mean(self.ms),
        }


def evaluate(
    pages: list[Page], names: Iterable[str] = ("ours",)
) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """{extractor: {set name: summary}} for groups, `human` (body), `human-tune`,
    `human-holdout`, `dates-human`, `dates-all`."""
    out: dict[str, dict[str, dict]] = {}
    for name in names:
        fn = EXTRACTORS[name]
        sets: dict[str, Scores] = {}
        for page in pages:
            html = page.path.read_bytes()
            t0 = time.perf_counter()
            res = fn(html, page.url)
            ms = (time.perf_counter() - t0) * 1000
            keys = [page.group]
            if page.human_body:
                keys += ["human", f"human-{page.half}"]
            if page.date:
                keys.append("dates-all")
            if page.human_date:
                keys.append("dates-human")
            for k in keys:
                sets.setdefault(k, Scores()).add(page, res, ms)
        out[name] = {k: s.summary() for k, s in sorted(sets.items())}
    return out


def human_groups(pages: list[Page]) -> list[str]:
    """Corpus groups whose every page has a human body label."""
    groups: dict[str, bool] = {}
    for page in pages:
        groups[page.group] = groups.get(page.group, True) and page.human_body
    return sorted(g for g, human in groups.items() if human)


def print_table(results: dict[str, dict[str, dict]]) -> None:
    names = list(results)
    sets = sorted(
        {k for r in results.values() for k in r}, key=lambda k: (k.startswith(("human", "dates")), k)
    )
    head = f"{'set':34} {'n':>4} | " + " | ".join(f"{n:^33}" for n in names)
    sub = f"{'':34} {'':>4} | " + " | ".join(
        f"{'F1':>6} {'P':>5} {'R':>5} {'title':>5} {'date':>5} {'ms':>5}" for _ in names
    )
    print(head)
    print(sub)
    print("-" * len(sub))
    for k in sets:
        row = f"{k:34} {results[names[0]].get(k, {}).get('pages', 0):>4} | "
        cells = []
        for n in names:
            s = results[n].get(k, {})

            def f(key: str, width: int = 5, s: dict = s) -> str:
                v = s.get(key)
                return f"{v:{width}.3f}" if isinstance(v, float) else " " * (width - 1) + "-"

            ms = s.get("ms")
            cells.append(
                f"{f('f1', 6)} {f('precision')} {f('recall')} {f('title')} {f('date')} {ms:5.1f}"
                if ms
                else ""
            )
        print(row + " | ".join(cells))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record-baseline", action="store_true", help="write benchmarks/baselines/extract.json")
    ap.add_argument("--limit", type=int, default=0, help="only the first N labelled pages (smoke runs)")
    ap.add_argument("--only", default="ours,trafilatura,gne", help="comma-separated extractors")
    args = ap.parse_args(argv)
    pages = load_pages()
    if args.limit:
        pages = pages[: args.limit]
    names = [n for n in args.only.split(",") if n in EXTRACTORS]
    # Warm every library once so import time is not charged to the first page.
    for n in names:
        EXTRACTORS[n](pages[0].path.read_bytes(), pages[0].url)
    results = evaluate(pages, names)
    print(f"extraction benchmark: {len(pages)} labelled pages from {corpus_dir()}")
    print_table(results)
    if args.record_baseline:
        ours = results["ours"]
        baseline = {
            "note": "recorded by benchmarks/bench_extract.py --record-baseline; gate: tests/test_extract_gate.py",
            "human": ours["human"],
            # Groups made only of human-labelled body pages (articles, forum threads): gated one
            # by one, so a gain on one kind of page cannot hide a loss on the other.
            "human_groups": {g: ours[g] for g in human_groups(pages) if g in ours},
            "dates-human": ours.get("dates-human"),
            "dates-all": ours.get("dates-all"),
            "side_by_side": {
                n: {k: results[n][k] for k in ("human", "dates-all") if k in results[n]} for n in names
            },
        }
        BASELINE.parent.mkdir(parents=True, exist_ok=True)
        BASELINE.write_text(json.dumps(baseline, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"baseline written to {BASELINE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
