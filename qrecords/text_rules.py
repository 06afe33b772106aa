"""What text a user gives may hold: the control characters refused in values, reasons,
comments and the names of files written with --out, and shown escaped where a message
quotes what a user typed."""

from __future__ import annotations

import re
import unicodedata

# Characters no value, reason, comment or output file name may hold (tab and newline are
# fine): C0 controls and U+FFFE/U+FFFF (invalid in XML 1.0, and so in DOCX), DEL and the C1
# controls, the line and paragraph separators U+2028/U+2029 (they break a line where the
# display does not expect one), and the bidirectional embeddings, overrides and isolates
# U+202A-U+202E and U+2066-U+2069, which make text display in another order than it is stored
# ("Trojan Source", CVE-2021-42574; Unicode TR #9). The marks LRM/RLM/ALM stay allowed: they
# reorder nothing beyond themselves and right-to-left names need them.
CONTROL_CHARACTERS = (r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e"
                      r"\u2066-\u2069\ufffe\uffff")
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")


def control_character(text: str) -> str | None:
    """The first control character in text (see CONTROL_CHARACTERS; tab and newline are
    fine), written like U+001B, or U+202E (RIGHT-TO-LEFT OVERRIDE) when Unicode names it;
    None if there is none. A record's values, reasons, comments and the names of files written
    with --out may not hold one."""
    found = _CONTROL.search(text)
    if not found:
        return None
    name = unicodedata.name(found.group(), "")
    return f"U+{ord(found.group()):04X}" + (f" ({name})" if name else "")


# Control characters a message may quote from the user (a number, a user name): shown escaped
# by both faces, so a hostile argument can drive neither a terminal nor a page. Newline and
# tab are a message's own.
_QUOTED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escaped_controls(message: str) -> str:
    """`message` with each control character it quotes written as Python writes it in a
    string (\\x1b, \\u202e): what a face prints or shows of an error."""
    return _QUOTED.sub(lambda m: repr(m.group())[1:-1], message)
