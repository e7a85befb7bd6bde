"""Dedup benchmark: quality on the labelled set (ours next to plain MinHash LSH) and, with
`--scale`, cost at 10k / 100k / 1M synthetic articles plus one nightly fold into the 1M index.

    .venv/bin/python benchmarks/bench_dedupe.py            # quality (a minute or so)
    .venv/bin/python benchmarks/bench_dedupe.py --scale    # + scale (about 10 minutes)

Each scale size runs in a child process so that its peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from datetime import datetime, timedelta
from pathlib import Path

import dedupe_set  # benchmarks/ is on sys.path when this file runs as a script
import numpy as np
from datasketch import MinHash, MinHashLSH

from quxian.config import TZ, shared_dir
from transforms import shingle, storyindex
from transforms.dedupe import StoryIndex, dedupe_rows

SEEDS = (0, 1, 2)


# ---------------------------------------------------------------------------------- quality
def plain_lsh(rows: list[dict], threshold: float, num_perm: int = 128) -> list[str]:
    """The reference: datasketch MinHash over 5-character shingles, LSH at `threshold`, clusters
    = connected components of LSH neighbours (no verification)."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    hashes = []
    for r in rows:
        text = shingle.normalise(r["body"]).replace(" ", "")
        mh = MinHash(num_perm=num_perm)
        mh.update_batch([text[i : i + 5].encode("utf-8") for i in range(max(0, len(text) - 4))])
        hashes.append(mh)
        lsh.insert(r["id"], mh)
    parent = {r["id"]: r["id"] for r in rows}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for r, mh in zip(rows, hashes, strict=True):
        for other in lsh.query(mh):
            a, b = find(r["id"]), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return [find(r["id"]) for r in rows]


def quality() -> None:
    print("== dedup quality: labelled set (real bodies from ../shared/corpus + offline-site stories)")
    totals: dict[str, Counter] = {}
    per_case: Counter = Counter()
    per_group: Counter = Counter()
    elapsed = 0.0
    n_rows = 0
    for seed in SEEDS:
        rows = dedupe_set.build(seed)
        n_rows += len(rows)
        labels = [r["label"] for r in rows]
        t0 = time.perf_counter()
        ours = [r["story_id"] for r in dedupe_rows(rows)]
        elapsed += time.perf_counter() - t0
        methods = {"ours (LSH 0.3-0.5 + verification)": ours}
        for threshold in (0.7, 0.8):
            methods[f"plain MinHash LSH, 5-char, {threshold}"] = plain_lsh(rows, threshold)
        for name, predicted in methods.items():
            m = dedupe_set.pairwise(labels, predicted)
            c = totals.setdefault(name, Counter())
            for key in ("true_pairs", "predicted_pairs", "false_pairs", "missed_pairs"):
                c[key] += int(m[key])
        # where ours misses (variant kind) and where plain LSH 0.7 merges (hard-negative kind)
        story_of_label: dict[str, Counter] = {}
        for r, sid in zip(rows, ours, strict=True):
            story_of_label.setdefault(r["label"], Counter())[sid] += 1
        for r, sid in zip(rows, ours, strict=True):
            if sid != story_of_label[r["label"]].most_common(1)[0][0]:
                per_case[r["case"]] += 1
        lsh07 = methods["plain MinHash LSH, 5-char, 0.7"]
        labels_of: dict[str, set[str]] = {}
        for r, sid in zip(rows, lsh07, strict=True):
            labels_of.setdefault(sid, set()).add(r["label"])
        group_of = {r["label"]: r["group"] for r in rows}
        for labs in labels_of.values():
            if len(labs) > 1:
                for lab in labs:
                    per_group[group_of[lab]] += 1
    print(f"seeds {list(SEEDS)}: {n_rows} versions; pairwise over all seeds")
    print(f"{'method':40} {'precision':>9} {'recall':>7} {'false pairs':>11} {'missed pairs':>12}")
    for name, c in totals.items():
        tp = c["predicted_pairs"] - c["false_pairs"]
        precision = tp / c["predicted_pairs"] if c["predicted_pairs"] else 1.0
        recall = tp / c["true_pairs"]
        print(f"{name:40} {precision:9.4f} {recall:7.4f} {c['false_pairs']:11d} {c['missed_pairs']:12d}")
    print(f"ours: versions split from their story, by variant kind: {dict(per_case) or 'none'}")
    print(f"plain LSH 0.7: labels caught in a false merge, by kind: {dict(per_group) or 'none'}")
    print(f"ours: {n_rows / elapsed:,.0f} versions/s on the labelled set")
    signature_speed(dedupe_set.build(SEEDS[0]))


def signature_speed(rows: list[dict], num_perm: int = 128) -> None:
    """Why the index does not use datasketch's MinHash: signatures of the same rows, same shingles
    (5 characters of the normalised body), same signature length, best of 3 passes each."""
    norms = shingle.normalise_many([r["body"] for r in rows])
    texts = [n.replace(" ", "") for n in norms]

    def ours() -> None:
        shingle.signatures(norms)

    def datasketch() -> None:
        for t in texts:
            mh = MinHash(num_perm=num_perm)
            mh.update_batch([t[i : i + 5].encode("utf-8") for i in range(max(0, len(t) - 4))])

    best = {}
    for name, fn in (
        ("ours (one-permutation, numpy)", ours),
        (f"datasketch MinHash({num_perm})", datasketch),
    ):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        best[name] = min(times)
        print(f"signatures of {len(rows)} bodies, {name:32}: {min(times) * 1000:8.1f} ms (best of 3)")
    a, b = best.values()
    print(f"datasketch / ours: ×{b / a:.1f}")


# ------------------------------------------------------------------------------------ scale
def _alphabet() -> tuple[np.ndarray, np.ndarray]:
    """Han characters of the corpus bodies with their frequencies (read at run time)."""
    counts: Counter = Counter()
    with open(shared_dir() / "corpus" / "manifest.jsonl", encoding="utf-8") as fh:
        for line in fh:
            body = json.loads(line).get("gt_body") or ""
            counts.update(ch for ch in body if "\u4e00" <= ch <= "\u9fff")
    chars, freq = zip(*counts.most_common(3000), strict=True)
    p = np.array(freq, dtype=np.float64)
    return np.array([ord(c) for c in chars], dtype=np.uint32), p / p.sum()


def synthetic(n: int, seed: int, start: int = 0, chunk: int = 10_000, night: int = 2_500):
    """Chunks of synthetic rows, ~1,000 characters each: random text over the corpus's character
    frequencies with punctuation and figures; 10% are republished copies of an earlier article
    (lead added, last fifth cut, editor footer), and 2,500 articles make a night."""
    rng = np.random.default_rng(seed)
    alphabet, p = _alphabet()
    pool = rng.choice(alphabet, size=1 << 20, p=p)  # weighted once; uniform draws from it are cheap
    base_day = datetime(2025, 1, 1, 8, tzinfo=TZ)
    recent: deque[str] = deque(maxlen=5000)  # copies come from the last 5,000 articles
    for lo in range(start, start + n, chunk):
        m = min(chunk, start + n - lo)
        codes = pool[rng.integers(0, pool.size, size=(m, 1000))]
        codes[:, 19::20] = ord("，")
        text = codes.tobytes().decode("utf-32-le")
        rows = []
        for i in range(m):
            k = lo + i
            body = text[i * 1000 : (i + 1) * 1000]
            body = f"{k % 12 + 1}月{k % 28 + 1}日，" + body[:500] + f"共{k}个项目" + body[500:]
            if recent and rng.random() < 0.10:
                src = recent[int(rng.integers(len(recent)))]
                body = "本报讯(记者 张三)" + src[: int(len(src) * 0.8)] + "\n责任编辑:李四"
            recent.append(body)
            when = base_day + timedelta(days=k // night, minutes=k % 600)
            rows.append(
                {
                    "id": f"x{k:08d}",
                    "outlet": "synthetic",
                    "district": "dazu",
                    "url": f"https://e.cn/{k}",
                    "title": "",
                    "body": body,
                    "published_at": when.isoformat(),
                }
            )
        yield rows


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale_one(n: int, fold_path: str | None) -> dict:
    """Cluster n synthetic articles into an empty index; optionally save it and time a fold."""
    index = StoryIndex.memory(lookback_days=100_000)  # every article a candidate: the worst case
    gen = assign = 0.0
    t = time.perf_counter()
    for rows in synthetic(n, seed=n):
        t1 = time.perf_counter()
        gen += t1 - t
        index.assign(rows)
        t = time.perf_counter()
        assign += t - t1
    out = {"n": n, "seconds": assign, "generate_seconds": gen, "per_second": n / assign, "peak_mb": peak_mb()}
    if fold_path:
        index.path = Path(fold_path)
        t0 = time.perf_counter()
        index.save()
        out["save_seconds"] = time.perf_counter() - t0
        out["file_mb"] = Path(fold_path).stat().st_size / 2**20
    return out


def fold_one(path: str, n: int) -> dict:
    """Open the saved index, fold one night of 2,500 new articles, save."""
    night = next(synthetic(2_500, seed=7, start=n, chunk=2_500))
    t0 = time.perf_counter()
    index = StoryIndex.open(Path(path), lookback_days=100_000)
    t1 = time.perf_counter()
    ids = index.assign(night)
    t2 = time.perf_counter()
    index.save()
    t3 = time.perf_counter()
    return {
        "open": t1 - t0,
        "assign": t2 - t1,
        "save": t3 - t2,
        "total": t3 - t0,
        "joined": sum(1 for r, s in zip(night, ids, strict=True) if s != storyindex.story_id_for(r["id"])),
        "peak_mb": peak_mb(),
        "index": len(index),
    }


def run_child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def scale(sizes: list[int]) -> None:
    print("== dedup scale: synthetic ~1,000-character articles, all within one lookback window")
    print(f"{'articles':>9} {'wall s':>8} {'articles/s':>10} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "stories")
        for n in sizes:
            r = run_child(["--one", str(n)] + (["--save", path] if n == max(sizes) else []))
            print(
                f"{n:9,d} {r['seconds']:8.1f} {r['per_second']:10,.0f} {r['peak_mb']:8,.0f}"
                f"   (generating the input: {r['generate_seconds']:.1f} s, not counted)"
            )
            if "save_seconds" in r:
                print(f"          saved index: {r['file_mb']:,.0f} MB in {r['save_seconds']:.1f} s")
        f = run_child(["--fold", path, str(max(sizes))])
        print(
            f"nightly fold of 2,500 articles into a {f['index'] - 2500:,d}-article index: "
            f"{f['total']:.1f} s (open {f['open']:.1f}, assign {f['assign']:.1f}, save {f['save']:.1f}), "
            f"{f['joined']} joined existing stories, peak {f['peak_mb']:,.0f} MB"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", action="store_true", help="also run the 10k/100k/1M scale benchmark")
    ap.add_argument("--sizes", default="10000,100000,1000000", help="scale sizes (comma-separated)")
    ap.add_argument("--no-quality", action="store_true", help="skip the quality part")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--save", help=argparse.SUPPRESS)
    ap.add_argument("--fold", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(scale_one(args.one, args.save)))
        return
    if args.fold:
        print(json.dumps(fold_one(args.fold[0], int(args.fold[1]))))
        return
    if not args.no_quality:
        quality()
    if args.scale:
        scale([int(s) for s in args.sizes.split(",")])


if __name__ == "__main__":
    main()
