"""Phone numbers: prefixes and punctuation stripped, mobiles and landlines in canonical form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridweave.ingest.cleaning import Phone, clean_phone


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138-1234-5678",
        "138 1234 5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "8613812345678",
        "008613812345678",
        "(+86)13812345678",
        "１３８１２３４５６７８",
    ],
)
def test_mobiles_are_their_11_digits(raw: str) -> None:
    assert clean_phone(raw) == Phone("13812345678", "mobile")


@pytest.mark.parametrize(
    "raw",
    [
        "0755-12345678",
        "075512345678",
        "(0755)12345678",
        "（0755）1234-5678",
        "+86 755 1234 5678",
        "86-755-12345678",
    ],
)
def test_landlines_are_area_code_dash_number(raw: str) -> None:
    assert clean_phone(raw) == Phone("0755-12345678", "landline")


def test_three_digit_area_codes() -> None:
    assert clean_phone("010 6512 3456") == Phone("010-65123456", "landline")
    assert clean_phone("021-61234567") == Phone("021-61234567", "landline")


def test_service_numbers_are_kept_without_a_kind() -> None:
    assert clean_phone("400-800-1234") == Phone("4008001234", None)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("1381234567", "'1381234567' is not a valid phone number"),
        ("87654321", "'87654321' has no area code"),
        ("138abc", "'138abc' is not a phone number"),
        ("+852 9123 4567", "'+852 9123 4567' is not a mainland China number"),
    ],
)
def test_invalid_numbers_say_why(raw: str, problem: str) -> None:
    assert clean_phone(raw) == Phone(None, None, problem)


@pytest.mark.parametrize("raw", [None, "", "  ", "-"])
def test_blank_is_missing_not_a_problem(raw: str | None) -> None:
    assert clean_phone(raw) == Phone(None)


@given(st.sampled_from("3456789"), st.from_regex(r"\A[0-9]{9}\Z"))
def test_every_spelling_of_a_mobile_gives_the_same_value(second: str, rest: str) -> None:
    number = "1" + second + rest
    plain = clean_phone(number)
    for spelt in (f"+86 {number[:3]} {number[3:7]} {number[7:]}", "0086" + number, "86" + number):
        got = clean_phone(spelt)
        assert (got.value, got.kind) == (plain.value, plain.kind)
        assert (got.problem is None) == (plain.problem is None)


@given(st.text(max_size=16))
def test_anything_gives_a_value_or_a_problem_never_both(raw: str) -> None:
    got = clean_phone(raw)
    assert got.value is None or got.problem is None
    assert (got.kind is None) or (got.value is not None)
