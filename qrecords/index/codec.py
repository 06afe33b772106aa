"""How the index's segments are written: Whoosh's W3 codec with these costs taken out.

- **Rare terms' postings inline.** W3 writes every term's postings as a block of its own in
  the postings file: a header, a pickled block info and a zlib'd pickle, about 200 bytes for
  a term in one document. Most terms of records (codes, numbers, Chinese 4-grams) are in a
  few documents, so their postings go into the term's entry in the term file instead
  (W3's own inline form, which its writer never reaches: it calls `set_inline`, the term
  info's method is `set_inlined`), pickled with the highest protocol (W3 uses protocol 2,
  which writes bytes as a call to _codecs.encode); a term in one document is 8 bytes and
  its value instead of W3's 23 bytes of statistics and a pickle (_TermInfo, read by
  _TermsReader). Whoosh reads them as a ListMatcher (_InlineMatcher), postings.py as one
  block.
- **Field lengths from memory.** For every posting, W3's writer asks the document's field
  length from the segment's length column, a seek and a read each; here each column is read
  once into memory.
- **Term tables denser.** W3's term file keeps a hash table of twice as many 12-byte slots
  as terms; here 5/4 as many (_TermTable), Whoosh's reader probing as before.
- **Positions packed.** Whoosh's Positions format pickles each posting's list of position
  deltas behind a 4-byte count (about 17 bytes for two positions); CompactPositions writes
  them as an array of 16-bit deltas (32-bit when one is larger), decoded by the array module.

Segments name their codec and fields their format by class (pickled in the index's table of
contents), so these classes stay importable here for as long as an index of this FORMAT
(searchindex.py) may exist.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections import defaultdict

from pickle import HIGHEST_PROTOCOL, dumps

from . import whoosh_first  # noqa: F401  (before any Whoosh import)
from whoosh.codec.whoosh3 import (LENGTHS_COLUMN, W3Codec, W3FieldCursor, W3FieldWriter,
                                  W3PostingsWriter, W3TermInfo, W3TermsReader, _lenfield)
from whoosh.filedb.filetables import OrderedHashWriter, _pointer as _POINTER
from whoosh.formats import Positions, tokens
from whoosh.matching import ListMatcher
from whoosh.reading import TermNotFound
from whoosh.system import pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

INLINE_BELOW = 8  # a term in fewer documents than this has its postings in its term entry
_LENGTHS = [byte_to_length(b) for b in range(256)]
_SWAP = sys.byteorder != "little"  # positions are written little-endian
_EMPTY_SLOT = _POINTER.pack(0, 0)
ONE_VALUE, ONE_NO_VALUE = 3, 4  # flags of a term in one document (W3 writes 0 or 1)
_ONE_POSTING = struct.Struct("<BBBIB")  # flag, min and max length bytes, docnum, weight
_ONE_WEIGHTS = frozenset(float(n) for n in range(1, 256))  # what _ONE_POSTING holds
_WEIGHTS = tuple(float(n) for n in range(64))
_ONE: dict[int, bytes] = {}  # the value of a posting of one position (below 65536), made once


class QrecCodec(W3Codec):
    """W3Codec writing as the module's docstring says; it reads every W3 segment."""

    def __init__(self, blocklimit=128, compression=3, inlinelimit=INLINE_BELOW):
        super().__init__(blocklimit, compression, inlinelimit)

    def field_writer(self, storage, segment):
        return _FieldWriter(self, storage, segment)

    def terms_reader(self, storage, segment):
        name = segment.make_filename(self.TERMS_EXT)
        return _TermsReader(self, storage.open_file(name), storage.file_length(name),
                            segment.open_file(storage, self.POSTS_EXT))

    def postings_writer(self, dbfile, byteids=False):
        return _PostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                               compression=self._compression, inlinelimit=self._inlinelimit)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            ids, weights, values = terminfo.inlined_postings()
            return _InlineMatcher(ids, weights, values, format_, scorer=scorer, term=term,
                                  terminfo=terminfo)
        return super().postings_reader(dbfile, terminfo, format_, term, scorer)


class _InlineMatcher(ListMatcher):
    """Whoosh's matcher of inline postings, whose copy() keeps the term and its term info
    (ListMatcher's loses them, and block_min_length() then fails) and whose value() is bytes
    (segments with inline postings are merged, at MERGE_AT segments)."""

    def value(self):
        """The current posting's encoded value: b"" for a field whose postings carry none
        (ListMatcher returns the text "", which Whoosh's merge of segments refuses)."""
        return super().value() if self._values else b""

    def copy(self):
        return _InlineMatcher(self._ids, self._weights, self._values, self._format,
                              self._scorer, self._i, self._all_weights, self._term,
                              self._terminfo)


class _TermInfo(W3TermInfo):
    """W3's term info, written shorter where most terms are:

    - a term in one document (most of a record's codes, numbers and 4-grams) is 8 bytes and
      its value: a flag (ONE_VALUE or ONE_NO_VALUE), the length bytes, the docnum and the
      weight, the rest derived from them (W3 writes 23 bytes of statistics and a pickle);
    - other inline postings are pickled with the highest protocol (W3 pickles them with
      protocol 2, which writes bytes as a call to _codecs.encode: about 30 bytes more a
      posting), whole-number weights as ints.
    _TermsReader reads them with from_bytes()."""

    def set_inlined(self, ids, weights, values):
        self._inlined = (tuple(ids), tuple(int(w) if w.is_integer() else w for w in weights),
                         tuple(values))

    def to_bytes(self):
        if not self.is_inlined():
            return super().to_bytes()
        ids, weights, values = self._inlined
        if len(ids) == 1 and weights[0] in _ONE_WEIGHTS:
            return _one_posting(ids[0], weights[0], values[0] if values else b"",
                                length_to_byte(self._minlength or 0),
                                length_to_byte(self._maxlength))
        inlined, self._inlined = self._inlined, ()
        try:  # the struct part, then the postings (W3 tells them apart by the flag)
            head = super().to_bytes()
        finally:
            self._inlined = inlined
        return head[:self._struct.size] + dumps(inlined, HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, s):
        if s[0] not in (ONE_VALUE, ONE_NO_VALUE):
            return super().from_bytes(s)
        flag, shortest, longest, docnum, weight = _ONE_POSTING.unpack_from(s)
        info = cls()
        info._weight = info._maxweight = float(weight)
        info._df = 1
        info._minlength, info._maxlength = byte_to_length(shortest), byte_to_length(longest)
        info._minid = info._maxid = docnum
        info._inlined = ((docnum,), (weight,),
                         (bytes(s[_ONE_POSTING.size:]),) if flag == ONE_VALUE else ())
        return info


def _one_posting(docnum: int, weight: float, value: bytes, shortest: int, longest: int) -> bytes:
    """The term entry of a term in one document: `weight` one of _ONE_WEIGHTS, `value` the
    posting's (b"" for a format without), `shortest` and `longest` its field length bytes
    (Whoosh's length_to_byte)."""
    return _ONE_POSTING.pack(ONE_VALUE if value else ONE_NO_VALUE, shortest, longest, docnum,
                             int(weight)) + value


class _FieldCursor(W3FieldCursor):
    def term_info(self):
        if self._pos is None:
            return None
        return _TermInfo.from_bytes(self._tindex.dbfile.get(self._datapos, self._datalen))


class _TermsReader(W3TermsReader):
    """W3's terms reader, reading term infos with _TermInfo.from_bytes (W3's reads the
    statistics of a term at fixed offsets, which a term of one document does not have)."""

    def cursor(self, fieldname, fieldobj):
        return _FieldCursor(self._tindex, fieldname, self._keycoder, self._keydecoder,
                            fieldobj)

    def items(self):
        return ((self._keydecoder(key), _TermInfo.from_bytes(value))
                for key, value in self._tindex.items())

    def items_from(self, fieldname, prefix):
        return ((self._keydecoder(key), _TermInfo.from_bytes(value))
                for key, value in self._tindex.items_from(self._keycoder(fieldname, prefix)))

    def _info(self, fieldname, tbytes):
        """Raises KeyError for a term the segment does not hold."""
        return _TermInfo.from_bytes(self._tindex[self._keycoder(fieldname, tbytes)])

    def term_info(self, fieldname, tbytes):
        try:
            return self._info(fieldname, tbytes)
        except KeyError:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}") from None

    def frequency(self, fieldname, tbytes):
        return self._info(fieldname, tbytes).weight()

    def doc_frequency(self, fieldname, tbytes):
        return self._info(fieldname, tbytes).doc_frequency()


class _PostingsWriter(W3PostingsWriter):
    def add_posting(self, id_, weight, vbytes, length=None):
        """W3's add_posting without its four type assertions a posting (a few per cent of a
        build; the values come from Whoosh's own writer)."""
        if len(self._ids) >= self._blocklimit:
            self._write_block()
        self._ids.append(id_)
        self._weights.append(weight)
        if weight > self._maxweight:
            self._maxweight = weight
        if vbytes:
            self._values.append(vbytes)
        if length:
            if self._minlength is None or length < self._minlength:
                self._minlength = length
            if length > self._maxlength:
                self._maxlength = length

    def add_postings(self, postings: list, lengths_of) -> None:
        """The postings of one term at once, in blocks of the block limit: `postings` is
        [docnum, weight, value bytes (empty for formats without), ...], docnums ascending
        (bulk.TermPool); `lengths_of(docnums)` the documents' field lengths (0: none)."""
        step = 3 * self._blocklimit
        for start in range(0, len(postings), step):
            if self._ids:
                self._write_block()
            ids = self._ids = array("I", postings[start:start + step:3])
            self._weights = weights = array("f", postings[start + 1:start + step:3])
            self._values = [value for value in postings[start + 2:start + step:3] if value]
            self._maxweight = max(weights)
            present = [length for length in lengths_of(ids) if length]
            if present:
                self._minlength, self._maxlength = min(present), max(present)

    def finish_postings(self):
        terminfo = self._terminfo
        if not self.written() and len(self) < self._inlinelimit:
            terminfo.add_block(self)
            terminfo.set_inlined(self._ids, self._weights, self._values)
            self._terminfo = None
            return terminfo
        return super().finish_postings()


class _TermTable(OrderedHashWriter):
    """Whoosh's term file, its hash tables 4/5 full instead of half: a term costs one 12-byte
    slot and a quarter instead of two. Whoosh's reader takes each table's size from the file
    and probes until it meets an empty slot, which a table less than full always has."""

    def _write_hashes(self):
        for entries in self.buckets:
            slots = len(entries) + len(entries) // 4 + 1 if entries else 0
            self.directory.append((self.dbfile.tell(), slots))
            table = [None] * slots
            for hashval, position in entries:
                slot = (hashval >> 8) % slots
                while table[slot] is not None:
                    slot = (slot + 1) % slots
                table[slot] = (hashval, position)
            self.dbfile.write(b"".join(_POINTER.pack(*entry) if entry else _EMPTY_SLOT
                                       for entry in table))


class _FieldWriter(W3FieldWriter):
    def __init__(self, codec, storage, segment):
        super().__init__(codec, storage, segment)
        self._tindex.__class__ = _TermTable  # made by W3's __init__, nothing written yet but
        # its header, which is the same

    def start_term(self, btext):
        if self._postwriter is None:
            raise Exception("Called start_term before start_field")
        self._btext = btext
        self._postwriter.start_postings(self._fieldobj.format, _TermInfo())

    def add_postings(self, schema, lengths, items):
        super().add_postings(schema, _LengthsInMemory(lengths) if lengths else None, items)

    def add_pooled(self, schema, lengths, fields: dict) -> None:
        """Write the postings of a bulk.TermPool ({field name: {term bytes: [docnum,
        weight, value, ...]}}), fields and terms in byte order as Whoosh reads them;
        `lengths` is the segment's per-document reader (None when the codec keeps none)."""
        in_memory = _LengthsInMemory(lengths) if lengths else None
        add_entry = self._tindex.add
        for fieldname in sorted(fields):
            terms = fields[fieldname]
            self.start_field(fieldname, schema[fieldname])
            field_key = pack_ushort(self._fieldid)
            column = in_memory.column(fieldname) if in_memory else b""
            lengths_of = (lambda ids: [_LENGTHS[column[d]] if d < len(column) else 0
                                       for d in ids]) if column else \
                (lambda ids: [0] * len(ids))
            for btext in sorted(terms):
                postings = terms[btext]
                if len(postings) == 3 and postings[1] in _ONE_WEIGHTS:
                    # most terms: one document, its entry written as _TermInfo would write it
                    docnum, weight, value = postings
                    length = column[docnum] if docnum < len(column) else 0  # a length byte
                    add_entry(field_key + btext,
                              _one_posting(docnum, weight, value or b"", length, length))
                    continue
                self.start_term(btext)
                self._postwriter.add_postings(postings, lengths_of)
                self.finish_term()
            self.finish_field()


class _LengthsInMemory:
    """doc_field_length() of a per-document reader, each field's column read once."""

    def __init__(self, reader):
        self.reader = reader
        self.columns: dict[str, bytes] = {}

    def column(self, fieldname: str) -> bytes:
        """The field's length column: a byte a document (Whoosh's length_to_byte)."""
        column = self.columns.get(fieldname)
        if column is None:
            found = self.reader._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            column = self.columns[fieldname] = \
                bytes(found._dbfile.get(found._basepos, found._count)) if found else b""
        return column

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        column = self.column(fieldname)
        if docnum < len(column):
            return _LENGTHS[column[docnum]] or default
        return default


class CompactPositions(Positions):
    """Whoosh's Positions format (frequency and positions of each posting), its values
    written as a typecode byte ("H" or "I") and the position deltas as a little-endian
    array of that type."""

    def word_values(self, value, analyzer, **kwargs):
        """(term, frequency, weight, encoded positions) of each term of `value`. An analyzer
        with term_positions(value) (analysis.py's) gives (term, position) pairs without a
        Whoosh Token for each."""
        boost = self.field_boost
        positions = defaultdict(list)
        if hasattr(analyzer, "term_positions") and isinstance(value, str):
            for term, position in analyzer.term_positions(value):
                positions[term].append(position)
        else:
            kwargs["positions"] = True
            for token in tokens(value, analyzer, kwargs):
                positions[token.text].append(token.pos)
        encode = self.encode
        weights = _WEIGHTS if boost == 1 else ()  # one float object each, not one a posting
        for term, found in positions.items():
            count = len(found)
            yield term, count, weights[count] if count < len(weights) else count * boost, \
                encode(found)

    def encode(self, poslist) -> bytes:
        if len(poslist) == 1:  # most postings: one position, one bytes object each
            one = _ONE.get(poslist[0])
            if one is not None:
                return one
            if poslist[0] < 65536:
                one = _ONE[poslist[0]] = b"H" + poslist[0].to_bytes(2, "little")
                return one
        deltas = [b - a for a, b in zip([0, *poslist], poslist)]
        kind = "H" if max(deltas) < 65536 else "I"
        packed = array(kind, deltas)
        if _SWAP:
            packed.byteswap()
        return kind.encode() + packed.tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        packed = array(chr(valuestring[0]))
        packed.frombytes(valuestring[1:])
        if _SWAP:
            packed.byteswap()
        total, positions = 0, []
        for delta in packed:
            total += delta
            positions.append(total)
        return positions

    def decode_frequency(self, valuestring: bytes) -> int:
        return (len(valuestring) - 1) // (2 if valuestring[:1] == b"H" else 4)

    def decode_weight(self, valuestring: bytes) -> float:
        return self.decode_frequency(valuestring) * self.field_boost

