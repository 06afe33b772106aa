"""Numbers from declared patterns; the serial restarts per period and widens past its width."""

import datetime as dt

from qrecords.domain.numbering import format_number, period_of
from tests.conftest import as_user, load_example
from qrecords.api import records


def test_patterns_of_the_three_forms():
    day = dt.date(2026, 11, 5)
    assert format_number(period_of("CR-{yyyy}-{seq:04}", day), 1) == "CR-2026-0001"
    assert format_number(period_of("CP-{yyyy}-{seq:04}", day), 27) == "CP-2026-0027"
    assert format_number(period_of("CC-{yy}{mm}-{seq:02}", day), 1) == "CC-2611-01"


def test_serial_widens_instead_of_failing():
    assert format_number("CC-2611-{seq:02}", 100) == "CC-2611-100"


def test_complaint_serial_restarts_each_month(ws, monkeypatch):
    data = load_example("complaint")
    numbers = []
    for today in ("2026-11-29", "2026-11-30", "2026-12-01", "2027-01-02"):
        monkeypatch.setenv("QREC_TODAY", today)
        numbers.append(records.new_record(as_user(ws, "lina"), "complaint", data)["number"])
    assert numbers == ["CC-2611-01", "CC-2611-02", "CC-2612-01", "CC-2701-01"]


def test_contract_review_serial_restarts_each_year(ws, monkeypatch):
    data = load_example("contract_review")
    numbers = []
    for today in ("2026-12-31", "2026-12-31", "2027-01-01"):
        monkeypatch.setenv("QREC_TODAY", today)
        numbers.append(records.new_record(as_user(ws, "lina"), "contract_review", data)["number"])
    assert numbers == ["CR-2026-0001", "CR-2026-0002", "CR-2027-0001"]
