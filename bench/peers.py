"""The search benchmark's peers, measured on the same records and queries as qrecords' index:
an SQLite FTS5 trigram table (peer_fts5.py) and Tantivy set up as paperless-ngx sets it up
(peer_tantivy.py). For each: index build wall time, index size, in-process query p50/p95
(total plus a first page of hits with snippets, as `qrec search` shows), mean recall and
precision per query on the oracle of tests/corpus.py (every hit counted, not a first page),
and a cold search (the peer's module run as a fresh Python process, against a fresh
`qrec search`)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import peer_fts5
import peer_tantivy
from common import PYTHON, REPO, WORK, Row, median_wall, step

COLD_QUERY = "包装破损"  # the query of the cold `qrec search` row
PEERS = [("FTS5 trigram", peer_fts5, "fts5.db"), ("Tantivy", peer_tantivy, "tantivy")]


@dataclass
class Figures:
    """One search engine's figures; seconds, bytes, recall and precision in 0..1."""
    build: float
    size: int
    p50: float
    p95: float
    recall: float
    precision: float
    cold: float


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def folder_size(path: Path) -> int:
    """Bytes of the file, or of every file under the folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def timed(search, queries: list[str]) -> list[float]:
    """Seconds of search(text) for each query, after the first five as a warm-up."""
    for text in queries[:5]:
        search(text)
    times = []
    for text in queries:
        start = time.perf_counter()
        search(text)
        times.append(time.perf_counter() - start)
    return times


def recall_precision(numbers_of, expected: list[tuple[str, set[str]]]) -> tuple[float, float]:
    """(recall, precision), each a mean over the queries: |found ∩ expected| / |expected| over
    the queries that should find something, / |found| over those that found something.
    numbers_of(text) gives the set of every record found."""
    recalls, precisions = [], []
    for text, want in expected:
        found = numbers_of(text)
        if want:
            recalls.append(len(found & want) / len(want))
        if found:
            precisions.append(len(found & want) / len(found))
    return sum(recalls) / len(recalls), sum(precisions) / len(precisions)


def measure(module, path: Path, docs: list[tuple[str, str]], queries: list[str],
            expected: list[tuple[str, set[str]]]) -> Figures:
    start = time.perf_counter()
    module.build(path, docs)
    build = time.perf_counter() - start
    searcher = module.Searcher(path)
    times = timed(searcher.page, queries)
    recall, precision = recall_precision(searcher.numbers, expected)
    cold = median_wall([str(PYTHON), str(REPO / "bench" / f"{module.__name__}.py"), str(path),
                        COLD_QUERY], runs=5, warmups=1)
    return Figures(build, folder_size(path), percentile(times, 50), percentile(times, 95),
                   recall, precision, cold)


def compare(ours: Figures, docs: list[tuple[str, str]], queries: list[str],
            expected: list[tuple[str, set[str]]], scale: str,
            targets: dict[str, tuple[str, bool]] | None = None) -> list[Row]:
    """Rows of qrecords' figures beside each peer's, grouped by measure. `docs` are the
    records as (number, text: the number and the searchable values, one per line);
    `targets` maps a Figures attribute to (the target as printed, whether it is met)."""
    theirs = {}
    for name, module, file in PEERS:
        step(f"search: {name} peer over {scale} records")
        theirs[name] = measure(module, WORK / file, docs, queries, expected)
    n = len(queries)
    measures = [  # (label, base's suffix, attribute, unit, to unit, higher is worse)
        (f"index build, {scale} records", "", "build", "s", 1, True),
        (f"index size, {scale} records", "", "size", "MB", 1e-6, True),
        (f"query p50, {n} queries, {scale}", "", "p50", "s", 1, True),
        (f"query p95, {n} queries, {scale}", "", "p95", "s", 1, True),
        (f"recall, mean of {n} queries, {scale}", "", "recall", "", 1, False),
        (f"precision, mean of {n} queries, {scale}", "", "precision", "", 1, False),
        (f"`qrec search` wall, {scale}", " script", "cold", "s", 1, True),
    ]
    rows = []
    for label, suffix, attr, unit, factor, cost in measures:
        for name in theirs:
            mine, base = getattr(ours, attr) * factor, getattr(theirs[name], attr) * factor
            worse, better = (mine, base) if cost else (base, mine)
            ratio = worse / better if better else float("inf")  # as everywhere: > 1 is worse
            rows.append(Row(f"{label} ({name}{suffix} base)", mine, base, unit, ratio,
                            *(targets or {}).get(attr, ("—", None))))
    return rows
