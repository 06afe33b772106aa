"""Record data from the command line: --data FILE (YAML or JSON) and --set FIELD=VALUE."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from .errors import QrecError

MAX_DATA_BYTES = 10 * 1024 * 1024


class _TextLoader(yaml.SafeLoader):
    """YAML whose scalars stay text: `0012`, `1.10`, `12:30`, `NO` reach the field as typed
    and the field's own type parses them (YAML 1.1 would make them 10, 1.1, 750 and False).
    The pure-Python parser on purpose: its messages name the bad character."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def load_yaml_text(text: str):
    """Parse YAML with scalars as strings (raises yaml.YAMLError or RecursionError)."""
    return yaml.load(text, Loader=_TextLoader)


def load_data_file(name: str) -> dict:
    """A mapping of field id to value from a YAML or JSON file ('-' reads standard input)."""
    try:
        if name == "-":
            text = sys.stdin.read(MAX_DATA_BYTES + 1)
        else:
            path = Path(name)
            if path.is_dir():
                raise QrecError(f"--data {name}: is a folder, not a file")
            if path.stat().st_size > MAX_DATA_BYTES:
                raise QrecError(f"--data {name}: larger than {MAX_DATA_BYTES // 2**20} MiB")
            text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise QrecError(f"--data {name}: no such file") from None
    except UnicodeDecodeError:
        raise QrecError(f"--data {name}: not UTF-8 text") from None
    except OSError as exc:
        raise QrecError(f"--data {name}: cannot read: {exc.strerror}") from None
    try:
        doc = _parse(name, text)
    except RecursionError:
        raise QrecError(f"--data {name}: nested too deeply to be record data") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        kind = "a list" if isinstance(doc, list) else "a single value"
        raise QrecError(f"--data {name}: must be a mapping of field id to value, not {kind}")
    return {str(key): value for key, value in doc.items()}


def _parse(name: str, text: str):
    if name.lower().endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise QrecError(f"--data {name}: invalid JSON at line {exc.lineno} column "
                            f"{exc.colno}: {exc.msg}") from None
    else:
        try:
            return load_yaml_text(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
            raise QrecError(f"--data {name}: invalid YAML{at}: "
                            f"{getattr(exc, 'problem', None) or exc}") from None


def parse_assignments(assignments: tuple[str, ...]) -> dict:
    """--set FIELD=VALUE pairs; VALUE stays text and is parsed by the field's type."""
    data = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise QrecError(f"--set {item!r}: expected FIELD=VALUE")
        data[name.strip()] = value
    return data
