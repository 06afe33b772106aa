"""Text analysis for the index: Chinese by overlapping character bigrams, codes by their parts
and their joined form, English words lower-cased and stemmed.

Why bigrams and not a dictionary segmenter (jieba): any run of two or more Chinese characters
in a record is found by typing it, whether or not a dictionary knows it as a word ("华东" in
"华东电力设备有限公司", "包装破损" across a word boundary), and there is no dictionary to load in
every short-lived `qrec` process (jieba takes about a second). bench/run.py measures both.

Positions: a Chinese run "包装破损" gives 包装@0 装破@1 破损@2 and unigrams for its first and
last characters, 包@0 and 损@2 (at the first and last bigram's positions); a query "包装破损"
becomes the phrase 包装 装破 破损, so it matches exactly that substring, and a query's tokens
are consecutive whatever follows the run (Whoosh phrases assume that). A one-character query
matches any bigram starting with it or a run-final unigram (see query.py); next to a code
("A级", "3月") it matches the unigram that starts a run. A code "PCB-4451-A" gives pcb@0
4451@1 a@2 plus the joined form pcb4451a@0: typed with dashes it is the phrase of its parts,
typed without them it is the joined form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from whoosh.analysis import Token, Tokenizer
from whoosh.lang.porter import stem

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_ALNUM = rf"[^\W_{_CJK}]"  # letters and digits of any script but Chinese
_TOKEN = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<code>{_ALNUM}+(?:[-_/.]{_ALNUM}+)*)")
_PART = re.compile(rf"{_ALNUM}+")
_ALPHA = re.compile(r"[a-z]+")


def is_cjk(char: str) -> bool:
    return bool(re.fullmatch(f"[{_CJK}]", char))


def normalise(text: str) -> str:
    """Full-width letters, digits and dashes to ASCII (NFKC), lower case, and the same length
    as the text, so that character offsets point into the original for highlighting."""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) == len(text):
        return folded
    return "".join(n if len(n := unicodedata.normalize("NFKC", c).lower()) == 1 else c
                   for c in text)


@lru_cache(maxsize=65536)
def _word(part: str) -> str:
    """An English word is stemmed (damaged -> damag); codes and numbers stay as typed."""
    return stem(part) if _ALPHA.fullmatch(part) else part


def terms(text: str, mode: str = "index"):
    """(term, position, startchar, endchar) of a text, positions never decreasing."""
    text = normalise(text)
    position = 0
    for match in _TOKEN.finditer(text):
        start = match.start()
        if match.group("cjk"):
            run = match.group("cjk")
            if len(run) == 1 or mode == "index":  # a run's first character on its own too
                yield run[0], position, start, start + 1
            for i in range(len(run) - 1):
                yield run[i:i + 2], position + i, start + i, start + i + 2
            if len(run) > 1 and mode == "index":  # shares the last bigram's position
                yield run[-1], position + len(run) - 2, start + len(run) - 1, start + len(run)
            position += max(1, len(run) - 1)
            continue
        parts = list(_PART.finditer(match.group("code")))
        if len(parts) == 1:
            yield _word(parts[0].group()), position, start, match.end()
        else:
            if mode == "index":
                yield "".join(p.group() for p in parts), position, start, match.end()
            for i, part in enumerate(parts):
                yield _word(part.group()), position + i, start + part.start(), \
                    start + part.end()
        position += len(parts)


class QrecTokenizer(Tokenizer):
    """Whoosh tokenizer over terms(); it also lower-cases and stems, so it is the whole
    analyzer. The mode ("index" or "query") comes from Whoosh."""

    def __eq__(self, other):
        return isinstance(other, QrecTokenizer)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        found = terms(value, "query" if mode == "query" else "index") if tokenize \
            else [(value, 0, 0, len(value))]
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


def analyzer() -> QrecTokenizer:
    return QrecTokenizer()


FIELD_SEP, VALUE_SEP = "\x1e", "\x1f"
FIELD_GAP = 100  # positions between fields, so no phrase spans two of them


def pack_fields(texts: dict[str, str]) -> str:
    """Every field's text in one value for the `fields` index field (see FieldsTokenizer)."""
    return FIELD_SEP.join(f"{fid}{VALUE_SEP}{text}" for fid, text in texts.items())


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
            for term, position, _, _ in terms(text):
                token.text = f"{fid}:{term}"
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = token.text
                last = token.pos = base + position
                yield token
            base = last + FIELD_GAP
