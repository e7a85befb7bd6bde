"""Cleaning benchmark: spam-mirror repair, cleaning throughput, dates and authors on labelled pages.

1. Damaged set: the first 100 article bodies (`gt_body`, > 200 characters) of
   `../shared/corpus/manifest.jsonl`, damaged by `transforms.mirror.damage` (seed 0, the mirrors'
   way: s2t, GBK, byte-level `(pinyin)` replace, lead-takes-next decode, NFKC). Each copy is
   repaired by `transforms.mirror.repair` and by the naive way (strip `(pinyin)`, then t2s).
   Scored on the sequence of Han characters against t2s(original): documents restored exactly and
   mean similarity (difflib ratio). Also: documents whose damage lost no bytes
   (`damage_losses == 0`) and how many of those come back exactly, against t2s(original) and
   against to_simplified(s2t(original)), the most any repair gets from an undamaged s2t copy
   (OpenCC's round trip alone is not the identity, `想象` → `想像`: `transforms.simplify`).
2. Throughput of `transforms.clean.clean` on one core, articles per second of CPU time: the
   undamaged bodies as extracted pages, and the damaged copies as plain text (`parse_plain_text` +
   `clean`); each set `--repeat` times (3), the best pass is the figure and the range is printed.
3. Dates and authors on the labelled pages (htmldate-zh, trafilatura-zh, newspaper4k-zh):
   `transforms.extract.extract` then `clean(url=...)`; a date is right when the day of
   `published_at` equals the label's; an author is found when the label's name is among the
   record's people (any role) — and, separately, among its reporters and among its editors.

Usage: `.venv/bin/python benchmarks/bench_clean.py [--limit N]`. Reads the corpus at run time.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
if str(CHECKOUT) not in sys.path:
    sys.path.insert(0, str(CHECKOUT))

import opencc  # noqa: E402

from quxian.config import shared_dir  # noqa: E402
from transforms import mirror  # noqa: E402
from transforms.clean import clean, parse_plain_text  # noqa: E402
from transforms.record import Extracted  # noqa: E402
from transforms.simplify import to_simplified  # noqa: E402

T2S = opencc.OpenCC("t2s")
S2T = opencc.OpenCC("s2t")
HAN = re.compile(r"[\u4e00-\u9fff]")
PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüêńňǹ]+\)")
LABELLED = ("htmldate-zh", "trafilatura-zh", "newspaper4k-zh")
PEOPLE = ("reporters", "trainee_reporters", "correspondents", "photographers", "editors")


def han(text: str) -> str:
    return "".join(HAN.findall(text))


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def manifest() -> list[dict]:
    corpus = shared_dir() / "corpus"
    with (corpus / "manifest.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def article_bodies(rows: list[dict], limit: int) -> list[str]:
    bodies = [
        r["gt_body"] for r in rows if r.get("page_type") == "article" and len(r.get("gt_body") or "") > 200
    ]
    return bodies[:limit]


def naive_repair(damaged: str) -> str:
    return T2S.convert(PINYIN.sub("", damaged))


def bench_repair(bodies: list[str]) -> list[str]:
    damaged = [mirror.damage(b) for b in bodies]
    ours_exact = naive_exact = 0
    ours_sim: list[float] = []
    naive_sim: list[float] = []
    lossless = lossless_exact = lossless_exact_rt = 0
    for body, copy in zip(bodies, damaged, strict=True):
        reference = han(T2S.convert(body))
        round_trip = han(to_simplified(S2T.convert(body)))  # the most an undamaged s2t copy gives
        ours = han(mirror.repair(copy))
        naive = han(naive_repair(copy))
        ours_exact += ours == reference
        naive_exact += naive == reference
        ours_sim.append(similarity(ours, reference))
        naive_sim.append(similarity(naive, reference))
        if mirror.damage_losses(body) == 0:
            lossless += 1
            lossless_exact += ours == reference
            lossless_exact_rt += ours == round_trip
    n = len(bodies)
    print(f"damaged set: {n} real article bodies (corpus gt_body), damage seed 0")
    print(f"restored exactly (vs t2s(original)): ours {ours_exact}/{n}, naive strip+t2s {naive_exact}/{n}")
    print(
        f"damage lost no bytes: {lossless}/{n}; of those restored exactly: {lossless_exact} vs t2s(original), "
        f"{lossless_exact_rt} vs to_simplified(s2t(original))"
    )
    print(f"mean similarity: ours {sum(ours_sim) / n:.5f}, naive {sum(naive_sim) / n:.5f}")
    return damaged


def _rates(run, count: int, repeat: int) -> list[float]:
    """Articles per second of `run()` (which cleans `count` articles), CPU time, `repeat` times."""
    rates = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        rates.append(count / max(time.process_time() - start, 1e-9))
    return rates


def bench_throughput(bodies: list[str], damaged: list[str], repeat: int = 3) -> None:
    """Each set is cleaned `repeat` times: the best pass is the figure (on a shared machine, other
    work only ever slows a pass down: timeit's rule), the range shows how much the machine varied."""
    pages = [Extracted(title="标题", paragraphs=[p for p in b.split("\n") if p.strip()]) for b in bodies]
    clean_rates = _rates(lambda: [clean(ex) for ex in pages], len(pages), repeat)
    damaged_rates = _rates(
        lambda: [clean(parse_plain_text("标题\n" + copy)) for copy in damaged], len(damaged), repeat
    )
    clean_rate, damaged_rate = max(clean_rates), max(damaged_rates)
    mixed = (len(pages) + len(damaged)) / (len(pages) / clean_rate + len(damaged) / damaged_rate)
    print(
        f"cleaning throughput (one core, CPU time, best of {repeat} passes): {clean_rate:.0f} articles/s on clean "
        f"pages, {damaged_rate:.0f} articles/s on damaged copies ({mixed:.0f}/s for the two sets together); "
        f"all passes: clean {min(clean_rates):.0f}–{clean_rate:.0f}, damaged {min(damaged_rates):.0f}–{damaged_rate:.0f}"
    )


def bench_labelled(rows: list[dict]) -> None:
    try:
        from transforms.extract import extract
    except ImportError:
        print("dates/authors: transforms.extract is missing, skipped")
        return
    corpus = shared_dir() / "corpus"
    dated = dated_right = authored = author_found = author_reporter = author_editor = 0
    misses: list[str] = []
    for r in rows:
        if r["source"] not in LABELLED or r.get("page_type") != "article":
            continue
        data = (corpus / r["html"]).read_bytes()
        ex = extract(data, r.get("url"))
        rec = clean(ex, url=r.get("url"))
        if r.get("gt_publish_time"):
            dated += 1
            got = rec["published_at"].date().isoformat() if rec["published_at"] else None
            if got == r["gt_publish_time"][:10]:
                dated_right += 1
            else:
                misses.append(
                    f"  date miss {r['source']}: {got} != {r['gt_publish_time'][:10]} ({r.get('url')})"
                )
        if r.get("gt_author"):
            authored += 1
            people = [name for key in PEOPLE for name in rec[key]]
            author_found += r["gt_author"] in people
            author_reporter += r["gt_author"] in rec["reporters"]
            author_editor += r["gt_author"] in rec["editors"]
            if r["gt_author"] not in people:
                misses.append(
                    f"  author miss {r['source']}: {r['gt_author']} not in {people} ({r.get('url')})"
                )
    print(f"dates right on labelled pages: {dated_right}/{dated} ({100 * dated_right / max(dated, 1):.0f}%)")
    print(
        f"authors on labelled pages: {author_found}/{authored} found among the record's people, "
        f"{author_reporter}/{authored} as reporters, {author_editor}/{authored} as editors"
    )
    for line in misses:
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=100, help="size of the damaged set")
    parser.add_argument("--repeat", type=int, default=3, help="throughput passes per set (best counts)")
    args = parser.parse_args()
    rows = manifest()
    bodies = article_bodies(rows, args.limit)
    damaged = bench_repair(bodies)
    bench_throughput(bodies, damaged, max(1, args.repeat))
    bench_labelled(rows)


if __name__ == "__main__":
    main()
