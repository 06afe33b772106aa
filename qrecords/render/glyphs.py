"""Characters no installed font can draw: LibreOffice prints them as empty boxes in the PDF (and
its text layer may lose them), so the user is told which ones, never left to find out.

Which fonts LibreOffice draws with is fontconfig's answer under qrecords/render/fonts.conf, the
configuration the converter runs with; the union of their character sets is asked of `fc-list`
once and cached on disk (keyed by the font files and their versions), so a check costs one
quick `fc-list` listing of files. tools/install-system-deps.sh installs Noto CJK for Chinese
and Symbola for symbols and emoji (✅ ❌ 👍), which cover what forms are usually filled with.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

from .pdf import FONTS, cache_dir

# Characters that are not drawn on their own: joiners and variation selectors (an emoji's
# U+200D, U+FE0F) and other format characters; spaces and line breaks.
_INVISIBLE = {"Cf", "Zs", "Zl", "Zp", "Cc"}
_VARIATION = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF), (0x180B, 0x180F))


def missing_glyphs(text: str) -> list[str] | None:
    """The characters of `text` that no font LibreOffice can use has, each once, in order of
    appearance; None when fontconfig (`fc-list`) is not installed, so no one can tell."""
    wanted = [c for c in dict.fromkeys(text) if ord(c) > 0x7E and _drawn(c)]
    if not wanted:
        return []
    coverage = _coverage()
    if coverage is None:
        return None
    starts, ends = coverage
    missing = []
    for char in wanted:
        at = bisect.bisect_right(starts, ord(char)) - 1
        if at < 0 or ord(char) > ends[at]:
            missing.append(char)
    return missing


def glyph_notices(form, data: dict, where: str) -> list[str]:
    """Warnings for the values of a record version (`data`: field id -> stored value) holding
    characters no installed font has, one per field, e.g. "CC-2611-01 v1: customer (客户名称)
    中的 🫨 U+1FAE8 没有已安装的字体可显示 ... no installed font has it ..."; [] when every
    character is covered or fontconfig cannot be asked."""
    notices = []
    for field, text in _texts(form, data):
        missing = missing_glyphs(text)
        if missing:
            shown = ", ".join(f"{c} U+{ord(c):04X}" for c in missing)
            them = "them" if len(missing) > 1 else "it"
            notices.append(
                f"{where}: {field} 中的 {shown} 没有已安装的字体可显示，PDF 中为空白方框 — no "
                f"installed font has {them}: the PDF shows an empty box (the DOCX and the "
                f"catalog keep the text); install a font that has {them}")
    return notices


def _texts(form, data: dict):
    """(field label, text) for every text value of a record, table cells included."""
    for field in form.fields:
        value = data.get(field.id)
        if field.type == "table":
            for number, row in enumerate(value or [], start=1):
                for column in field.columns:
                    cell = row.get(column.id)
                    if isinstance(cell, str):
                        yield f"{field.id}[{number}].{column.id} ({column.label.zh})", cell
        elif isinstance(value, str) and field.type in ("text", "longtext"):
            yield f"{field.id} ({field.label.zh})", value


def _drawn(char: str) -> bool:
    if unicodedata.category(char) in _INVISIBLE:
        return False
    return not any(low <= ord(char) <= high for low, high in _VARIATION)


@functools.cache
def _coverage() -> tuple[list[int], list[int]] | None:
    """(range starts, range ends) of every character some font has, sorted; None without
    fontconfig. Asked once per process."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTS)}
    try:
        files = _run([fc_list, "--format", "%{file}\t%{fontversion}\n"], env)
    except (OSError, subprocess.SubprocessError):
        return None
    key = hashlib.sha256("".join(sorted(files.splitlines(True))).encode()
                         + FONTS.read_bytes()).hexdigest()[:24]
    cached = cache_dir() / f"charset-{key}.json"
    try:
        ranges = json.loads(cached.read_text())
    except (OSError, ValueError):
        try:
            ranges = _ranges(_run([fc_list, "--format", "%{charset}\n"], env))
        except (OSError, subprocess.SubprocessError):
            return None
        _keep(cached, json.dumps(ranges))
    return [r[0] for r in ranges], [r[1] for r in ranges]


def _run(argv: list[str], env: dict) -> str:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60,
                          check=True).stdout


def _ranges(charsets: str) -> list[list[int]]:
    """The union of fontconfig charsets ("20-7e a0-17f 2705 ...", one font a line) as
    sorted, merged [start, end] ranges."""
    spans = []
    for item in charsets.split():
        low, _, high = item.partition("-")
        spans.append((int(low, 16), int(high or low, 16)))
    merged: list[list[int]] = []
    for low, high in sorted(spans):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


def _keep(path: Path, content: str) -> None:
    try:  # a cache that cannot be written only costs the next process an fc-list
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(content)
        os.replace(partial, path)
    except OSError:
        pass
