"""The Whoosh index of a workspace: derived from the catalog, kept in step with it.

index/STATE.json names the live generation (a Whoosh index in index/g<N>/) and the last
catalog event applied to it. Every change to a record writes an event in the same transaction,
so `sync()` re-indexes exactly the records named by events after that mark. Re-indexing a
record is idempotent (its documents are deleted and written anew), so a crash anywhere between
the catalog commit and STATE.json only means the next command does the work again.

A rebuild writes a new generation in a private folder while searches go on reading the live
one, catches up with what changed meanwhile under the index lock, then renames its folder into
place and switches STATE.json. The source is anything with the methods of CatalogSource.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import stat
from contextlib import contextmanager, nullcontext
from pathlib import Path

from ..errors import QrecError
from ..faults import fault_point
from ..processes import alive

STATE = "STATE.json"
LOCK = ".lock"
# What the documents and their analysis look like: an index of another format is rebuilt.
FORMAT = 9  # 6: data_sha256 of a version with sensitive values leaves them out; 7: codec.py;
# 8: no `key` field (a document is its number and version), term tables 4/5 full; 9: fields
# 1000 positions apart, the pieces of a code joined across spaces indexed alone


class IndexBroken(QrecError):
    """The index is missing or unreadable: it must be rebuilt from the store."""


def text_field(analyzer, **options):
    """A free-text field of `analyzer`, its positions packed (codec.CompactPositions)."""
    from . import whoosh_first  # noqa: F401  (before any Whoosh import)
    from whoosh.fields import TEXT

    from .codec import CompactPositions

    field = TEXT(analyzer=analyzer, **options)
    field.format = CompactPositions(field_boost=field.format.field_boost)
    return field


def whoosh_schema():
    """The index's fields. `fields` holds every form field as "<id>:<term>" terms (see
    analysis.FieldsTokenizer); queries are parsed against query_schema(). `version` and
    `data_sha256` are only stored: no query names them, and indexing them cost every build
    nine terms a document (a NUMERIC field writes one per 4 bits of the value). `order` is a
    column only: how hits with equal scores are ordered (documents.order_key)."""
    from . import whoosh_first  # noqa: F401  (before any Whoosh import)
    from whoosh.columns import FixedBytesColumn
    from whoosh.fields import BOOLEAN, COLUMN, ID, STORED, Schema

    from .analysis import FieldsTokenizer, analyzer
    from .documents import ORDER_WIDTH

    return Schema(number=ID(stored=True), version=STORED(),
                  current=BOOLEAN(stored=True), form=ID(stored=True), status=ID(stored=True),
                  date=ID(stored=True), title=STORED(), data_sha256=STORED(),
                  customer=text_field(analyzer(compound=False), multitoken_query="phrase"),
                  content=text_field(analyzer(), multitoken_query="phrase"),
                  fields=text_field(FieldsTokenizer()),
                  order=COLUMN(FixedBytesColumn(ORDER_WIDTH)))


class SearchIndex:
    def __init__(self, folder: Path):
        self.folder = folder
        self._searcher = None
        self._searcher_generation = None

    def state(self) -> dict | None:
        """{"generation": N, "applied": event id, "flushed_ns": the newest modification time
        (ns) of the generation's files flushed to disk, "files": {file name: SHA-256 hex of
        its content when flushed}}, or None when there is no index."""
        try:
            state = json.loads((self.folder / STATE).read_text(encoding="utf-8"))
            if state.get("format") != FORMAT:
                return None
            state = {"generation": int(state["generation"]), "applied": int(state["applied"]),
                     "flushed_ns": int(state.get("flushed_ns", 0)),
                     "files": dict(state.get("files", {}))}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return state if (self.folder / f"g{state['generation']}").is_dir() else None

    def open(self, generation: int | None = None):
        """The live Whoosh index (or a given generation), its files mapped (mapped.py).
        Raises IndexBroken."""
        from .mapped import open_index

        if generation is None:
            state = self.state()
            if state is None:
                raise IndexBroken("the search index is missing; run `qrec index rebuild`")
            generation = state["generation"]
        try:
            return open_index(str(self.folder / f"g{generation}"))
        except Exception as exc:  # Whoosh raises many kinds for a damaged index
            raise IndexBroken(f"the search index is unreadable ({type(exc).__name__}: "
                              f"{exc}); run `qrec index rebuild`") from None

    def searcher(self):
        """A Whoosh searcher on the live generation, kept open for the next search while the
        generation stays the same and nothing was written since (Whoosh's refresh() would keep
        the old schema, without the fields of a form added since). A rebuild may switch
        generations between reading STATE.json and opening the files: then it tries again."""
        state = self.state()
        if self._searcher is not None and state is not None and \
                state["generation"] == self._searcher_generation and \
                self._searcher.up_to_date():
            return self._searcher
        self.close()
        for attempt in (1, 2):
            generation = (self.state() or {}).get("generation")
            try:
                from .ranking import LiveBM25F

                self._searcher = self.open(generation).searcher(weighting=LiveBM25F())
                self._searcher_generation = generation
                return self._searcher
            except Exception as exc:  # the generation's files went away under us
                if attempt == 2:
                    raise IndexBroken(f"the search index is unreadable ({type(exc).__name__}:"
                                      f" {exc}); run `qrec index rebuild`") from None

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    def is_current(self, latest_change: int) -> bool:
        state = self.state()
        return state is not None and state["applied"] == latest_change

    # -- writing ---------------------------------------------------------------------------

    def sync(self, source) -> str | None:
        """Apply what changed in the catalog since the last sync. A missing or unreadable index
        is rebuilt (under the lock, so concurrent commands do it once); returns a notice then."""
        with self._lock():
            state = self.state()
            try:
                if state is None:
                    raise IndexBroken("missing")
                if state["applied"] > source.latest_change():  # the catalog was restored
                    raise IndexBroken("ahead of the catalog")
                ix = self.open(state["generation"])
                latest, numbers = source.changed_since(state["applied"])
                if numbers:
                    self._write(ix, source, numbers)
                    fault_point("index.after_whoosh_commit")
                if latest != state["applied"]:
                    self._write_state(state["generation"], latest)
                return None
            except Exception as exc:  # Whoosh raises many kinds for a damaged segment
                count = self._build(source, None, locked=True)
                what = "missing (or of an older format)" if state is None else \
                    "ahead of the catalog (restored from a backup?)" \
                    if "ahead" in str(exc) else "unreadable"
                return f"the search index was {what}: rebuilt it from the catalog " \
                       f"({count} records)"

    def rebuild(self, source, progress=None) -> int:
        """Write a new generation from the catalog and switch to it; searches and record
        changes go on meanwhile. Returns how many records were indexed."""
        return self._build(source, progress, locked=False)

    def _build(self, source, progress, locked: bool) -> int:
        from . import whoosh_first  # noqa: F401  (before any Whoosh import)
        from whoosh import index

        from . import bulk

        self.folder.mkdir(parents=True, exist_ok=True)
        building = self.folder / f".build-{os.getpid()}-{os.urandom(4).hex()}"
        building.mkdir()
        try:
            snapshot = source.latest_change()
            numbers = source.all_numbers()
            ix = index.create_in(str(building), whoosh_schema())
            bulk.build(ix, writer_options(), source, numbers, progress)
            fault_point("index.rebuild_midway")
            with nullcontext() if locked else self._lock():
                latest, changed = source.changed_since(snapshot)
                if changed:
                    self._write(ix, source, changed)
                generation = 1 + max((int(p.name[1:]) for p in self.folder.glob("g*")
                                      if p.name[1:].isdigit()), default=0)
                os.rename(building, self.folder / f"g{generation}")
                self._write_state(generation, latest)
                self._remove_old(generation)
        except BaseException:
            import shutil

            shutil.rmtree(building, ignore_errors=True)
            raise
        return len(numbers)

    def _remove_old(self, live: int) -> None:
        """Earlier generations (a search still reading one keeps its open files) and the
        folders of builds whose process is gone."""
        import shutil  # here: a search that builds nothing never needs it

        for path in self.folder.iterdir():
            if path.name.startswith("g") and path.name[1:].isdigit() and \
                    int(path.name[1:]) != live:
                shutil.rmtree(path, ignore_errors=True)
            elif path.name.startswith(".build-") and not alive(path.name.split("-")[1]):
                shutil.rmtree(path, ignore_errors=True)

    @staticmethod
    def _write(ix, source, numbers) -> None:
        docs = source.documents_of(list(numbers))
        writer = ix.writer(**writer_options())
        try:
            for number, found in docs.items():
                writer.delete_by_term("number", number)
                for doc in found:
                    writer.add_document(**doc)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=_merge_when_many)

    def _write_state(self, generation: int, applied: int) -> None:
        """Atomically, after the generation's segment files are flushed to disk (a STATE.json
        never points at segments a power cut could lose). The folder is not fsynced: a
        rename lost in a power cut leaves the older STATE.json, and the changes after it are
        simply applied again."""
        # The files of the generation the last STATE.json pointed at were flushed before it
        # was written, up to the newest of them; a new generation (a rebuild) is flushed whole.
        # Each file's SHA-256 is kept beside it, so `index check` finds a damaged file even
        # when Whoosh would read it without an error (same size, other bytes).
        last = self.state()
        same = last is not None and last["generation"] == generation
        since = last["flushed_ns"] if same else 0
        folder = self.folder / f"g{generation}"
        flushed, hashes = _fsync_files(folder, since)
        present = {path.name for path in folder.iterdir()}
        files = {name: digest for name, digest in (last["files"] if same else {}).items()
                 if name in present}
        files.update(hashes)
        partial = self.folder / f".{STATE}.{os.getpid()}"
        with open(partial, "w", encoding="utf-8") as out:
            json.dump({"format": FORMAT, "generation": generation, "applied": applied,
                       "flushed_ns": max(flushed, since), "files": files}, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, self.folder / STATE)

    @contextmanager
    def _lock(self):
        """The index's one writer lock, across processes; searches never take it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / LOCK, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield


MERGE_AT = 16  # segments
# Whoosh writes a segment as one compound file by default, and opening one copies each of
# its parts into memory: about 180 ms of every `qrec search` at 100,000 records. Separate files are
# read where a search needs them.
SEPARATE_FILES = {"compound": False}


def writer_options() -> dict:
    """Options of every Whoosh writer of the index: separate files, codec.QrecCodec."""
    from .codec import QrecCodec

    return {**SEPARATE_FILES, "codec": QrecCodec()}


def _merge_when_many(writer, segments):
    """Whoosh merges small segments at every commit by default, which doubles the cost of
    indexing one record; merge only once there are MERGE_AT of them."""
    from whoosh.writing import MERGE_SMALL

    return MERGE_SMALL(writer, segments) if len(segments) >= MERGE_AT else segments


def _fsync_files(folder: Path, since_ns: int = 0) -> tuple[int, dict[str, str]]:
    """Flush to disk every file of an index generation modified at or after `since_ns` (ns
    since the epoch; 0: every file). Returns (the newest modification time flushed, 0 for
    none; {file name: SHA-256 hex} of the files flushed). Whoosh never rewrites a segment
    file, and the index is written under one lock, so the files older than the last flush
    were flushed then: a record's commit flushes its own new segment and table of contents,
    not the whole index (about 90 files). Were the clock set back between two commits, a
    power cut could cost the index a segment: it is then found unreadable and rebuilt from
    the catalog, as any damaged index is."""
    newest, hashes = 0, {}
    for path in folder.iterdir() if folder.is_dir() else ():
        try:
            info = path.stat()
        except FileNotFoundError:  # merged away meanwhile
            continue
        if stat.S_ISREG(info.st_mode) and info.st_mtime_ns >= since_ns:
            with open(path, "rb") as handle:
                hashes[path.name] = hashlib.file_digest(handle, "sha256").hexdigest()
                os.fsync(handle.fileno())
            newest = max(newest, info.st_mtime_ns)
    return newest, hashes


def damaged_files(folder: Path, files: dict[str, str]) -> list[str]:
    """The files of an index generation whose content is not what was flushed: `files` is
    STATE.json's {name: SHA-256 hex}. One line each, naming the file (relative to the
    workspace's index folder)."""
    problems = []
    for name, digest in sorted(files.items()):
        path = folder / name
        try:
            with open(path, "rb") as handle:
                if hashlib.file_digest(handle, "sha256").hexdigest() == digest:
                    continue
            problems.append(f"index/{folder.name}/{name}: its content is not what was "
                            "written (damaged) 索引文件已损坏; run `qrec index rebuild`")
        except FileNotFoundError:
            problems.append(f"index/{folder.name}/{name}: missing 索引文件缺失; run "
                            "`qrec index rebuild`")
    return problems
