"""Records made of real procedure text, queries drawn from it, and brute-force oracles.

The text is the corpus in shared/corpus beside the checkout (one Traditional and one
Simplified Chinese procedure document, with the flaws of scraped text), read at test time and
never copied into the repository. Each record holds three consecutive paragraphs of one
document in its long-text fields; every fourth also a sentence with a code (CODE_NOTES).

The oracles know nothing of the index: a query is expected in a record when one of the record's
searchable values (tests/corpus.searchable) contains it, both folded to one script by OpenCC's
phrase-level t2s conversion, as a reader who takes 質量 and 质量 for the same word would.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

from tests.conftest import ROOT

CORPUS = ROOT.parent / "shared" / "corpus"
SOURCES = {"traditional": "procedures-traditional.txt", "simplified": "procedures-simplified.txt"}
CUSTOMERS = ["華東電力設備有限公司", "华东电力设备有限公司", "臺灣精密機械股份有限公司",
             "苏州明辉电子科技有限公司"]
# Codes written beside Chinese in the ways people write them, and traps that only look alike.
CODE_NOTES = ["本公司依据ISO9001:2015建立质量管理体系", "通過 ISO 9001 認證", "按ISO-9001要求执行",
              "依據ＩＳＯ９００１：２０１５標準", "客户要求提交8D报告", "8D 报告已于三日内回复",
              "同时符合ISO 14001与GB/T 19001", "成立8D小组并出具检验报告",
              "2016年版本已作废", "按GB/T19001-2016执行"]
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
TOKEN = r"0-9a-z\u3400-\u4dbf\u4e00-\u9fff"  # what the oracle counts as text, not punctuation


def paragraphs(script: str) -> list[str]:
    path = CORPUS / SOURCES[script]
    assert path.is_file(), f"the real-text corpus is missing: {path} (shared/corpus must be " \
                           "beside the checkout)"
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def records() -> list[tuple[str, dict]]:
    """(script, complaint data) of every record, in a fixed order."""
    made = []
    for script in SOURCES:
        found = paragraphs(script)
        for at in range(0, len(found), 3):
            n = len(made)
            data = {"market": "domestic", "customer": CUSTOMERS[n % len(CUSTOMERS)],
                    "received_date": f"2026-{1 + n % 10:02d}-{1 + n % 7:02d}",
                    "description": found[at]}
            data.update(zip(("customer_request", "cause_analysis"), found[at + 1:at + 3]))
            if n % 4 == 0:
                data["complaint_reason"] = CODE_NOTES[n // 4 % len(CODE_NOTES)]
            made.append((script, data))
    return made


@lru_cache(maxsize=4)
def _opencc(config: str):
    from opencc import OpenCC

    return OpenCC(config)


def fold(text: str) -> str:
    """NFKC, lower case (as tests/corpus.fold) and Simplified, phrase by phrase."""
    from tests import corpus

    return _opencc("t2s").convert(corpus.fold(text))


def contains(needle: str):
    needle = fold(needle)
    return lambda values: any(needle in value for value in values)


def _draw(rng: random.Random, texts: list[str], shortest: int, longest: int,
          fits) -> str:
    while True:
        text = rng.choice(texts)
        size = rng.randint(shortest, longest)
        if len(text) < size:
            continue
        start = rng.randrange(len(text) - size + 1)
        piece = text[start:start + size]
        if fits(piece):
            return piece


def substrings(rng: random.Random, count: int) -> list[tuple[str, object]]:
    """Runs of 1 to 6 Chinese characters of either text, typed in its script."""
    found = []
    for script in SOURCES:
        texts = paragraphs(script)
        for _ in range(count):
            piece = _draw(rng, texts, 1, 6, lambda p: all(HAN.match(c) for c in p))
            found.append((piece, contains(piece)))
    return found


def cross_script(rng: random.Random, count: int) -> list[tuple[str, object]]:
    """Terms of 2 to 6 Chinese characters of one text, typed in the other script (OpenCC's
    phrase-level conversion, as an input method in the other script would type them)."""
    found = []
    for script, other in (("traditional", "t2s"), ("simplified", "s2t")):
        texts = paragraphs(script)
        wanted = len(found) + count
        while len(found) < wanted:
            piece = _draw(rng, texts, 2, 6, lambda p: all(HAN.match(c) for c in p))
            typed = _opencc(other).convert(piece)
            if typed != piece:
                found.append((typed, contains(piece)))
    return found


def pasted(rng: random.Random, count: int) -> list[tuple[str, object]]:
    """Fragments of 4 to 16 characters as copied from the texts: from one Chinese character
    to another, with punctuation, brackets or digits between, no spaces. Expected where the
    same characters stand in that order with only punctuation (or nothing) between them."""
    found = []

    def fits(piece: str) -> bool:
        return bool(HAN.match(piece[0]) and HAN.match(piece[-1]) and not any(
            c.isspace() for c in piece) and any(not HAN.match(c) for c in piece))

    for script in SOURCES:
        texts = paragraphs(script)
        for _ in range(count):
            piece = _draw(rng, texts, 4, 16, fits)
            tokens = re.findall(f"[{TOKEN}]+", fold(piece))
            pattern = re.compile(f"[^{TOKEN}]*".join(map(re.escape, tokens)))
            found.append((piece, lambda values, p=pattern: any(p.search(v) for v in values)))
    return found


def _code(pattern: str):
    compiled = re.compile(pattern)
    return lambda values: any(compiled.search(value) for value in values)


ISO9001 = r"(?<![a-z0-9])iso[-_/. ]*9001(?![0-9])"
EIGHT_D = r"(?<![a-z0-9])8[-_/.]?d[ \t]*报告"
MIXED_CODES = [(text, _code(pattern)) for text, pattern in [
    ("ISO9001", ISO9001), ("ISO 9001", ISO9001), ("ISO-9001", ISO9001), ("iso9001", ISO9001),
    ("ＩＳＯ９００１", ISO9001), ("ISO9001:2015", ISO9001[:-9] + r"[^0-9a-z]*2015(?![0-9])"),
    ("8D报告", EIGHT_D), ("8D 报告", EIGHT_D), ("８Ｄ報告", EIGHT_D),
    ("GB/T 19001", r"(?<![a-z0-9])gb[-_/. ]*t[-_/. ]*19001(?![0-9])"),
    ("GB/T19001", r"(?<![a-z0-9])gb[-_/. ]*t[-_/. ]*19001(?![0-9])"),
    ("ISO 14001", r"(?<![a-z0-9])iso[-_/. ]*14001(?![0-9])"),
    ("-2016", r"(?<![0-9])2016(?![0-9])"), ("2016年", r"(?<![0-9])2016[ \t]*年"),
]]
