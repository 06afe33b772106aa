"""Search benchmarks: the choice of Chinese analysis (bigrams vs jieba), and the index at
100,000 records (QREC_BENCH_RECORDS to change the count) against grep over the stored record
data and against the peers of peers.py (SQLite FTS5 trigram, Tantivy), measured in the same
run."""

from __future__ import annotations

import json
import os
import random
import time

import peers
from common import QREC, TODAY, USER, WORK, Row, median_wall, median_walls, step, wall

from qrecords.domain import access
from qrecords.domain.forms import validate_data
from qrecords.files.base import sha256_bytes
from qrecords.catalog.sqlite import canonical_json
from common import init_workspace, open_workspace
from tests import corpus
from qrecords.api import records as api_records
from qrecords.api import search as api_search

N_INDEX = int(os.environ.get("QREC_BENCH_RECORDS", "100000"))
SHARES = {"complaint": 0.6, "contract_review": 0.2, "customer_property": 0.2}
SEED = 100_000


# -- analysis: bigrams (ours) against jieba, on the test corpus ---------------------------


def bench_analysis() -> list[Row]:
    """Recall of the 69 test queries over the 210-record test corpus, and the start-up cost
    of the analysis, for our bigrams and for jieba's Whoosh analyzer (dictionary words)."""
    step("analysis: bigrams vs jieba over the test corpus")
    ws = init_workspace(WORK / "analysis", USER)
    clerk = open_workspace(WORK / "analysis", "zhangwei")  # no privacy role: index only
    records = {}
    for form_id, data in corpus.generate():
        number = api_records.new_record(ws, form_id, data, pdf=False)["number"]
        records[number] = (ws.forms.current(form_id), data)
    values = {n: corpus.searchable(form, data) for n, (form, data) in records.items()}
    queries = corpus.queries(sorted(records))

    def recall(search) -> float:
        relevant = correct = 0
        for text, matcher in queries:
            expected = {n for n in records if matcher(n, values[n])}
            relevant += len(expected)
            correct += len(search(text) & expected)
        return correct / relevant

    ours = recall(lambda text: {h["number"] for h in
                                api_search.search(clerk, text, limit=1000)["hits"]})
    theirs = recall(_jieba_searcher(ws, records))
    clerk.close()
    ws.close()

    load_ours = _import_time("from qrecords.index.analysis import analyzer; "
                             "list(analyzer()('华东电力'))")
    load_jieba = _import_time("import jieba, logging; jieba.setLogLevel(logging.WARNING); "
                              "jieba.initialize(); from jieba.analyse import ChineseAnalyzer; "
                              "list(ChineseAnalyzer()('华东电力'))")
    return [
        Row(f"recall, {len(queries)} queries / {len(records)} records (jieba base)", ours,
            theirs, "", theirs / ours, "= 1.0", ours == 1.0),
        Row("analysis start-up in a fresh process (jieba base)", load_ours, load_jieba, "s",
            load_ours / load_jieba),
    ]


def _jieba_searcher(ws, records: dict):
    """The same documents indexed with jieba's Whoosh analyzer, one content field."""
    import logging

    import jieba
    from jieba.analyse import ChineseAnalyzer
    from whoosh import index, qparser
    from whoosh.fields import ID, TEXT, Schema

    jieba.setLogLevel(logging.WARNING)
    folder = WORK / "jieba-index"
    folder.mkdir()
    ix = index.create_in(str(folder), Schema(number=ID(stored=True),
                                             content=TEXT(analyzer=ChineseAnalyzer())))
    with ix.writer() as writer:
        for number, (form, data) in records.items():
            writer.add_document(number=number,
                                content="\n".join([number, *corpus.searchable(form, data)]))
    parser = qparser.QueryParser("content", ix.schema, group=qparser.AndGroup)
    searcher = ix.searcher()
    return lambda text: {hit["number"] for hit in searcher.search(parser.parse(text),
                                                                  limit=None)}


def _import_time(code: str) -> float:
    python = str(QREC.parent / "python")
    bare = median_wall([python, "-c", "pass"], runs=3)
    return max(0.0, median_wall([python, "-c", code], runs=3, warmups=1) - bare)


# -- the index at 100,000 records ----------------------------------------------------------


def bench_search() -> list[Row]:
    """Index build, in-process query latency and `qrec search` wall time at N_INDEX records,
    each against grep over the records' stored data (one JSON line per record); then the
    same and more (index size, recall) against the peers of peers.py."""
    root = WORK / "search"
    step(f"search: writing {N_INDEX:,} records to a catalog")
    numbers = bulk_catalog(root, N_INDEX)
    dump = WORK / "records.jsonl"
    ws = open_workspace(root, "zhangwei")  # searches without the privacy role
    values = searchable_values(ws, numbers, dump)

    step(f"search: building the index of {N_INDEX:,} records")
    start, cpu_start = time.perf_counter(), cpu_seconds()
    api_search.rebuild_index(ws)
    build, build_cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    grep_once = median_wall(["grep", "-c", "-F", "包装破损", str(dump)], runs=3, ok=(0, 1))

    step("search: query latency")
    pools = corpus.wide_pools(random.Random(SEED))  # the pools generate() drew from
    asked = corpus.queries(numbers[:50:7], pools)
    queries = [text for text, _ in asked]
    for text in queries[:5]:  # warm the caches, as a long-running process would have them
        api_search.search(ws, text)
    ours, slowest = [], (0.0, "", 0)
    for text in queries:
        start = time.perf_counter()
        total = api_search.search(ws, text)["total"]
        ours.append(time.perf_counter() - start)
        slowest = max(slowest, (ours[-1], text, total))
    greps = [wall(["grep", "-c", "-F", text, str(dump)], ok=(0, 1)) for text in queries]

    step("search: recall and precision against the oracle")
    expected = [(text, {n for n in numbers if matcher(n, values[n])}) for text, matcher in asked]
    recall, precision = peers.recall_precision(
        lambda text: {hit["number"] for hit in api_search.search(ws, text,
                                                                  limit=len(numbers))["hits"]},
        expected)
    ws.close()

    env = {**os.environ, "QREC_WORKSPACE": str(root), "QREC_USER": "zhangwei"}
    cli = median_wall([str(QREC), "search", peers.COLD_QUERY], runs=5, warmups=1, env=env)
    cli_grep = median_wall(["grep", "-F", peers.COLD_QUERY, str(dump)], runs=5, ok=(0, 1))
    p50, p95 = peers.percentile(ours, 50), peers.percentile(ours, 95)
    g50, g95 = peers.percentile(greps, 50), peers.percentile(greps, 95)
    n = f"{N_INDEX // 1000}k"
    docs = [(number, "\n".join([number, *texts])) for number, texts in values.items()]
    mine = peers.Figures(build, peers.folder_size(root / "index"), p50, p95, recall, precision,
                         cli)
    return [
        Row(f"index build, {n} records (one grep base)", build, grep_once, "s",
            build / grep_once, "≤ 60 s", build <= 60),
        Row(f"index build CPU, {n}, this process and its workers (its wall base)", build_cpu,
            build, "s", build_cpu / build),
        Row(f"query p50, {len(queries)} queries, {n} (grep base)", p50, g50, "s", p50 / g50),
        Row(f"query p95, {len(queries)} queries, {n} (grep base)", p95, g95, "s", p95 / g95,
            "< 50 ms", p95 < 0.05),
        Row(f"slowest query: '{slowest[1]}', {slowest[2]:,} hits (grep base)", slowest[0],
            max(greps), "s", slowest[0] / max(greps)),
        Row(f"`qrec search` wall, {n} (grep base)", cli, cli_grep, "s", cli / cli_grep,
            "< 0.6 s", cli < 0.6),
        *peers.compare(mine, docs, queries, expected, n,
                       {"build": ("≤ 60 s", build <= 60),
                        "size": ("≤ 150 MB", mine.size <= 150e6)}),
    ]


def cpu_seconds() -> float:
    """User and system CPU seconds of this process and of its children waited for."""
    import resource

    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def searchable_values(ws, numbers: list[str], dump) -> dict[str, list[str]]:
    """{number: the record's searchable values, as the oracle sees them}; writes each
    record's data as one JSON line to `dump` on the way (grep's input)."""
    forms, values = {}, {}
    with open(dump, "w", encoding="utf-8") as out:
        for number in numbers:
            record = ws.catalog.record(number)
            data = ws.catalog.version(record["id"], 1)["data"]
            out.write(json.dumps({"number": number, **data}, ensure_ascii=False) + "\n")
            form_id = record["form_id"]
            if form_id not in forms:
                forms[form_id] = ws.forms.current(form_id)
            values[number] = corpus.searchable(forms[form_id], data)
    return values


def bulk_catalog(root, count: int) -> list[str]:
    """A workspace whose catalog holds `count` generated records (version 1 each, with their
    creation events), written straight through the store: rendering 100,000 DOCX files would
    take an hour and measure nothing about search. One real record per form freezes the form
    revisions the rest use."""
    ws = init_workspace(root, USER)
    sizes = [int(count * share) for share in SHARES.values()]
    sizes[0] += count - sum(sizes)
    records = corpus.generate(*sizes, seed=SEED, wide=True)
    revision, form, prefix, numbers, real = {}, {}, {}, [], set()
    for form_id in SHARES:
        at, data = next((i, d) for i, (f, d) in enumerate(records) if f == form_id)
        made = api_records.new_record(ws, form_id, data, pdf=False)
        revision[form_id] = ws.catalog.record(made["number"])["form_revision_id"]
        form[form_id] = ws.forms.current(form_id)
        prefix[form_id] = made["number"].rsplit("-", 1)[0]
        numbers.append(made["number"])
        real.add(at)
    now = f"{TODAY}T00:00:00Z"
    with ws.catalog.write() as tx:
        for seq, (form_id, data) in enumerate(records, 2):
            if seq - 2 in real:
                continue
            clean = validate_data(form[form_id], data, TODAY)
            number = f"{prefix[form_id]}-{seq:06d}"
            record_id = tx.add_record(number, form_id, revision[form_id], now, USER, "draft")
            digest = sha256_bytes(canonical_json(clean).encode())
            tx.add_version(record_id, 1, "draft", clean, digest, now, TODAY, USER, None,
                           sensitive=access.sensitive_values(form[form_id], clean))
            tx.add_event(now, TODAY, USER, "record.created", number, 1,
                         {"data_sha256": digest})
            numbers.append(number)
    ws.close()
    return numbers


# -- cold commands at 100,000 records, and the privacy user's cost (issue 20) ---------------


# The Whoosh modules a search imports: opening the index, parsing the query, searching.
WHOOSH_SEARCH = "whoosh.index, whoosh.qparser, whoosh.searching"


def bench_cold() -> list[Row]:
    """Cold `qrec show` and `qrec search` (a fresh process each, as a person runs them) beside
    `python -c pass`, on bench_search's workspace (made here when run alone); what importing
    the Whoosh modules a search needs costs a fresh process, before any work; and the same
    `qrec search` as a privacy user (who also looks sensitive values up in the catalog) beside
    a user without that role."""
    root = WORK / "search"
    if not (root / "index").exists() or not any((root / "index").iterdir()):
        if not root.exists():
            bulk_catalog(root, N_INDEX)
        ws = open_workspace(root, "zhangwei")
        api_search.rebuild_index(ws)
        ws.close()
    ws = open_workspace(root, "zhangwei")
    number = ws.catalog.record_numbers()[-1]
    ws.close()
    step("cold: `qrec show`, `qrec search` (as two users), `python -c pass` and Whoosh's "
         "imports, fresh processes in turn")
    python = str(QREC.parent / "python")
    clerk = {**os.environ, "QREC_WORKSPACE": str(root), "QREC_USER": "zhangwei"}
    privacy = {**clerk, "QREC_USER": USER}  # lina: the privacy role
    search = [str(QREC), "search", peers.COLD_QUERY]
    bare, show, find, private, stock, ours = median_walls(
        [([python, "-c", "pass"], None), ([str(QREC), "show", number], clerk),
         (search, clerk), (search, privacy),
         ([python, "-c", f"import {WHOOSH_SEARCH}"], None),
         ([python, "-c", f"import qrecords.index.analysis, {WHOOSH_SEARCH}, opencc; "
           "opencc.OpenCC('t2s')"], None)], runs=9, warmups=1)
    n = f"{N_INDEX // 1000}k"
    return [
        Row(f"cold `qrec show` wall, {n} (`python -c pass` base)", show, bare, "s",
            show / bare, "≤ 100 ms", show <= 0.1),
        Row(f"cold `qrec search` wall, {n} (`python -c pass` base)", find, bare, "s",
            find / bare, "≤ 100 ms", find <= 0.1),
        Row("the least a search with Whoosh pays in a fresh process: importing its modules, "
            "as Whoosh ships them (`python -c pass` base)", stock, bare, "s", stock / bare),
        Row("the same as qrecords imports them (index/whoosh_first.py), with its analysis and "
            "OpenCC's t2s table (`python -c pass` base)", ours, bare, "s", ours / bare),
        Row(f"`qrec search` as a privacy user, {n} (another user base)", private, find, "s",
            private / find, "≤ 1.2×", private <= 1.2 * find),
    ]
