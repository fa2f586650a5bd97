"""Whole numbers, decimal amounts, free text and code-table values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridweave.ingest.cleaning import clean_code, clean_text, map_text, parse_decimal, parse_integer
from gridweave.ingest.cleaning.numeric import decimal_text
from gridweave.ingest.cleaning.text import Coded

SEX_CODES = {"1": "male", "2": "female", "男": "male", "女": "female", "9": "unknown"}
SEX = frozenset({"male", "female", "unknown"})


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1,234", 1234),
        ("12.0", 12),
        ("１２", 12),
        ("+007", 7),
        ("-3", -3),
        ("−3", -3),
        ("1 234", 1234),
        ("-0", 0),
    ],
)
def test_integers(raw: str, value: int) -> None:
    assert parse_integer(raw).value == value
    assert parse_integer(raw).problem is None


@pytest.mark.parametrize("raw", ["12.5", "1,5", "1,23,4", "1e3", "abc", "."])
def test_not_integers(raw: str) -> None:
    assert parse_integer(raw).value is None
    assert parse_integer(raw).problem == f"'{raw}' is not a whole number"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1,234.5", "1234.5"),
        ("¥1,234", "1234"),
        ("￥1,234.50元", "1234.5"),
        ("１２.５", "12.5"),
        ("-.5", "-0.5"),
        ("0.000", "0"),
        ("007.10", "7.1"),
    ],
)
def test_decimals(raw: str, value: str) -> None:
    got = parse_decimal(raw)
    assert got.value == Decimal(value)
    assert got.value is not None and decimal_text(got.value) == value


def test_a_decimal_comma_is_refused_not_read_as_thousands() -> None:
    assert parse_decimal("1,5").problem == "'1,5' is not a number"


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_blank_numbers_are_missing(raw: str | None) -> None:
    assert parse_integer(raw).value is None and parse_integer(raw).problem is None
    assert parse_decimal(raw).value is None and parse_decimal(raw).problem is None


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4))
def test_decimals_round_trip_through_their_text(value: Decimal) -> None:
    assert parse_decimal(decimal_text(value)).value == value
    assert parse_decimal(f"{value:,f}").value == value


@given(st.integers(-(10**15), 10**15))
def test_integers_round_trip_with_thousands_separators(value: int) -> None:
    assert parse_integer(f"{value:,}").value == value


def test_text_is_trimmed_and_collapsed() -> None:
    assert clean_text("  广东  省\t深圳\u3000市 ") == "广东 省 深圳 市"
    assert clean_text(" \u3000") is None


def test_text_codes_map_values_and_keep_the_rest() -> None:
    codes = {"01": "汉族", "HAN": "汉族"}
    assert map_text(" 01 ", codes) == "汉族"
    assert map_text("han", codes) == "汉族"
    assert map_text("壮族", codes) == "壮族"


@pytest.mark.parametrize(
    ("raw", "value"), [("1", "male"), (" 女 ", "female"), ("Male", "male"), ("FEMALE", "female")]
)
def test_codes_map_and_compare_latin_without_case(raw: str, value: str) -> None:
    assert clean_code(raw, SEX_CODES, SEX) == Coded(value)


def test_an_unknown_code_lists_the_known_ones() -> None:
    assert clean_code("X", SEX_CODES, SEX) == Coded(
        None, "'X' is not a known code; known: 1, 2, 9, female, male, unknown, 女, 男"
    )


def test_without_allowed_codes_any_value_passes() -> None:
    assert clean_code("whatever", {"a": "b"}) == Coded("whatever")
    assert clean_code("A", {"a": "b"}) == Coded("b")
