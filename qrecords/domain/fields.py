"""Field types: how a value is parsed from user input, checked against its limits, and displayed.

Stored values are JSON-friendly: text as str, integer as int, decimal as a canonical str
("12.50"), date as "YYYY-MM-DD", choice as the choice id, yes/no as bool, table as a list of
row dicts. Every parse error is a short phrase; the caller adds the field name and value.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import unicodedata
from typing import NamedTuple

from ..clock import FIRST_DATE, LAST_DATE
from ..labels import Label
from ..text_rules import control_character
from .computed import Computed

_TRUE = {"yes", "y", "true", "1", "是", "on"}
_FALSE = {"no", "n", "false", "0", "否", "off"}

_THOUSANDS = re.compile(r"([+-]?)(\d{1,3}(?:,\d{3})+)(\.\d*)?")

_YES, _NO, _ROWS = Label("是", "Yes"), Label("否", "No"), Label("行", "rows")

MASK = "***"  # how a sensitive value is shown to users without the `privacy` role

TYPES = ("text", "longtext", "integer", "decimal", "date", "choice", "yesno", "table")


class Invalid(ValueError):
    """A value that breaks a field's rule; the message is the rule, in a few words."""


class Choice(NamedTuple):
    id: str
    label: Label


class Field(NamedTuple):
    id: str
    type: str
    label: Label
    help: Label | None = None
    required: bool = False
    sensitive: bool = False
    default: object = None
    min: object = None
    max: object = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    places: int | None = None
    choices: tuple[Choice, ...] = ()
    columns: tuple["Field", ...] = ()
    min_rows: int = 0
    max_rows: int | None = None
    key: str | None = None
    computed: "Computed | None" = None  # the value is worked out, never typed (computed.py)

    def column(self, column_id: str) -> "Field | None":
        return next((c for c in self.columns if c.id == column_id), None)

    def choice(self, choice_id: str) -> Choice | None:
        return next((c for c in self.choices if c.id == choice_id), None)

    # -- parsing -----------------------------------------------------------------------------

    def parse(self, raw: object, today: dt.date | None = None) -> object:
        """Turn user input (str from --set or a prompt, or a YAML/JSON value) into the stored
        value, or None for empty. `today`, the effective date, is what a date bound `today`
        means (required when the field has one). Raises Invalid naming the broken rule."""
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return None
        value = _PARSERS[self.type](self, raw)
        self.check_limits(value, today)
        return value

    def check_limits(self, value: object, today: dt.date | None) -> None:
        """Raises Invalid when a parsed value breaks a length, pattern or min/max rule."""
        if self.type in ("text", "longtext"):
            if self.min_length is not None and len(value) < self.min_length:
                raise Invalid(f"少于 {self.min_length} 个字符 shorter than {self.min_length} "
                              "characters")
            if self.max_length is not None and len(value) > self.max_length:
                raise Invalid(f"超过 {self.max_length} 个字符 longer than {self.max_length} "
                              f"characters ({len(value)})")
            if self.pattern and not re.fullmatch(self.pattern, value):
                raise Invalid(f"格式不符 does not match the pattern {self.pattern}")
        elif self.type in ("integer", "decimal", "date"):
            comparable = _comparable(self.type, value, today)
            low, high = (None if b is None else _comparable(self.type, b, today)
                         for b in (self.min, self.max))
            if low is not None and comparable < low:
                raise Invalid(f"低于下限 below the minimum {self.min}")
            if high is not None and comparable > high:
                raise Invalid(f"晚于今天 above the maximum {self.max} (a date in the future)"
                              if self.max == "today" else
                              f"高于上限 above the maximum {self.max}")

    # -- display -----------------------------------------------------------------------------

    def display(self, value: object, language: str = "both") -> str:
        """The value as printed on the form and on screen: choices, yes/no and a table's
        row count in `language` ("zh", "en" or "both": bilingual)."""
        if value is None:
            return ""
        if self.type == "choice":
            choice = self.choice(value)
            return choice.label.text(language) if choice else str(value)
        if self.type == "yesno":
            return (_YES if value else _NO).text(language)
        if self.type == "table":
            return f"{len(value)} " + _ROWS.text(language)
        return str(value)

    def row_text(self, row: dict) -> str:
        """One table row on one line: 名称=铜板; 数量=40."""
        return "; ".join(f"{c.label.zh}={c.display(row.get(c.id))}" for c in self.columns
                         if row.get(c.id) is not None)


def _comparable(type_: str, value: object, today: dt.date | None):
    if type_ == "integer":
        return int(value)
    if type_ == "decimal":
        return decimal.Decimal(str(value))
    if value == "today":  # a date bound: the effective date, given by the caller
        return today
    return dt.date.fromisoformat(str(value))


def _parse_text(f: Field, raw: object) -> str:
    if isinstance(raw, (dict, list)):
        raise Invalid("须为文本 must be text, not a list or mapping")
    text = str(raw) if not isinstance(raw, bool) else ("yes" if raw else "no")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if f.type == "longtext":
        text = text.rstrip()
    else:
        if "\n" in text.strip():
            raise Invalid("须为一行 must be a single line (use a long-text field for several "
                          "lines)")
        text = text.strip()
    if control_character(text):
        raise Invalid(f"含控制字符 contains the control character "
                      f"{control_character(text)}")
    return text


_INTEGER_DIGITS = 18  # what SQLite's 64-bit integers hold, typed or read from a data file


def _parse_integer(f: Field, raw: object) -> int:
    if isinstance(raw, bool):
        raise Invalid("须为整数 must be a whole number")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int):
        value, too_long = raw, abs(raw) >= 10 ** _INTEGER_DIGITS
    else:
        match = re.fullmatch(r"[+-]?(\d+)", _drop_thousands(_typed(raw)))
        if not match:
            raise Invalid("须为整数 must be a whole number")
        too_long = len(match.group(1)) > _INTEGER_DIGITS
        value = None if too_long else int(match.group(0))
    if too_long:
        raise Invalid(f"须为不超过 {_INTEGER_DIGITS} 位的整数 must be a whole number of at "
                      f"most {_INTEGER_DIGITS} digits")
    return value


def _typed(raw: object) -> str:
    """A number or date as typed, with full-width digits and signs (１，０００, ２０２６－１２－０１,
    what a Chinese input method types) as their ASCII forms (Unicode NFKC), stripped."""
    return unicodedata.normalize("NFKC", str(raw)).strip()


def _drop_thousands(text: str) -> str:
    """1,200 and 1,234,567.5 lose their separators; any other comma stays (and fails)."""
    return text.replace(",", "") if _THOUSANDS.fullmatch(text) else text


def _parse_decimal(f: Field, raw: object) -> str:
    if isinstance(raw, bool) or isinstance(raw, (dict, list)):
        raise Invalid("须为数字 must be a number")
    text = _drop_thousands(_typed(raw))
    if not re.fullmatch(r"[+-]?(\d{1,15}(\.\d*)?|\.\d+)", text):
        raise Invalid("须为数字 must be a number")
    number = decimal.Decimal(text)
    if f.places is not None:
        quantum = decimal.Decimal(1).scaleb(-f.places)
        if number != number.quantize(quantum, rounding=decimal.ROUND_HALF_UP):
            raise Invalid(f"小数超过 {f.places} 位 has more than {f.places} decimal "
                          "places")
        number = number.quantize(quantum)
    return str(number)


def _parse_date(f: Field, raw: object) -> str:
    if isinstance(raw, dt.datetime):
        return check_date_range(raw.date()).isoformat()
    if isinstance(raw, dt.date):
        return check_date_range(raw).isoformat()
    text = _typed(raw).replace("/", "-").replace(".", "-")
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if not match:
        raise Invalid("须为日期 must be a date YYYY-MM-DD")
    try:
        day = dt.date(*map(int, match.groups()))
    except ValueError:
        raise Invalid("不是真实的日期 is not a real calendar date") from None
    return check_date_range(day).isoformat()




def check_date_range(day: dt.date) -> dt.date:
    """day itself if FIRST_DATE <= day <= LAST_DATE, else raises Invalid saying the range."""
    if not FIRST_DATE <= day <= LAST_DATE:
        raise Invalid(f"超出记录可用的日期范围 is outside the dates a record may hold "
                      f"({FIRST_DATE.isoformat()} to "
                      f"{LAST_DATE.isoformat()})")
    return day


def _parse_choice(f: Field, raw: object) -> str:
    text = str(raw).strip()
    for choice in f.choices:
        if text.lower() in (choice.id.lower(), choice.label.zh, str(choice.label).lower()) \
                or (choice.label.en and text.lower() == choice.label.en.lower()):
            return choice.id
    raise Invalid("须为其中之一 must be one of " + ", ".join(f"{c.id} ({c.label.zh})"
                                                    for c in f.choices))


def _parse_yesno(f: Field, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid("须为是或否 must be yes or no (是/否)")


def _parse_table(f: Field, raw: object) -> list:
    # Tables are parsed row by row by forms.validate_data, which reports per cell; here we only
    # check the shape so a wrong type gets a clear message. From --set or a prompt a table
    # arrives as text: a YAML/JSON list such as [{name: 铜板, quantity: 5}].
    if isinstance(raw, str):
        import yaml

        from ..inputs import DataShapeError, load_yaml_text

        try:
            raw = load_yaml_text(raw)
        except DataShapeError as exc:  # a key twice in a row, too many rows to be a table
            raise Invalid(str(exc)) from None
        except (yaml.YAMLError, RecursionError):
            raise Invalid("须为 YAML 行列表 must be a YAML list of rows, e.g. [{name: X, "
                          "quantity: 1}]") from None
    if not isinstance(raw, list):
        raise Invalid("须为行的列表 must be a list of rows (each a mapping of column to "
                      "value)")
    for number, row in enumerate(raw, start=1):
        if not isinstance(row, dict):
            raise Invalid(f"第 {number} 行不是列与值的映射 row {number} is not a mapping of "
                          "column to value")
    return raw


_PARSERS = {
    "text": _parse_text,
    "longtext": _parse_text,
    "integer": _parse_integer,
    "decimal": _parse_decimal,
    "date": _parse_date,
    "choice": _parse_choice,
    "yesno": _parse_yesno,
    "table": _parse_table,
}
