"""Search-result snippets: the matching words of a hit, in their field, marked 【like this】.

Built from the version's non-sensitive field texts (the same texts that were indexed), so a
sensitive value can never show up in a snippet."""

from __future__ import annotations

from .analysis import COMPOUND, GRAM, cjk_only, is_cjk, normalise, terms
from .documents import CONTENT_TYPES

OPEN, CLOSE = "【", "】"
BEFORE, AFTER = 16, 48  # characters of context around the first match of a field


def needles(parsed) -> list[tuple[str, str, bool]]:
    """(field, term, is_prefix) of every term a query looks for."""
    from whoosh import query

    found = []
    for leaf in parsed.leaves():
        if isinstance(leaf, query.Prefix):
            found.append((leaf.fieldname, leaf.text, True))
        elif isinstance(leaf, query.Phrase):
            found.extend((leaf.fieldname, word, False) for word in leaf.words)
        elif isinstance(leaf, query.Term) and isinstance(leaf.text, str):
            found.append((leaf.fieldname, leaf.text, False))
    return found


def snippet(form, texts: dict[str, str], wanted, limit: int = 2) -> str:
    """Up to `limit` fields with matches, as "标签: …context 【match】 context…"."""
    parts = []
    for fid, text in texts.items():
        field = form.field(fid)
        fields = {f"f_{fid}"}
        if field.type in CONTENT_TYPES:
            fields.add("content")
        if fid == form.customer_field:
            fields.add("customer")
        looked_for = [(term, prefix) for name, term, prefix in wanted if name in fields]
        spans = []
        if looked_for and _may_hold(text, looked_for):
            spans = _found_spans(text, looked_for)
            if spans is None:
                spans = _spans(text, looked_for)
        if spans:
            parts.append(f"{field.label.zh}: {_marked(text, spans)}")
        if len(parts) == limit:
            break
    if parts:
        return " | ".join(parts)
    first = next(((fid, t) for fid, t in texts.items()
                  if form.field(fid).type in ("text", "longtext")), None)
    return f"{form.field(first[0]).label.zh}: {_clip(first[1])}" if first else ""


def _may_hold(text: str, looked_for) -> bool:
    """False when no term looked for can be among the text's terms, told without analysing
    it: a term with a Chinese character that is not in the normalised text (terms() takes
    every Chinese character of a term from the text), or a Chinese term (or a prefix of one)
    that is no piece of it. A term without Chinese characters (a code, a word, which analysis
    joins or stems) may be there."""
    folded = None
    for term, _ in looked_for:
        bare = term.lstrip(COMPOUND)
        chinese = [char for char in bare if is_cjk(char)]
        if not chinese:
            return True
        if folded is None:
            folded = normalise(text)
        if bare in folded if len(chinese) == len(bare) else \
                all(char in folded for char in chinese):
            return True
    return False


def _found_spans(text: str, looked_for) -> list[tuple[int, int]] | None:
    """_spans(text, looked_for) found with str.find, or None when a term looked for is not
    one it can find so (a prefix, a single character, a code, a word). terms() makes every
    bigram and every GRAM-gram (compound) of each run of Chinese characters, so each place
    such a term is written in the normalised text is a term; no other term is only
    Chinese characters."""
    found, folded = [], None
    for term, prefix in looked_for:
        compound = term.startswith(COMPOUND)
        bare = term[1:] if compound else term
        if prefix or len(bare) < 2 or not cjk_only(bare):
            return None
        if len(bare) != (GRAM if compound else 2):
            continue  # not a term terms() makes: it matches nothing
        if folded is None:
            folded = normalise(text)
        at = folded.find(bare)
        while at != -1:
            found.append((at, at + len(bare)))
            at = folded.find(bare, at + 1)
    spans: list[tuple[int, int]] = []
    for start, end in sorted(found):  # as _spans joins them, in the order terms() gives
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def _spans(text: str, looked_for) -> list[tuple[int, int]]:
    spans = []
    for term, _, start, end in terms(text):
        if any(term.startswith(t) if prefix else term == t for t, prefix in looked_for):
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
            else:
                spans.append((start, end))
    return spans


def _marked(text: str, spans) -> str:
    start = max(0, spans[0][0] - BEFORE)
    end = min(len(text), spans[0][1] + AFTER)
    out, at = [], start
    for s, e in spans:
        if s >= end:
            break
        out += [text[at:s], OPEN, text[s:min(e, end)], CLOSE]
        at = min(e, end)
    out.append(text[at:end])
    body = "".join(out).replace("\n", " ")
    return ("…" if start else "") + body + ("…" if end < len(text) else "")


def _clip(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= BEFORE + AFTER else text[:BEFORE + AFTER] + "…"
