"""Which queries are not Whoosh's query language but text people pasted, and field names typed
by their Chinese labels.

People paste fragments of documents: `a)生技部`, `"仅部分预览`, `ISO9001:2015`, `第(三)条`.
Whoosh would read their brackets as grouping, their colons as field names, and either refuse
them or search for something else (`第(三)条` as 第 AND 三 AND 条). A query is searched as the
text it is (query.py) when literal_reason() names a reason:

- a quote that is not closed;
- a bracket that is not closed or closes nothing;
- a round bracket inside a word (`第(三)条`: a group starts after a space, a colon or another
  bracket, and ends before one);
- a square or curly bracket not right after a field name (`date:[… TO …]` is a range);
- a field name that is not a field (`ISO9001:2015`, `时间:13:58`, `http://…`);
- an AND or OR at the start, or an AND, OR or NOT at the end (`华东 AND`): it joins nothing.

A question mark ending a word is punctuation, not a wildcard (question_marks()).
"""

from __future__ import annotations

import re

from ..errors import QrecError, suggest

_QUOTED = re.compile(r'"[^"]*"')
OPERATORS = {"AND", "OR", "NOT", "TO"}
_SPACED = re.compile(r"(\s+)")
_FIELD = re.compile(r"(?<![\w.-])(\w+):")
_PAIRS = {"(": ")", "[": "]", "{": "}"}


def literal_reason(text: str, known, sensitive_ids=()) -> tuple[str, str] | None:
    """(Chinese, English) reason why `text` is not a query of Whoosh's language, or None.
    `known` are the field names a query may use. Raises QrecError for the name of a
    sensitive field, which is never searched as text either (it would look like a search)."""
    if text.count('"') % 2:
        return "引号未闭合", 'a quote " is not closed'
    outside = _QUOTED.sub(lambda m: " " * len(m.group()), text)
    for match in _FIELD.finditer(outside):
        name = match.group(1)
        if name in sensitive_ids:
            raise QrecError(f"query: '{name}' is a sensitive field and is not in the index; "
                            "users with the privacy role find a sensitive value by typing it "
                            "as plain words")
        if name not in known:
            return f"未知字段 '{name}'", f"unknown field '{name}'" \
                f"{suggest(name, [k for k in known if not k.startswith('f_')])}"
    return _bracket_reason(outside) or _operator_reason(outside)


def _operator_reason(text: str) -> tuple[str, str] | None:
    """An AND or OR at the start, or an AND, OR or NOT at the end, joins nothing."""
    words = text.split()
    if words and words[0] in {"AND", "OR"}:
        return "多余的运算符", f"'{words[0]}' at the start joins nothing"
    if words and words[-1] in {"AND", "OR", "NOT"}:
        return "多余的运算符", f"'{words[-1]}' at the end joins nothing"
    return None


_QUESTION = re.compile(r"\?(?=\s|$)")


def question_marks(text: str) -> str:
    """`text` with each half-width question mark that ends a word, outside quotes, read as the
    punctuation it is (`顾客满意?`, `是否合格?`, as the full-width `？` is): only a `?` inside
    a word is Whoosh's one-character wildcard (`colo?r`)."""
    out, at = [], 0
    for quoted in _QUOTED.finditer(text):
        out += [_QUESTION.sub(" ", text[at:quoted.start()]), quoted.group()]
        at = quoted.end()
    out.append(_QUESTION.sub(" ", text[at:]))
    return "".join(out).strip()


def _bracket_reason(text: str) -> tuple[str, str] | None:
    stack = []
    for at, char in enumerate(text):
        before = text[at - 1] if at else " "
        after = text[at + 1] if at + 1 < len(text) else " "
        if char in _PAIRS:
            if char == "(" and not (before.isspace() or before in "(:"):
                return "括号在词中", f"'(' at character {at + 1} is inside a word"
            if char != "(" and not re.search(r":\s*$", text[:at]):
                return "方括号不在字段名后", f"'{char}' at character {at + 1} does not " \
                                            "follow a field name"
            stack.append((char, at + 1))
        elif char in _PAIRS.values():
            if not stack or _PAIRS[stack[-1][0]] != char:
                return "多余的括号", f"'{char}' at character {at + 1} closes nothing"
            stack.pop()
            if char == ")" and not (after.isspace() or after in ")"):
                return "括号在词中", f"')' at character {at + 1} is inside a word"
    if stack:
        char, at = stack[-1]
        return "括号未闭合", f"'{char}' at character {at} is not closed"
    return None


def with_field_names(text: str, names: dict[str, str], known) -> str:
    """`text` with each field named by a label in `names` (label -> field name) named by its
    field name instead, in either script (`客戶名稱:` as `客户名称:`), and a full-width colon
    after a field name made ASCII (`客户：华东` -> `customer:华东`); quoted text is left as it
    is."""
    from .analysis import to_simplified

    every = {**{name: name for name in known}, **names}
    if not every:
        return text
    every = {to_simplified(label): name for label, name in every.items()}
    pattern = re.compile(r"(?<![\w/.-])(" + "|".join(
        re.escape(name) for name in sorted(every, key=len, reverse=True)) + r")[:：]")
    folded = to_simplified(text)  # the same length: its offsets are the text's
    quoted = [match.span() for match in _QUOTED.finditer(folded)]
    out, at = [], 0
    for match in pattern.finditer(folded):
        if any(start <= match.start() < end for start, end in quoted):
            continue
        out += [text[at:match.start()], every[match.group(1)] + ":"]
        at = match.end()
    out.append(text[at:])
    return "".join(out)


def code_chinese_apart(text: str) -> str:
    """`text` with a space between a code and the Chinese beside it (`8D报告` -> `8D 报告`,
    `HX-005外观` -> `HX-005 外观`) outside quotes: the same words as when typed with the
    space, for the search that looks for them anywhere in a record."""
    from .analysis import is_cjk, normalise

    out, quoted = [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if out and not quoted and char.strip() and out[-1].strip():
            before, after = normalise(out[-1]), normalise(char)
            if (is_cjk(before) and after.isascii() and after.isalnum()) or \
                    (before.isascii() and before.isalnum() and is_cjk(after)):
                out.append(" ")
        out.append(char)
    return "".join(out)


def typographic_spaces(text: str) -> str:
    """`text` without the spaces people put between a code and the Chinese after it, and
    between letters and digits (`8D 报告`, `ISO 9001`): the words are searched as if written
    together, which the index finds written either way (analysis.py). Spaces next to an
    operator, a field name, or in quotes or a range are kept, and so are spaces between
    Chinese and a code after it (`铝合金外壳 3型`: two words, cheaper than a phrase)."""
    from .analysis import is_cjk, normalise

    def kind(char: str) -> str:
        char = normalise(char)
        return "cjk" if is_cjk(char) else "digit" if char.isdigit() else \
            "letter" if char.isalpha() else ""

    pieces = _SPACED.split(text)
    out, quoted, ranged = [pieces[0]], False, 0
    for n in range(1, len(pieces), 2):
        before, after = pieces[n - 1], pieces[n + 1]
        quoted ^= before.count('"') % 2 == 1
        ranged += before.count("[") + before.count("{") - before.count("]") - before.count("}")
        pair = (kind(before[-1:]), kind(after[:1])) if before and after else ("", "")
        join = not quoted and not ranged and ":" not in before and ":" not in after and \
            before not in OPERATORS and after not in OPERATORS and \
            pair in {("letter", "cjk"), ("digit", "cjk"), ("letter", "digit")}
        out += ["" if join else pieces[n], after]
    return "".join(out)
