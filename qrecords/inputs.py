"""Record data from the command line: --data FILE (YAML or JSON) and --set FIELD=VALUE.

A data file is bounded before it becomes Python objects: at most MAX_DATA_BYTES, at most
MAX_DATA_VALUES values (keys, values and the lists and mappings holding them; an alias counts
as what it repeats) and MAX_DATA_DEPTH levels of nesting. The largest built-in record (200
property items of 9 columns) holds about 4,000 values at depth 4, so the bounds leave room for
any form while a hostile or mistaken 10 MB file is refused in a fraction of a second instead of
being built (a million keys took three minutes and 1.4 GB). A key given twice in one mapping is
refused, naming it and both lines: YAML and JSON parsers would silently keep the last.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from .errors import QrecError

MAX_DATA_BYTES = 10 * 1024 * 1024
MAX_DATA_VALUES = 20_000
MAX_DATA_DEPTH = 10


class DataShapeError(yaml.YAMLError):
    """Data that parses but may not be used as record data: a key given twice, too many values,
    nested too deeply, an alias to itself. str() is the whole one-line message."""


# -- YAML ----------------------------------------------------------------------------------


try:  # libyaml scans and parses in C; without it PyYAML's own parser does (slowly)
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

if CParser is not None:
    class _Source(CParser):
        def __init__(self, text: str):
            CParser.__init__(self, text)
else:  # pragma: no cover
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Source(Reader, Scanner, Parser):
        def __init__(self, text: str):
            Reader.__init__(self, text)
            Scanner.__init__(self)
            Parser.__init__(self)


class _TextLoader(Composer, _Source, SafeConstructor, Resolver):
    """Safe YAML whose scalars stay text: `0012`, `1.10`, `12:30`, `NO` reach the field as typed
    and the field's own type parses them (YAML 1.1 would make them 10, 1.1, 750 and False).

    The parser is libyaml's; the composer is PyYAML's own (listed first, so it replaces the C
    one), counting values and depth as it goes so an oversized document stops early; the
    constructor refuses a key given twice."""

    def __init__(self, text: str):
        _Source.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._values = 0
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> values it holds, for aliases to it

    def compose_node(self, parent, index):
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if id(node) not in self._sizes:
                raise DataShapeError(f"the alias at line {mark.line + 1} refers to the value "
                                     "that holds it")
            self._count(self._sizes[id(node)], mark)
            return node
        self._depth += 1
        if self._depth > MAX_DATA_DEPTH:
            raise DataShapeError(f"nested too deeply to be record data (more than "
                                 f"{MAX_DATA_DEPTH} levels at line {mark.line + 1})")
        before = self._values
        self._count(1, mark)
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._sizes[id(node)] = self._values - before
        return node

    def _count(self, values: int, mark) -> None:
        self._values += values
        if self._values > MAX_DATA_VALUES:
            raise DataShapeError(_too_many(mark.line + 1))

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode):
                    continue  # a list or mapping as a key: the constructor refuses it
                key = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise DataShapeError(_duplicate(key, seen[key], line))
                seen[key] = line
        return super().construct_mapping(node, deep)


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def load_yaml_text(text: str):
    """Parse YAML with scalars as strings, within the bounds of record data. Raises
    yaml.YAMLError (a DataShapeError for a key given twice, too many values or nesting)."""
    loader = _TextLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _too_many(line: int) -> str:
    return (f"holds more than {MAX_DATA_VALUES} values (at line {line}); record data is "
            "far smaller")


def _duplicate(key, first: int, again: int) -> str:
    where = f"line {first}" + (f" and line {again}" if again != first else "")
    return f"the key {str(key)!r} is given twice ({where}); give each key once"


# -- JSON ----------------------------------------------------------------------------------

_JSON_TOKEN = re.compile(r'["{}\[\]:,]')
_JSON_STRING_REST = re.compile(r'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.S)
_JSON_COLON = re.compile(r"[ \t\r\n]*:")


def _check_json_shape(text: str) -> str | None:
    """Walk the structure of JSON text before it is parsed (strings are skipped by a regular
    expression, so long values cost little): raises DataShapeError beyond MAX_DATA_VALUES or
    MAX_DATA_DEPTH; returns the message for the first key given twice in one object (reported
    once the text is known to be valid JSON), or None. Broken JSON is left to json.loads."""
    stack: list[dict | None] = []  # per open container: an object's keys -> offset, or None
    values, pos, duplicate = 0, 0, None
    while match := _JSON_TOKEN.search(text, pos):
        token, pos = match.group(), match.end()
        if token == '"':
            rest = _JSON_STRING_REST.match(text, pos)
            if rest is None:
                return duplicate  # an unterminated string: json.loads says where
            pos = rest.end()
            if stack and stack[-1] is not None and _JSON_COLON.match(text, pos):
                try:
                    key = json.loads(text[match.start():pos])
                except ValueError:
                    return duplicate
                keys = stack[-1]
                if key in keys and duplicate is None:
                    duplicate = _duplicate(key, _line(text, keys[key]),
                                           _line(text, match.start()))
                keys.setdefault(key, match.start())
            continue
        if token in "{[":
            stack.append({} if token == "{" else None)
            if len(stack) > MAX_DATA_DEPTH:
                raise DataShapeError(f"nested too deeply to be record data (more than "
                                     f"{MAX_DATA_DEPTH} levels at line {_line(text, pos)})")
        elif token in "}]":
            if stack:
                stack.pop()
            continue
        elif token == "," and stack and stack[-1] is not None:
            continue  # between an object's members: its keys are counted by their colons
        values += 1  # a container, a member (its colon) or an array element (its comma)
        if values > MAX_DATA_VALUES:
            raise DataShapeError(_too_many(_line(text, pos)))
    return duplicate


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# -- files ---------------------------------------------------------------------------------


def load_data_file(name: str) -> dict:
    """A mapping of field id to value from a YAML or JSON file ('-' reads standard input).

    Raises QrecError, one line naming the file and the problem (and the line where there is
    one): missing, a folder, larger than MAX_DATA_BYTES, not UTF-8, invalid YAML/JSON, a key
    given twice, more than MAX_DATA_VALUES values, nested deeper than MAX_DATA_DEPTH, or not a
    mapping."""
    try:
        if name == "-":
            raw = sys.stdin.buffer.read(MAX_DATA_BYTES + 1)
        elif Path(name).is_dir():
            raise QrecError(f"--data {name}: 是文件夹 is a folder, not a file")
        else:  # read as far as the limit, whatever the file is (/dev/zero has no size)
            with open(name, "rb") as data:
                raw = data.read(MAX_DATA_BYTES + 1)
        if len(raw) > MAX_DATA_BYTES:
            raise QrecError(f"--data {name}: 文件过大 larger than {MAX_DATA_BYTES // 2**20} MiB")
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise QrecError(f"--data {name}: 文件不存在 no such file") from None
    except UnicodeDecodeError:
        raise QrecError(f"--data {name}: 不是 UTF-8 文本 not UTF-8 text") from None
    except OSError as exc:
        raise QrecError(f"--data {name}: 无法读取 cannot read: {exc.strerror}") from None
    try:
        doc = _parse(name, text)
    except RecursionError:
        raise QrecError(f"--data {name}: nested too deeply to be record data") from None
    except DataShapeError as exc:
        raise QrecError(f"--data {name}: {exc}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        kind = "a list" if isinstance(doc, list) else "a single value"
        raise QrecError(f"--data {name}: must be a mapping of field id to value, not {kind}")
    return {str(key): value for key, value in doc.items()}


def _parse(name: str, text: str):
    if name.lower().endswith(".json"):
        duplicate = _check_json_shape(text)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise QrecError(f"--data {name}: invalid JSON at line {exc.lineno} column "
                            f"{exc.colno}: {exc.msg}") from None
        if duplicate:
            raise DataShapeError(duplicate)
        return doc
    try:
        return load_yaml_text(text)
    except DataShapeError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise QrecError(f"--data {name}: invalid YAML{at}: "
                        f"{_problem(exc, mark, text)}") from None


def _problem(exc: yaml.YAMLError, mark, text: str) -> str:
    """The parser's complaint, naming the character at the mark where libyaml's does not
    ("found character that cannot start any token" -> "... ('\\t')")."""
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
        return (f"unacceptable character #x{exc.character:04x} at line "
                f"{_line(text, exc.position)}: {exc.reason}")
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None and "character" in problem and "'" not in problem:
        lines = text.splitlines()
        if mark.line < len(lines) and mark.column < len(lines[mark.line]):
            problem += f" ({lines[mark.line][mark.column]!r})"
    return problem


def parse_assignments(assignments: tuple[str, ...]) -> dict:
    """--set FIELD=VALUE pairs; VALUE stays text and is parsed by the field's type."""
    data = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise QrecError(f"--set {item!r}: expected FIELD=VALUE")
        data[name.strip()] = value
    return data
