"""Dates in every spelling departments use, Excel serials, and datetimes made UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridweave.ingest.cleaning import ParsedDate, parse_date, parse_datetime
from gridweave.ingest.cleaning.dates import iso_utc

from .strategies import spellings

MARCH_2 = date(1985, 3, 2)


@pytest.mark.parametrize(
    "raw",
    [
        "1985-03-02",
        "19850302",
        "1985/3/2",
        "1985年3月2日",
        "1985.03.02",
        "1985-3-2",
        "1985-03-02 10:30:00",
        "1985-03-02T10:30:00.123+08:00",
        "1985/3/2 0:00",
        "1985年3月2日 10时30分",
        "１９８５－０３－０２",
        " 1985-03-02 ",
        "31108",
        "31108.0",
    ],
)
def test_supported_spellings(raw: str) -> None:
    assert parse_date(raw) == ParsedDate(MARCH_2)


@pytest.mark.parametrize(
    ("serial", "day"),
    [
        ("1", date(1900, 1, 1)),
        ("59", date(1900, 2, 28)),
        ("61", date(1900, 3, 1)),
        ("80000", date(2119, 1, 11)),
    ],
)
def test_excel_serials_count_excels_fake_leap_day(serial: str, day: date) -> None:
    assert parse_date(serial) == ParsedDate(day)


@pytest.mark.parametrize("raw", ["1985", "1880", "2100", " 1985 ", "１９８５"])
def test_a_year_alone_is_not_an_excel_serial(raw: str) -> None:
    year = raw.strip().translate({0xFF10 + i: str(i) for i in range(10)})
    assert parse_date(raw) == ParsedDate(None, f"'{year}' is only a year, not a date")
    assert parse_datetime(raw) is None


@pytest.mark.parametrize(
    ("serial", "day"), [("1879", date(1905, 2, 21)), ("2101", date(1905, 10, 1))]
)
def test_four_digit_serials_outside_the_years_are_days(serial: str, day: date) -> None:
    assert parse_date(serial) == ParsedDate(day)
    assert parse_date(f"{serial}.0") == ParsedDate(day)


def test_a_year_in_a_users_format_is_the_users() -> None:
    assert parse_date("1985", ["%Y"]) == ParsedDate(date(1985, 1, 1))


def test_serial_60_is_excels_non_existent_day() -> None:
    assert parse_date("60") == ParsedDate(None, "'60' is Excel's 1900-02-29, a day that never was")


@pytest.mark.parametrize(
    "raw", ["0", "80001", "1985-13-45", "1985-02-29", "0000-01-01", "1985-03", "next week"]
)
def test_non_dates_say_so(raw: str) -> None:
    assert parse_date(raw) == ParsedDate(None, f"'{raw}' is not a date")


@pytest.mark.parametrize("raw", [None, "", "  ", "\u3000"])
def test_blank_is_missing_not_a_problem(raw: str | None) -> None:
    assert parse_date(raw) == ParsedDate(None)


def test_user_formats_come_first() -> None:
    assert parse_date("02/03/1985", ["%d/%m/%Y"]) == ParsedDate(MARCH_2)
    assert parse_date("03/02/1985", ["%m/%d/%Y"]) == ParsedDate(MARCH_2)
    # a value the formats do not fit falls back to the built-in spellings
    assert parse_date("1985-03-02", ["%d/%m/%Y"]) == ParsedDate(MARCH_2)


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(2118, 12, 31)))
def test_every_spelling_gives_the_same_date(d: date) -> None:
    for spelt in spellings(d):
        assert parse_date(spelt) == ParsedDate(d), spelt


def test_naive_datetimes_are_shanghai_time() -> None:
    assert parse_datetime("2024-05-01 08:00:00") == datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
    assert parse_datetime("2024-05-01") == datetime(2024, 4, 30, 16, 0, tzinfo=UTC)


def test_explicit_offsets_are_respected() -> None:
    assert parse_datetime("2024-05-01T08:00:00Z") == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert parse_datetime("2024-05-01T08:00:00-05:00") == datetime(2024, 5, 1, 13, tzinfo=UTC)


def test_excel_serial_fractions_are_the_time_of_day() -> None:
    assert parse_datetime("45413.5") == datetime(2024, 5, 1, 4, 0, tzinfo=UTC)


def test_chinese_summer_time() -> None:
    # 1986-05-04 02:00 jumped to 03:00; 1986-09-14 02:00 fell back to 01:00.
    assert parse_datetime("1986-05-04 02:30") is None
    assert parse_datetime("1986-09-14 01:30") == datetime(1986, 9, 13, 16, 30, tzinfo=UTC)
    assert parse_datetime("1986-07-01 12:00") == datetime(1986, 7, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw", ["2024-05-01 24:00", "2024-05-01 10:60", "2024-05-01 10:00:60", "x", None]
)
def test_impossible_times_are_none(raw: str | None) -> None:
    assert parse_datetime(raw) is None


def test_iso_utc_is_whole_seconds_with_z() -> None:
    assert iso_utc(datetime(999, 1, 2, 3, 4, 5, 678, tzinfo=UTC)) == "0999-01-02T03:04:05Z"


@given(st.datetimes(min_value=datetime(1992, 1, 1), max_value=datetime(2100, 1, 1)))
def test_written_shanghai_times_round_trip(moment: datetime) -> None:
    got = parse_datetime(f"{moment:%Y-%m-%d %H:%M:%S}")
    assert got is not None and got.tzinfo is UTC
    assert got == moment.replace(microsecond=0, tzinfo=UTC) - timedelta(hours=8)
