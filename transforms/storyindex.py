"""The persistent story index: which version belongs to which story, for the last N days.

Contract:
- `StoryIndex.open(path, lookback_days=30)` loads the index file at `path` (a missing file is an
  empty index); `StoryIndex.memory()` is an index that is never saved.
- `assign(rows) -> list[str]` returns one story id per row, in input order. A row whose `id` is
  already in the index gets its recorded story back (reruns never rename). A new row joins the story
  of the best verified match among versions published within `lookback_days` of it; rows of the
  batch that match each other form one story; otherwise it starts a story named after its first
  version's id (earliest `published_at`, then smallest id). Existing stories are never merged or
  renamed. New rows are added to the index (in memory until `save()`).
- `save()` prunes versions older than `lookback_days` before the newest one and writes the file
  atomically (temporary file beside it + `os.replace`): a crash leaves the previous index.
- `rebuild(path, rows)` builds the index from lake version rows, keeping their `story_id`s.
The algorithm, thresholds and file layout are in docs/dedup.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from quxian.config import TZ
from transforms import shingle

FORMAT_VERSION = 3  # 2: blob offsets count characters; 3: sorted band tables saved
BANDS = 42  # LSH bands of ROWS bins each: candidate probability 1-(1-J^3)^42 (0.68 at J=0.3, 0.996 at 0.5)
ROWS = 3
MIN_CONTAINMENT = 0.62  # estimated share of the shorter text's shingles found in the longer one
MAX_BUCKET = 2000  # a band bucket larger than this (a template repeated all month) is truncated
MAX_CANDIDATES = 200  # per new version, the index entries with most band hits are verified
_EPOCH = date(1970, 1, 1)
_KEY_CHUNK = 65_536


def story_id_for(version_id: str) -> str:
    """`s` + 16 hex digits of BLAKE2b over the first version's id: stable, never a counter."""
    return "s" + hashlib.blake2b(version_id.encode("utf-8"), digest_size=8).hexdigest()


def _story_int(story_id: str) -> int:
    return int(story_id[1:], 16)


def _story_str(value: int) -> str:
    return f"s{value:016x}"


def day_number(published_at: Any) -> int | None:
    """Days since 1970-01-01 of the publication date in Asia/Shanghai; None if unknown.

    Accepts an aware or naive datetime (naive = Asia/Shanghai), a date, or an ISO 8601 string.
    Raises ValueError for a string that is not ISO 8601.
    """
    if published_at is None or published_at == "":
        return None
    if isinstance(published_at, str):
        published_at = datetime.fromisoformat(published_at)
    if isinstance(published_at, datetime):
        if published_at.tzinfo is None:
            published_at = published_at.replace(tzinfo=TZ)
        published_at = published_at.astimezone(TZ).date()
    if isinstance(published_at, date):
        return (published_at - _EPOCH).days
    raise ValueError(f"published_at must be a datetime, date or ISO string, not {published_at!r}")


def band_keys(sigs: np.ndarray) -> np.ndarray:
    """(n, BINS) signatures → (n, BANDS) uint32 bucket keys, one per band of ROWS bins."""
    if sigs.shape[0] > _KEY_CHUNK:  # in chunks: the uint64 temporaries are 8x the signatures
        return np.concatenate(
            [band_keys(sigs[i : i + _KEY_CHUNK]) for i in range(0, sigs.shape[0], _KEY_CHUNK)]
        )
    n = sigs.shape[0]
    parts = sigs[:, : BANDS * ROWS].reshape(n, BANDS, ROWS).astype(np.uint64)
    with np.errstate(over="ignore"):
        h = np.zeros((n, BANDS), dtype=np.uint64)
        for r in range(ROWS):
            h = (h ^ parts[:, :, r]) * np.uint64(0x100000001B3) + np.uint64(r + 1)
        h = shingle._mix64(h)
    return (h >> np.uint64(32)).astype(np.uint32)


@dataclass
class _Segment:
    """Band tables over some index positions: per band, keys sorted and the positions in that order."""

    keys: np.ndarray  # (BANDS, m) uint32
    pos: np.ndarray  # (BANDS, m) int32 (index positions)

    @classmethod
    def build(cls, keys: np.ndarray, positions: np.ndarray) -> _Segment:
        """keys: (m, BANDS) of the entries at `positions`."""
        kt = np.ascontiguousarray(keys.T)
        out_keys = np.empty_like(kt)
        out_pos = np.empty(kt.shape, dtype=np.int32)
        for b in range(BANDS):  # one band at a time: argsort's int64 temporaries stay small
            order = np.argsort(kt[b])  # not stable: equal keys may come in any order
            out_keys[b] = kt[b][order]
            out_pos[b] = positions[order]
        return cls(out_keys, out_pos)

    @classmethod
    def merge(cls, a: _Segment, b: _Segment) -> _Segment:
        m = a.size + b.size
        out_keys = np.empty((BANDS, m), dtype=np.uint32)
        out_pos = np.empty((BANDS, m), dtype=np.int32)
        for band in range(BANDS):
            keys = np.concatenate([a.keys[band], b.keys[band]])
            # a stable sort of two sorted runs is a linear merge (timsort)
            order = np.argsort(keys, kind="stable")
            out_keys[band] = keys[order]
            out_pos[band] = np.concatenate([a.pos[band], b.pos[band]])[order]
        return cls(out_keys, out_pos)

    @property
    def size(self) -> int:
        return int(self.keys.shape[1])

    def lookup(self, qkeys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (query row, position) with a shared band key; qkeys is (q, BANDS)."""
        qs: list[np.ndarray] = []
        ps: list[np.ndarray] = []
        for b in range(BANDS):
            col = self.keys[b]
            lo = np.searchsorted(col, qkeys[:, b], side="left")
            hi = np.searchsorted(col, qkeys[:, b], side="right")
            hi = np.minimum(hi, lo + MAX_BUCKET)
            counts = hi - lo
            total = int(counts.sum())
            if total == 0:
                continue
            q = np.repeat(np.arange(qkeys.shape[0]), counts)
            starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
            idx = starts + np.arange(total)
            qs.append(q)
            ps.append(self.pos[b][idx].astype(np.int64))
        if not qs:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(qs), np.concatenate(ps)


class _Texts:
    """Strings kept as one text + character offsets (as loaded), then a list of later ones.

    Opening a 1M-version index then costs one decode instead of a million small strings, and only
    the versions that reach verification are ever sliced out.
    """

    def __init__(self, data: np.ndarray | None = None, offsets: np.ndarray | None = None) -> None:
        self._text = data.tobytes().decode("utf-8") if data is not None else ""
        self._off = offsets.astype(np.int64) if offsets is not None else np.zeros(1, dtype=np.int64)
        self._base = self._off.size - 1
        self._tail: list[str] = []

    def __len__(self) -> int:
        return self._base + len(self._tail)

    def __getitem__(self, i: int) -> str:
        if i < self._base:
            return self._text[self._off[i] : self._off[i + 1]]
        return self._tail[i - self._base]

    def extend(self, strings: Iterable[str]) -> None:
        self._tail.extend(strings)

    def blob(self) -> tuple[np.ndarray, np.ndarray]:
        """UTF-8 data and character offsets, as `_blob` gives them."""
        tail_off = np.zeros(len(self._tail), dtype=np.int64)
        np.cumsum([len(t) for t in self._tail], out=tail_off)
        offsets = np.concatenate([self._off, self._off[-1] + tail_off])
        data = (self._text + "".join(self._tail)).encode("utf-8")
        return np.frombuffer(data, dtype=np.uint8), offsets


class _Columns:
    """Growable column storage (capacity doubles), so folding a night costs O(night), not O(index)."""

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self.story = np.zeros(capacity, dtype=np.uint64)
        self.day = np.zeros(capacity, dtype=np.int32)
        self.size = np.zeros(capacity, dtype=np.int32)
        self.sig = np.zeros((capacity, shingle.BINS), dtype=np.uint32)
        self.ids: list[str] = []
        self.facts = _Texts()

    def reserve(self, extra: int) -> None:
        need = self.n + extra
        cap = self.story.shape[0]
        if need <= cap:
            return
        while cap < need:
            cap *= 2
        for name in ("story", "day", "size", "sig"):
            old = getattr(self, name)
            new = np.zeros((cap, *old.shape[1:]), dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def append(
        self,
        ids: Sequence[str],
        story: np.ndarray,
        day: np.ndarray,
        size: np.ndarray,
        sig: np.ndarray,
        facts: Sequence[str],
    ) -> np.ndarray:
        m = len(ids)
        self.reserve(m)
        sl = slice(self.n, self.n + m)
        self.story[sl], self.day[sl], self.size[sl], self.sig[sl] = story, day, size, sig
        self.ids.extend(ids)
        self.facts.extend(facts)
        self.n += m
        return np.arange(sl.start, sl.stop, dtype=np.int64)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _blob(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 of the strings joined, and their offsets in characters (so one decode reads all)."""
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in strings], out=offsets[1:])
    return np.frombuffer("".join(strings).encode("utf-8"), dtype=np.uint8), offsets


def _unblob(data: np.ndarray, offsets: np.ndarray) -> list[str]:
    text = data.tobytes().decode("utf-8")
    bounds = offsets.tolist()
    return [text[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


@dataclass(frozen=True)
class _Prepared:
    """Fingerprints of the new rows of one `assign` call."""

    rows: list[int]  # input row numbers
    ids: list[str]
    day: np.ndarray
    size: np.ndarray
    sig: np.ndarray
    facts: list[str]


class StoryIndex:
    """Versions of the last `lookback_days` days with their story ids and fingerprints."""

    def __init__(self, path: Path | None, lookback_days: int = 30) -> None:
        if lookback_days < 0:
            raise ValueError(f"lookback_days must be >= 0, not {lookback_days}")
        self.path = Path(path) if path is not None else None
        self.lookback_days = lookback_days
        self._cols = _Columns()
        self._by_id: dict[str, int] = {}
        self._segments: list[_Segment] = []

    # ------------------------------------------------------------------------- construction
    @classmethod
    def memory(cls, lookback_days: int = 30) -> StoryIndex:
        """An index that lives only in memory (`save()` raises)."""
        return cls(None, lookback_days)

    @classmethod
    def open(cls, path: Path, lookback_days: int = 30) -> StoryIndex:
        """Load the index at `path`; a missing file gives an empty index that `save()` creates.

        Raises ValueError if the file is of another format version or fingerprint settings.
        """
        index = cls(path, lookback_days)
        if not Path(path).exists():
            return index
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            expected = index._meta()
            for key in ("format", "k", "bins", "bands", "rows"):
                if meta.get(key) != expected[key]:
                    raise ValueError(
                        f"story index {path}: {key}={meta.get(key)!r}, expected {expected[key]!r}"
                    )
            n = int(z["story"].shape[0])
            cols = _Columns(max(1024, n + n // 8))  # room for nights to come without a doubling
            cols.n = n
            cols.story[:n], cols.day[:n], cols.size[:n], cols.sig[:n] = (
                z["story"],
                z["day"],
                z["size"],
                z["sig"],
            )
            cols.ids = _unblob(z["ids"], z["ids_off"])
            cols.facts = _Texts(z["facts"], z["facts_off"])
            seg_keys, seg_pos = z["seg_keys"], z["seg_pos"]
        index._cols = cols
        index._by_id = {rid: i for i, rid in enumerate(cols.ids)}
        # the band tables are saved sorted: opening a 1M index costs a read, not 42 sorts
        index._segments = [_Segment(seg_keys, seg_pos)] if seg_keys.shape[1] else []
        return index

    @classmethod
    def rebuild(cls, path: Path, rows: Iterable[Mapping[str, Any]], lookback_days: int = 30) -> StoryIndex:
        """A new index at `path` from lake version rows (`id`, `story_id`, `body`, `published_at`).

        Rows keep the story id they carry; rows without one are assigned as by `assign`. The file is
        written (atomically) before returning.
        """
        index = cls(path, lookback_days)
        rows = list(rows)
        known = [r for r in rows if r.get("story_id")]
        if known:
            prep = index._prepare(known, list(range(len(known))))
            stories = np.array([_story_int(str(r["story_id"])) for r in known], dtype=np.uint64)
            index._add(prep, stories)
        rest = [r for r in rows if not r.get("story_id")]
        if rest:
            index.assign(rest)
        index.save()
        return index

    # ------------------------------------------------------------------------------ queries
    def __len__(self) -> int:
        return self._cols.n

    def __contains__(self, version_id: object) -> bool:
        return version_id in self._by_id

    def story_of(self, version_id: str) -> str | None:
        """The story of an indexed version, or None."""
        i = self._by_id.get(version_id)
        return None if i is None else _story_str(int(self._cols.story[i]))

    @property
    def newest_day(self) -> int | None:
        n = self._cols.n
        return int(self._cols.day[:n].max()) if n else None

    # ------------------------------------------------------------------------------- assign
    def assign(self, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        """One story id per row, in input order (module docstring). Raises KeyError without `id`."""
        out: list[str | None] = [None] * len(rows)
        first_of: dict[str, int] = {}
        new_rows: list[int] = []
        for i, row in enumerate(rows):
            rid = str(row["id"])
            known = self.story_of(rid)
            if known is not None:
                out[i] = known
            elif rid not in first_of:
                first_of[rid] = i
                new_rows.append(i)
        if new_rows:
            prep = self._prepare([rows[i] for i in new_rows], new_rows)
            stories = self._cluster(prep)
            self._add(prep, stories)
        for i, row in enumerate(rows):
            if out[i] is None:
                out[i] = self.story_of(str(row["id"]))
        return [s for s in out if s is not None]

    def _prepare(self, rows: Sequence[Mapping[str, Any]], row_numbers: list[int]) -> _Prepared:
        days = [day_number(r.get("published_at")) for r in rows]
        known_days = [d for d in days if d is not None]
        # an undated version is taken to belong to its batch's night (or the index's newest day)
        fallback = max(known_days) if known_days else (self.newest_day or 0)
        fps = shingle.fingerprints(shingle.normalise_many([r.get("body") for r in rows]))
        m = len(rows)
        sig = np.stack([f.sig for f in fps]) if m else np.zeros((0, shingle.BINS), np.uint32)
        return _Prepared(
            rows=row_numbers,
            ids=[str(r["id"]) for r in rows],
            day=np.array([fallback if d is None else d for d in days], dtype=np.int32),
            size=np.array([f.size for f in fps], dtype=np.int32),
            sig=sig,
            facts=[f.facts for f in fps],
        )

    def _candidates(self, prep: _Prepared, keys: np.ndarray, live: np.ndarray) -> tuple[np.ndarray, ...]:
        """Candidate pairs (new, index position) and (new, new) sharing a band, within the window."""
        q_idx = np.flatnonzero(live)
        qk = keys[q_idx]
        olds_q: list[np.ndarray] = []
        olds_p: list[np.ndarray] = []
        for seg in self._segments:
            q, p = seg.lookup(qk)
            olds_q.append(q_idx[q])
            olds_p.append(p)
        oq = np.concatenate(olds_q) if olds_q else np.empty(0, np.int64)
        op = np.concatenate(olds_p) if olds_p else np.empty(0, np.int64)
        if oq.size:
            near = np.abs(prep.day[oq].astype(np.int64) - self._cols.day[op]) <= self.lookback_days
            oq, op = oq[near], op[near]
            oq, op = _top_pairs(oq, op, self._cols.n)
        # pairs inside the batch: sort (band, key) and pair up equal runs
        nq: list[np.ndarray] = []
        npp: list[np.ndarray] = []
        for b in range(BANDS):
            col = qk[:, b]
            order = np.argsort(col, kind="stable")
            sorted_keys = col[order]
            starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
            lengths = np.diff(np.r_[starts, sorted_keys.size])
            # runs of two (a story and its copy) pair up at once; longer runs are few, so a loop
            twos = starts[lengths == 2]
            nq.append(q_idx[order[twos]])
            npp.append(q_idx[order[twos + 1]])
            for start, length in zip(
                starts[lengths > 2].tolist(), lengths[lengths > 2].tolist(), strict=True
            ):
                run = order[start : start + min(length, MAX_BUCKET)]
                a, c = np.triu_indices(run.size, 1)
                nq.append(q_idx[run[a]])
                npp.append(q_idx[run[c]])
        if nq:
            na, nb = np.concatenate(nq), np.concatenate(npp)
            lo, hi = np.minimum(na, nb), np.maximum(na, nb)
            pair = np.unique(lo * np.int64(prep.day.size) + hi)
            na, nb = pair // prep.day.size, pair % prep.day.size
            near = np.abs(prep.day[na].astype(np.int64) - prep.day[nb]) <= self.lookback_days
            na, nb = na[near], nb[near]
        else:
            na = nb = np.empty(0, np.int64)
        return oq, op, na, nb

    def _cluster(self, prep: _Prepared) -> np.ndarray:
        """Story ids (as uint64) for the prepared rows."""
        m = len(prep.ids)
        live = prep.size >= shingle.MIN_SHINGLES
        keys = band_keys(prep.sig) if m else np.zeros((0, BANDS), np.uint32)
        oq, op, na, nb = self._candidates(prep, keys, live)
        new_facts: dict[int, shingle.ParsedFacts] = {}
        old_facts: dict[int, shingle.ParsedFacts] = {}

        def nf(i: int) -> shingle.ParsedFacts:
            if i not in new_facts:
                new_facts[i] = shingle.parse_facts(prep.facts[i])
            return new_facts[i]

        def of(p: int) -> shingle.ParsedFacts:
            if p not in old_facts:
                old_facts[p] = shingle.parse_facts(self._cols.facts[p])
            return old_facts[p]

        # Union verified pairs, best first, but never two groups holding a conflicting pair:
        # a version that matches two template editions (a truncated copy) joins one, not both.
        edges = []
        for a, b in zip(na.tolist(), nb.tolist(), strict=True):
            score = verify(prep.sig[a], int(prep.size[a]), nf(a), prep.sig[b], int(prep.size[b]), nf(b))
            if score is not None:
                edges.append((-score, a, b))
        uf = _UnionFind(m)
        members: dict[int, list[int]] = {}
        for _, a, b in sorted(edges):
            ra, rb = uf.find(a), uf.find(b)
            if ra == rb:
                continue
            group_a, group_b = members.get(ra, [a]), members.get(rb, [b])
            if any(shingle.conflicts(nf(x), nf(y)) for x in group_a for y in group_b):
                continue
            uf.union(a, b)
            members.pop(ra, None)
            members.pop(rb, None)
            members[uf.find(a)] = group_a + group_b
        best: dict[int, tuple[float, int]] = {}  # component root → (score, story)
        for a, p in zip(oq.tolist(), op.tolist(), strict=True):
            cols = self._cols
            score = verify(prep.sig[a], int(prep.size[a]), nf(a), cols.sig[p], int(cols.size[p]), of(p))
            if score is None:
                continue
            root = uf.find(a)
            story = int(cols.story[p])
            cur = best.get(root)
            # highest score wins; ties go to the smaller story id so the result is order-free
            if cur is None or (score, -story) > (cur[0], -cur[1]):
                best[root] = (score, story)
        first: dict[int, tuple[int, str]] = {}
        for i in range(m):
            root = uf.find(i)
            key = (int(prep.day[i]), prep.ids[i])
            if root not in first or key < first[root]:
                first[root] = key
        out = np.zeros(m, dtype=np.uint64)
        for i in range(m):
            root = uf.find(i)
            if root in best:
                out[i] = best[root][1]
            else:
                out[i] = _story_int(story_id_for(first[root][1]))
        return out

    def _add(self, prep: _Prepared, stories: np.ndarray) -> None:
        positions = self._cols.append(prep.ids, stories, prep.day, prep.size, prep.sig, prep.facts)
        for rid, p in zip(prep.ids, positions.tolist(), strict=True):
            self._by_id[rid] = p
        live = prep.size >= shingle.MIN_SHINGLES
        if live.any():
            seg = _Segment.build(band_keys(prep.sig[live]), positions[live])
            self._segments.append(seg)
            # merge like a binary counter: O(log n) segments, each entry re-merged O(log n) times
            while len(self._segments) > 1 and self._segments[-2].size <= 2 * self._segments[-1].size:
                b = self._segments.pop()
                a = self._segments.pop()
                self._segments.append(_Segment.merge(a, b))

    # --------------------------------------------------------------------------- persistence
    def prune(self) -> int:
        """Drop versions older than `lookback_days` before the newest; returns how many."""
        n = self._cols.n
        if n == 0:
            return 0
        keep = self._cols.day[:n] >= self.newest_day - self.lookback_days
        dropped = int(n - keep.sum())
        if dropped == 0:
            return 0
        old = self._cols
        cols = _Columns(max(1024, n - dropped))
        kept = np.flatnonzero(keep)
        cols.append(
            [old.ids[i] for i in kept],
            old.story[kept],
            old.day[kept],
            old.size[kept],
            old.sig[kept],
            [old.facts[i] for i in kept],
        )
        self._cols = cols
        self._by_id = {rid: i for i, rid in enumerate(cols.ids)}
        # filter the sorted band tables (every band holds the same positions, so the result stays
        # rectangular and sorted) and renumber: no re-sort of the whole index each night
        remap = (np.cumsum(keep) - 1).astype(np.int32)
        segments = []
        for seg in self._segments:
            mask = keep[seg.pos]
            m = int(mask[0].sum())
            if m:
                segments.append(
                    _Segment(seg.keys[mask].reshape(BANDS, m), remap[seg.pos[mask]].reshape(BANDS, m))
                )
        self._segments = segments
        return dropped

    def _meta(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "k": shingle.K,
            "bins": shingle.BINS,
            "bands": BANDS,
            "rows": ROWS,
            "lookback_days": self.lookback_days,
        }

    def save(self) -> None:
        """Prune, then write the index atomically to `self.path`. Raises ValueError for memory()."""
        if self.path is None:
            raise ValueError("an in-memory StoryIndex cannot be saved; open one with a path")
        self.prune()
        while len(self._segments) > 1:  # one sorted segment on disk (merging sorted runs is linear)
            b = self._segments.pop()
            a = self._segments.pop()
            self._segments.append(_Segment.merge(a, b))
        seg = (
            self._segments[0]
            if self._segments
            else _Segment(np.zeros((BANDS, 0), np.uint32), np.zeros((BANDS, 0), np.int32))
        )
        n = self._cols.n
        ids, ids_off = _blob(self._cols.ids)
        facts, facts_off = self._cols.facts.blob()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    meta=np.array(json.dumps(self._meta())),
                    story=self._cols.story[:n],
                    day=self._cols.day[:n],
                    size=self._cols.size[:n],
                    sig=self._cols.sig[:n],
                    ids=ids,
                    ids_off=ids_off,
                    facts=facts,
                    facts_off=facts_off,
                    seg_keys=seg.keys,
                    seg_pos=seg.pos,
                )
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _top_pairs(q: np.ndarray, p: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (q, p) pairs, at most MAX_CANDIDATES per q, those sharing the most bands first."""
    if q.size == 0:
        return q, p
    combined = q.astype(np.int64) * np.int64(max(n, 1)) + p
    uniq, counts = np.unique(combined, return_counts=True)
    uq, up = uniq // max(n, 1), uniq % max(n, 1)
    order = np.lexsort((-counts, uq))
    uq, up = uq[order], up[order]
    starts = np.flatnonzero(np.r_[True, uq[1:] != uq[:-1]])
    rank = np.arange(uq.size) - np.repeat(starts, np.diff(np.r_[starts, uq.size]))
    keep = rank < MAX_CANDIDATES
    return uq[keep], up[keep]


def verify(
    sig_a: np.ndarray,
    size_a: int,
    facts_a: shingle.ParsedFacts,
    sig_b: np.ndarray,
    size_b: int,
    facts_b: shingle.ParsedFacts,
) -> float | None:
    """Containment score if two versions are one story, None if not (docs/dedup.md)."""
    score = shingle.containment(shingle.jaccard(sig_a, sig_b), size_a, size_b)
    if score < MIN_CONTAINMENT:
        return None
    if shingle.conflicts(facts_a, facts_b):
        return None
    return score
