"""Building a whole index generation: the rebuild's writer, on every CPU.

Whoosh's writer sends each posting (about 140 a record) through a pool that pickles it to a
run file, reads it back and merges the runs by a heap before the segment is written: about
two thirds of a rebuild's time. A rebuild adds documents in docnum order to a segment of its
own, so each term's postings already arrive sorted; TermPool keeps them in memory, grouped
by field and term, and the codec (codec._FieldWriter.add_pooled) writes each term's blocks
from them at once. Everything else of a segment (stored fields, lengths, columns, the term
and postings files) is Whoosh's own, so the index reads exactly as one Whoosh wrote.

A large rebuild runs in several processes (fork): each reads its share of the records from
the catalog through a source of its own (CatalogSource.reopened), writes its own segments,
and sends their descriptions back; the parent writes the table of contents naming them all.
Incremental writes (a record changed) stay with Whoosh's writer (searchindex._write).
"""

from __future__ import annotations

import os
import threading

from ..errors import QrecError
from . import whoosh_first  # noqa: F401  (before any Whoosh import)
from whoosh.writing import SegmentWriter

PARALLEL_FROM = 5000  # records: a smaller rebuild is not worth a process
MAX_PROCS = 4
# Postings held in memory before a segment is written and a new one started: with their
# terms about 50 bytes each, so a worker holds about 400 MB at most (a record of the bench's
# has about 140 postings: a segment holds about 57,000 of them).
SEGMENT_POSTINGS = 8_000_000


class TermPool:
    """The postings of one segment, in memory: {field name: {term bytes: [docnum, weight,
    value bytes, docnum, weight, value bytes, ...]}}, docnums in the order documents were
    added (ascending). One flat list a term: most terms of records are in one document, and
    a list holding one posting costs about a fifth of three arrays."""

    def __init__(self):
        self.fields: dict[str, dict[bytes, list]] = {}
        self.postings = 0
        self.fieldnames = set()  # what Whoosh's writer reads of its pool

    def add_field(self, fieldname: str, docnum: int, items) -> int:
        """Add the (term bytes, frequency, weight, value bytes) `items` of one field of
        document `docnum`; returns the field's length (the sum of the frequencies)."""
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        length = count = 0
        for tbytes, freq, weight, vbytes in items:
            length += freq
            count += 1
            posting = terms.get(tbytes)
            if posting is None:
                terms[tbytes] = [docnum, weight, vbytes]
            else:
                posting += (docnum, weight, vbytes)
        self.postings += count
        return length

    def cleanup(self) -> None:
        """Whoosh's writer calls this when it closes the segment: nothing is on disk."""


class BulkSegmentWriter(SegmentWriter):
    """A Whoosh SegmentWriter of `ix` (not locking it: the build folder is private) whose
    postings go to a TermPool and are written by the codec from it. Raises QrecError for a
    schema with term vectors or spelling fields (the pool does not write them)."""

    def __init__(self, ix, **options):
        super().__init__(ix, _lk=False, **options)
        for name, field in self.schema.items():
            if field.vector or field.separate_spelling():
                raise QrecError(f"index field {name!r}: term vectors and spelling fields are "
                                "not written by a rebuild")
        self.pool = TermPool()

    def add_document(self, **fields):
        """SegmentWriter.add_document for the index's own documents: no boosts, no vectors,
        no spelling; each field's postings go to the pool."""
        perdoc, schema, docnum, pool = self.perdocwriter, self.schema, self.docnum, self.pool
        names = sorted(fields)
        self._check_fields(schema, names)
        perdoc.start_doc(docnum)
        for name in names:
            value = fields[name]
            if value is None:
                continue
            field = schema[name]
            length = pool.add_field(name, docnum, field.index(value)) if field.indexed else 0
            perdoc.add_field(name, field, value if field.stored else None,
                             length if field.scorable else 0)
            if field.column_type:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self):
        self.perdocwriter.close()
        lengths = self.per_document_reader() if self.codec.length_stats else None
        self.fieldwriter.add_pooled(self.schema, lengths, self.pool.fields)
        self.fieldwriter.close()
        if lengths:
            lengths.close()

    def finish(self):
        """Write the segment's files; returns its Whoosh Segment (not yet in any table of
        contents). The temporary folder is shared by every writer of the index (Whoosh names
        it after the index): build() removes it when all are done."""
        segment = self._finalize_segment()
        self.is_closed = True
        return segment

    def discard(self):
        """Close a writer that was given no document, leaving the shared temporary folder
        (SegmentWriter.cancel would remove it under the other writers); its empty files are
        removed with the table of contents naming the segments."""
        self._close_segment()
        self.is_closed = True


def write_segments(ix, options: dict, source, numbers: list[str], added=None) -> list:
    """Index the documents of the records `numbers` into new segments of `ix`, a segment
    every SEGMENT_POSTINGS postings; `added(count)` after each batch of records. Returns the
    segments (Whoosh Segment objects) for a table of contents."""
    from .source import BATCH

    segments, writer = [], BulkSegmentWriter(ix, **options)
    for start in range(0, len(numbers), BATCH):
        chunk = numbers[start:start + BATCH]
        for docs in source.documents_of(chunk).values():
            if writer.pool.postings >= SEGMENT_POSTINGS:  # a record's documents stay together
                segments.append(writer.finish())
                writer = BulkSegmentWriter(ix, **options)
            for doc in docs:
                writer.add_document(**doc)
        if added:
            added(len(chunk))
    if writer.docnum:
        segments.append(writer.finish())
    else:
        writer.discard()
    return segments


def build(ix, options: dict, source, numbers: list[str], progress=None) -> None:
    """Index every record of `numbers` into `ix`, a new and empty Whoosh index in a private
    folder, and commit it: one table of contents naming every segment written. A rebuild of
    PARALLEL_FROM records or more runs in a process per CPU (up to MAX_PROCS) when the
    source can be reopened and this is the only thread of its process (a fork copies the
    locks other threads hold). `progress(done, total)` as records are indexed. Raises
    QrecError when a worker fails (naming its error), and what the source raises."""
    from whoosh.index import TOC, clean_files

    procs = min(os.cpu_count() or 1, MAX_PROCS)
    alone = threading.active_count() == 1
    total, done = len(numbers), [0]

    def added(count):
        done[0] += count
        if progress:
            progress(done[0], total)

    if total < PARALLEL_FROM or procs < 2 or not alone or source.reopen is None:
        segments = write_segments(ix, options, source, numbers, added)
    else:
        segments = _in_processes(ix, options, source, numbers, procs, progress)
    ix.storage.temp_storage(f"{ix.indexname}.tmp").destroy()  # as Whoosh names it
    generation = ix.latest_generation() + 1
    TOC(ix.schema, segments, generation).write(ix.storage, ix.indexname)
    clean_files(ix.storage, ix.indexname, generation, segments)


def _in_processes(ix, options, source, numbers, procs, progress) -> list:
    """write_segments in `procs` forked processes, each with every procs-th record."""
    import multiprocessing
    import queue

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    counter = context.Value("q", 0)

    def work(share):
        try:
            def added(count):
                with counter.get_lock():
                    counter.value += count

            mine = source.reopened()
            try:
                results.put(("ok", write_segments(ix, options, mine, share, added)))
            finally:
                mine.close()
        except BaseException as exc:  # reported to the parent, which raises it
            results.put(("error", f"{type(exc).__name__}: {exc}"))

    workers = [context.Process(target=work, args=(numbers[i::procs],), daemon=True)
               for i in range(procs)]
    for worker in workers:
        worker.start()
    segments, failures, waiting = [], [], procs
    try:
        while waiting:
            try:
                kind, found = results.get(timeout=0.25)
            except queue.Empty:
                if progress:
                    progress(counter.value, len(numbers))
                if not any(worker.is_alive() for worker in workers) and results.empty():
                    failures.append("a worker ended without a result")
                    break
                continue
            waiting -= 1
            segments.extend(found) if kind == "ok" else failures.append(found)
    finally:  # a failure, or the parent interrupted (Ctrl-C): the others stop too
        for worker in workers:
            if failures or waiting:
                worker.terminate()
            worker.join()
    if failures:
        raise QrecError(f"the index rebuild failed 索引重建失败: {failures[0]}")
    if progress:
        progress(len(numbers), len(numbers))
    return segments
