"""Property-based tests (hypothesis) of the pure parts: field validation, record numbering and
retention period ends. Each property is what the rest of qrecords relies on:

- validation never crashes: any value for any field of the built-in forms is either a clean
  value (which validates again to itself, since every amendment re-validates the stored data,
  survives the catalog's JSON and prints as text) or a ValidationError listing the problem;
- numbers: the serial restarts per period, widens past its digits, numbers of one period sort
  by serial within the declared width, and no two (period, serial) pairs share a number;
- retention: a period ends on the same day of the month, or the 1st of the next month when
  that day does not exist, never before the naive date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qrecords.errors import ValidationError
from qrecords.domain.fields import Invalid
from qrecords.domain.forms import Retention, validate_data
from qrecords.formlib import load_form
from qrecords.domain.numbering import format_number, period_of
from qrecords.domain.retention import period_end
from tests.conftest import TODAY, load_example

SCHEMAS = Path(__file__).resolve().parent.parent / "qrecords" / "schemas"
FORMS = {path.stem: load_form(path) for path in sorted(SCHEMAS.glob("*.yaml"))}
# Every field and table column of the built-in forms: all eight types, with their limits
# (lengths, patterns, minimums, places, choices, "today" as a maximum date).
FIELDS = [(form.id, f) for form in FORMS.values() for f in form.fields] + \
    [(form.id, c) for form in FORMS.values() for f in form.fields for c in f.columns]

# The environment of the tests (QREC_TODAY) is the same for every example.
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(), st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.dates().map(str), st.dates(), st.datetimes(),
    st.from_regex(r"\s*[+-]?\d{0,20}([.,]\d{0,20})?\s*", fullmatch=True),  # numbers, nearly
    st.from_regex(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}", fullmatch=True),       # dates, nearly
    st.sampled_from(["yes", "no", "是", "否", "国内", "Domestic", "FOREIGN", "1,200",
                     "1,234,567.5", "NaN", "inf", "1e400", "0x10", "٣", "１２", "—", "\x00",
                     "a\nb", "  ", "[]", "[{name: 铜板}]", "{{ 7*7 }}", "</w:t>"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12)


def _choice_strings(field) -> list[str]:
    return [s for c in field.choices for s in (c.id, c.label.zh, c.label.en, str(c.label))]


@st.composite
def field_and_value(draw):
    form_id, field = draw(st.sampled_from(FIELDS))
    targeted = st.sampled_from(_choice_strings(field)) if field.choices else values
    return form_id, field, draw(st.one_of(values, targeted))


@SETTINGS
@given(field_and_value())
def test_a_field_value_is_clean_or_invalid_never_a_crash(case):
    _, field, raw = case
    try:
        value = field.parse(raw)
    except Invalid as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    if value is None:
        return
    if field.type == "table":  # parse checks the shape; validate_data checks and cleans each
        # cell, and refuses an unknown column (test_record_data_validates_or_lists_its_problems)
        assert isinstance(value, list) and all(isinstance(row, dict) for row in value)
        return
    assert field.parse(value) == value, "a stored value must validate to itself"
    assert json.loads(json.dumps(value, ensure_ascii=False)) == value
    shown = field.display(value)
    assert isinstance(shown, str)
    if field.type not in ("yesno", "table"):  # what is printed can be typed back
        assert field.parse(shown) == value


@st.composite
def record_data(draw):
    form = draw(st.sampled_from(list(FORMS.values())))
    base = draw(st.sampled_from([{}, load_example(form.id)]))
    changes = draw(st.dictionaries(
        st.one_of(st.sampled_from(form.field_ids), st.text(max_size=10)),
        st.one_of(values, st.sampled_from(_choice_strings(form.fields[0]) or [""])),
        max_size=5))
    return form, {**base, **changes}


@SETTINGS
@given(record_data())
def test_record_data_validates_or_lists_its_problems(case):
    form, data = case
    try:
        clean = validate_data(form, data, TODAY)
    except ValidationError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return
    assert set(clean) == set(form.field_ids)
    assert validate_data(form, clean, TODAY) == clean  # what every amendment does


# -- numbering ---------------------------------------------------------------------------------

TOKENS = ["{yyyy}", "{yy}", "{mm}", "{dd}"]
literal = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", max_size=4)


@st.composite
def patterns(draw):
    """A number pattern as a schema may declare it: literals and date tokens, one serial."""
    parts = draw(st.lists(st.one_of(literal, st.sampled_from(TOKENS)), max_size=5))
    width = draw(st.integers(1, 6))
    where = draw(st.integers(0, len(parts)))
    parts.insert(where, f"{{seq:{width:02d}}}")
    return "".join(parts), width


days = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2999, 12, 31))
BUILT_IN = [form.number_pattern for form in FORMS.values()]


@SETTINGS
@given(st.one_of(st.sampled_from(BUILT_IN).map(lambda p: (p, int(p[-3:-1]))), patterns()),
       days, st.integers(1, 10**7))
def test_a_number_is_its_period_with_the_serial_widened_when_needed(pattern_width, day, seq):
    pattern, width = pattern_width
    period = period_of(pattern, day)
    assert "{" not in period.replace(f"{{seq:{width:02d}}}", "")
    number = format_number(period, seq)
    head, tail = period.split(f"{{seq:{width:02d}}}")
    assert number.startswith(head) and number.endswith(tail)
    serial = number[len(head):len(number) - len(tail)]
    assert int(serial) == seq and len(serial) == max(width, len(str(seq)))
    assert re.fullmatch(r"[A-Za-z0-9_-]+", number)  # it becomes a file name
    for token, text in (("{yyyy}", f"{day.year:04d}"), ("{mm}", f"{day.month:02d}")):
        if token in pattern and pattern.index(token) < pattern.index("{seq"):
            assert text in head


@SETTINGS
@given(st.sampled_from(BUILT_IN), days, st.integers(1, 10**6), st.integers(1, 10**6))
def test_numbers_of_a_period_sort_by_serial_within_their_width(pattern, day, a, b):
    width = int(pattern[-3:-1])
    period = period_of(pattern, day)
    first, second = format_number(period, a), format_number(period, b)
    assert (first == second) == (a == b)
    if max(a, b) < 10 ** width:  # the declared width: plain text order is serial order
        assert (first < second) == (a < b)
    assert (len(first), first) < (len(second), second) or a >= b  # widened: longer is later


@SETTINGS
@given(patterns(), days, days, st.integers(1, 10**5), st.integers(1, 10**5))
def test_no_two_periods_or_serials_share_a_number(pattern_width, day1, day2, seq1, seq2):
    pattern, _ = pattern_width
    period1, period2 = period_of(pattern, day1), period_of(pattern, day2)
    same = format_number(period1, seq1) == format_number(period2, seq2)
    assert same == (period1 == period2 and seq1 == seq2)


# -- retention ---------------------------------------------------------------------------------

policies = st.one_of(
    st.integers(1, 999).map(lambda n: Retention(n, 0, 0, "closure", "destroy", f"{n}y")),
    st.integers(1, 999).map(lambda n: Retention(0, n, 0, "closure", "destroy", f"{n}m")),
    st.integers(1, 999).map(lambda n: Retention(0, 0, n, "closure", "destroy", f"{n}d")))


@SETTINGS
@given(days, policies)
def test_a_period_ends_on_the_same_day_or_the_first_of_the_next_month(start, policy):
    end = period_end(start, policy)
    if policy.days:
        assert end == start + dt.timedelta(days=policy.days)
        return
    months = start.month - 1 + policy.years * 12 + policy.months
    year, month = start.year + months // 12, months % 12 + 1
    last = calendar.monthrange(year, month)[1]
    naive = dt.date(year, month, min(start.day, last))  # the day, or the month's last day
    assert end >= naive > start
    if start.day <= last:
        assert end == naive
    else:  # no such day in that month: the 1st of the next
        assert end.day == 1 and (end - dt.timedelta(days=1)) == dt.date(year, month, last)
