"""Text analysis for the index: Chinese by overlapping character bigrams, codes by their parts
and their joined form, English words lower-cased and stemmed.

Why bigrams and not a dictionary segmenter (jieba): any run of two or more Chinese characters
in a record is found by typing it, whether or not a dictionary knows it as a word ("华东" in
"华东电力设备有限公司", "包装破损" across a word boundary), and there is no dictionary to load in
every short-lived `qrec` process (jieba takes about a second). bench/run.py measures both.

Positions: a Chinese run "包装破损" gives 包装@0 装破@1 破损@2 and unigrams for its first and
last characters, 包@0 and 损@2 (at the first and last bigram's positions); a query "包装破损"
matches exactly that substring, and a query's tokens are consecutive whatever follows the run
(Whoosh phrases assume that). A one-character query matches any bigram starting with it or a
run-final unigram (see query.py); next to a code ("A级", "3月") it matches the unigram that
starts a run. A code "PCB-4451-A" gives pcb@0 4451@1 a@2 plus the joined form pcb4451a@0,
which is what it is typed without its dashes.

Compound terms make the common queries one term to look up instead of a phrase, which Whoosh
verifies document by document in Python (a phrase matching 10,000 of 100,000 records took a
quarter of a second). A run also gives its 4-grams, 包装破损@0, so the query "包装破损" is that
one term and a longer run the phrase of its 4-grams (a shorter one stays the phrase of its
bigrams); a code also gives its runs of two parts, pcb-4451@0 4451-a@1, so "CC-2611" (in
CC-2611-000002) is one term and "PCB-4451-A" a phrase of two rare ones; and a code written
right before Chinese gives its last part with the next character, 6型@0 in "6型号", so "6型"
is one term instead of two that nearly every record has. Compound terms start with COMPOUND
(below).

What is folded before any of this, in records and queries alike (normalise()): full-width
letters and digits to ASCII, upper to lower case, and Traditional characters to Simplified
ones, character by character (OpenCC's t2s character table), so that 質量管制 finds 质量管制
and every character keeps its place for highlighting. Japanese kana and Korean hangul are
analysed like Chinese (bigrams: センサー finds センサ, 센서 finds 센서가). Letters and digits
side by side are two parts of a code ("ISO9001" is iso 9001, as "ISO-9001" is), and letters
followed by a number after spaces ("ISO 9001") are one code too; a code followed by Chinese
after spaces ("8D 报告") gets the same compound term as one written right before it ("8D报告").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from . import whoosh_first  # noqa: F401  (before any Whoosh import)
from .packing import FIELD_GAP, FIELD_SEP, VALUE_SEP
from whoosh.analysis import Token, Tokenizer
from whoosh.lang.porter import stem

_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
# Written without spaces between words, so indexed by characters: Chinese, Japanese kana
# (without the middle dot ・), Korean hangul syllables and letters.
_CJK_RANGES = _HAN_RANGES + ((0x3041, 0x309F), (0x30A1, 0x30FA), (0x30FC, 0x30FF),
                             (0x31F0, 0x31FF), (0xAC00, 0xD7AF), (0x1100, 0x11FF),
                             (0x3131, 0x318E))
_CJK = "".join(f"{chr(low)}-{chr(high)}" for low, high in _CJK_RANGES)
# A character class of these ranges costs `re` about 15 M instructions to compile (a Python
# loop over its 40,000 characters), in every process: so they are in _TOKEN alone. What
# _TOKEN's `code` group holds has none of them, so the patterns applied to a code need not
# exclude them, and single characters are tested by their code point.
_ALNUM = rf"(?:(?![{_CJK}])[^\W_])"  # a letter or digit of any script but those above
_TOKEN = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<code>{_ALNUM}+"
                    rf"(?:(?:[-_/.]|(?<=[^\W\d_])[ \t]+(?=\d)){_ALNUM}+)*)")
_PART = re.compile(r"[^\W\d_]+|\d+")  # letters and digits are separate parts (of a code)
_ALPHA = re.compile(r"[a-z]+")
_SPACES = re.compile(r"[ \t\u3000]*")
_BLANK, _NOT_BLANK = re.compile(r"[ \t]"), re.compile(r"[^ \t]+")
_ALNUM_RUN = re.compile(r"[^\W_]+")  # a code typed without separators
_FIELD_BREAK = re.compile("\x1e")  # FIELD_SEP


@lru_cache(maxsize=None)
def is_cjk(char: str) -> bool:
    """Whether `char` is one character written without spaces between words (above)."""
    return len(char) == 1 and any(low <= ord(char) <= high for low, high in _CJK_RANGES)


@lru_cache(maxsize=None)
def _is_han(char: str) -> bool:
    return any(low <= ord(char) <= high for low, high in _HAN_RANGES)


def cjk_only(text: str) -> bool:
    """Whether `text` is Chinese (Japanese, Korean) characters only: every term terms() makes
    of such characters is a piece of one run of them, so it is found in normalise(text) of
    any text holding it."""
    return bool(text) and all(map(is_cjk, text))


def unpunctuated(text: str) -> str | None:
    """`text` (normalised) without the punctuation between Chinese characters and what is
    next to them ("第(三)条" -> "第三条", "a)生技部" -> "a生技部"), or None if there is none:
    pasted text holds punctuation where the record may not."""
    text = normalise(text)
    out, last, changed = [], None, False
    for match in _TOKEN.finditer(text):
        if last is not None:
            gap = text[last.end():match.start()]
            if gap and not gap.isspace() and (last.group("cjk") or match.group("cjk")):
                changed = True
            else:
                out.append(gap)
        out.append(match.group())
        last = match
    return "".join(out) if changed else None


def normalise(text: str) -> str:
    """Full-width letters, digits and dashes to ASCII (NFKC), lower case, Traditional Chinese
    characters to Simplified ones, and the same length as the text, so that character offsets
    point into the original for highlighting."""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) != len(text):
        folded = "".join(n if len(n := unicodedata.normalize("NFKC", c).lower()) == 1 else c
                         for c in text)
    return to_simplified(folded)


_SEEN: set[str] = set()  # characters looked up in OpenCC's table so far
_SIMPLIFIED: dict[int, str] = {}  # code point -> Simplified character, where it differs


def to_simplified(text: str) -> str:
    """`text` with each Traditional Chinese character replaced by its Simplified form (OpenCC
    "t2s", one character at a time: the same length, and the same result for a character
    wherever it stands, which phrase-level conversion would not give). Characters are looked
    up once per process, in one call to OpenCC for all those a text brings."""
    new = set(text)
    new.difference_update(_SEEN)
    if new:
        han = [c for c in new if _is_han(c)]
        if han:
            for char, simple in zip(han, _t2s(_t2s("\n".join(han))).split("\n")):
                if simple != char and len(simple) == 1:
                    _SIMPLIFIED[ord(char)] = simple
        _SEEN.update(new)
    return text.translate(_SIMPLIFIED) if _SIMPLIFIED else text


@lru_cache(maxsize=1)
def _converter():
    from opencc import OpenCC

    return OpenCC("t2s")


def _t2s(lines: str) -> str:
    """OpenCC's t2s of one character a line (a line is too short for its phrase table)."""
    return _converter().convert(lines)


@lru_cache(maxsize=65536)
def _word(part: str) -> str:
    """An English word is stemmed (damaged -> damag); codes and numbers stay as typed."""
    return stem(part) if _ALPHA.fullmatch(part) else part


# Compound terms, indexed besides their pieces so that what people type most is one term to
# look up instead of a phrase to verify position by position in every matching document:
# Chinese runs of GRAM characters, runs of up to SPAN parts of a code (joined by "-"), and a
# code's last part with the Chinese character written right after it ("6型", "a级", "100件").
# They start with COMPOUND, a character no typed term holds, which sorts after every other
# term: prefix and range queries over the plain terms never meet them.
GRAM, SPAN = 4, 2
COMPOUND = "\uffff"


def terms(text: str, mode: str = "index", compound: bool = True):
    """(term, position, startchar, endchar) of a text, positions never decreasing; without
    `compound`, only the plain terms.

    In "query" mode a Chinese run of GRAM or more characters is its compound GRAM-grams, a
    code of several parts its compound runs of up to SPAN parts, and a code's last part
    followed by a Chinese character their compound: the terms the index mode writes at the
    same positions. If more terms follow, the run's last positions get terms of their own too
    (bigrams, shorter runs of parts), so that a phrase's terms stay consecutive.
    """
    text = normalise(text)
    position = 0
    matches = list(_TOKEN.finditer(text))
    held = False  # the last code's compound holds the first character of this run
    # pack_content()'s field separators: no phrase spans two fields
    breaks = [m.start() for m in _FIELD_BREAK.finditer(text)] if FIELD_SEP in text else []
    passed = 0
    for n, match in enumerate(matches):
        start = match.start()
        if passed < len(breaks) and breaks[passed] < start:
            while passed < len(breaks) and breaks[passed] < start:
                passed += 1
            position += FIELD_GAP
            held = False
        after = matches[n + 1] if n + 1 < len(matches) else None
        if match.group("cjk"):
            run = match.group("cjk")
            if not (mode != "index" and held and len(run) == 1 and after is None):
                yield from _run_terms(run, position, start, mode, after is not None, compound)
            position += max(1, len(run) - 1)
            held = False
            continue
        code = match.group("code")
        parts = list(_PART.finditer(code))
        if len(parts) == 1:
            found = [(_word(code), position, start, match.end())]
        elif mode != "index" and after is None and _ALNUM_RUN.fullmatch(code):
            # Typed without dashes or spaces ("CC261101", "ISO9001"): the joined form, which
            # the index holds for the code however it is written.
            found = [("".join(p.group() for p in parts), position, start, match.end())]
        else:
            found = list(_code_terms(parts, position, start, match.end(), mode,
                                     after is not None, compound))
            if mode == "index" and _BLANK.search(code):
                found = sorted(found + _pieces_joined(code, parts, position, start),
                               key=lambda term: term[1])
        held = compound and after is not None and after.group("cjk") is not None and \
            _SPACES.match(text, match.end()).end() == after.start()
        if held:
            last = parts[-1]
            joined = (COMPOUND + _word(last.group()) + after.group("cjk")[0],
                      position + len(parts) - 1, start + last.start(), after.start() + 1)
            if mode == "index":
                found.append(joined)
            else:  # instead of the last part, the last of the code's query terms
                found[-1] = joined
        yield from found
        position += len(parts)


def _pieces_joined(code: str, parts, position: int, start: int) -> list[tuple]:
    """The joined form of each piece of a code joined across spaces ("provide 8D" as one code,
    as "ISO 9001" is) that has parts of its own: "8d" at its first part's position, as "8D"
    written alone is indexed, so that typing 8D finds "please provide 8D report"."""
    found = []
    for piece in _NOT_BLANK.finditer(code):
        inside = [n for n, part in enumerate(parts)
                  if piece.start() <= part.start() < piece.end()]
        if len(inside) > 1:
            found.append(("".join(parts[n].group() for n in inside), position + inside[0],
                          start + piece.start(), start + piece.end()))
    return found


def _run_terms(run: str, position: int, start: int, mode: str, more: bool, compound: bool):
    """The terms of a run of Chinese characters (see the module's docstring)."""
    size = len(run)
    if mode == "index":
        yield run[0], position, start, start + 1  # a run's first character on its own too
        for i in range(size - 1):
            yield run[i:i + 2], position + i, start + i, start + i + 2
            if compound and i + GRAM <= size:
                yield COMPOUND + run[i:i + GRAM], position + i, start + i, start + i + GRAM
        if size > 1:  # shares the last bigram's position
            yield run[-1], position + size - 2, start + size - 1, start + size
    elif size == 1:
        yield run, position, start, start + 1
    elif size < GRAM or not compound:
        for i in range(size - 1):
            yield run[i:i + 2], position + i, start + i, start + i + 2
    else:
        for i in range(size - GRAM + 1):
            yield COMPOUND + run[i:i + GRAM], position + i, start + i, start + i + GRAM
        if more:
            for i in range(size - GRAM + 1, size - 1):
                yield run[i:i + 2], position + i, start + i, start + i + 2


def _code_terms(parts, position: int, start: int, end: int, mode: str, more: bool,
                compound: bool):
    """The terms of a code of several parts (see the module's docstring)."""
    words = [_word(part.group()) for part in parts]
    count = len(words)
    if not compound and mode != "index":
        for i, part in enumerate(parts):
            yield words[i], position + i, start + part.start(), start + part.end()
        return

    def joined(i: int, j: int):  # parts i..j as one compound term
        return (COMPOUND + "-".join(words[i:j + 1]), position + i, start + parts[i].start(),
                start + parts[j].end())

    if mode == "index":
        yield "".join(p.group() for p in parts), position, start, end
        for i, part in enumerate(parts):
            yield words[i], position + i, start + part.start(), start + part.end()
            for j in range(i + 1, min(count, i + SPAN) if compound else 0):
                yield joined(i, j)
        return
    width = min(count, SPAN)
    for i in range(count - width + 1):
        yield joined(i, i + width - 1)
    if more:
        for i in range(count - width + 1, count):
            yield joined(i, count - 1) if i < count - 1 else \
                (words[i], position + i, start + parts[i].start(), start + parts[i].end())


class QrecTokenizer(Tokenizer):
    """Whoosh tokenizer over terms(); it also lower-cases and stems, so it is the whole
    analyzer. The mode ("index" or "query") comes from Whoosh."""

    compound = True

    def __init__(self, compound: bool = True):
        self.compound = compound

    def __eq__(self, other):
        return isinstance(other, QrecTokenizer) and other.compound == self.compound

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        found = terms(value, "query" if mode == "query" else "index", self.compound) \
            if tokenize else [(value, 0, 0, len(value))]
        for text, position, startchar, endchar in found:
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + position
            if chars:
                token.startchar = start_char + startchar
                token.endchar = start_char + endchar
            yield token

    def term_positions(self, value: str):
        """(term, position) of what __call__ yields when indexing `value` (codec.py reads
        them so, without a Whoosh Token each)."""
        for text, position, _, _ in terms(value, "index", self.compound):
            yield text, position


def analyzer(compound: bool = True) -> QrecTokenizer:
    """The analyzer of `content`, or without compound terms (`customer`, the form fields:
    their queries stay phrases, which costs less than the terms would cost every build)."""
    return QrecTokenizer(compound)


class FieldsTokenizer(Tokenizer):
    """Indexes pack_fields() text as terms "<field id>:<term>": one Whoosh field for all the
    forms' fields (a Whoosh field each would double the cost of every commit). Queries name
    a field as `part_no:...` and query.py rewrites them to these terms."""

    def __eq__(self, other):
        return isinstance(other, FieldsTokenizer)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        base = start_pos
        for part in value.split(FIELD_SEP):
            fid, _, text = part.partition(VALUE_SEP)
            last = base
            for term, position, _, _ in terms(text, compound=False):
                token.text = f"{fid}:{term}"
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = token.text
                last = token.pos = base + position
                yield token
            base = last + FIELD_GAP

    def term_positions(self, value: str):
        """(term, position) of what __call__ yields when indexing `value`."""
        base = 0
        for part in value.split(FIELD_SEP):
            fid, _, text = part.partition(VALUE_SEP)
            last = base
            for term, position, _, _ in terms(text, compound=False):
                last = base + position
                yield f"{fid}:{term}", last
            base = last + FIELD_GAP
